package qvec

// twin is the pure-Go variant: the reference the assembly is tested against, and what runs the tails.
var twin = &impl{
	lanes: 1,
	quantize: func(dst []byte, src []float32, scale, lo, hi float32, zp int32) {
		dst = dst[:len(src)]
		const magic = 1.5 * (1 << 23) // adding and subtracting it rounds half to even below 2²²
		for i, x := range src {
			v := x / scale
			if v != v {
				v = 0
			}
			v = min(max(v, lo), hi)
			dst[i] = byte(int32((v+magic)-magic) + zp)
		}
	},
	dequantizeU8: func(dst []float32, src []uint8, scale float32, zp int32) {
		dst = dst[:len(src)]
		for i, q := range src {
			dst[i] = float32(int32(q)-zp) * scale
		}
	},
	dequantizeS8: func(dst []float32, src []int8, scale float32, zp int32) {
		dst = dst[:len(src)]
		for i, q := range src {
			dst[i] = float32(int32(q)-zp) * scale
		}
	},
}
