package vecmath

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/isa"
)

// Kernel is the signature of the element-wise functions: dst[i] = f(src[i]) for i < len(src).
type Kernel = func(dst, src []float32)

// family is one element-wise function: its name, its variants (the pure-Go twin first) and the one Pick
// chose for this process.
type family struct {
	name     string
	variants []isa.Variant[Kernel]
	chosen   Kernel
}

func newFamily(name string, twin func(float32) float32) *family {
	variants := append([]isa.Variant[Kernel]{{Level: isa.PureGo, Name: "pure Go", Fn: mapScalar(twin)}},
		asmVariants[name]...)
	return &family{name: name, variants: variants, chosen: isa.Pick(variants...).Fn}
}

// mapScalar makes a slice kernel of a scalar twin.
func mapScalar(f func(float32) float32) Kernel {
	return func(dst, src []float32) {
		dst = dst[:len(src)]
		for i, x := range src {
			dst[i] = f(x)
		}
	}
}

var (
	expFamily      = newFamily("exp", exp32)
	logFamily      = newFamily("log", log32)
	sigmoidFamily  = newFamily("sigmoid", sigmoid32)
	tanhFamily     = newFamily("tanh", tanh32)
	erfFamily      = newFamily("erf", erf32)
	geluErfFamily  = newFamily("gelu_erf", geluErf32)
	geluTanhFamily = newFamily("gelu_tanh", geluTanh32)
	siluFamily     = newFamily("silu", silu32)

	families = []*family{expFamily, logFamily, sigmoidFamily, tanhFamily, erfFamily, geluErfFamily,
		geluTanhFamily, siluFamily}
)

// Exp sets dst[i] = e^src[i] for i < len(src). len(dst) ≥ len(src); dst may be src. Error ≤ 1 ULP for
// results that are normal floats (|x| ≤ 87.3), results down to the denormals rounded once; x > 88.7229
// gives +Inf, x < -103.97 gives 0, exp(-Inf) = 0, exp(+Inf) = +Inf, exp(NaN) = NaN.
func Exp(dst, src []float32) { expFamily.chosen(dst, src) }

// Log sets dst[i] = ln src[i]. Error ≤ 1.5 ULP over all positive floats (denormals included); log(±0) = -Inf,
// log(x<0) = NaN, log(+Inf) = +Inf, log(NaN) = NaN.
func Log(dst, src []float32) { logFamily.chosen(dst, src) }

// Sigmoid sets dst[i] = 1/(1+e^-src[i]). Error ≤ 3 ULP where the result is ≥ 2^-126 (x ≥ -87.3); below,
// the result is 0 or a denormal with absolute error < 2^-126. Sigmoid(-Inf) = 0, Sigmoid(+Inf) = 1,
// Sigmoid(NaN) = NaN.
func Sigmoid(dst, src []float32) { sigmoidFamily.chosen(dst, src) }

// SiLU sets dst[i] = src[i]·sigmoid(src[i]), as x/(1+e^-x). Error ≤ 3 ULP for x ≥ -87.3; below, |result|
// < 2^-120. SiLU(+Inf) = +Inf, SiLU(-Inf) = NaN (-∞·0, as the float64 formula gives), SiLU(NaN) = NaN.
func SiLU(dst, src []float32) { siluFamily.chosen(dst, src) }

// Tanh sets dst[i] = tanh(src[i]). Error ≤ 1.5 ULP; tanh(±0) = ±0, tanh(±Inf) = ±1, tanh(NaN) = NaN.
func Tanh(dst, src []float32) { tanhFamily.chosen(dst, src) }

// Erf sets dst[i] = erf(src[i]). Error ≤ 3 ULP; erf(±0) = ±0, erf(±Inf) = ±1, erf(NaN) = NaN.
func Erf(dst, src []float32) { erfFamily.chosen(dst, src) }

// GeluErf sets dst[i] = ½x(1+erf(x/√2)), ONNX Gelu with approximate="none". Error ≤ 24 ULP (2.9e-6
// relative) where |result| ≥ 1e-3 (x ≥ -3.2 or x > 0), ≤ 5e-8 absolute everywhere: for negative x the
// result is ½x·erfc(|x|/√2), erfc = e^h, and h's float32 rounding (|h| up to 16) sets the relative
// error; from x ≤ -5.66 on the result is -0. GeluErf(+Inf) = +Inf, GeluErf(-Inf) = -0, NaN stays NaN.
func GeluErf(dst, src []float32) { geluErfFamily.chosen(dst, src) }

