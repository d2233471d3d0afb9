package cnn

import (
	"fmt"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// TestTrimPaddingTaps: a convolution whose taps read only padding at every output position runs on the
// kept taps alone (ASPP's dilation-24/36 3x3 on a small map becomes a pointwise GEMM) and gives the full
// kernel's result, with every epilogue, with and without the weight cache, on one thread.
func TestTrimPaddingTaps(t *testing.T) {
	cases := []struct {
		name       string
		x, w       []int
		attr       ops.AttrMap
		wantKernel []int
		wantStrat  string
	}{
		// ASPP at dilation 36 on a 6x7 map: only the centre tap reads the input.
		{"aspp centre only", []int{1, 19, 6, 7}, []int{21, 19, 3, 3}, ops.AttrMap{"dilations": ints(36, 36), "pads": ints(36, 36, 36, 36)}, []int{1, 1}, "pointwise"},
		// Height: the last tap falls past the map (padEnd shrinks to 0); width: only the centre.
		{"asymmetric two taps", []int{2, 5, 4, 4}, []int{7, 5, 3, 3}, ops.AttrMap{"dilations": ints(3, 5), "pads": ints(0, 5, 3, 5)}, []int{2, 1}, "im2col"},
		// Stride 2 and groups.
		{"strided grouped", []int{1, 6, 5, 5}, []int{4, 3, 3, 3}, ops.AttrMap{"group": ops.IntAttr(2), "strides": ints(2, 2), "dilations": ints(6, 6), "pads": ints(6, 6, 6, 6)}, []int{1, 1}, "im2col"},
		// 1-D, a 5-tap kernel of which the middle three survive.
		{"1-D five taps", []int{1, 3, 5}, []int{4, 3, 5}, ops.AttrMap{"dilations": ints(3), "pads": ints(6, 6)}, []int{3}, "im2col"},
	}
	for ci, c := range cases {
		x, w, b := randF32(int64(ci+1), c.x...), randF32(int64(ci+11), c.w...), randF32(int64(ci+21), c.w[0])
		s := testConvShape(t, c.x, c.w, c.attr)
		z := randF32(int64(ci+31), s.outShape...)
		for _, e := range convEpilogues {
			for _, cache := range []*ops.PackCache{nil, new(ops.PackCache)} {
				name := fmt.Sprintf("%s/%s/cache=%v", c.name, e.name, cache != nil)
				k := prepareFastConv(s, w, cache, e.epi)
				if fmt.Sprint(k.s.win.kernel) != fmt.Sprint(c.wantKernel) || k.Strategy() != c.wantStrat {
					t.Fatalf("%s: kernel %v on %s, want %v on %s", name, k.s.win.kernel, k.Strategy(), c.wantKernel, c.wantStrat)
				}
				if k.FLOPs() != int64(s.batch*s.outC*s.outSize*s.groupInC*s.taps) {
					t.Errorf("%s: FLOPs %d, want the full kernel's %d", name, k.FLOPs(), s.batch*s.outC*s.outSize*s.groupInC*s.taps)
				}
				ctx := ops.SerialContext()
				ctx.Scratch = make([]float32, k.ScratchSize())
				y := ops.New(ops.Float32, s.outShape)
				fillNaN(y)
				in := []*ops.Tensor{x, w, b}
				if e.epi.sum {
					in = append(in, z)
				}
				if err := k.Run(ctx, in, []*ops.Tensor{y}); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if err := closeTo(y.Float32s(), referenceConv(&s, x, w, b, z, e.epi), 2e-4, 2e-4); err != nil {
					t.Errorf("%s: %v", name, err)
				}
			}
		}
	}
}

// TestLiveTapsKeeps: the kernels whose every tap reads the input somewhere (ASPP at dilation 12 on a 16x16
// map, ordinary padded convolutions) or that would need negative padding keep their full kernel.
func TestLiveTapsKeeps(t *testing.T) {
	for _, c := range []struct {
		name string
		w    window
	}{
		{"aspp dilation 12 on 16", window{in: []int{16}, out: []int{16}, kernel: []int{3}, stride: []int{1}, dilation: []int{12}, padBegin: []int{12}, padEnd: []int{12}}},
		{"3x3 pad 1", window{in: []int{7, 7}, out: []int{7, 7}, kernel: []int{3, 3}, stride: []int{1, 1}, dilation: []int{1, 1}, padBegin: []int{1, 1}, padEnd: []int{1, 1}}},
		// Tap 0 reads -2 and 1, tap 2 reads 0 and 3: only the middle tap is dead, and it stays.
		{"stride 3", window{in: []int{2}, out: []int{2}, kernel: []int{3}, stride: []int{3}, dilation: []int{1}, padBegin: []int{2}, padEnd: []int{2}}},
	} {
		if lo, hi, ok := liveTaps(&c.w); ok {
			t.Errorf("%s: trimmed to taps [%v, %v), want the full kernel", c.name, lo, hi)
		}
	}
	// A kernel whose every tap reads padding everywhere keeps its taps (the output is the bias).
	dead := window{in: []int{2}, out: []int{2}, kernel: []int{2}, stride: []int{1}, dilation: []int{9}, padBegin: []int{4}, padEnd: []int{5}}
	if _, _, ok := liveTaps(&dead); ok {
		t.Errorf("a kernel with no live tap was trimmed")
	}
}
