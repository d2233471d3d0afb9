//go:build !noasm

package cnn

import "github.com/onnxrun/onnxrun/ops/internal/isa"

// poolSepAsmVariants: the separable passes of pool_sep_amd64.s need AVX2.
var poolSepAsmVariants = []isa.Variant[bool]{{Level: isa.AVX2, Name: "AVX2", Fn: true}}

//go:noescape
func poolColMaxAVX2(dst, x *float32, blocks, rowStride, rows int)

//go:noescape
func poolRowMaxAVX2(y, v, first *float32, blocks, stride, k int)

// poolColMax computes dst[c], the maximum of the non-NaN values of column c over rows rows of x, rowStride
// apart (see poolColMaxGo, which the assembly matches bit for bit, eight columns at a time).
func poolColMax(dst, x []float32, rowStride, rows int) {
	blocks := len(dst) / 8
	if !poolSepAsm || blocks == 0 || rows < 1 {
		poolColMaxGo(dst, x, rowStride, rows)
		return
	}
	_ = x[(rows-1)*rowStride+len(dst)-1]
	poolColMaxAVX2(&dst[0], &x[0], blocks, rowStride, rows)
	if done := blocks * 8; done < len(dst) {
		poolColMaxGo(dst[done:], x[done:], rowStride, rows)
	}
}

// poolRowMax computes each y[j], the maximum of v[j*stride : j*stride+k] or first[j*stride] when that is
// not smaller (see poolRowMaxGo, which the assembly matches bit for bit, eight outputs at a time). A block
// of eight reads v and first up to 16*stride/2+k-1 elements past its start.
func poolRowMax(y, v, first []float32, stride, k int) {
	blocks := len(y) / 8
	// The assembly reads v[8*stride*b + [0, 8*stride+k-1)] and first likewise for block b.
	for blocks > 0 && (8*stride*(blocks-1)+8*stride+k-1 > len(v) || 8*stride*blocks > len(first)) {
		blocks--
	}
	if !poolSepAsm || blocks == 0 {
		poolRowMaxGo(y, v, first, stride, k)
		return
	}
	poolRowMaxAVX2(&y[0], &v[0], &first[0], blocks, stride, k)
	if done := blocks * 8; done < len(y) {
		poolRowMaxGo(y[done:], v[done*stride:], first[done*stride:], stride, k)
	}
}
