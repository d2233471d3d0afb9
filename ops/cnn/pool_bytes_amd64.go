//go:build !noasm

package cnn

import "github.com/onnxrun/onnxrun/ops/internal/isa"

// maxShiftedAsmVariants: the 8-bit pool's routine in pool_bytes_amd64.s needs AVX2.
var maxShiftedAsmVariants = []isa.Variant[bool]{{Level: isa.AVX2, Name: "AVX2 (VPMAXUB, VPMAXSB)", Fn: true}}

// maxShiftedU8AVX2 and maxShiftedS8AVX2 are maxShiftedGo over blocks*32 bytes (blocks >= 1, count >= 1).
//
//go:noescape
func maxShiftedU8AVX2(dst, src *byte, blocks, step, count int)

//go:noescape
func maxShiftedS8AVX2(dst, src *byte, blocks, step, count int)

// maxShifted computes dst[i], the maximum of src[i + t*step] over t in [0, count), for every i < len(dst),
// comparing as int8 when signed, else as uint8 (see maxShiftedGo, which the assembly matches byte for byte).
// dst and src do not overlap.
func maxShifted(dst, src []byte, step, count int, signed bool) {
	n := len(dst)
	if !maxShiftedAsm || n < 32 || count < 1 {
		maxShiftedGo(dst, src, step, count, signed)
		return
	}
	_ = src[(count-1)*step+n-1]
	// The last partial block is done as the block that ends at n: it recomputes a few outputs to the same
	// values, which is exact since dst and src are apart.
	if signed { // direct calls: a function value would let dst escape (the caller's rows are on its stack)
		maxShiftedS8AVX2(&dst[0], &src[0], n/32, step, count)
		if n%32 != 0 {
			maxShiftedS8AVX2(&dst[n-32], &src[n-32], 1, step, count)
		}
		return
	}
	maxShiftedU8AVX2(&dst[0], &src[0], n/32, step, count)
	if n%32 != 0 {
		maxShiftedU8AVX2(&dst[n-32], &src[n-32], 1, step, count)
	}
}

// evenBytesAVX2 is evenBytesGo over blocks*32 bytes of dst (blocks >= 1).
//
//go:noescape
func evenBytesAVX2(dst, src *byte, blocks int)

// evenBytes sets dst[j] = src[2j] for every j < len(dst) (see evenBytesGo); src holds at least 2*len(dst) bytes.
func evenBytes(dst, src []byte) {
	n := len(dst)
	if !maxShiftedAsm || n < 32 {
		evenBytesGo(dst, src)
		return
	}
	_ = src[2*n-1]
	evenBytesAVX2(&dst[0], &src[0], n/32)
	if n%32 != 0 { // the block that ends at n, as in maxShifted
		evenBytesAVX2(&dst[n-32], &src[2*(n-32)], 1)
	}
}
