// Package quant implements ONNX's linear quantization operators: QuantizeLinear, DequantizeLinear,
// DynamicQuantizeLinear, MatMulInteger and QLinearMatMul; and the quantized operators of ONNX Runtime's
// com.microsoft domain (ops.MicrosoftDomain, opset 1) that its quantizers write: the GEMM-shaped QGemm,
// MatMulIntegerToFloat, DynamicQuantizeMatMul and the weight-only MatMulNBits, and the elementwise and
// pooling QLinearAdd, QLinearMul, QLinearConcat, QLinearGlobalAveragePool, QLinearAveragePool,
// QLinearSigmoid, QLinearLeakyRelu and QLinearSoftmax.
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
// MatMulInteger, and QLinearMatMul on 8-bit operands with float32 scales, run on the integer GEMM
// (ops/internal/igemm: exact int32 accumulation, a constant B packed once at Prepare, requantisation in
// its epilogue); their element-by-element loops stay as the tests' twins and run the other types.
//
// # The com.microsoft GEMM-shaped operators
//
// QGemm, MatMulIntegerToFloat and DynamicQuantizeMatMul run on the integer GEMM too, QGemm's
// requantisation to 8 bits fused in the GEMM's epilogue. Each doc comment states the arithmetic as ONNX
// Runtime does it (the int32 sum converted to float32, then scaled by a multiplier formed in float32), and
// the crosscheck module compares them with ONNX Runtime itself. MatMulNBits dequantises its 2-, 4- or
// 8-bit blocks on the fly, never unpacking the whole weight (see its doc comment for the two strategies).
//
// # The com.microsoft elementwise and pooling operators
//
// Every tensor is uint8 or int8 with a per-tensor float32 scale and an optional zero point of its own type
// (qlinearparams.go checks them, naming the input). Each kernel's doc comment gives its float32
// arithmetic: it follows ONNX Runtime's kernels, including where the zero point is added relative to the
// rounding, and crosscheck/qlinear_test.go holds every one equal to ONNX Runtime element for element.
// Unary operators are 256-entry lookup tables built at Prepare when the scales are constants.
package quant
