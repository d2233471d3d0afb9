// Package quant implements ONNX's linear quantization operators: QuantizeLinear, DequantizeLinear,
// DynamicQuantizeLinear, MatMulInteger and QLinearMatMul; and ONNX Runtime's GEMM-shaped quantized
// operators of the com.microsoft domain (ops.MicrosoftDomain, opset 1), which its quantizers write: QGemm,
// MatMulIntegerToFloat, DynamicQuantizeMatMul and the weight-only MatMulNBits.
//
// # The com.microsoft GEMM-shaped operators
//
// QGemm, MatMulIntegerToFloat and DynamicQuantizeMatMul run on the integer GEMM (ops/internal/igemm): exact
// int32 sums, a constant B packed once at Prepare, QGemm's requantisation to 8 bits fused in the GEMM's
// epilogue. Each doc comment states the arithmetic as ONNX Runtime does it (the int32 sum converted to
// float32, then scaled by a multiplier formed in float32), and the crosscheck module compares them with
// ONNX Runtime itself. MatMulNBits dequantises its 2-, 4- or 8-bit blocks on the fly, never unpacking the
// whole weight (see its doc comment for the two strategies).
//
// Importing the package registers every operator with ops.Register, one registration per opset range.
//
// MatMulInteger, and QLinearMatMul on 8-bit operands with float32 scales, run on the integer GEMM
// (ops/internal/igemm: exact int32 accumulation, a constant B packed once at Prepare, requantisation in
// its epilogue); their element-by-element loops stay as the tests' twins and run the other types.
//
// The other kernels are reference kernels: values are read and written element by element through small type switches
// (common.go), which covers the 8- and 16-bit integers and the narrow float8, float4, 4-bit and 2-bit types
// with one code path. Divisions and products are done in float32, the precision of the scales, as ONNX's
// reference implementation does; rounding to integers is half to even.
package quant
