package cnn

// The vector depthwise kernels. A depthwise plane is copied once into a zero-padded buffer, so that every
// output cell is an interior one and the inner loop has no border test; one kernel then runs over blocks
// of dwBlock outputs with a table of tap offsets:
//
//	dst[i] = clamp(bias + Σ_{t<len(off)} w[t] · src[off[t] + i], lo, hi)
//
// for i < blocks*dwBlock, where clamp keeps NaN (Relu is lo = 0, hi = +Inf; no activation ±Inf). Output
// cell (oy, ox) is i = oy*rowStride + ox: the whole plane is one sequence (the cells with ox >= outW are
// computed and dropped), so short rows (14 or 7 cells) still fill the vector lanes. With stride 1 the
// buffer is the padded plane and tap (ky, kx) is at ky*rowStride + kx. With stride 2 the buffer holds the
// padded plane's four phases (even or odd rows times even or odd columns), each a plane of rowStride
// columns: tap (ky, kx) reads phase (ky%2, kx%2) at (ky/2)*rowStride + kx/2, so a stride-2 convolution
// is a stride-1 one over the phases and runs on the same kernel, a whole plane per call. The pure-Go twin
// below is the reference the AVX2 and AVX-512 variants (conv_depthwise_amd64.s) are compared with.

import "github.com/onnxrun/onnxrun/ops/internal/isa"

// dwBlock is the outputs one kernel step computes: one zmm register, two ymm.
const dwBlock = 16

// dwKernelFn computes blocks*dwBlock outputs of a depthwise stencil, as above: dst holds at least
// blocks*dwBlock values, w one weight per offset, and src is read from 0 to dwSrcExtent(off, blocks)
// exclusive.
type dwKernelFn func(dst, src []float32, off []int, w []float32, blocks int, bias, lo, hi float32)

// dwSrcExtent is how many values of src a kernel call with tap offsets off reads.
func dwSrcExtent(off []int, blocks int) int {
	maxOff := 0
	for _, o := range off {
		maxOff = max(maxOff, o)
	}
	return maxOff + blocks*dwBlock
}

// dwKernelGo is the pure-Go twin of the assembly kernels.
func dwKernelGo(dst, src []float32, off []int, w []float32, blocks int, bias, lo, hi float32) {
	n := blocks * dwBlock
	dst = dst[:n]
	for i := range dst {
		dst[i] = bias
	}
	for t, o := range off {
		wt := w[t]
		for i, v := range src[o : o+n] {
			dst[i] += wt * v
		}
	}
	dwClamp(dst, lo, hi)
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

// dwKernelVariants are the implementations by instruction set: the pure-Go twin and the assembly of
// this GOARCH (dwAsmVariants).
var dwKernelVariants = append([]isa.Variant[dwKernelFn]{{Level: isa.PureGo, Name: "pure Go", Fn: dwKernelGo}}, dwAsmVariants()...)

// dwKernel is the variant this process runs.
var dwKernel = isa.Pick(dwKernelVariants...)

// dwSplitFn splits rows of a stride-2 plane into their column phases: for row r < len(evenAt) and
// c < pairs,
//
//	dst[evenAt[r] + c] = src[r*inW + 2c]     dst[oddAt[r] + c] = src[r*inW + 2c + 1]
//
// (oddAt as long as evenAt, 2*pairs <= inW). One call does a whole plane.
type dwSplitFn func(dst, src []float32, evenAt, oddAt []int, inW, pairs int)

// dwSplitGo is the pure-Go twin of the assembly split.
func dwSplitGo(dst, src []float32, evenAt, oddAt []int, inW, pairs int) {
	oddAt = oddAt[:len(evenAt)]
	for r, at := range evenAt {
		row := src[r*inW : r*inW+2*pairs]
		even, odd := dst[at:at+pairs], dst[oddAt[r]:oddAt[r]+pairs]
		for c := range even {
			even[c], odd[c] = row[2*c], row[2*c+1]
		}
	}
}

// dwSplitVariants are the splits by instruction set; dwSplit is the one this process runs.
var (
	dwSplitVariants = append([]isa.Variant[dwSplitFn]{{Level: isa.PureGo, Name: "pure Go", Fn: dwSplitGo}}, dwSplitAsmVariants()...)
	dwSplit         = isa.Pick(dwSplitVariants...)
)

// dwCopyRowsFn copies rows between strided planes: dst[r*dstStride + c] = src[r*srcStride + c] for
// r < rows, c < n. It moves a small plane into the padded buffer and the kernel's rows out, one call a
// plane where copy would be one call a row (7 or 14 values each on the small maps).
type dwCopyRowsFn func(dst []float32, dstStride int, src []float32, srcStride, rows, n int)

// dwCopyRowsGo is the pure-Go twin of the assembly row copy.
func dwCopyRowsGo(dst []float32, dstStride int, src []float32, srcStride, rows, n int) {
	for r := 0; r < rows; r++ {
		copy(dst[r*dstStride:r*dstStride+n], src[r*srcStride:r*srcStride+n])
	}
}

// dwCopyRowsVariants are the row copies by instruction set; dwCopyRows is the one this process runs.
var (
	dwCopyRowsVariants = append([]isa.Variant[dwCopyRowsFn]{{Level: isa.PureGo, Name: "pure Go", Fn: dwCopyRowsGo}}, dwCopyRowsAsmVariants()...)
	dwCopyRows         = isa.Pick(dwCopyRowsVariants...)
)
