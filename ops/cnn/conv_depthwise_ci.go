package cnn

// The channel-interleaved depthwise path, for small maps (MobileNet's and EfficientNet's 14x14 and 7x7,
// DeepLabV3's 16x16). The per-plane vector path (conv_depthwise_kernel.go) pays per plane what a small
// plane cannot spread: filling its padded buffer, one kernel call, copying the rows out and the post
// activation's call, over 49 or 196 outputs. Here a work unit is 16 channels of one image: their planes
// are transposed into a zero-padded block of [row][column][16 channels] pixels, so that one zmm register
// holds one pixel of all 16 channels and every tap is one multiply-add with a per-channel weight vector,
// whatever the map's width; the 16 planes of outputs are transposed back as they are stored.
//
//	y[c][oy][ox] = clamp(bias[c] + Σ_{ky,kx} w[c][ky][kx] · xpad[c][oy*s+ky*dh][ox*s+kx*dw])
//
// Weights are prepacked [channel block][tap][16 channels] (zero past the last channel), once per model
// for constant weights. A channel block of fewer than 16 channels (C = 72, 120, 200, 184 in MobileNetV3)
// is transposed by the pure-Go twins, padded with zero channels. Units are split over the pool. The
// assembly (conv_depthwise_ci_amd64.s) has AVX-512 and AVX2 variants; with neither, the plane path runs.

import (
	"slices"
	"unsafe"

	"github.com/onnxrun/onnxrun/ops/internal/activation"
	"github.com/onnxrun/onnxrun/ops/internal/gemm"
	"github.com/onnxrun/onnxrun/ops/internal/isa"
)

// dwciLanes is the channels of one interleaved pixel: one zmm register.
const dwciLanes = 16

// dwciGroup is the pixels one kernel step computes (dwciTapsFn): the base table is padded to a multiple.
const dwciGroup = 8

// dwciMaxOutputs is the largest output plane (outH*outW) that takes the interleaved path. Measured with
// BenchmarkDepthwiseConv (ops/cnn, one thread, on a busy machine): with AVX-512 the interleaved path takes
// 0.35-0.7x the plane path's time on MobileNetV2's and EfficientNet-B0's 14x14 and 7x7 outputs and
// about the same on 28x28 (784 outputs), where the plane path's long rows fill its lanes; with AVX2
// 0.3-0.8x on the small maps. 256 keeps DeepLabV3's 16x16 on it and leaves 28x28 where it was.
const dwciMaxOutputs = 256

// dwciPlan is the geometry of the interleaved path for one shape.
type dwciPlan struct {
	blocks          int // channel blocks: ceil(C/16)
	padH, padW      int // the padded block's rows and columns that some output reads
	padTop, padLeft int
	inH, inW        int
	outPixels       int
	offsets         []int // tap (ky, kx) at (ky*padW + kx)*16
	bases           []int // output pixel i reads from bases[i]; ceil16(outPixels) entries, the extra ones 0
	// inputAt is where input pixel p goes in the padded block (dwciPackTo): its interior cell, or the
	// discard vector just past the block for the rows and columns no output reads.
	inputAt dwciOffsets
	// borderRuns are the [start, end) ranges of the padded block no input pixel is written to: its
	// padding, zeroed by each unit (run is called a unit at a time on a buffer other kernels share, and
	// the border is a fraction of the block: 32 of 81 pixels on a 7x7 map, 29 of 225 on 14x14 stride 2).
	borderRuns [][2]int
	padLen     int // padH*padW*16
	// stageLen is ceil16(max(inH*inW, outPixels))*16: the quantized path's transposed input, then the
	// output; outLen is ceil16(outPixels)*16, the float path's stage (its input goes straight to the block).
	stageLen, outLen int
}

