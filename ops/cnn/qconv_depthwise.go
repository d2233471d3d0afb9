package cnn

import (
	"math"
	"unsafe"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/qvec"
)

// The integer depthwise convolution (qconv_fast.go): one output plane per (image, channel), each an int32
// stencil over its input plane. Writing x for the input and z for its zero point,
//
//	acc[p] = Σ_t (w[t] - w_zero) · (x[cell(p, t)] - z) = Σ_t w'[t]·x[cell(p, t)] - z·Σ_t w'[t]
//
// with w' = w - w_zero: interior cells (their window inside the input) take the right-hand form, a plain
// dot product of the taps minus a per-plane constant; border cells sum their in-bounds taps of the
// left-hand form (padding holds z, which contributes nothing).
//
// Square 3x3 and 5x5 windows with stride 1 or 2, dilated or not (MobileNet's), run on the float32 depthwise
// vector kernel instead (conv_depthwise_kernel.go, AVX-512/AVX2/pure Go through ops/internal/isa): the
// plane is copied as x - z into its zero-padded buffer and the weights as w - w_zero, all integers of at
// most 255 in magnitude, so every product is an integer below 2^16 and every partial sum of at most 25 of
// them one below 2^24: float32 represents them all exactly, fused multiply-add or not, and the result
// converts back to the exact int32 accumulator. The same kernel therefore serves both, with no integer
// assembly of its own.

// qconvDepthwiseTask computes the depthwise planes of one Run, split over the pool's threads: thread i
// of n computes planes [i·P/n, (i+1)·P/n) with its own scratch.
type qconvDepthwiseTask struct {
	k       *qconvKernel
	io      *qconvIO
	threads int
}

// depthwiseScratchPerThread is a thread's scratch: the taps' w' and, for QLinearConv, one accumulator plane
// (ConvInteger accumulates in its output); on the vector path the padded plane, the kernel's output and
// the taps' w' in float32; on the interleaved path, qdwciScratch.
func (k *qconvKernel) depthwiseScratchPerThread() int {
	if k.dwci != nil {
		return k.qdwciScratchPerThread()
	}
	if v := k.dwVec; v != nil {
		return v.padLen + v.tempLen + k.s.taps
	}
	n := k.s.taps
	if k.requant {
		n += k.s.outSize
	}
	return n
}

func (k *qconvKernel) runDepthwise(io *qconvIO) {
	threads := 1
	if io.pool != nil {
		threads = min(io.pool.Threads(), k.maxThreads, k.depthwiseUnits())
	}
	t := &io.depthwiseRun
	*t = qconvDepthwiseTask{k: k, io: io, threads: threads}
	if threads <= 1 {
		t.Do(0, 1)
		return
	}
	io.pool.ForTask(threads, t)
}

// depthwiseUnits is the work units split over the threads: output planes, or on the interleaved path
// blocks of 16 channels of one image.
func (k *qconvKernel) depthwiseUnits() int {
	if p := k.dwci; p != nil {
		return k.s.batch * p.blocks
	}
	return k.s.batch * k.s.outC
}

// Do runs threads [lo, hi).
func (t *qconvDepthwiseTask) Do(lo, hi int) {
	k, io := t.k, t.io
	units := k.depthwiseUnits()
	per := k.depthwiseScratchPerThread()
	for th := lo; th < hi; th++ {
		p0, p1 := th*units/t.threads, (th+1)*units/t.threads
		scratch := io.scratch[th*per : (th+1)*per]
		switch {
		case k.xSigned && k.wSigned:
			depthwiseTyped(k, io, bytesAs[int8](io.x), bytesAs[int8](io.w), p0, p1, scratch)
		case k.xSigned:
			depthwiseTyped(k, io, bytesAs[int8](io.x), io.w, p0, p1, scratch)
		case k.wSigned:
			depthwiseTyped(k, io, io.x, bytesAs[int8](io.w), p0, p1, scratch)
		default:
			depthwiseTyped(k, io, io.x, io.w, p0, p1, scratch)
		}
	}
}

// depthwiseTyped computes units [p0, p1) on the interleaved path or the plane vector path when the shape
// takes them, else on the gather loop.
func depthwiseTyped[X, W int8 | uint8](k *qconvKernel, io *qconvIO, x []X, w []W, p0, p1 int, scratch []float32) {
	if k.dwci != nil {
		depthwiseInterleavedUnits(k, io, x, w, p0, p1, scratch)
		return
	}
	if k.dwVec != nil {
		depthwiseVectorPlanes(k, io, x, w, p0, p1, scratch)
		return
	}
	depthwisePlanes(k, io, x, w, p0, p1, scratch)
}

// bytesAs reinterprets 8-bit data held as bytes as its own type.
func bytesAs[T int8 | uint8](b []byte) []T {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b))
}

