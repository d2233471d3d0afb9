// Package quant implements ONNX's linear quantization operators: QuantizeLinear, DequantizeLinear,
// DynamicQuantizeLinear, MatMulInteger and QLinearMatMul.
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