// newDwciPlan returns the interleaved plan when the shape takes it: a depthwise multiplier of 1, a window
// the vector path takes (square 3x3 or 5x5, stride 1 or 2, any dilation), an output plane of at most
// dwciMaxOutputs, and a CPU with the assembly (the pure-Go twins are the reference, slower than the
// plane path).
func newDwciPlan(s *convShape, vec *dwVectorPlan) *dwciPlan {
	if vec == nil || s.groupOutC != 1 || vec.outH*vec.outW > dwciMaxOutputs || dwciTaps.Level == isa.PureGo {
		return nil
	}
	return newDwciPlanFor(s, vec)
}

// newDwciPlanFor is newDwciPlan without the choice: the geometry for any shape the vector path takes.
func newDwciPlanFor(s *convShape, vec *dwVectorPlan) *dwciPlan {
	k, st := vec.k, vec.stride
	p := &dwciPlan{blocks: (s.inC + dwciLanes - 1) / dwciLanes, padTop: vec.padTop, padLeft: vec.padLeft,
		inH: vec.inH, inW: vec.inW, outPixels: vec.outH * vec.outW,
		padH: (vec.outH-1)*st + (k-1)*vec.dilH + 1, padW: (vec.outW-1)*st + (k-1)*vec.dilW + 1}
	for ky := 0; ky < k; ky++ {
		for kx := 0; kx < k; kx++ {
			p.offsets = append(p.offsets, (ky*vec.dilH*p.padW+kx*vec.dilW)*dwciLanes)
		}
	}
	p.bases = make([]int, ceilDiv(p.outPixels, dwciLanes)*dwciLanes)
	for oy := 0; oy < vec.outH; oy++ {
		for ox := 0; ox < vec.outW; ox++ {
			p.bases[oy*vec.outW+ox] = (oy*st*p.padW + ox*st) * dwciLanes
		}
	}
	p.padLen = p.padH * p.padW * dwciLanes
	p.stageLen = ceilDiv(max(p.inH*p.inW, p.outPixels), dwciLanes) * dwciLanes * dwciLanes
	p.outLen = ceilDiv(p.outPixels, dwciLanes) * dwciLanes * dwciLanes
	written := make([]bool, p.padH*p.padW)
	inputAt := make([]int, p.inH*p.inW)
	for i := range inputAt {
		row, col := i/p.inW+p.padTop, i%p.inW+p.padLeft
		if row >= p.padH || col >= p.padW {
			inputAt[i] = p.padLen // the discard vector
			continue
		}
		inputAt[i] = (row*p.padW + col) * dwciLanes
		written[row*p.padW+col] = true
	}
	p.inputAt = newDwciOffsets(inputAt)
	for at := 0; at < len(written); {
		if written[at] {
			at++
			continue
		}
		end := at
		for end < len(written) && !written[end] {
			end++
		}
		p.borderRuns = append(p.borderRuns, [2]int{at * dwciLanes, end * dwciLanes})
		at = end
	}
	return p
}

// dwciAlign is the alignment of the padded block and the stage in floats (64 bytes): the stencil's
// and the transposes' zmm loads and stores then never straddle two cache lines.
const dwciAlign = 16

// scratchPerThread is the slack to align the padded block, the block, its discard vector, the stage and
// the unit's 16 biases.
func (p *dwciPlan) scratchPerThread() int {
	return dwciAlign - 1 + p.padLen + dwciLanes + p.outLen + dwciLanes
}

// alignedFloats returns buf from its first element on a 64-byte boundary (buf holds floats, 4-byte
// aligned, so at most dwciAlign-1 of them are skipped).
func alignedFloats(buf []float32) []float32 {
	if len(buf) == 0 {
		return buf
	}
	mis := int(uintptr(unsafe.Pointer(&buf[0])) % (4 * dwciAlign) / 4)
	return buf[(dwciAlign-mis)%dwciAlign:]
}

// packWeights lays W [C][taps] out as [block][tap][16 channels], zero past channel C.
func (p *dwciPlan) packWeights(dst, w []float32, channels, taps int) {
	dst = dst[:p.blocks*taps*dwciLanes]
	clear(dst)
	for c := 0; c < channels; c++ {
		blk, lane := c/dwciLanes, c%dwciLanes
		for t := 0; t < taps; t++ {
			dst[(blk*taps+t)*dwciLanes+lane] = w[c*taps+t]
		}
	}
}

