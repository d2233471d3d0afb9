package cnn

// The non-overlapping transposed convolution: a 2-D ConvTranspose whose stride equals its kernel (U-Net's
// and FPN's 2x2 stride-2 upsampling), without dilation, pads or output padding. Each output cell then
// gets exactly one tap of exactly one input cell,
//
//	Y[n, m, py*kh + ty, px*kw + tx] = B[m] + col[m, ty*kw + tx, py*iw + px]
//
// where col = Wᵀ·X is the GEMM of runGemm. The scatter writes each output cell once with its bias, so the
// general path's two passes over Y (fill with the bias, then col2im adding through the gather table) become
// one pass of plain stores, split over the output channels across the session's threads.

import (
	"github.com/onnxrun/onnxrun/ops/internal/gemm"
	"github.com/onnxrun/onnxrun/ops/internal/isa"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

// tileScatterFits says whether the convolution of s has non-overlapping tiles that cover the output.
func tileScatterFits(s *convShape) bool {
	w := &s.win
	if w.rank() != 2 {
		return false
	}
	for i := 0; i < 2; i++ {
		if w.stride[i] != w.kernel[i] || w.dilation[i] != 1 || w.padBegin[i] != 0 || w.padEnd[i] != 0 || w.out[i] != w.in[i]*w.kernel[i] {
			return false
		}
	}
	return true
}

// tileScatter writes output channels [lo, hi) of one image and group for the input rows [py0, py1): y
// holds the group's groupOutC planes, col the GEMM result for those rows (groupOutC*taps rows of
// (py1-py0)*iw cells), bias the group's biases or nil.
func tileScatter(s *convShape, y, col, bias []float32, lo, hi, py0, py1 int) {
	w := &s.win
	iw, kh, kw, ow := w.in[1], w.kernel[0], w.kernel[1], w.out[1]
	cells := (py1 - py0) * iw // one col row
	for m := lo; m < hi; m++ {
		var b float32
		if bias != nil {
			b = bias[m]
		}
		ym := y[m*s.outSize : (m+1)*s.outSize]
		cm := col[m*s.taps*cells : (m+1)*s.taps*cells]
		for py := py0; py < py1; py++ {
			at := (py - py0) * iw
			for ty := 0; ty < kh; ty++ {
				yrow := ym[(py*kh+ty)*ow : (py*kh+ty+1)*ow]
				if kw == 2 {
					c0 := cm[(ty*2)*cells+at : (ty*2)*cells+at+iw]
					c1 := cm[(ty*2+1)*cells+at : (ty*2+1)*cells+at+iw]
					tileInterleave2(yrow, c0, c1, b)
					continue
				}
				for tx := 0; tx < kw; tx++ {
					c := cm[(ty*kw+tx)*cells+at : (ty*kw+tx)*cells+at+iw]
					for px, v := range c {
						yrow[px*kw+tx] = v + b
					}
				}
			}
		}
	}
}

// tileInterleaveVariants say whether the two-tap rows of tileScatter are stored in assembly
// (convtranspose_tile_amd64.s) or in Go.
var tileInterleaveVariants = append([]isa.Variant[bool]{{Level: isa.PureGo, Name: "Go", Fn: false}}, tileInterleaveAsmVariants...)

// tileInterleaveAsm is true when they are stored in assembly.
var tileInterleaveAsm = isa.Pick(tileInterleaveVariants...).Fn

// tileInterleave2Go is tileInterleave2 in Go: the output row of a 2-wide kernel, tap 0 and tap 1 of each
// input cell side by side, with the bias:
//
//	y[2j] = c0[j] + bias; y[2j+1] = c1[j] + bias
func tileInterleave2Go(y, c0, c1 []float32, bias float32) {
	y = y[:2*len(c0)]
	c1 = c1[:len(c0)]
	for j, v := range c0 {
		y[2*j] = v + bias
		y[2*j+1] = c1[j] + bias
	}
}

// minTileScatterParallel is the output cells below which the scatter stays on one thread (some 20 µs of
// stores).
const minTileScatterParallel = 1 << 15

// tileScatterTask splits tileScatter over output channels.
type tileScatterTask struct {
	s            *convShape
	y, col, bias []float32
	py0, py1     int
}

func (t *tileScatterTask) Do(lo, hi int) { tileScatter(t.s, t.y, t.col, t.bias, lo, hi, t.py0, t.py1) }

// tileColBytes bounds the GEMM result of one band of input rows: small enough to stay in a core's L2
// cache between the GEMM that writes it and the scatter that reads it (the whole col of U-Net's last
// upsampling is 4 MB, which went to memory and back).
const tileColBytes = 256 << 10

// tileBandRows is the input rows a band takes: as many as keep the band's col within tileColBytes, at
// least one.
func tileBandRows(s *convShape) int {
	perRow := s.groupOutC * s.taps * s.win.in[1] * 4
	return max(1, min(s.win.in[0], tileColBytes/perRow))
}

// runTiles computes one image and group band by band: the GEMM of the band's input cells into col, then
// the scatter of the band's output rows, over the channels on the pool when there is enough work.
func (k *convTransposeKernel) runTiles(p gemm.Params, xg, y, col, bias []float32, pool *parallel.Pool) {
	s := &k.s
	ih, iw := s.win.in[0], s.win.in[1]
	band := tileBandRows(s)
	for py0 := 0; py0 < ih; py0 += band {
		py1 := min(ih, py0+band)
		cells := (py1 - py0) * iw
		p.N, p.B, p.LDB, p.C, p.LDC = cells, xg[py0*iw:], s.inSize, col[:s.groupOutC*s.taps*cells], cells
		gemm.Multiply(&p)
		if pool.Threads() <= 1 || s.groupOutC < 2 || s.groupOutC*s.taps*cells < minTileScatterParallel {
			tileScatter(s, y, col, bias, 0, s.groupOutC, py0, py1)
			continue
		}
		t := k.scatterSlot.Get()
		t.s, t.y, t.col, t.bias, t.py0, t.py1 = s, y, col, bias, py0, py1
		pool.ForTask(s.groupOutC, t)
		k.scatterSlot.Put(t)
	}
}
