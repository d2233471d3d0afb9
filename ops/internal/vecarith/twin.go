package vecarith

import "math"

// twin is the pure-Go variant: the reference the assembly is tested against, and what runs the tails
// and every span where there is no assembly. Products are converted to float32 before a sum so that
// the compiler never fuses them into a multiply-add, which the assembly does not do either.
var twin = &impl{
	lanes: 1,
	vv: [numBinOps]vectorFunc{
		Add: func(dst, a, b []float32) {
			b, dst = b[:len(a)], dst[:len(a)]
			for i, x := range a {
				dst[i] = x + b[i]
			}
		},
		Sub: func(dst, a, b []float32) {
			b, dst = b[:len(a)], dst[:len(a)]
			for i, x := range a {
				dst[i] = x - b[i]
			}
		},
		Mul: func(dst, a, b []float32) {
			b, dst = b[:len(a)], dst[:len(a)]
			for i, x := range a {
				dst[i] = x * b[i]
			}
		},
		Div: func(dst, a, b []float32) {
			b, dst = b[:len(a)], dst[:len(a)]
			for i, x := range a {
				dst[i] = x / b[i]
			}
		},
		Max: func(dst, a, b []float32) {
			b, dst = b[:len(a)], dst[:len(a)]
			for i, x := range a {
				dst[i] = maxNaN(x, b[i])
			}
		},
		Min: func(dst, a, b []float32) {
			b, dst = b[:len(a)], dst[:len(a)]
			for i, x := range a {
				dst[i] = minNaN(x, b[i])
			}
		},
		PRelu: func(dst, a, b []float32) {
			b, dst = b[:len(a)], dst[:len(a)]
			for i, x := range a {
				dst[i] = prelu(x, b[i])
			}
		},
	},
	vs: [numBinOps]scalarFunc{
		Add: func(dst, a []float32, s float32) {
			dst = dst[:len(a)]
			for i, x := range a {
				dst[i] = x + s
			}
		},
		Sub: func(dst, a []float32, s float32) {
			dst = dst[:len(a)]
			for i, x := range a {
				dst[i] = x - s
			}
		},
		Mul: func(dst, a []float32, s float32) {
			dst = dst[:len(a)]
			for i, x := range a {
				dst[i] = x * s
			}
		},
		Div: func(dst, a []float32, s float32) {
			dst = dst[:len(a)]
			for i, x := range a {
				dst[i] = x / s
			}
		},
		Max: func(dst, a []float32, s float32) {
			dst = dst[:len(a)]
			for i, x := range a {
				dst[i] = maxNaN(x, s)
			}
		},
		Min: func(dst, a []float32, s float32) {
			dst = dst[:len(a)]
			for i, x := range a {
				dst[i] = minNaN(x, s)
			}
		},
		PRelu: func(dst, a []float32, s float32) {
			dst = dst[:len(a)]
			for i, x := range a {
				dst[i] = prelu(x, s)
			}
		},
	},
	// s op b[i] for the operations that do not commute; the others are vs with the operands swapped.
	sv: [numBinOps]scalarFunc{
		Sub: func(dst, b []float32, s float32) {
			dst = dst[:len(b)]
			for i, y := range b {
				dst[i] = s - y
			}
		},
		Div: func(dst, b []float32, s float32) {
			dst = dst[:len(b)]
			for i, y := range b {
				dst[i] = s / y
			}
		},
		PRelu: func(dst, b []float32, s float32) {
			dst = dst[:len(b)]
			for i, y := range b {
				dst[i] = prelu(s, y)
			}
		},
	},
	un: [numUnOps]unaryFunc{
		opClamp: func(dst, src []float32, lo, hi float32) {
			dst = dst[:len(src)]
			for i, x := range src {
				dst[i] = clamp(x, lo, hi)
			}
		},
		opLeakyRelu: func(dst, src []float32, alpha, _ float32) {
			dst = dst[:len(src)]
			for i, x := range src {
				dst[i] = prelu(x, alpha)
			}
		},
		opHardSigmoid: func(dst, src []float32, alpha, beta float32) {
			dst = dst[:len(src)]
			for i, x := range src {
				dst[i] = clamp(float32(x*alpha)+beta, 0, 1)
			}
		},
		opHardSwish: func(dst, src []float32, sixth, half float32) {
			dst = dst[:len(src)]
			for i, x := range src {
				dst[i] = x * clamp(float32(x*sixth)+half, 0, 1)
			}
		},
		opAbs: func(dst, src []float32, _, _ float32) {
			dst = dst[:len(src)]
			for i, x := range src {
				dst[i] = math.Float32frombits(math.Float32bits(x) &^ (1 << 31))
			}
		},
		opNeg: func(dst, src []float32, _, _ float32) {
			dst = dst[:len(src)]
			for i, x := range src {
				dst[i] = -x
			}
		},
		opSqrt: func(dst, src []float32, _, _ float32) {
			dst = dst[:len(src)]
			for i, x := range src {
				dst[i] = float32(math.Sqrt(float64(x))) // exact: float64 has room for the double rounding
			}
		},
		opReciprocal: func(dst, src []float32, _, _ float32) {
			dst = dst[:len(src)]
			for i, x := range src {
				dst[i] = 1 / x
			}
		},
		opSquare: func(dst, src []float32, _, _ float32) {
			dst = dst[:len(src)]
			for i, x := range src {
				dst[i] = x * x
			}
		},
		opCube: func(dst, src []float32, _, _ float32) {
			dst = dst[:len(src)]
			for i, x := range src {
				dst[i] = float32(x*x) * x
			}
		},
	},
}

// maxNaN is max(a, b) with a NaN from either side winning (numpy.maximum).
func maxNaN(a, b float32) float32 {
	if a > b || a != a {
		return a
	}
	return b
}

// minNaN is min(a, b) with a NaN from either side winning (numpy.minimum).
func minNaN(a, b float32) float32 {
	if a < b || a != a {
		return a
	}
	return b
}

func prelu(x, slope float32) float32 {
	if x < 0 {
		return x * slope
	}
	return x
}

// clamp is min(max(x, lo), hi) keeping a NaN x.
func clamp(x, lo, hi float32) float32 {
	if x < lo {
		x = lo
	}
	if x > hi {
		x = hi
	}
	return x
}