// runInterleaved computes units [lo, hi) (unit u: image u / blocks, channels 16*(u % blocks) on) with buf
// the per-thread buffers and packed the weights as packWeights lays them out. Each unit zeroes the padded
// block's border and transposes its 16 planes straight into the block's interior.
func (c *convDepthwise) runInterleaved(r *convRun, lo, hi int, buf, packed []float32) {
	s, p := c.s, c.ci
	buf = alignedFloats(buf)
	padded := buf[:p.padLen+dwciLanes] // the block, then the discard vector
	stage := buf[p.padLen+dwciLanes : p.padLen+dwciLanes+p.outLen]
	bias := buf[p.padLen+dwciLanes+p.outLen : p.padLen+dwciLanes+p.outLen+dwciLanes]
	e := &r.k.epi
	clampOnly := *e
	clampOnly.post = activation.Func{}
	clampLo, clampHi, inKernel := e.clampBounds()
	taps := s.taps
	for u := lo; u < hi; u++ {
		n, blk := u/p.blocks, u%p.blocks
		c0 := blk * dwciLanes
		lanes := min(dwciLanes, s.inC-c0)
		x := r.x[(n*s.inC+c0)*s.inSize : (n*s.inC+c0+lanes)*s.inSize]
		for _, run := range p.borderRuns {
			clear(padded[run[0]:run[1]])
		}
		dwciPackTo.Fn(padded, x, s.inSize, lanes, p.inputAt)
		clear(bias)
		if r.bias != nil {
			copy(bias, r.bias[c0:c0+lanes])
		}
		wb := packed[blk*taps*dwciLanes : (blk+1)*taps*dwciLanes]
		dwciTaps.Fn(stage, padded, p.offsets, p.bases[:ceilDiv(p.outPixels, dwciGroup)*dwciGroup], wb, bias, clampLo, clampHi)
		y := r.y[(n*s.outC+c0)*s.outSize : (n*s.outC+c0+lanes)*s.outSize]
		dwciUnpack.Fn(y, s.outSize, stage, lanes, p.outPixels)
		if !inKernel && (r.z != nil || e.act != gemm.ActNone) {
			for ch := 0; ch < lanes; ch++ {
				yp := y[ch*s.outSize : (ch+1)*s.outSize]
				if r.z != nil {
					at := (n*s.outC + c0 + ch) * s.outSize
					clampOnly.applyRowSum(yp, yp, r.z[at:at+s.outSize])
				} else {
					clampOnly.applyRow(yp, yp)
				}
			}
		}
		if e.post.Kind != activation.None {
			e.post.Row(y, y)
		}
	}
}

// dwciPackFn transposes rows planes (rows <= 16) of n values, srcStride apart, into pixels of 16
// channels: dst[p*16 + c] = src[c*srcStride + p] for p < n, c < rows; the channels c >= rows and the
// pixels n <= p < ceil16(n) are zero. dst holds ceil16(n)*16 values.
type dwciPackFn func(dst, src []float32, srcStride, rows, n int)

// dwciPackGo is the pure-Go twin of the assembly pack.
func dwciPackGo(dst, src []float32, srcStride, rows, n int) {
	dst = dst[:ceilDiv(n, dwciLanes)*dwciLanes*dwciLanes]
	clear(dst)
	for c := 0; c < rows; c++ {
		for p, v := range src[c*srcStride : c*srcStride+n] {
			dst[p*dwciLanes+c] = v
		}
	}
}

// dwciOffsets is a table of pixel offsets with its smallest and largest entries, found once when the
// table is built (newDwciOffsets), so that the assembly's wrapper checks a call's bounds in two tests
// instead of one per pixel (196 a unit on a 14x14 map, about as many cycles as the transpose takes).
type dwciOffsets struct {
	at       []int
	min, max int
}