// GeluTanh sets dst[i] = ½x(1+tanh(√(2/π)(x+0.044715x³))), ONNX Gelu with approximate="tanh", computed as
// x/(1+e^{-2u}). Error ≤ 14 ULP where |result| ≥ 1e-3 (the exponent -2u, up to 19 in
// magnitude there, carries float32 rounding), ≤ 2e-9 absolute below (14 ULP at 1e-3 is 1.6e-9; the
// exhaustive check found 1.07e-9 just under the threshold, at x = -3.3754); GeluTanh(+Inf) = +Inf, GeluTanh(-Inf) = NaN
// (-∞·0, as the float64 formula gives), NaN stays NaN.
func GeluTanh(dst, src []float32) { geluTanhFamily.chosen(dst, src) }

// Softmax sets dst[i] = e^{src[i]-m} / Σ_j e^{src[j]-m} over one row, m = max(src). dst may be src. Error
// ≤ 4 ULP per element (exp's 1 ULP, the sum's rounding, one scaling) plus the float32 rounding of x-m, a
// relative error of up to |x-m|·2^-24 (as every float32 softmax has). A row with a NaN, or with +Inf, or
// all -Inf, gives NaN throughout (as the formula does).
func Softmax(dst, src []float32) {
	if len(src) == 0 {
		return
	}
	dst = dst[:len(src)]
	m := rowMax(src)
	sum := expShiftStore(dst, src, -m)
	scaleInPlace(dst, float32(1/sum))
}

// LogSoftmax sets dst[i] = src[i] - m - ln Σ_j e^{src[j]-m} over one row, m = max(src). dst may be src.
// Error ≤ 2 ULP of the largest |term| (the subtraction is exact in the usual range). Non-finite rows
// give NaN as Softmax does.
func LogSoftmax(dst, src []float32) {
	if len(src) == 0 {
		return
	}
	dst = dst[:len(src)]
	m := rowMax(src)
	sum := expShiftSum(src, -m)
	// (x - m) - log(sum), in that order: x - m is exact near the maximum, whereas x - (m + log(sum))
	// would round m + log(sum) to m's precision first (an error of half an ulp of m: 5e-4 at m = 1e4).
	logSum := log32(sum)
	if m != m || math.IsInf(float64(m), 0) {
		logSum = float32(math.NaN())
	}
	for i, x := range src {
		dst[i] = (x - m) - logSum
	}
}

// rowMaxGo is the largest element, -Inf for none. A NaN may or may not be taken (the assembly's VMAXPS
// keeps whichever operand its rule says); Softmax does not mind, since the NaN reaches the sum either way.
func rowMaxGo(src []float32) float32 {
	m := float32(math.Inf(-1))
	for _, x := range src {
		if x > m {
			m = x
		}
	}
	return m
}

// expShiftStoreGo is the pure-Go twin of expShiftStore: dst[i] = e^{src[i]+shift}, returning the sum of
// the dst[i], accumulated in float32 in sixteen lanes (the order the AVX-512 kernel adds in).
func expShiftStoreGo(dst, src []float32, shift float32) float32 {
	var lanes [16]float32
	for i, x := range src {
		e := exp32(float32(x + shift))
		dst[i] = e
		lanes[i%16] = float32(lanes[i%16] + e)
	}
	var sum float32
	for _, s := range lanes {
		sum = float32(sum + s)
	}
	return sum
}

// expShiftSumGo is the pure-Go twin of expShiftSum: expShiftStoreGo's sum, storing nothing.
func expShiftSumGo(src []float32, shift float32) float32 {
	var lanes [16]float32
	for i, x := range src {
		lanes[i%16] = float32(lanes[i%16] + exp32(float32(x+shift)))
	}
	var sum float32
	for _, s := range lanes {
		sum = float32(sum + s)
	}
	return sum
}

// scaleGo multiplies dst by s.
func scaleGo(dst []float32, s float32) {
	for i := range dst {
		dst[i] = float32(dst[i] * s)
	}
}

// init names the variant this process runs for onnxrun --version (all families have the same levels, so
// exp's choice stands for them).
func init() {
	chosen := isa.Pick(expFamily.variants...)
	ops.RegisterKernelVariant("vecmath (exp, log, sigmoid, tanh, erf, gelu, silu, softmax)",
		chosen.Level > isa.PureGo, chosen.Name)
}
