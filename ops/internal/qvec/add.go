package qvec

import "math"

// AddParams are QLinearAdd's constants in C's units: the ratios A_scale/C_scale and B_scale/C_scale, and
// Offset, C's zero point less both inputs' zero points scaled by their ratios (AddQuant.Params).
type AddParams struct {
	RatioA, RatioB float32
	Offset         float32
}

// AddQuant is a QLinearAdd's quantization: each input's and the output's scale and zero point.
type AddQuant struct {
	AScale, AZeroPoint, BScale, BZeroPoint, CScale, CZeroPoint float32
}

// Params returns QLinearAdd's constants as ONNX Runtime's AVX2 kernel (MlasQLinearAddU8KernelAvx2, the
// one x86-64 CPUs run) computes them in float32:
//
//	RatioA = AScale / CScale, RatioB = BScale / CScale
//	Offset = CZeroPoint - fma(RatioA, AZeroPoint, RatioB*BZeroPoint)
//
// Offset's inner multiply-add is fused, as the compiler contracts ONNX Runtime's expression: with two
// roundings, about one MobileNetV2 residual sum in ten thousand lands on the other side of a tie.
func (q AddQuant) Params() AddParams {
	ra, rb := q.AScale/q.CScale, q.BScale/q.CScale
	return AddParams{RatioA: ra, RatioB: rb, Offset: q.CZeroPoint - fma32(ra, q.AZeroPoint, rb*q.BZeroPoint)}
}

// ConstantA returns the constants of a span along which A is the one value a. ONNX Runtime runs such a
// span with the inputs swapped (B first, so Offset's fused term is B's) and folds a's term into Offset
// with a rounded product and a rounded sum; RatioA is 0, so that AddU8(c, b, b, q.ConstantA(a)) computes
// the span (A's slot reads anything: it is scaled by 0).
func (q AddQuant) ConstantA(a float32) AddParams {
	swapped := AddQuant{q.BScale, q.BZeroPoint, q.AScale, q.AZeroPoint, q.CScale, q.CZeroPoint}.Params()
	return AddParams{RatioB: swapped.RatioA, Offset: swapped.Offset + float32(a*swapped.RatioB)}
}

// ConstantB is ConstantA for B, whose span ONNX Runtime runs unswapped: AddU8(c, a, a, q.ConstantB(b)).
func (q AddQuant) ConstantB(b float32) AddParams {
	p := q.Params()
	return AddParams{RatioA: p.RatioA, Offset: p.Offset + float32(b*p.RatioB)}
}

// AddU8 computes QLinearAdd over uint8 spans of equal length with two float32 multiply-adds, in ONNX
// Runtime's order (B's first):
//
//	c[i] = saturate(round_half_to_even(fma(a[i], RatioA, fma(b[i], RatioB, Offset))))
//
// a NaN giving the lowest value, as ONNX Runtime's conversion to int32 does.
func AddU8(c, a, b []uint8, p AddParams) { addWith(active, c[:len(a)], a, b[:len(a)], false, p) }

// AddS8 is AddU8 for int8.
func AddS8(c, a, b []int8, p AddParams) {
	addWith(active, bytesOf(c[:len(a)]), bytesOf(a), bytesOf(b[:len(a)]), true, p)
}

func addWith(v *impl, c, a, b []byte, signed bool, p AddParams) {
	lo, hi := float32(0), float32(255)
	if signed {
		lo, hi = -128, 127
	}
	n := 0
	if v.add != nil {
		n = split(v, len(a))
		if n > 0 {
			v.add(c[:n], a[:n], b[:n], signed, p, lo, hi)
		}
	}
	addTwin(c[n:], a[n:], b[n:], signed, p, lo, hi)
}

// addTwin is the pure-Go QLinearAdd, each multiply-add rounded once (fma32), as VFMADD231PS does.
func addTwin(c, a, b []byte, signed bool, p AddParams, lo, hi float32) {
	c, b = c[:len(a)], b[:len(a)]
	const magic = 1.5 * (1 << 23)
	for i := range a {
		ai, bi := float32(a[i]), float32(b[i])
		if signed {
			ai, bi = float32(int8(a[i])), float32(int8(b[i]))
		}
		v := fma32(ai, p.RatioA, fma32(bi, p.RatioB, p.Offset))
		if !(v >= lo) { // NaN too
			v = lo
		}
		v = min(v, hi)
		c[i] = byte(int32((v + magic) - magic))
	}
}

// fma32 returns x*y+z rounded once to float32. The product is exact in float64 (24+24 significant bits);
// the float64 sum is rounded to odd (nearest, then moved to the odd neighbour on the exact value's side
// when it is inexact and even), which makes its rounding to float32 that of the exact sum.
func fma32(x, y, z float32) float32 {
	p := float64(x) * float64(y)
	s := p + float64(z)
	if math.IsInf(s, 0) || s != s {
		return float32(s)
	}
	zPart := s - p // the sum's rounding error, exactly (two-sum)
	err := (p - (s - zPart)) + (float64(z) - zPart)
	if err != 0 && math.Float64bits(s)&1 == 0 {
		s = math.Nextafter(s, math.Copysign(math.Inf(1), err))
	}
	return float32(s)
}