// depthwisePlanes computes output planes [p0, p1) (plane u is image u / M, channel u % M) and, for
// QLinearConv, requantises them.
func depthwisePlanes[X, W int8 | uint8](k *qconvKernel, io *qconvIO, x []X, w []W, p0, p1 int, scratch []float32) {
	s, g := &k.s, k.g
	taps := s.taps
	wz := ops.Int32View(scratch, taps)
	var plane []int32
	if k.requant {
		plane = ops.Int32View(scratch[taps:], s.outSize)
	}
	xz := int32(X(io.xZero[0]))
	for u := p0; u < p1; u++ {
		if cancelled(io.done) {
			return // Y is unfinished; the runtime discards it
		}
		n, m := u/s.outC, u%s.outC
		wzp := depthwiseWeightZero[W](io, m)
		var wsum int32
		for t := range wz {
			wz[t] = int32(w[m*taps+t]) - wzp
			wsum += wz[t]
		}
		xp := x[(n*s.inC+m)*s.inSize : (n*s.inC+m+1)*s.inSize]
		acc := plane
		if !k.requant {
			acc = io.y32[u*s.outSize : (u+1)*s.outSize]
		}
		depthwisePlane(g, xp, wz, xz, xz*wsum, acc)
		if k.requant {
			requantizeDepthwise(k, io, u, 0, acc)
		}
	}
}

// requantizeDepthwise requantises the accumulators acc of plane u's outputs from offset off on.
func requantizeDepthwise(k *qconvKernel, io *qconvIO, u, off int, acc []int32) {
	y, b, mult := depthwiseRequantTerms(k, io, u, off, len(acc))
	requantizeBytes(y, acc, b, mult, io.yZero, k.ySigned)
}

// requantizeDepthwiseF32 is requantizeDepthwise for the vector path's float32 accumulators: the
// vector span (qvec.RequantizeF32, bit for bit requantize's result) first, the scalar loop on the rest.
func requantizeDepthwiseF32(k *qconvKernel, io *qconvIO, u, off int, acc []float32) {
	y, b, mult := depthwiseRequantTerms(k, io, u, off, len(acc))
	done := qvec.RequantizeF32(y, acc, b, mult, io.yZero, k.ySigned)
	requantizeBytes(y[done:], acc[done:], b, mult, io.yZero, k.ySigned)
}

// depthwiseRequantTerms are the n output bytes of plane u from offset off on, and the plane's bias and
// multiplier.
func depthwiseRequantTerms(k *qconvKernel, io *qconvIO, u, off, n int) (y []byte, bias int32, mult float32) {
	m := u % k.s.outC
	if io.bias != nil {
		bias = io.bias[m]
	}
	mult = requantMultiplier(io.xScale[0], io.wScale[min(m, len(io.wScale)-1)], io.yScale)
	return io.y8[u*k.s.outSize+off : u*k.s.outSize+off+n], bias, mult
}

// requantizeBytes is requantize into bytes holding int8 values when signed, else uint8 ones.
func requantizeBytes[A int32 | float32](y []byte, acc []A, bias int32, mult float32, yZero int32, signed bool) {
	if signed {
		requantize(bytesAs[int8](y), acc, bias, mult, yZero)
	} else {
		requantize(y, acc, bias, mult, yZero)
	}
}

// depthwiseWeightZero is channel m's weight zero point (0 when absent).
func depthwiseWeightZero[W int8 | uint8](io *qconvIO, m int) int32 {
	if len(io.wZero) == 0 {
		return 0
	}
	return int32(W(io.wZero[min(m, len(io.wZero)-1)]))
}

// depthwiseVectorPlanes computes output planes [p0, p1) on the float32 vector kernel (exact, see above).
func depthwiseVectorPlanes[X, W int8 | uint8](k *qconvKernel, io *qconvIO, x []X, w []W, p0, p1 int, scratch []float32) {
	s, v := &k.s, k.dwVec
	taps := s.taps
	padded, temp, wf := scratch[:v.padLen], scratch[v.padLen:v.padLen+v.tempLen], scratch[v.padLen+v.tempLen:][:taps]
	clear(padded)
	inf := float32(math.Inf(1))
	for u := p0; u < p1; u++ {
		if cancelled(io.done) {
			return // Y is unfinished; the runtime discards it
		}
		n, m := u/s.outC, u%s.outC
		wzp := depthwiseWeightZero[W](io, m)
		for t := range wf {
			wf[t] = float32(int32(w[m*taps+t]) - wzp)
		}
		dwFillShifted(v, padded, x[(n*s.inC+m)*s.inSize:(n*s.inC+m+1)*s.inSize], X(io.xZero[0]), temp)
		v.kernel(temp, padded, v.offsets, wf, v.blocks, 0, -inf, inf)
		if k.requant {
			// The rows moved together (forward, so no row is overwritten before it moves): one
			// requantisation per plane instead of one per row, whose fixed cost was most of a short row's.
			if v.rowStride != v.outW {
				for oy := 1; oy < v.outH; oy++ {
					copy(temp[oy*v.outW:(oy+1)*v.outW], temp[oy*v.rowStride:])
				}
			}
			requantizeDepthwiseF32(k, io, u, 0, temp[:v.outH*v.outW])
			continue
		}
		for oy := 0; oy < v.outH; oy++ {
			row := temp[oy*v.rowStride : oy*v.rowStride+v.outW]
			acc := io.y32[u*s.outSize+oy*v.outW : u*s.outSize+(oy+1)*v.outW]
			for i, f := range row {
				acc[i] = int32(f)
			}
		}
	}
}

