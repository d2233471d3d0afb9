package igemm

import "math"

// MultiplyReference is the plain-loop twin of Multiply and the statement of its semantics:
//
//	for i < M, j < N:
//		acc := int32(0)
//		for p < K: acc += (A(i, p) - AZero(i)) * (B(p, j) - BZero(j))   // int32, wrapping
//		if Requant == nil { C[i*LDC+j] = acc; continue }
//		acc += bias(i, j)
//		v := float32(acc) * ((AScale(i) * BScale(j)) / YScale)
//		Y[i*LDY+j] = clamp(RoundToEven(v) + YZero, 0, 255)   // -128, 127 when YSigned
//
// A(i, p) and B(p, j) read the operand as uint8 or int8 by its Signed flag; B(p, j) is B[p*LDB+j], or
// B[j*LDB+p] with BTrans. It does not accept prepacked operands.
func MultiplyReference(p *Params) {
	for i := 0; i < p.M; i++ {
		za := zeroAt(p.AZero, p.ASigned, i)
		for j := 0; j < p.N; j++ {
			zb := zeroAt(p.BZero, p.BSigned, j)
			var acc int32
			for k := 0; k < p.K; k++ {
				bi := k*p.LDB + j
				if p.BTrans {
					bi = j*p.LDB + k
				}
				acc += (value(p.A[i*p.LDA+k], p.ASigned) - za) * (value(p.B[bi], p.BSigned) - zb)
			}
			if p.Requant == nil {
				p.C[i*p.LDC+j] = acc
				continue
			}
			r := p.Requant
			p.Requant.Y[i*r.LDY+j] = requantize(r, acc, i, j)
		}
	}
}

// value reads one operand byte as uint8, or int8 when signed.
func value(b byte, signed bool) int32 {
	if signed {
		return int32(int8(b))
	}
	return int32(b)
}

// zeroAt is the zero point of row (or column) i: none, per tensor or per row.
func zeroAt(z []byte, signed bool, i int) int32 {
	switch len(z) {
	case 0:
		return 0
	case 1:
		return value(z[0], signed)
	}
	return value(z[i], signed)
}

// scaleAt is the scale of row (or column) i: per tensor or per row.
func scaleAt(s []float32, i int) float32 {
	if len(s) == 1 {
		return s[0]
	}
	return s[i]
}

// requantize is the epilogue of one accumulator of row i, column j (Requant's formula).
func requantize(r *Requant, acc int32, i, j int) byte {
	switch r.BiasMode {
	case BiasPerRow:
		acc += r.Bias[i]
	case BiasPerCol:
		acc += r.Bias[j]
	}
	mult := (scaleAt(r.AScale, i) * scaleAt(r.BScale, j)) / r.YScale
	return saturate(float32(acc)*mult, r.YZero, r.YSigned)
}

// saturate rounds v half to even, adds the zero point and clamps to u8 (or s8); NaN gives the zero
// point clamped.
func saturate(v float32, zero int32, signed bool) byte {
	lo, hi := 0.0, 255.0
	if signed {
		lo, hi = -128, 127
	}
	r := math.RoundToEven(float64(v))
	if r != r {
		r = 0
	}
	r = max(lo, min(hi, r+float64(zero)))
	if signed {
		return byte(int8(r))
	}
	return byte(r)
}
