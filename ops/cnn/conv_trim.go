package cnn

// Taps that read only padding. A dilated convolution on a map smaller than its dilated kernel has taps
// that fall in the padding for every output position: DeepLabV3's ASPP runs 3x3 convolutions with
// dilation 24 and 36 (padding equal to the dilation) on a 16x16 map, where only the centre tap ever reads
// the input. Padding reads zeros, so dropping those taps at Prepare is exact: the convolution becomes a
// smaller kernel (here a 1x1 without padding, the pointwise GEMM) over the same input, with the padding
// shortened by what the dropped taps spanned so that the output keeps its size.

import (
	"fmt"

	"github.com/onnxrun/onnxrun/ops"
)

// liveTaps returns, for each spatial axis of w, the taps [lo, hi) outside which every tap reads only
// padding, whatever the output position. ok is false when no tap can be dropped, or when dropping would
// leave an axis without taps (the output is then the bias alone, rare enough to leave to the full kernel)
// or need negative padding (a stride that steps over the input between a dropped tap and a kept one).
func liveTaps(w *window) (lo, hi []int, ok bool) {
	rank := w.rank()
	lo, hi = make([]int, rank), make([]int, rank)
	for a := range rank {
		lo[a], hi[a] = w.kernel[a], 0
		for t := range w.kernel[a] {
			// Tap t reads input cell o*stride + t*dilation - padBegin at output position o.
			first, last := colRange(t*w.dilation[a]-w.padBegin[a], w.stride[a], w.in[a], w.out[a])
			if first < last {
				lo[a], hi[a] = min(lo[a], t), t+1
			}
		}
		if lo[a] >= hi[a] {
			return nil, nil, false
		}
		if lo[a] > 0 || hi[a] < w.kernel[a] {
			ok = true
		}
		if w.padBegin[a]-lo[a]*w.dilation[a] < 0 || w.padEnd[a]-(w.kernel[a]-hi[a])*w.dilation[a] < 0 {
			return nil, nil, false
		}
	}
	return lo, hi, ok
}

// trimmedWindow is w with its kernel cut to the taps [lo, hi) of each axis and its padding shortened by
// the dilated extent of the taps dropped, so that every kept tap reads the same cell as before and the
// output keeps its size.
func trimmedWindow(w *window, lo, hi []int) window {
	t := window{
		in: w.in, out: w.out, stride: w.stride, dilation: w.dilation,
		kernel:   make([]int, w.rank()),
		padBegin: make([]int, w.rank()),
		padEnd:   make([]int, w.rank()),
	}
	for a := range w.rank() {
		t.kernel[a] = hi[a] - lo[a]
		t.padBegin[a] = w.padBegin[a] - lo[a]*w.dilation[a]
		t.padEnd[a] = w.padEnd[a] - (w.kernel[a]-hi[a])*w.dilation[a]
	}
	return t
}

// trimWeights copies the taps [lo, hi) of each spatial axis of w (M x C/group x kernel...) into a new
// weight tensor (M x C/group x hi-lo...).
func trimWeights(w []float32, outC, groupInC int, kernel, lo, hi []int) *ops.Tensor {
	rows := outC * groupInC
	shape := ops.Shape{outC, groupInC}
	taps := 1
	for a := range kernel {
		shape = append(shape, hi[a]-lo[a])
		taps *= kernel[a]
	}
	kept := ops.Shape(shape[2:]).Size()
	out := make([]float32, rows*kept)
	// offsets[i] is the index, in one row's full kernel, of the trimmed kernel's tap i (row-major).
	offsets := make([]int, 0, kept)
	idx := append([]int(nil), lo...)
	for range kept {
		off := 0
		for a := range kernel {
			off = off*kernel[a] + idx[a]
		}
		offsets = append(offsets, off)
		for a := len(idx) - 1; a >= 0; a-- {
			if idx[a]++; idx[a] < hi[a] {
				break
			}
			idx[a] = lo[a]
		}
	}
	for r := range rows {
		src, dst := w[r*taps:(r+1)*taps], out[r*kept:(r+1)*kept]
		for i, off := range offsets {
			dst[i] = src[off]
		}
	}
	return ops.FromSlice(shape, out)
}

// trimPaddingTaps drops the taps of s that read only padding when W is a constant (weights that change at
// run time keep their full kernel). It returns the trimmed shape and weights, or ok false when no tap can
// be dropped. The trimmed weights are made once per W and shared through cache.
func trimPaddingTaps(s *convShape, w *ops.Tensor, cache *ops.PackCache) (trimmed convShape, tw *ops.Tensor, ok bool) {
	if w == nil {
		return convShape{}, nil, false
	}
	lo, hi, ok := liveTaps(&s.win)
	if !ok {
		return convShape{}, nil, false
	}
	trimmed = *s
	trimmed.setWindow(trimmedWindow(&s.win, lo, hi))
	derive := func(wv []float32) any { return trimWeights(wv, s.outC, s.groupInC, s.win.kernel, lo, hi) }
	kind := fmt.Sprintf("trim %v %v", lo, hi)
	tw = ops.Prepack(cache, w, kind, func() *ops.Tensor { return derive(w.Float32s()).(*ops.Tensor) })
	return trimmed, tw, true
}
