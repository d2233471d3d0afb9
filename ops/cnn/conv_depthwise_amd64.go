//go:build !noasm

package cnn

import "github.com/onnxrun/onnxrun/ops/internal/isa"

// The depthwise kernels of conv_depthwise_amd64.s: dst, src, off and w point at the first element of
// the slices the Go wrapper below checks; taps is len(off).

//go:noescape
func dwTapsAVX2(dst, src *float32, off *int, w *float32, taps, blocks int, bias, lo, hi float32)

//go:noescape
func dwTapsAVX512(dst, src *float32, off *int, w *float32, taps, blocks int, bias, lo, hi float32)

// dwAsm wraps an assembly kernel with the bounds checks the Go twin makes by indexing.
func dwAsm(f func(dst, src *float32, off *int, w *float32, taps, blocks int, bias, lo, hi float32)) dwKernelFn {
	return func(dst, src []float32, off []int, w []float32, blocks int, bias, lo, hi float32) {
		if blocks <= 0 || len(off) == 0 {
			dwKernelGo(dst, src, off, w, blocks, bias, lo, hi)
			return
		}
		_ = dst[blocks*dwBlock-1]
		_ = w[len(off)-1]
		for _, o := range off {
			_ = src[o] // a negative offset fails here, as in the twin
		}
		_ = src[dwSrcExtent(off, blocks)-1]
		f(&dst[0], &src[0], &off[0], &w[0], len(off), blocks, bias, lo, hi)
	}
}

// dwAsmVariants are the assembly depthwise kernels.
func dwAsmVariants() []isa.Variant[dwKernelFn] {
	return []isa.Variant[dwKernelFn]{
		{Level: isa.AVX2, Name: "AVX2+FMA", Fn: dwAsm(dwTapsAVX2)},
		{Level: isa.AVX512, Name: "AVX-512", Fn: dwAsm(dwTapsAVX512)},
	}
}

//go:noescape
func dwSplitAVX512(dst, src *float32, evenAt, oddAt *int, rows, inW, pairs int)

// dwSplitAsmVariants are the assembly splits.
func dwSplitAsmVariants() []isa.Variant[dwSplitFn] {
	return []isa.Variant[dwSplitFn]{{Level: isa.AVX512, Name: "AVX-512", Fn: func(dst, src []float32, evenAt, oddAt []int, inW, pairs int) {
		rows := len(evenAt)
		if rows == 0 || pairs <= 0 {
			return
		}
		_ = oddAt[rows-1]
		_ = src[(rows-1)*inW+2*pairs-1]
		for r, at := range evenAt {
			_, _ = dst[at:at+pairs], dst[oddAt[r]:oddAt[r]+pairs]
		}
		dwSplitAVX512(&dst[0], &src[0], &evenAt[0], &oddAt[0], rows, inW, pairs)
	}}}
}

//go:noescape
func dwCopyRowsAVX512(dst *float32, dstStride int, src *float32, srcStride, rows, n int)

// dwCopyRowsAsmVariants are the assembly row copies.
func dwCopyRowsAsmVariants() []isa.Variant[dwCopyRowsFn] {
	return []isa.Variant[dwCopyRowsFn]{{Level: isa.AVX512, Name: "AVX-512", Fn: func(dst []float32, dstStride int, src []float32, srcStride, rows, n int) {
		if rows <= 0 || n <= 0 {
			return
		}
		_ = dst[(rows-1)*dstStride+n-1]
		_ = src[(rows-1)*srcStride+n-1]
		if dstStride < n || srcStride < 0 {
			dwCopyRowsGo(dst, dstStride, src, srcStride, rows, n) // overlapping rows: the twin's order
			return
		}
		dwCopyRowsAVX512(&dst[0], dstStride, &src[0], srcStride, rows, n)
	}}}
}
