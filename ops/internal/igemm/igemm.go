package igemm

import "github.com/onnxrun/onnxrun/ops/internal/parallel"

// BiasMode says how Requant.Bias is broadcast over the product.
type BiasMode uint8

const (
	BiasNone   BiasMode = iota // no bias
	BiasPerRow                 // acc[i][j] += Bias[i]; len(Bias) >= M (Conv with the weights as A)
	BiasPerCol                 // acc[i][j] += Bias[j]; len(Bias) >= N (Gemm/MatMul with the weights as B)
)

// Requant is the requantisation epilogue: instead of the int32 accumulators, Multiply writes
//
//	v := float32(acc[i][j] + bias(i, j)) * ((AScale[i] * BScale[j]) / YScale)   // float32, in this order
//	Y[i*LDY+j] = saturate(RoundToEven(v) + YZero)                                 // to u8, or s8 if YSigned
//
// AScale has 1 (per tensor) or M (per row) elements, BScale 1 or N (per column). The multiplier is
// formed in float32 exactly as the ONNX reference forms a_scale*b_scale/y_scale, and the product with
// the accumulator is rounded to float32 before rounding half to even, as ONNX Runtime's requantisation
// does; an accumulator beyond 2^24 in magnitude is therefore rounded to float32 first (so is ORT's).
// NaN or infinite scales give YZero or the saturated bound; no value panics.
type Requant struct {
	Bias     []int32
	BiasMode BiasMode

	AScale []float32
	BScale []float32
	YScale float32

	YZero   int32 // in the output type's range
	YSigned bool  // s8 output (else u8)
	Y       []byte
	LDY     int
}

// Params describes one call of Multiply: for i < M and j < N,
//
//	acc[i][j] = Σ_{p<K} (A[i][p] - AZero[i]) * (op(B)[p][j] - BZero[j])   // int32, wrapping
//
// and C[i*LDC+j] = acc[i][j], or, with Requant, the 8-bit requantised value in Requant.Y.
// A is row-major M×K; op(B) is B (K×N, row-major) or, with BTrans, Bᵀ of an N×K row-major B (ONNX's
// usual weight layout). Each operand is []byte holding uint8 values, or int8 ones when its Signed flag
// is set; zero points are bytes of the operand's own type: none (nil: 0), one (per tensor) or M for A
// (per row) and N for B (per column). The zero values of the optional fields mean "not used".
type Params struct {
	M, N, K int

	A       []byte // unused when PackedA != nil
	LDA     int
	ASigned bool     // ignored with PackedA (it carries its own)
	PackedA *PackedA // A packed once by PackA
	AZero   []byte   // len 0, 1 or M

	B       []byte // unused when PackedB != nil
	LDB     int
	BSigned bool     // ignored with PackedB
	BTrans  bool     // B is stored N×K; ignored with PackedB
	PackedB *PackedB // B packed once by PackB
	BZero   []byte   // len 0, 1 or N

	C   []int32 // the accumulators, when Requant is nil
	LDC int

	Requant *Requant // requantise to 8 bits into Requant.Y instead of writing C

	// Pool splits the tiles over threads; nil means the calling goroutine only.
	Pool *parallel.Pool
}

// Multiply computes p (see Params); MultiplyReference is its plain-loop statement. It trusts its
// arguments: check them once with Validate at plan time. It does not allocate in steady state (its
// packing buffers come from an internal sync.Pool).
func Multiply(p *Params) {
	multiply(p, defaultKernel.Fn)
}
