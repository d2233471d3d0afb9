package elementwise

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/vecarith"
)

// The float32 activations that have a vectorised form. Each gives the values of the float64 function
// its operator's table holds, rounded to float32, exactly for Relu, Clip, LeakyRelu, Abs, Neg, Sqrt and
// Reciprocal (one IEEE operation each); HardSigmoid and HardSwish round alpha*x to float32 before the
// sum, an absolute error of at most about 6e-8 (times |x| for HardSwish) where their outputs lie in
// [0, 1] (times x), far inside ONNX's tolerances.
var (
	clampSpan       = func(dst, src []float32, lo, hi float32) { vecarith.Clamp(dst, src, lo, hi) }
	leakyReluSpan   = func(dst, src []float32, alpha, _ float32) { vecarith.LeakyRelu(dst, src, alpha) }
	hardSigmoidSpan = func(dst, src []float32, alpha, beta float32) { vecarith.HardSigmoid(dst, src, alpha, beta) }
	hardSwishSpan   = span32{f: func(dst, src []float32, _, _ float32) { vecarith.HardSwish(dst, src) }}
	absSpan         = span32{f: func(dst, src []float32, _, _ float32) { vecarith.Abs(dst, src) }}
	negSpan         = span32{f: func(dst, src []float32, _, _ float32) { vecarith.Neg(dst, src) }}
	sqrtSpan        = span32{f: func(dst, src []float32, _, _ float32) { vecarith.Sqrt(dst, src) }}
	reciprocalSpan  = span32{f: func(dst, src []float32, _, _ float32) { vecarith.Reciprocal(dst, src) }}
	squareSpan      = span32{f: func(dst, src []float32, _, _ float32) { vecarith.Square(dst, src) }}
	cubeSpan        = span32{f: func(dst, src []float32, _, _ float32) { vecarith.Cube(dst, src) }}
	copySpan        = span32{f: func(dst, src []float32, _, _ float32) { copy(dst, src) }}
	// Pow(x, 0.5) is sqrt(x) except at -0 (pow gives +0) and -Inf (pow gives +Inf, sqrt NaN): a scalar
	// loop, since dst may be src and the fix-up needs the input.
	powHalfSpan = span32{f: func(dst, src []float32, _, _ float32) {
		dst = dst[:len(src)]
		for i, x := range src {
			if math.IsInf(float64(x), -1) {
				dst[i] = float32(math.Inf(1))
				continue
			}
			dst[i] = float32(math.Sqrt(float64(x))) + 0 // + 0 turns sqrt(-0) = -0 into pow's +0
		}
	}}
)

// spanOf is the float32 span kernel of f with the given parameters.
func spanOf(f func(dst, src []float32, c0, c1 float32), c0, c1 float32) span32 {
	return span32{f: f, c0: c0, c1: c1}
}

// fastUnaries are the unary math operators (unary.go's tables) with a vectorised float32 form.
var fastUnaries = map[string]span32{"Sqrt": sqrtSpan, "Reciprocal": reciprocalSpan, "Abs": absSpan, "Neg": negSpan}

// fastActivations are the activations (activation.go's table) with a vectorised float32 form, made
// from the node's attributes with the defaults of the float64 form.
var fastActivations = map[string]func(r *ops.AttrReader) span32{
	"LeakyRelu": func(r *ops.AttrReader) span32 { return spanOf(leakyReluSpan, r.Float("alpha", 0.01), 0) },
	"HardSigmoid": func(r *ops.AttrReader) span32 {
		return spanOf(hardSigmoidSpan, r.Float("alpha", 0.2), r.Float("beta", 0.5))
	},
	"HardSwish": func(*ops.AttrReader) span32 { return hardSwishSpan },
}
