// Package quant implements ONNX's linear quantization operators: QuantizeLinear, DequantizeLinear,
// DynamicQuantizeLinear, MatMulInteger and QLinearMatMul; and the com.microsoft (ops.MicrosoftDomain)
// elementwise and pooling operators ONNX Runtime's quantizer writes: QLinearAdd, QLinearMul,
// QLinearConcat, QLinearGlobalAveragePool, QLinearAveragePool, QLinearSigmoid, QLinearLeakyRelu and
// QLinearSoftmax.
//
// Importing the package registers every operator with ops.Register, one registration per opset range.
//
// # Reference and fast paths
//
// The ONNX operators have reference kernels: values are read and written element by element through small
// type switches (common.go), which covers the 8- and 16-bit integers and the narrow float8, float4, 4-bit
// and 2-bit types with one code path. Divisions and products are done in float32, the precision of the
// scales, as ONNX's reference implementation does; rounding to integers is half to even. The float32 ↔
// uint8/int8 cases with per-tensor or per-axis scales, the ones QDQ graphs are made of, run on
// ops/internal/qvec's vectorised spans instead (quantize8.go), bit for bit the reference's results.
//
// # The com.microsoft operators
//
// Every tensor is uint8 or int8 with a per-tensor float32 scale and an optional zero point of its own type
// (qlinearparams.go checks them, naming the input). Each kernel's doc comment gives its float32
// arithmetic: it follows ONNX Runtime's kernels, including where the zero point is added relative to the
// rounding, and crosscheck/qlinear_test.go holds every one equal to ONNX Runtime element for element.
// Unary operators are 256-entry lookup tables built at Prepare when the scales are constants.
package quant
