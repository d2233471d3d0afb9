//go:build !noasm

package cnn

import "github.com/onnxrun/onnxrun/ops/internal/isa"

// The depthwise kernels of conv_depthwise_amd64.s: dst, src and w point at the first element of the
// slices the Go wrappers below check.

//go:noescape
func dwStride1AVX2(dst, src *float32, rowStride, k, blocks int, w *float32, bias, lo, hi float32)

//go:noescape
func dwStride2AVX2(dst, src *float32, rowStride, k, blocks int, w *float32, bias, lo, hi float32)

//go:noescape
func dwStride1AVX512(dst, src *float32, rowStride, k, blocks int, w *float32, bias, lo, hi float32)

//go:noescape
func dwStride2AVX512(dst, src *float32, rowStride, k, blocks int, w *float32, bias, lo, hi float32)

// dwAsm wraps an assembly kernel with the bounds checks the Go twins make by indexing.
func dwAsm(stride int, f func(dst, src *float32, rowStride, k, blocks int, w *float32, bias, lo, hi float32)) dwKernelFn {
	return func(dst, src []float32, rowStride, k, blocks int, w []float32, bias, lo, hi float32) {
		if blocks <= 0 {
			return
		}
		_ = dst[blocks*dwBlock-1]
		_ = src[dwSrcExtent(stride, rowStride, k, blocks)-1]
		_ = w[k*k-1]
		f(&dst[0], &src[0], rowStride, k, blocks, &w[0], bias, lo, hi)
	}
}

// dwAsmVariants are the assembly depthwise kernels for stride 1 or 2.
func dwAsmVariants(stride int) []isa.Variant[dwKernelFn] {
	avx2, avx512 := dwStride1AVX2, dwStride1AVX512
	if stride == 2 {
		avx2, avx512 = dwStride2AVX2, dwStride2AVX512
	}
	return []isa.Variant[dwKernelFn]{
		{Level: isa.AVX2, Name: "AVX2+FMA", Fn: dwAsm(stride, avx2)},
		{Level: isa.AVX512, Name: "AVX-512", Fn: dwAsm(stride, avx512)},
	}
}