// depthwisePlane writes acc[p] = Σ_t wz[t]·(x[cell(p, t)] - xz) for every output cell p, with corr =
// xz·Σ_t wz[t]. 3x3 windows have their interior unrolled.
func depthwisePlane[X int8 | uint8](g *gather, x []X, wz []int32, xz, corr int32, acc []int32) {
	to := g.tapOffset
	if len(to) == 9 {
		w0, w1, w2, w3, w4, w5, w6, w7, w8 := wz[0], wz[1], wz[2], wz[3], wz[4], wz[5], wz[6], wz[7], wz[8]
		o1, o2, o3, o4, o5, o6, o7, o8 := to[1], to[2], to[3], to[4], to[5], to[6], to[7], to[8]
		for p := range acc {
			if g.border[p] >= 0 {
				acc[p] = depthwiseBorderCell(g, x, wz, xz, p)
				continue
			}
			c := x[g.origin[p] : g.origin[p]+o8+1]
			acc[p] = w0*int32(c[0]) + w1*int32(c[o1]) + w2*int32(c[o2]) + w3*int32(c[o3]) + w4*int32(c[o4]) +
				w5*int32(c[o5]) + w6*int32(c[o6]) + w7*int32(c[o7]) + w8*int32(c[o8]) - corr
		}
		return
	}
	for p := range acc {
		if g.border[p] >= 0 {
			acc[p] = depthwiseBorderCell(g, x, wz, xz, p)
			continue
		}
		c := x[g.origin[p]:]
		var sum int32
		for t, off := range to {
			sum += wz[t] * int32(c[off])
		}
		acc[p] = sum - corr
	}
}

// depthwiseBorderCell is border cell p's sum over its in-bounds taps.
func depthwiseBorderCell[X int8 | uint8](g *gather, x []X, wz []int32, xz int32, p int) int32 {
	r := int(g.border[p])
	var sum int32
	for t, off := range g.borderTaps[r*g.taps : (r+1)*g.taps] {
		if off >= 0 {
			sum += wz[t] * (int32(x[off]) - xz)
		}
	}
	return sum
}

// dwFillShifted copies plane x (inH x inW) into p's padded buffer as x - xz, where fillInterior copies a
// float32 plane: padded row i, column j, which holds x[i-padTop][j-padLeft], is row i/stride, column
// j/stride of phase (i%stride, j%stride). The padding cells are left as they are: zero, x's zero point.
// The conversions run on qvec's vector dequantisation; with stride 2 each row is converted into
// rowScratch (when it holds a row) and then split into its phases.
func dwFillShifted[X int8 | uint8](p *dwVectorPlan, padded []float32, x []X, xz X, rowScratch []float32) {
	if p.stride == 1 {
		rows, cols := min(p.phRows-p.padTop, p.inH), min(p.inW, p.rowStride-p.padLeft)
		for r := 0; r < rows && cols > 0; r++ {
			dequantizeShifted(padded[(p.padTop+r)*p.rowStride+p.padLeft:][:cols], x[r*p.inW:][:cols], xz)
		}
		return
	}
	for r := range p.evenAt {
		src := x[r*p.inW : (r+1)*p.inW]
		even, odd := padded[p.evenAt[r]:][:p.cols[0].count], padded[p.oddAt[r]:][:p.cols[1].count]
		if len(rowScratch) >= len(src) {
			row := rowScratch[:len(src)]
			dequantizeShifted(row, src, xz)
			for q := range even {
				even[q] = row[2*q]
			}
			for q := range odd {
				odd[q] = row[2*q+1]
			}
			continue
		}
		fz := float32(xz)
		for q := range even {
			even[q] = float32(src[2*q]) - fz
		}
		for q := range odd {
			odd[q] = float32(src[2*q+1]) - fz
		}
	}
}

// dequantizeShifted writes dst[i] = float32(src[i] - xz): qvec's dequantisation with scale 1, exact for
// these small integers.
func dequantizeShifted[X int8 | uint8](dst []float32, src []X, xz X) {
	raw := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(src))), len(src))
	if unsigned := ^X(0) > 0; unsigned {
		qvec.DequantizeU8(dst, raw, 1, uint8(xz))
		return
	}
	qvec.DequantizeS8(dst, bytesAs[int8](raw), 1, int8(xz))
}
