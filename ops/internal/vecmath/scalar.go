package vecmath

import "math"

// This file holds the pure-Go twins, one float32 element at a time. Every product and sum is rounded to
// float32 explicitly (a conversion stops the compiler from fusing it), and fma32 stands where the
// assembly uses a fused multiply-add, so that the twins compute what the vector lanes compute.

// fma32 is a·b+c rounded to float32. a·b is exact in float64 and the sum is rounded once there and once to
// float32, which equals the single rounding of the hardware's FMA except on rare double-rounding ties
// (the tests allow the twins 1 ULP against the assembly for that reason).
func fma32(a, b, c float32) float32 {
	return float32(float64(a)*float64(b) + float64(c))
}

// pow2 is 2^k for k in [-126, 127], built from its exponent bits.
func pow2(k int32) float32 { return math.Float32frombits(uint32(k+127) << 23) }

// exp32 is e^x: n = round(x/ln2), r = x - n·ln2 in two FMA steps (|r| ≤ ln2/2), e^r by a degree-6
// polynomial, times 2^n applied in two halves so that results down to the denormals round once.
func exp32(x float32) float32 {
	if x != x {
		return x
	}
	x = min(max(x, expMin), expMax)
	n := float32(math.RoundToEven(float64(float32(x * log2e))))
	r := fma32(n, -ln2Hi, x)
	r = fma32(n, -ln2Lo, r)
	p := fma32(expC6, r, expC5)
	p = fma32(p, r, expC4)
	p = fma32(p, r, expC3)
	p = fma32(p, r, expC2)
	p = fma32(p, r, 1)
	p = fma32(p, r, 1)
	k := int32(n)
	k1 := k >> 1
	return float32(float32(p*pow2(k1)) * pow2(k-k1))
}

// sigmoid32 is 1/(1+e^-x).
func sigmoid32(x float32) float32 {
	return float32(1 / float32(1+exp32(-x)))
}

// silu32 is x/(1+e^-x).
func silu32(x float32) float32 {
	return float32(x / float32(1+exp32(-x)))
}

// geluTanh32 is ½x(1+tanh(√(2/π)(x+0.044715x³))), computed as x/(1+e^{-2u}) (1+tanh u = 2σ(2u)), which has
// no cancellation for negative x.
func geluTanh32(x float32) float32 {
	x2 := float32(x * x)
	v := float32(x * fma32(x2, geluTanhB, geluTanhA))
	return float32(x / float32(1+exp32(v)))
}

// tanh32 is the odd polynomial below tanhSmall and 1 - 2/(e^{2|x|}+1), signed, above.
func tanh32(x float32) float32 {
	a := float32(math.Abs(float64(x)))
	if a < tanhSmall {
		x2 := float32(x * x)
		p := fma32(tanhC11, x2, tanhC9)
		p = fma32(p, x2, tanhC7)
		p = fma32(p, x2, tanhC5)
		p = fma32(p, x2, tanhC3)
		return fma32(float32(x*x2), p, x)
	}
	e := exp32(float32(a + a))
	y := float32(1 - float32(2/float32(e+1)))
	return float32(math.Copysign(float64(y), float64(x)))
}

// erfSmallPoly is erf(x) for |x| < erfSmall: x·P(x²).
func erfSmallPoly(x float32) float32 {
	x2 := float32(x * x)
	p := fma32(erfC13, x2, erfC11)
	p = fma32(p, x2, erfC9)
	p = fma32(p, x2, erfC7)
	p = fma32(p, x2, erfC5)
	p = fma32(p, x2, erfC3)
	p = fma32(p, x2, erfC1)
	return float32(x * p)
}

// erfcLarge is erfc(a) for erfSmall ≤ a < erfOne, as e^{h(a)} with h a degree-10 polynomial, and 0 from
// erfOne on; NaN stays NaN.
func erfcLarge(a float32) float32 {
	if a >= erfOne {
		return 0
	}
	h := fma32(erfcC10, a, erfcC9)
	h = fma32(h, a, erfcC8)
	h = fma32(h, a, erfcC7)
	h = fma32(h, a, erfcC6)
	h = fma32(h, a, erfcC5)
	h = fma32(h, a, erfcC4)
	h = fma32(h, a, erfcC3)
	h = fma32(h, a, erfcC2)
	h = fma32(h, a, erfcC1)
	h = fma32(h, a, erfcC0)
	return exp32(h)
}

// erf32 is the odd polynomial below erfSmall and ±(1 - erfc(|x|)) above.
func erf32(x float32) float32 {
	a := float32(math.Abs(float64(x)))
	if a < erfSmall {
		return erfSmallPoly(x)
	}
	y := float32(1 - erfcLarge(a))
	return float32(math.Copysign(float64(y), float64(x)))
}

// geluErf32 is ½x(1+erf(x/√2)). Below erfSmall it is h + h·erf with h = x/2; above, 1+erf(z) is 2-erfc(z)
// for positive x, so y = x·(1 - erfc/2), and erfc(|z|) for negative x, so y = h·erfc, with no cancellation.
func geluErf32(x float32) float32 {
	z := float32(x * sqrt1_2)
	h := float32(0.5 * x)
	a := float32(math.Abs(float64(z)))
	if a < erfSmall {
		return fma32(h, erfSmallPoly(z), h)
	}
	c := erfcLarge(a)
	if x > 0 {
		return float32(x * fma32(-0.5, c, 1))
	}
	return float32(h * c)
}

// log32 is ln x: x = m·2^e with m in [√½, √2), f = m-1, ln x = e·ln2 + f - f²/2 + f³·P(f). Denormals are
// scaled by 2^23 first; 0 gives -Inf, negatives NaN, +Inf +Inf.
func log32(x float32) float32 {
	switch {
	case x != x || x < 0:
		return float32(math.NaN())
	case x == 0:
		return float32(math.Inf(-1))
	case x > math.MaxFloat32:
		return x
	}
	var e float32
	if x < 0x1p-126 {
		x = float32(x * 0x1p23)
		e = -23
	}
	bits := math.Float32bits(x)
	e += float32(int32(bits>>23) - 127)
	mbits := bits&0x007fffff | 0x3f800000
	if mbits > 0x3fb504f3 { // m > √2: halve it
		mbits -= 1 << 23
		e++
	}
	f := float32(math.Float32frombits(mbits) - 1)
	f2 := float32(f * f)
	p := fma32(logC9, f, logC8)
	p = fma32(p, f, logC7)
	p = fma32(p, f, logC6)
	p = fma32(p, f, logC5)
	p = fma32(p, f, logC4)
	p = fma32(p, f, logC3)
	r := fma32(float32(f2*f), p, float32(-0.5*f2))
	r = float32(r + f)
	return fma32(e, ln2Hi, fma32(e, ln2Lo, r))
}
