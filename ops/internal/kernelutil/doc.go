// Package kernelutil holds the small helpers that the layer kernel packages (ops/cnn, ops/norm,
// ops/recurrent, ops/attention, ops/signal, ops/training) share since they were split out of one package:
// reading and writing float tensors of any float dtype one element at a time (floats.go), walking
// multi-indices and shapes (index.go) and polling a run's cancellation (cancel.go, which ops/linalg's GEMMs
// use too). What every kernel package may need (inputs, widening of 16-bit floats, errors) lives in ops
// itself; this package is internal so that these helpers do not become part of ops' API.
package kernelutil
