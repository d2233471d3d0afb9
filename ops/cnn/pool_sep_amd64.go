//go:build !noasm

package cnn

import "github.com/onnxrun/onnxrun/ops/internal/isa"

// poolSepAsmVariants: the separable passes of pool_sep_amd64.s need AVX2.
var poolSepAsmVariants = []isa.Variant[bool]{{Level: isa.AVX2, Name: "AVX2", Fn: true}}

//go:noescape
func poolColMaxAVX2(dst, x *float32, blocks, tail, rowStride, rows int)

//go:noescape
func poolRowMaxAVX2(y, v, first *float32, blocks, tail, stride, k int)

//go:noescape
func poolColSumAVX2(dst, x *float32, blocks, tail, rowStride, rows int)

//go:noescape
func poolRowSumAVX2(y, v, first *float32, blocks, tail, stride, k int)

// poolColPass computes dst[c], the maximum of the non-NaN values of column c over rows rows of x,
// rowStride apart, or their sum (see poolColPassGo, which the assembly matches bit for bit).
func poolColPass(dst, x []float32, rowStride, rows int, sum bool) {
	if !poolSepAsm || len(dst) == 0 || rows < 1 {
		poolColPassGo(dst, x, rowStride, rows, sum)
		return
	}
	_ = x[(rows-1)*rowStride+len(dst)-1]
	if sum { // direct calls: a function value would let dst escape (the caller's rows are on its stack)
		poolColSumAVX2(&dst[0], &x[0], len(dst)/8, len(dst)%8, rowStride, rows)
	} else {
		poolColMaxAVX2(&dst[0], &x[0], len(dst)/8, len(dst)%8, rowStride, rows)
	}
}

// poolRowPass computes each y[j], the maximum of v[j*stride : j*stride+k] or first[j*stride] when that
// is not smaller, or their sum divided by first[j*stride] (see poolRowPassGo, which the assembly matches
// bit for bit).
func poolRowPass(y, v, first []float32, stride, k int, sum bool) {
	n := len(y)
	if !poolSepAsm || n == 0 {
		poolRowPassGo(y, v, first, stride, k, sum)
		return
	}
	_, _ = v[(n-1)*stride+k-1], first[(n-1)*stride]
	// Block b of eight reads v[8*stride*b + [0, 8*stride+k-1)] and first[8*stride*b + [0, 8*stride)], up
	// to stride-1 elements past the last output's window: the blocks stop where that leaves the slices,
	// and the rest goes one output at a time.
	blocks := n / 8
	for blocks > 0 && (8*stride*blocks+k-1 > len(v) || 8*stride*blocks > len(first)) {
		blocks--
	}
	if sum {
		poolRowSumAVX2(&y[0], &v[0], &first[0], blocks, n-8*blocks, stride, k)
	} else {
		poolRowMaxAVX2(&y[0], &v[0], &first[0], blocks, n-8*blocks, stride, k)
	}
}
