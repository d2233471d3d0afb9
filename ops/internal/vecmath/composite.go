package vecmath

import (
	"math"
	"sync"
)

// The functions of this file are made of the vectorised ones over blocks that stay in L1, with a scalar
// pass for what the vectors do not compute. dst may be src: each block's inputs are read before its
// outputs are written, so the blocks go through a scratch buffer (one per call, from a pool: the
// variants are called through function values, to which a stack array would escape).

// compositeBlock is the number of elements a composite function handles per pass of its parts.
const compositeBlock = 256

// compositeScratch holds two blocks.
var compositeScratch = sync.Pool{New: func() any { return new([2 * compositeBlock]float32) }}

// Softplus sets dst[i] = ln(1 + e^src[i]), as max(x, 0) + log1p(e^-|x|) so that e never overflows, with
// log1p(e) = ln(u)·e/(u-1) for u = 1+e rounded (e itself where u rounds to 1), which keeps log1p's relative
// accuracy for small e. Error ≤ 4 ULP where the result is ≥ 2^-126 (x ≥ -87.3); below, within 2^-148
// (exp's denormal results). Softplus(+Inf) = +Inf, Softplus(-Inf) = 0, NaN stays NaN.
func Softplus(dst, src []float32) { softplus(dst, src, expFamily.chosen, logFamily.chosen) }

// softplus is Softplus with the given exp and log variants (the tests run each pair).
func softplus(dst, src []float32, exp, log Kernel) {
	dst = dst[:len(src)]
	scratch := compositeScratch.Get().(*[2 * compositeBlock]float32)
	defer compositeScratch.Put(scratch)
	for lo := 0; lo < len(src); lo += compositeBlock {
		x := src[lo:min(lo+compositeBlock, len(src))]
		e, logU := scratch[:len(x)], scratch[compositeBlock:compositeBlock+len(x)]
		for i, v := range x {
			e[i] = -float32(math.Abs(float64(v)))
		}
		exp(e, e)
		for i, v := range e {
			logU[i] = 1 + v
		}
		log(logU, logU)
		out := dst[lo : lo+len(x)]
		for i, v := range x {
			ei := e[i]
			log1p := ei
			if d := (1 + ei) - 1; d != 0 {
				log1p = logU[i] * (ei / d)
			}
			out[i] = max(v, 0) + log1p // max(NaN, 0) is NaN
		}
	}
}

// Swish sets dst[i] = x·sigmoid(alpha·x) for x = src[i] (SiLU when alpha is 1: call SiLU, one pass).
// Error ≤ 4 ULP of x·sigmoid(fl(alpha·x)) where the result is ≥ 2^-120 in magnitude; the float32
// rounding of alpha·x adds a relative error of up to |alpha·x|·(1-sigmoid(alpha·x))·2^-24, as every
// float32 evaluation has. NaN stays NaN.
func Swish(dst, src []float32, alpha float32) { swish(dst, src, alpha, sigmoidFamily.chosen) }

// swish is Swish with the given sigmoid variant (the tests run each).
func swish(dst, src []float32, alpha float32, sigmoid Kernel) {
	dst = dst[:len(src)]
	scratch := compositeScratch.Get().(*[2 * compositeBlock]float32)
	defer compositeScratch.Put(scratch)
	for lo := 0; lo < len(src); lo += compositeBlock {
		x := src[lo:min(lo+compositeBlock, len(src))]
		s := scratch[:len(x)]
		for i, v := range x {
			s[i] = alpha * v
		}
		sigmoid(s, s)
		out := dst[lo : lo+len(x)]
		for i, v := range x {
			out[i] = v * s[i]
		}
	}
}
