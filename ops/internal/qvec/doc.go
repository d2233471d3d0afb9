// Package qvec converts float32 spans to and from 8-bit quantized values with one scale and zero point:
// the per-tensor and per-axis float32 ↔ uint8/int8 cases of QuantizeLinear, DequantizeLinear and
// DynamicQuantizeLinear, which QDQ graphs run around every quantized operator.
//
// # Semantics
//
// The results are those of ONNX's formulas, bit for bit, as the pure-Go twin computes them:
//
//	Quantize:   dst[i] = saturate(round_half_to_even(src[i] / scale) + zp)   (a NaN quotient gives zp)
//	Dequantize: dst[i] = float32(src[i] - zp) * scale
//
// The division is one IEEE float32 division (not a product with 1/scale, which rounds differently). The
// quotient is clamped to [lo-zp, hi-zp] before it is rounded (the bounds are integers, so this equals
// rounding first), which keeps infinities and values beyond int32 out of the conversion; the assembly then
// rounds with VCVTPS2DQ in the default rounding mode (half to even) and the twin with the 1.5·2²³ trick,
// exact for the clamped range.
//
// # Variants
//
// AVX-512 (16 lanes) and AVX2 (8 lanes) assembly runs the largest multiple of its width and the twin the rest (MinMax, QLinearAdd's AddU8/AddS8: AVX-512 only); isa.Pick chooses the
// variant once at init. Spans longer than ParallelMin elements are split across the session's threads
// by the callers (ops/quant).
package qvec
