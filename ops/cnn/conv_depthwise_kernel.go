package cnn

// The vector depthwise kernels. A depthwise plane is copied once into a zero-padded buffer, so that every
// output cell is an interior one and the inner loop has no border test; the kernels then run over blocks of
// dwBlock outputs:
//
//	dst[i] = clamp(bias + Σ_{ky<k} Σ_{kx<k} w[ky*k+kx] · src[ky*rowStride + stride*i + kx], lo, hi)
//
// for i < blocks*dwBlock, where clamp keeps NaN (Relu is lo = 0, hi = +Inf; no activation ±Inf).
// For stride 1 the whole padded plane is one sequence (output cell (oy, ox) is i = oy*rowStride + ox and
// the cells with ox >= outW are computed and dropped), so short rows (14 or 7 cells) still fill the vector
// lanes; for stride 2 the kernel runs once per output row. The pure-Go twins below are the reference the
// AVX2 and AVX-512 variants (conv_depthwise_amd64.s) are compared with.

import "github.com/onnxrun/onnxrun/ops/internal/isa"

// dwBlock is the outputs one kernel step computes: one zmm register, two ymm.
const dwBlock = 16

// dwKernelFn computes blocks*dwBlock outputs of a k x k depthwise stencil with one stride, as above. dst
// holds at least blocks*dwBlock values; src is read from 0 to dwSrcExtent(...) exclusive.
type dwKernelFn func(dst, src []float32, rowStride, k, blocks int, w []float32, bias, lo, hi float32)

// dwSrcExtent is how many values of src a kernel call reads, the assembly's 2-vector loads included.
func dwSrcExtent(stride, rowStride, k, blocks int) int {
	return (k-1)*rowStride + stride*dwBlock*blocks + k + dwBlock
}

// dwKernelGo is the pure-Go twin of the kernels of one stride.
func dwKernelGo(stride int) dwKernelFn {
	return func(dst, src []float32, rowStride, k, blocks int, w []float32, bias, lo, hi float32) {
		n := blocks * dwBlock
		dst = dst[:n]
		for i := range dst {
			dst[i] = bias
		}
		for ky := 0; ky < k; ky++ {
			for kx := 0; kx < k; kx++ {
				wt := w[ky*k+kx]
				row := src[ky*rowStride+kx : ky*rowStride+kx+stride*(n-1)+1]
				for i := range dst {
					dst[i] += wt * row[stride*i]
				}
			}
		}
		dwClamp(dst, lo, hi)
	}
}

// dwClamp clamps the values of dst to [lo, hi], keeping NaN.
func dwClamp(dst []float32, lo, hi float32) {
	for i, v := range dst {
		if v < lo {
			v = lo
		}
		if v > hi {
			v = hi
		}
		dst[i] = v
	}
}

// dwStride1Variants and dwStride2Variants are the implementations by instruction set: the pure-Go twin
// and the assembly of this GOARCH (dwAsmVariants).
var (
	dwStride1Variants = append([]isa.Variant[dwKernelFn]{{Level: isa.PureGo, Name: "pure Go", Fn: dwKernelGo(1)}}, dwAsmVariants(1)...)
	dwStride2Variants = append([]isa.Variant[dwKernelFn]{{Level: isa.PureGo, Name: "pure Go", Fn: dwKernelGo(2)}}, dwAsmVariants(2)...)
)

// dwStride1 and dwStride2 are the variants this process runs.
var (
	dwStride1 = isa.Pick(dwStride1Variants...)
	dwStride2 = isa.Pick(dwStride2Variants...)
)
