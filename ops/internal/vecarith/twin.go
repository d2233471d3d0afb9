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

func init() {
	twin.rowStats = rowStatsTwin
	twin.normalizeRow = normalizeRowTwin
}

// rowStatsTwin is rowStats in Go, for any length.
func rowStatsTwin(x []float32, shift float32) (acc [2 * rowStatsLanes]float32) {
	addRowStats(&acc, x, shift)
	return acc
}

// addRowStats adds x[i] - shift into acc[i mod rowStatsLanes] and its square, rounded, into
// acc[rowStatsLanes + i mod rowStatsLanes].
func addRowStats(acc *[2 * rowStatsLanes]float32, x []float32, shift float32) {
	sums, squares := (*[rowStatsLanes]float32)(acc[:rowStatsLanes]), (*[rowStatsLanes]float32)(acc[rowStatsLanes:])
	for i, v := range x {
		d := v - shift
		sums[i%rowStatsLanes] += d
		squares[i%rowStatsLanes] += float32(d * d)
	}
}

// normalizeRowTwin is normalizeRow in Go; len(beta) is 0 or len(x).
func normalizeRowTwin(dst, x, gamma, beta []float32, shift, offset, invStd float32) {
	dst, gamma = dst[:len(x)], gamma[:len(x)]
	if len(beta) == 0 {
		for i, v := range x {
			dst[i] = float32((v-shift-offset)*invStd) * gamma[i]
		}
		return
	}
	beta = beta[:len(x)]
	for i, v := range x {
		dst[i] = fma32(float32((v-shift-offset)*invStd), gamma[i], beta[i])
	}
}

// fma32 is a*b + c rounded once to float32, as VFMADD does. a*b is exact in float64; a*b + c is split
// into its float64 rounding s and the exact remainder e (TwoSum), and s is rounded to odd (its last bit
// set when e is not zero), which then rounds to float32 correctly: float64 has more than 24+1 bits.
func fma32(a, b, c float32) float32 {
	p, q := float64(a)*float64(b), float64(c)
	s := p + q
	bv := s - p
	e := (p - (s - bv)) + (q - bv)
	if e != 0 && !math.IsInf(s, 0) {
		bits := math.Float64bits(s)
		if bits&1 == 0 {
			// s is even: move one ulp toward the true value, which lies strictly between s and that neighbour.
			if (e > 0) == (s > 0) {
				bits++
			} else {
				bits--
			}
			s = math.Float64frombits(bits)
		}
	}
	return float32(s)
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
