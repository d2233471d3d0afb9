// Package opstest runs a single operator the way the runtime does (ops.Instantiate, then Run)
// so kernel packages can test themselves without building an ONNX model, and compares tensors with ONNX's
// tolerances. End-to-end tests through a real model live in runtime and conformance.
package opstest
