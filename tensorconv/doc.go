// Package tensorconv converts tensors between the onnx package's form (onnx.Array: an element type, int64
// dims and a plain Go slice, as TensorProto holds them) and the kernels' ops.Tensor. It is the one place
// where the onnx and ops leaves meet besides the runtime, and imports nothing else, so that both the
// runtime (initializers, constants) and tensorio (.pb files) convert the same way without the runtime
// linking tensorio's file formats and image codecs, or tensorio linking every kernel through the runtime.
package tensorconv
