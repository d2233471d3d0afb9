package qvec

// AddParams are QLinearAdd's constants: the input zero points, the ratios A_scale/C_scale and
// B_scale/C_scale, and C's zero point.
type AddParams struct {
	AZeroPoint, BZeroPoint int32
	RatioA, RatioB         float32
	CZeroPoint             float32
}

// AddU8 computes QLinearAdd over uint8 spans of equal length, as ONNX Runtime does in float32:
//
//	c[i] = saturate(round_half_to_even((a[i] - azp) * ratioA + (b[i] - bzp) * ratioB + czp))
//
// a NaN sum giving czp.
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

// addTwin is the pure-Go QLinearAdd; each term is one float32 product (kept apart from the sum, so that
// no multiply-add fuses them).
func addTwin(c, a, b []byte, signed bool, p AddParams, lo, hi float32) {
	c, b = c[:len(a)], b[:len(a)]
	const magic = 1.5 * (1 << 23)
	for i := range a {
		ai, bi := int32(a[i]), int32(b[i])
		if signed {
			ai, bi = int32(int8(a[i])), int32(int8(b[i]))
		}
		v := float32(float32(ai-p.AZeroPoint)*p.RatioA) + float32(float32(bi-p.BZeroPoint)*p.RatioB)
		if v != v {
			v = 0
		}
		v = min(max(v+p.CZeroPoint, lo), hi)
		c[i] = byte(int32((v + magic) - magic))
	}
}
