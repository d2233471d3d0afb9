// Package igemm is onnxrun's integer matrix multiply: 8-bit operands (uint8 or int8 each) with exact
// int32 accumulation, for MatMulInteger, QLinearMatMul, ConvInteger, QLinearConv and the
// com.microsoft quantized operators. It is the integer twin of ops/internal/gemm and has the same
// shape: packed panels, a micro-kernel per instruction-set level chosen by ops/internal/isa, a
// pure-Go twin, threads over a *parallel.Pool.
//
// # Entry points
//
// Multiply takes a Params: M, N, K; A (M×K row-major) and B (K×N, or N×K with BTrans) as []byte with a
// Signed flag each; zero points per tensor or per row of A / per column of B; C []int32, or a Requant
// epilogue (a value, selected by a non-nil Requant.Y) that writes 8-bit output directly (int32 bias per row or column, scales per tensor / row /
// column, output zero point, u8 or s8). MultiplyReference is the plain loop that states the
// semantics (see its doc comment). Validate checks a Params once, at plan time; Multiply trusts it.
//
// PackA / PackB pack a constant operand (Conv or MatMul weights) once, at plan time, with its row or
// column sums; Params.PackedA / PackedB then replace A / B. Packed operands are immutable and may be
// shared by sessions and threads. Zero points are not part of the packing: they are given per call.
//
// # Zero points and signedness
//
// The kernels compute one thing: Σ a·b with a uint8 and b int8 (VPDPBUSD's u8×s8 form). Zero points
// come out of the inner loop with the row sums of A and column sums of B, made while packing:
//
//	Σ_p (a-za)(b-zb) = Σ_p a·b - za·Σ_p b - zb·Σ_p a + K·za·zb
//
// applied per tile in the epilogue (int32, wrapping; the exact value whenever it fits in int32, and
// the reference's wrapped value otherwise). The four type combinations reach the u8×s8 form by
// flipping the sign bit while packing, which moves the value and its zero point by the same 128:
//
//	u8 A × s8 B: native.
//	s8 A × s8 B: A stored as a^0x80 = a+128 (u8), its zero point za+128.
//	u8 A × u8 B: B stored as b^0x80 = b-128 (s8), its zero point zb-128.
//	s8 A × u8 B: both.
//
// Every combination is therefore as fast as u8×s8, and every result is exact (no int16 stage that
// could saturate).
//
// # Requantisation
//
// With Params.Requant.Y set, each accumulator becomes
// saturate(RoundToEven(float32(acc+bias) · ((AScale·BScale)/YScale)) + YZero): the multiplier in
// float32 in the ONNX reference's order, the product rounded to float32 and then half to even, as
// ONNX Runtime's MlasRequantizeOutput does.
//
// # Layout and algorithm
//
// A is packed into panels of mr = 8 rows, B into panels of nr = 16 columns, K in groups of 4 bytes
// (padded with zeros): a panel group is 8×4 bytes of A (one int32 to broadcast per row) and 16×4
// bytes of B (one 64-byte zmm). The micro-kernel computes the 8×16 tiles of raw products of an A
// panel and two consecutive B panels at once (an 8×32 tile: each broadcast of A feeds two products;
// one panel when a range has an odd count), only the valid rows of a last short panel where it can
// (M = 1 does half the work of M = 8); the driver applies the zero-point correction and the epilogue
// to the valid part of each. The loop nest walks blocks of A panels (about 256 KiB, L2) against
// every pair of B panels.
//
// Threads (Params.Pool; products below 128³ multiply-adds stay on one thread) split the dimension
// with more panels into one contiguous range each, in two passes: each packs its share of both
// operands (and the epilogue's per-column terms, and its per-row terms of each A panel when the vector
// tile epilogue takes a multiplier per row), then, after the pass's join, multiplies its
// range against all panels of the other operand, which other threads packed. When that other operand
// is prepacked (a Conv's weights, split over the image's columns), a range needs only the panels it
// packs itself: one pass, a single fork and join per call.
//
// # Variants
//
// ops/internal/isa picks the micro-kernel at start-up (kernelVariants; ops.RegisterKernelVariant
// "igemm" names it for onnxrun --version):
//
//   - AVX-512 VNNI (level AVX512, and x/sys/cpu's HasAVX512VNNI): VPDPBUSD on zmm, 16 accumulators
//     (8 with one B panel, whose loop is bound by its 9 loads per 8 VPDPBUSD).
//     Its level has vector epilogues too: the zero-point correction and the requantisation of full
//     tile rows (requantRow16: VCVTPS2DQ rounds half to even like the Go loop; a panel with a
//     non-finite multiplier keeps the Go loop, whose NaN handling the conversion cannot mimic).
//   - AVX2: both operands widened to int16 (VPMOVZXBW / VPMOVSXBW) and multiplied with VPMADDWD,
//     exact. ONNX Runtime's AVX2 u8×s8 kernel uses VPMADDUBSW, which adds two u8·s8 products into
//     a saturating int16: with a = 255 and b = 127 twice the pair is 64770 and becomes 32767, so
//     ORT's result differs from the exact one wherever such pairs occur (TestExtremeValuesAreExact
//     runs the worst cases through every variant); onnxrun's results are exact on every path.
//   - pure Go: the same layout, the twin every test compares with.
//
// ONNXRUN_ISA=avx2 or purego lowers the choice (the VNNI kernel sits at the AVX512 level for that
// reason); -tags noasm and non-amd64 builds have only the pure-Go kernel.
//
// Buffers come from an internal sync.Pool, so steady-state calls allocate nothing and concurrent
// calls never share one.
package igemm