// newDwciOffsets returns the table of at.
func newDwciOffsets(at []int) dwciOffsets {
	t := dwciOffsets{at: at}
	if len(at) > 0 {
		t.min, t.max = slices.Min(at), slices.Max(at)
	}
	return t
}

// dwciPackToFn transposes rows planes (rows <= 16) of len(t.at) values, srcStride apart, into pixels of
// 16 channels at the offsets t gives: dst[t.at[p] + c] = src[c*srcStride + p] for p < len(t.at) and
// c < rows, and 0 for rows <= c < 16. It writes the input straight into the padded block, where a pack
// into contiguous pixels needed a second pass copying each row to its place.
type dwciPackToFn func(dst, src []float32, srcStride, rows int, t dwciOffsets)

// dwciPackToGo is the pure-Go twin of the assembly pack-to.
func dwciPackToGo(dst, src []float32, srcStride, rows int, t dwciOffsets) {
	for p, a := range t.at {
		px := dst[a : a+dwciLanes]
		for c := range px {
			if c < rows {
				px[c] = src[c*srcStride+p]
			} else {
				px[c] = 0
			}
		}
	}
}

// dwciUnpackFn is the inverse of the pack: dst[c*dstStride + p] = src[p*16 + c] for c < rows and p < n;
// src holds ceil16(n)*16 values.
type dwciUnpackFn func(dst []float32, dstStride int, src []float32, rows, n int)

// dwciUnpackGo is the pure-Go twin of the assembly unpack.
func dwciUnpackGo(dst []float32, dstStride int, src []float32, rows, n int) {
	for c := 0; c < rows; c++ {
		row := dst[c*dstStride : c*dstStride+n]
		for p := range row {
			row[p] = src[p*dwciLanes+c]
		}
	}
}

// dwciTapsFn is the interleaved stencil: for each pixel i < len(base) (a multiple of dwciGroup),
//
//	dst[i*16 + c] = clamp(bias[c] + Σ_t w[t*16 + c] · src[base[i] + off[t] + c], lo, hi)
//
// for c < 16, clamp keeping NaN as dwClamp does.
type dwciTapsFn func(dst, src []float32, off, base []int, w, bias []float32, lo, hi float32)

// dwciTapsGo is the pure-Go twin of the assembly stencil.
func dwciTapsGo(dst, src []float32, off, base []int, w, bias []float32, lo, hi float32) {
	for i, b := range base {
		acc := dst[i*dwciLanes : (i+1)*dwciLanes]
		copy(acc, bias[:dwciLanes])
		for t, o := range off {
			wt := w[t*dwciLanes : (t+1)*dwciLanes]
			for c, v := range src[b+o : b+o+dwciLanes] {
				acc[c] += wt[c] * v
			}
		}
		dwClamp(acc, lo, hi)
	}
}

// The interleaved kernels by instruction set, and the ones this process runs.
var (
	dwciPackVariants   = append([]isa.Variant[dwciPackFn]{{Level: isa.PureGo, Name: "pure Go", Fn: dwciPackGo}}, dwciPackAsmVariants()...)
	dwciPack           = isa.Pick(dwciPackVariants...)
	dwciPackToVariants = append([]isa.Variant[dwciPackToFn]{{Level: isa.PureGo, Name: "pure Go", Fn: dwciPackToGo}}, dwciPackToAsmVariants()...)
	dwciPackTo         = isa.Pick(dwciPackToVariants...)
	dwciUnpackVariants = append([]isa.Variant[dwciUnpackFn]{{Level: isa.PureGo, Name: "pure Go", Fn: dwciUnpackGo}}, dwciUnpackAsmVariants()...)
	dwciUnpack         = isa.Pick(dwciUnpackVariants...)
	dwciTapsVariants   = append([]isa.Variant[dwciTapsFn]{{Level: isa.PureGo, Name: "pure Go", Fn: dwciTapsGo}}, dwciTapsAsmVariants()...)
	dwciTaps           = isa.Pick(dwciTapsVariants...)
)
