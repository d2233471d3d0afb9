package cnn

import (
	"context"
	"fmt"
	"math"
	goruntime "runtime"
	"slices"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/activation"
	"github.com/onnxrun/onnxrun/ops/internal/gemm"
	"github.com/onnxrun/onnxrun/ops/internal/isa"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// convCase is one geometry the fast strategies are checked on against the reference loop.
type convCase struct {
	name string
	x, w []int // X and W shapes
	attr ops.AttrMap
}

// oddConvCases covers pads (asymmetric), strides, dilations, groups, batches and channel counts that are not
// multiples of the GEMM's 6x16 tiles or of Winograd's 4x4 output tiles.
var oddConvCases = []convCase{
	{"3x3 pad1 c17 m20 b3", []int{3, 17, 9, 11}, []int{20, 17, 3, 3}, ops.AttrMap{"pads": ints(1, 1, 1, 1)}},
	{"3x3 nopad c16 m16 b2", []int{2, 16, 10, 7}, []int{16, 16, 3, 3}, nil},
	{"3x3 asym pads c19 m33", []int{1, 19, 6, 13}, []int{33, 19, 3, 3}, ops.AttrMap{"pads": ints(0, 2, 1, 1)}},
	{"3x3 big pads c16 m17 b2", []int{2, 16, 5, 5}, []int{17, 16, 3, 3}, ops.AttrMap{"pads": ints(2, 2, 2, 2)}},
	{"3x3 tiny output", []int{2, 16, 3, 4}, []int{16, 16, 3, 3}, nil},
	// Interior tiles (copied whole) beside border tiles in every position (padding on the top and left,
	// input ending inside the patch on the bottom and right, output tiles cut short), 8-tile groups mixing both.
	{"3x3 pads wider than the patch c16 m16 b3", []int{3, 16, 6, 5}, []int{16, 16, 3, 3}, ops.AttrMap{"pads": ints(0, 1, 3, 7)}},
	{"3x3 pad1 interior and border tiles c16 m18 b2", []int{2, 16, 19, 23}, []int{18, 16, 3, 3}, ops.AttrMap{"pads": ints(1, 1, 1, 1)}},
	{"3x3 c1 m6 lenet", []int{2, 1, 28, 28}, []int{6, 1, 3, 3}, nil},
	{"3x3 c6 m16 lenet2", []int{2, 6, 13, 13}, []int{16, 6, 3, 3}, nil},
	{"3x3 c4 m7 dilated narrow", []int{1, 4, 11, 14}, []int{7, 4, 3, 3}, ops.AttrMap{"dilations": ints(1, 2), "pads": ints(1, 0, 2, 1)}},
	{"3x3 c3 m13 pad1", []int{3, 3, 12, 21}, []int{13, 3, 3, 3}, ops.AttrMap{"pads": ints(1, 1, 1, 1)}},
	{"3x3 c2 m7 dilated", []int{1, 2, 11, 19}, []int{7, 2, 3, 3}, ops.AttrMap{"dilations": ints(2, 1), "pads": ints(1, 0, 2, 1)}},
	{"3x3 stride2 c5 m7", []int{2, 5, 9, 10}, []int{7, 5, 3, 3}, ops.AttrMap{"strides": ints(2, 2), "pads": ints(1, 1, 1, 1)}},
	{"5x5 stride2x1 dil", []int{1, 4, 13, 12}, []int{9, 4, 5, 5}, ops.AttrMap{"strides": ints(2, 1), "dilations": ints(1, 2), "pads": ints(2, 0, 1, 3)}},
	// The implicit GEMM's shapes (strided, more than 24 output channels): channels off the 16-lane panels,
	// odd maps whose rows end inside a panel, K over one 256-row block (37*9), N over one 3072-column block
	// (57x57), stride 3 with dilation and asymmetric pads, 1x1 stride 2, and groups.
	{"3x3 stride2 c37 m29 odd map", []int{2, 37, 15, 13}, []int{29, 37, 3, 3}, ops.AttrMap{"strides": ints(2, 2), "pads": ints(1, 1, 1, 1)}},
	{"3x3 stride2 c3 m26 57x57 outputs", []int{1, 3, 113, 113}, []int{26, 3, 3, 3}, ops.AttrMap{"strides": ints(2, 2), "pads": ints(1, 1, 1, 1)}},
	{"3x3 stride3 dilated asym c5 m31", []int{1, 5, 17, 20}, []int{31, 5, 3, 3}, ops.AttrMap{"strides": ints(3, 3), "dilations": ints(2, 1), "pads": ints(0, 2, 3, 1)}},
	{"1x1 stride2 c19 m27", []int{2, 19, 11, 9}, []int{27, 19, 1, 1}, ops.AttrMap{"strides": ints(2, 2)}},
	{"3x3 stride2 group 2 m50", []int{1, 6, 9, 12}, []int{50, 3, 3, 3}, ops.AttrMap{"group": ops.IntAttr(2), "strides": ints(2, 2), "pads": ints(1, 0, 1, 2)}},
	{"1x1 c7 m13 b2", []int{2, 7, 5, 3}, []int{13, 7, 1, 1}, nil},
	{"1x1 stride2", []int{2, 7, 9, 5}, []int{11, 7, 1, 1}, ops.AttrMap{"strides": ints(2, 2)}},
	{"1x1 padded", []int{1, 3, 4, 4}, []int{5, 3, 1, 1}, ops.AttrMap{"pads": ints(1, 0, 0, 1)}},
	{"group 2", []int{2, 6, 7, 8}, []int{10, 3, 3, 3}, ops.AttrMap{"group": ops.IntAttr(2), "pads": ints(1, 1, 0, 0)}},
	{"depthwise 3x3", []int{2, 5, 9, 8}, []int{5, 1, 3, 3}, ops.AttrMap{"group": ops.IntAttr(5), "pads": ints(1, 1, 1, 1)}},
	{"depthwise multiplier 2 stride 2", []int{1, 3, 10, 9}, []int{6, 1, 3, 3}, ops.AttrMap{"group": ops.IntAttr(3), "strides": ints(2, 2), "pads": ints(0, 1, 1, 0)}},
	{"depthwise 3x3 wide stride 1", []int{2, 3, 7, 37}, []int{3, 1, 3, 3}, ops.AttrMap{"group": ops.IntAttr(3), "pads": ints(1, 2, 0, 1)}},
	{"depthwise 3x3 wide stride 2", []int{1, 4, 11, 41}, []int{4, 1, 3, 3}, ops.AttrMap{"group": ops.IntAttr(4), "strides": ints(2, 2), "pads": ints(1, 1, 1, 1)}},
	{"depthwise 5x5 stride 1 pad 2", []int{1, 3, 9, 19}, []int{3, 1, 5, 5}, ops.AttrMap{"group": ops.IntAttr(3), "pads": ints(2, 2, 2, 2)}},
	{"depthwise 5x5 stride 2 asym", []int{2, 2, 13, 35}, []int{6, 1, 5, 5}, ops.AttrMap{"group": ops.IntAttr(2), "strides": ints(2, 2), "pads": ints(1, 2, 2, 0)}},
	{"depthwise 5x5 tiny plane big pads", []int{1, 3, 2, 3}, []int{3, 1, 5, 5}, ops.AttrMap{"group": ops.IntAttr(3), "pads": ints(3, 2, 3, 4)}},
	{"depthwise 3x3 stride 2 no pad", []int{1, 5, 8, 33}, []int{5, 1, 3, 3}, ops.AttrMap{"group": ops.IntAttr(5), "strides": ints(2, 2)}},
	// Channel-interleaved (small maps): channel counts off the 16-channel block, odd maps, every padding.
	{"depthwise 3x3 c20 7x7 b2", []int{2, 20, 7, 7}, []int{20, 1, 3, 3}, ops.AttrMap{"group": ops.IntAttr(20), "pads": ints(1, 1, 1, 1)}},
	{"depthwise 3x3 c16 odd map asym pads", []int{1, 16, 9, 11}, []int{16, 1, 3, 3}, ops.AttrMap{"group": ops.IntAttr(16), "pads": ints(0, 2, 1, 1)}},
	{"depthwise 3x3 c40 stride 2 no pad", []int{1, 40, 14, 13}, []int{40, 1, 3, 3}, ops.AttrMap{"group": ops.IntAttr(40), "strides": ints(2, 2)}},
	{"depthwise 5x5 c33 stride 2 asym", []int{2, 33, 14, 14}, []int{33, 1, 5, 5}, ops.AttrMap{"group": ops.IntAttr(33), "strides": ints(2, 2), "pads": ints(1, 2, 2, 1)}},
	{"depthwise 5x5 c17 7x7 pad 2", []int{1, 17, 7, 7}, []int{17, 1, 5, 5}, ops.AttrMap{"group": ops.IntAttr(17), "pads": ints(2, 2, 2, 2)}},
	{"depthwise 3x3 c32 1x1 map", []int{1, 32, 1, 1}, []int{32, 1, 3, 3}, ops.AttrMap{"group": ops.IntAttr(32), "pads": ints(1, 1, 1, 1)}},
	{"depthwise 3x3 c16 16x16 stride 1", []int{1, 16, 16, 16}, []int{16, 1, 3, 3}, ops.AttrMap{"group": ops.IntAttr(16), "pads": ints(1, 1, 1, 1)}},
	{"depthwise 5x5 dilated", []int{1, 4, 12, 12}, []int{4, 1, 5, 5}, ops.AttrMap{"group": ops.IntAttr(4), "dilations": ints(2, 2), "pads": ints(2, 2, 2, 2)}},
	// Dilated depthwise on both vector paths: DeepLabV3's 5x5 dilation 2 on 16x16 (interleaved), unequal
	// dilations with stride 2 and asymmetric pads on a plane above dwciMaxOutputs (plane path) and below it.
	{"depthwise 5x5 c20 16x16 dilated 2", []int{1, 20, 16, 16}, []int{20, 1, 5, 5}, ops.AttrMap{"group": ops.IntAttr(20), "dilations": ints(2, 2), "pads": ints(4, 4, 4, 4)}},
	{"depthwise 3x3 c5 stride 2 dilated 2x3 asym", []int{1, 5, 37, 41}, []int{5, 1, 3, 3}, ops.AttrMap{"group": ops.IntAttr(5), "strides": ints(2, 2), "dilations": ints(2, 3), "pads": ints(1, 3, 2, 0)}},
	{"depthwise 3x3 c17 stride 2 dilated 3", []int{2, 17, 13, 12}, []int{17, 1, 3, 3}, ops.AttrMap{"group": ops.IntAttr(17), "strides": ints(2, 2), "dilations": ints(3, 3), "pads": ints(3, 2, 3, 4)}},
	{"depthwise 5x5 c3 dilated 3 large plane", []int{1, 3, 30, 29}, []int{3, 1, 5, 5}, ops.AttrMap{"group": ops.IntAttr(3), "dilations": ints(3, 3), "pads": ints(6, 5, 6, 7)}},
	// Taps live on part of the outputs only (conv_taps.go): in-place and gathered regions, strides 2.
	{"3x3 c32 m5 dilated 4x5 sparse taps", []int{1, 32, 6, 7}, []int{5, 32, 3, 3}, ops.AttrMap{"dilations": ints(4, 5), "pads": ints(4, 5, 4, 5)}},
	{"3x3 c33 m7 b2 stride 2 dilated sparse taps asym", []int{2, 33, 11, 9}, []int{7, 33, 3, 3}, ops.AttrMap{"strides": ints(2, 2), "dilations": ints(5, 4), "pads": ints(5, 3, 4, 4)}},
	{"1-D", []int{2, 3, 17}, []int{5, 3, 4}, ops.AttrMap{"pads": ints(1, 2), "strides": ints(2)}},
	{"3-D", []int{1, 2, 5, 4, 6}, []int{3, 2, 2, 3, 2}, ops.AttrMap{"pads": ints(1, 0, 1, 0, 1, 0)}},
}

// convEpilogues are the fused tails each strategy is run with.
var convEpilogues = []struct {
	name string
	epi  convEpilogue
}{
	{"plain", convEpilogue{}},
	{"relu", convEpilogue{act: gemm.ActReLU, hi: float32(math.Inf(1))}},
	{"clip+sum", convEpilogue{act: gemm.ActClip, lo: -0.3, hi: 0.5, sum: true}},
	{"relu+sum", convEpilogue{act: gemm.ActReLU, hi: float32(math.Inf(1)), sum: true}},
	{"silu", convEpilogue{post: activation.Func{Kind: activation.SiLU}}},
	{"sigmoid+sum", convEpilogue{post: activation.Func{Kind: activation.Sigmoid}, sum: true}},
	{"hardswish", convEpilogue{post: activation.Func{Kind: activation.HardSwish, Alpha: 1.0 / 6, Beta: 0.5}}},
	{"leakyrelu+sum", convEpilogue{post: activation.Func{Kind: activation.LeakyRelu, Alpha: 0.1}, sum: true}},
	{"gelu", convEpilogue{post: activation.Func{Kind: activation.GeluErf}}},
}

// strategiesFor builds every strategy that can run s.
func strategiesFor(s *convShape, wt *ops.Tensor) []convStrategy {
	w := convWeights{t: wt}
	out := []convStrategy{newConvIm2col(s, w), newConvGemmT(s, w)}
	if isPointwise(s) {
		out = append(out, newConvPointwise(s, w))
	}
	if s.win.rank() == 2 {
		win := &s.win
		out = append(out, newConvImplicit(s, w)) // any 2-D window, not only those it is chosen for
		if s.group == 1 && win.kernel[0] == 3 && win.kernel[1] == 3 && win.stride[0] == 1 && win.stride[1] == 1 && win.dilation[0] == 1 && win.dilation[1] == 1 {
			out = append(out, newConvWinograd(s, w))
		}
		if s.group == 1 && win.stride[0] == 1 && win.stride[1] == 1 {
			out = append(out, newConvFewChannels(s, w))
		}
		if s.group == 1 && s.taps > 1 {
			out = append(out, newConvTapRegions(s, w))
		}
		if isDepthwise(s) {
			out = append(out, newConvDepthwise(s, w))
			// Both vector paths on every shape they can run, whichever the map size picks.
			if dw := newConvDepthwise(s, w); dw.vec != nil && s.groupOutC == 1 {
				dw.useInterleaved(newDwciPlanFor(s, dw.vec), w)
				planes := newConvDepthwise(s, w)
				planes.useInterleaved(nil, w)
				out = append(out, dw, planes)
			}
		}
	}
	return out
}

// referenceConv is convDirect in float64 followed by the epilogue.
func referenceConv(s *convShape, x, w, b, z *ops.Tensor, e convEpilogue) []float64 {
	g := s.win.gatherInput()
	y := make([]float64, s.batch*s.outC*s.outSize)
	var bias []float64
	if b != nil {
		bias = b.AsFloat64s()
	}
	convDirect(s, g, x.AsFloat64s(), w.AsFloat64s(), bias, y, nil)
	for i := range y {
		if e.sum {
			y[i] += float64(z.Float32s()[i])
		}
		switch e.act {
		case gemm.ActReLU:
			y[i] = math.Max(y[i], 0)
		case gemm.ActClip:
			y[i] = math.Min(math.Max(y[i], float64(e.lo)), float64(e.hi))
		}
		y[i] = e.post.Apply(y[i])
	}
	return y
}

// TestFastConvStrategies runs every strategy that fits each odd geometry, with each epilogue, with constant
// and run-time weights, on one and two threads, against the float64 reference loop.
func TestFastConvStrategies(t *testing.T) {
	pool := parallel.NewPool(2)
	defer pool.Close()
	for ci, c := range oddConvCases {
		x, w, b := randF32(int64(10*ci+1), c.x...), randF32(int64(10*ci+2), c.w...), randF32(int64(10*ci+3), c.w[0])
		op, err := buildConv(ops.NodeInfo{OpType: "Conv", Opset: 22, Attrs: c.attr, NumInputs: 3, NumOutputs: 1})
		if err != nil {
			t.Fatal(err)
		}
		in := []ops.ValueInfo{{DType: ops.Float32, Shape: x.Shape()}, {DType: ops.Float32, Shape: w.Shape()}, {DType: ops.Float32, Shape: b.Shape()}}
		s, err := op.(*convOp).shape(in)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		z := randF32(int64(10*ci+4), s.outShape...)
		for _, e := range convEpilogues {
			for _, withBias := range []bool{true, false} {
				bias := b
				if !withBias {
					bias = nil
				}
				want := referenceConv(&s, x, w, bias, z, e.epi)
				for _, constW := range []bool{true, false} {
					k := prepareFastConv(s, nil, nil, e.epi)
					var wc *ops.Tensor
					if constW {
						wc = w
					}
					for _, st := range strategiesFor(&k.s, wc) {
						k.strategy = st
						for _, threads := range []int{1, 2} {
							name := fmt.Sprintf("%s/%s/%s/bias=%v/constW=%v/threads=%d", c.name, st.name(), e.name, withBias, constW, threads)
							ctx := ops.SerialContext()
							if threads > 1 {
								ctx.Pool, ctx.Threads = pool, threads
							}
							ctx.Scratch = make([]float32, k.ScratchSize())
							for i := range ctx.Scratch {
								ctx.Scratch[i] = float32(math.NaN())
							}
							y := ops.New(ops.Float32, s.outShape)
							for i := range y.Float32s() {
								y.Float32s()[i] = float32(math.NaN())
							}
							inputs := []*ops.Tensor{x, w, bias}
							if e.epi.sum {
								inputs = append(inputs, z)
							}
							if err := k.Run(ctx, inputs, []*ops.Tensor{y}); err != nil {
								t.Fatalf("%s: %v", name, err)
							}
							if err := closeTo(y.Float32s(), want, 2e-4, 2e-4); err != nil {
								t.Errorf("%s: %v", name, err)
							}
						}
					}
				}
			}
		}
	}
}

// TestFastConvChoice pins the strategy the selection picks for the benchmark models' layer shapes.
func TestFastConvChoice(t *testing.T) {
	cases := []struct {
		x, w []int
		attr ops.AttrMap
		want string
	}{
		{[]int{1, 1, 28, 28}, []int{6, 1, 3, 3}, nil, "direct"},
		{[]int{1, 6, 13, 13}, []int{16, 6, 3, 3}, nil, "direct"},
		{[]int{8, 3, 32, 32}, []int{64, 3, 3, 3}, ops.AttrMap{"pads": ints(1, 1, 1, 1)}, "direct"},
		{[]int{8, 64, 32, 32}, []int{64, 64, 3, 3}, ops.AttrMap{"pads": ints(1, 1, 1, 1)}, "winograd"},
		{[]int{8, 256, 8, 8}, []int{256, 256, 3, 3}, ops.AttrMap{"pads": ints(1, 1, 1, 1)}, "winograd"},
		{[]int{8, 512, 4, 4}, []int{512, 512, 3, 3}, ops.AttrMap{"pads": ints(1, 1, 1, 1)}, "im2col"},
		{[]int{16, 512, 4, 4}, []int{512, 512, 3, 3}, ops.AttrMap{"pads": ints(1, 1, 1, 1)}, "winograd"},
		{[]int{8, 64, 32, 32}, []int{128, 64, 3, 3}, ops.AttrMap{"pads": ints(1, 1, 1, 1), "strides": ints(2, 2)}, "implicit"},
		// Strided layers: the implicit GEMM up to 32x32 outputs (ResNet-50's), im2col's L2-sized column
		// blocks above (YOLO's 6x6 stem and its stride-2 3x3s on 160x160 and 80x80).
		{[]int{1, 128, 56, 56}, []int{128, 128, 3, 3}, ops.AttrMap{"pads": ints(1, 1, 1, 1), "strides": ints(2, 2)}, "implicit"},
		{[]int{1, 256, 56, 56}, []int{512, 256, 1, 1}, ops.AttrMap{"strides": ints(2, 2)}, "implicit"},
		{[]int{1, 64, 80, 80}, []int{128, 64, 3, 3}, ops.AttrMap{"pads": ints(1, 1, 1, 1), "strides": ints(2, 2)}, "im2col"},
		{[]int{1, 32, 160, 160}, []int{64, 32, 3, 3}, ops.AttrMap{"pads": ints(1, 1, 1, 1), "strides": ints(2, 2)}, "im2col"},
		{[]int{1, 3, 320, 320}, []int{32, 3, 6, 6}, ops.AttrMap{"pads": ints(2, 2, 2, 2), "strides": ints(2, 2)}, "im2col"},
		{[]int{8, 64, 32, 32}, []int{128, 64, 1, 1}, nil, "pointwise"},
		// Depthwise: channel-interleaved up to 256 outputs a plane (DeepLabV3's 16x16) where the CPU has its
		// assembly, the plane path above (28x28).
		{[]int{1, 32, 16, 16}, []int{32, 1, 3, 3}, ops.AttrMap{"group": ops.IntAttr(32), "pads": ints(1, 1, 1, 1)}, smallDepthwise()},
		{[]int{1, 960, 7, 7}, []int{960, 1, 5, 5}, ops.AttrMap{"group": ops.IntAttr(960), "pads": ints(2, 2, 2, 2)}, smallDepthwise()},
		{[]int{1, 192, 28, 28}, []int{192, 1, 3, 3}, ops.AttrMap{"group": ops.IntAttr(192), "pads": ints(1, 1, 1, 1), "strides": ints(2, 2)}, smallDepthwise()},
		{[]int{1, 192, 28, 28}, []int{192, 1, 3, 3}, ops.AttrMap{"group": ops.IntAttr(192), "pads": ints(1, 1, 1, 1)}, "depthwise"},
		{[]int{1, 8, 9, 9}, []int{16, 1, 3, 3}, ops.AttrMap{"group": ops.IntAttr(8), "pads": ints(1, 1, 1, 1)}, "depthwise"}, // multiplier 2
		// ResNet-50's layer4 at batch 1: 49 positions waste a quarter of the plain product's tiles.
		{[]int{1, 512, 7, 7}, []int{512, 512, 3, 3}, ops.AttrMap{"pads": ints(1, 1, 1, 1)}, "gemm-t"},
		{[]int{1, 1024, 14, 14}, []int{512, 1024, 3, 3}, ops.AttrMap{"pads": ints(1, 1, 1, 1), "strides": ints(2, 2)}, "gemm-t"},
		{[]int{1, 2048, 7, 7}, []int{512, 2048, 1, 1}, nil, "gemm-t"},
		// 14x14 (196 positions) and 10x10 waste too little to pay; 56x56 is too large.
		{[]int{1, 256, 14, 14}, []int{1024, 256, 1, 1}, nil, "pointwise"},
		{[]int{1, 256, 10, 10}, []int{256, 256, 3, 3}, ops.AttrMap{"pads": ints(1, 1, 1, 1), "strides": ints(1, 1)}, "im2col"},
		{[]int{1, 64, 56, 56}, []int{64, 64, 1, 1}, nil, "pointwise"},
		// U-Net's full-resolution layers: 16 output channels run on the direct tiles whatever K.
		{[]int{1, 32, 256, 256}, []int{16, 32, 3, 3}, ops.AttrMap{"pads": ints(1, 1, 1, 1)}, "direct"},
		{[]int{1, 16, 64, 64}, []int{16, 16, 3, 3}, ops.AttrMap{"pads": ints(1, 1, 1, 1)}, "direct"},
		{[]int{1, 32, 128, 128}, []int{32, 32, 3, 3}, ops.AttrMap{"pads": ints(1, 1, 1, 1)}, "winograd"},
		// Winograd keeps the maps it fits.
		{[]int{1, 32, 16, 16}, []int{32, 32, 3, 3}, ops.AttrMap{"pads": ints(1, 1, 1, 1)}, "winograd"},
		// ASPP at dilation 12 on 16x16: its taps read the input for 25% of im2col's products (conv_taps.go).
		{[]int{1, 960, 16, 16}, []int{256, 960, 3, 3}, ops.AttrMap{"pads": ints(12, 12, 12, 12), "dilations": ints(12, 12)}, "tap-regions"},
		// With 8 input channels the per-tap products cost more than they save.
		{[]int{1, 8, 16, 16}, []int{16, 8, 3, 3}, ops.AttrMap{"pads": ints(12, 12, 12, 12), "dilations": ints(12, 12)}, "gemm-t"},
		// ASPP at dilation 36 on 16x16: only the centre tap reads the input (conv_trim.go).
		{[]int{1, 960, 16, 16}, []int{256, 960, 3, 3}, ops.AttrMap{"pads": ints(36, 36, 36, 36), "dilations": ints(36, 36)}, "pointwise"},
	}
	for _, c := range cases {
		p := prepare(t, convNode(22, c.attr, randF32(1, c.x...), randF32(2, c.w...)))
		if got := p.kernel.(*fastConvKernel).Strategy(); got != c.want {
			t.Errorf("X %v W %v %v: strategy %s, want %s", c.x, c.w, c.attr, got, c.want)
		}
	}
}

// smallDepthwise is the strategy a depthwise layer with a small output plane takes: channel-interleaved
// where the CPU has its assembly (the pure-Go twins are slower than the plane path).
func smallDepthwise() string {
	if dwciTaps.Level == isa.PureGo {
		return "depthwise"
	}
	return "depthwise-interleaved"
}

// TestGemmTPays: the transposed product is taken where it computes under 0.9 of the plain product's
// padded tile cells, on maps of up to 256 positions, for both tile widths.
func TestGemmTPays(t *testing.T) {
	for _, c := range []struct {
		outC, outH, k, tileCols int
		want                    bool
	}{
		{512, 7, 4608, 32, true},   // 54x512 against 512x64 cells
		{512, 7, 4608, 16, true},   // 49 columns still take 64
		{256, 10, 2304, 32, false}, // 102x256 against 256x112: 0.91
		{32, 16, 288, 32, true},    // 258x32 against 36x256
		{512, 4, 4608, 32, false},  // 16 positions fill a 16-wide tile
		{64, 17, 576, 32, false},   // 289 positions: too many
		{512, 7, 32, 32, false},    // K too small to amortise the transpose
	} {
		s := convShape{groupOutC: c.outC, outSize: c.outH * c.outH, groupInC: c.k, taps: 1, group: 1, inC: c.k}
		if got := gemmTPays(&s, c.tileCols); got != c.want {
			t.Errorf("M=%d on %dx%d, K=%d, %d-column tiles: gemmTPays %v, want %v", c.outC, c.outH, c.outH, c.k, c.tileCols, got, c.want)
		}
	}
}

// TestFastConvAllocatesNothing holds every strategy, plain and fused with a residual and Relu, to a Run
// without heap allocation, on one thread and on a 2-thread pool (where the threaded paths run).
func TestFastConvAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race (sync.Pool drops items)")
	}
	pool := parallel.NewPool(2)
	defer pool.Close()
	relu := ops.AttrMap{"activation": ops.StringAttr("Relu"), "pads": ints(1, 1, 1, 1)}
	cases := []struct {
		x, w []int
		attr ops.AttrMap
		want string
	}{
		{[]int{4, 1, 28, 28}, []int{6, 1, 3, 3}, nil, "direct"},
		{[]int{4, 32, 16, 16}, []int{32, 32, 3, 3}, relu, "winograd"},
		{[]int{1, 32, 16, 16}, []int{32, 32, 3, 3}, relu, "winograd"},
		{[]int{4, 32, 9, 9}, []int{16, 32, 3, 3}, ops.AttrMap{"strides": ints(2, 2)}, "im2col"},
		{[]int{1, 3, 64, 64}, []int{16, 3, 7, 7}, ops.AttrMap{"strides": ints(2, 2), "pads": ints(3, 3, 3, 3)}, "im2col"},
		{[]int{4, 32, 9, 9}, []int{16, 32, 1, 1}, nil, "pointwise"},
		// The implicit GEMM, padded (copies X with its padding) and not, at batch 1 (the GEMM threads
		// and calls the packer from both threads) and 4.
		{[]int{1, 32, 20, 20}, []int{48, 32, 3, 3}, ops.AttrMap{"strides": ints(2, 2), "pads": ints(1, 1, 1, 1)}, "implicit"},
		{[]int{4, 32, 14, 14}, []int{48, 32, 1, 1}, ops.AttrMap{"strides": ints(2, 2)}, "implicit"},
		{[]int{4, 8, 9, 9}, []int{8, 1, 3, 3}, ops.AttrMap{"group": ops.IntAttr(8)}, smallDepthwise()},
		{[]int{2, 20, 30, 30}, []int{20, 1, 3, 3}, ops.AttrMap{"group": ops.IntAttr(20)}, "depthwise"},
		{[]int{2, 64, 7, 7}, []int{64, 64, 3, 3}, relu, "gemm-t"},
		// The direct tiles' batch-1 split and the per-tap products.
		{[]int{1, 32, 40, 40}, []int{16, 32, 3, 3}, relu, "direct"},
		{[]int{1, 64, 8, 8}, []int{32, 64, 3, 3}, ops.AttrMap{"activation": ops.StringAttr("Relu"), "pads": ints(6, 6, 6, 6), "dilations": ints(6, 6)}, "tap-regions"},
		{[]int{2, 64, 8, 8}, []int{32, 64, 3, 3}, ops.AttrMap{"pads": ints(6, 6, 6, 6), "dilations": ints(6, 6)}, "tap-regions"},
	}
	for _, c := range cases {
		x, w, b := randF32(1, c.x...), randF32(2, c.w...), randF32(3, c.w[0])
		n := node("Conv", 22, c.attr, x, w, b)
		if _, fused := c.attr["activation"]; fused {
			// FusedConv with Z: Y has X's spatial shape (3x3, pads 1) and W's channels.
			z := randF32(4, c.x[0], c.w[0], c.x[2], c.x[3])
			n = opstest.Node{Domain: ops.FusedDomain, OpType: "FusedConv", Opset: 1, Attrs: c.attr, Inputs: []*ops.Tensor{x, w, b, z}}
		}
		p := prepareIn(t, n)
		k := p.kernel.(*fastConvKernel)
		if k.Strategy() != c.want {
			t.Errorf("X %v W %v: strategy %s, want %s", c.x, c.w, k.Strategy(), c.want)
		}
		for _, threads := range []int{1, 2} {
			if threads > 1 {
				p.ctx.Pool, p.ctx.Threads = pool, threads
			}
			allocs := testing.AllocsPerRun(10, func() {
				if err := k.Run(p.ctx, p.in, p.out); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%s X %v, %d threads: Run allocates %v times", k.Strategy(), c.x, threads, allocs)
			}
		}
	}
}

// prepareIn is prepare for a node of any domain (prepare looks up the default one).
func prepareIn(t testing.TB, n opstest.Node) prepared {
	t.Helper()
	build, _, ok := ops.Lookup(n.Domain, n.OpType, n.Opset)
	if !ok {
		t.Fatalf("%s::%s opset %d not registered", n.Domain, n.OpType, n.Opset)
	}
	present := make([]bool, len(n.Inputs))
	in := make([]ops.ValueInfo, len(n.Inputs))
	for i, x := range n.Inputs {
		present[i] = x != nil
		if x != nil {
			in[i] = ops.ValueInfo{DType: x.DType(), Shape: x.Shape(), Const: x}
		}
	}
	op, err := build(ops.NodeInfo{Domain: n.Domain, OpType: n.OpType, Opset: n.Opset, Attrs: n.Attrs, NumInputs: len(in), NumOutputs: 1, InputPresent: present})
	if err != nil {
		t.Fatal(err)
	}
	infos, err := op.InferShapes(in)
	if err != nil {
		t.Fatal(err)
	}
	k, err := op.Prepare(in, infos)
	if err != nil {
		t.Fatal(err)
	}
	p := prepared{kernel: k, ctx: ops.SerialContext(), in: n.Inputs, out: []*ops.Tensor{ops.New(infos[0].DType, infos[0].Shape)}}
	if s, ok := k.(ops.Scratcher); ok {
		p.ctx.Scratch = make([]float32, s.ScratchSize())
	}
	return p
}

// TestFusedConv runs FusedConv through the registry against Conv, then the residual and activation by
// hand, and checks its errors.
func TestFusedConv(t *testing.T) {
	x, w, b := randF32(1, 2, 16, 9, 9), randF32(2, 16, 16, 3, 3), randF32(3, 16)
	z := randF32(4, 2, 16, 9, 9)
	pads := ops.AttrMap{"pads": ints(1, 1, 1, 1)}
	conv := mustRun(t, convNode(22, pads, x, w, b))[0].Float32s()
	for _, c := range []struct {
		attrs ops.AttrMap
		withZ bool
		f     func(v float32) float32
	}{
		{ops.AttrMap{"activation": ops.StringAttr("Relu")}, true, func(v float32) float32 { return max(v, 0) }},
		{ops.AttrMap{"activation": ops.StringAttr("Clip"), "activation_params": ops.FloatsAttr(-0.5, 1)}, false, func(v float32) float32 { return min(max(v, -0.5), 1) }},
		{ops.AttrMap{}, true, func(v float32) float32 { return v }},
	} {
		c.attrs["pads"] = pads["pads"]
		in := []*ops.Tensor{x, w, b}
		if c.withZ {
			in = append(in, z)
		}
		got, err := opstest.Run(opstest.Node{Domain: ops.FusedDomain, OpType: "FusedConv", Opset: 1, Attrs: c.attrs, Inputs: in})
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range got[0].Float32s() {
			want := conv[i]
			if c.withZ {
				want += z.Float32s()[i]
			}
			want = c.f(want)
			if math.Abs(float64(v-want)) > 1e-4 {
				t.Fatalf("%v Z=%v: element %d is %g, want %g", c.attrs, c.withZ, i, v, want)
			}
		}
	}
	for _, c := range []struct {
		attrs ops.AttrMap
		in    []*ops.Tensor
		want  string
	}{
		{ops.AttrMap{"activation": ops.StringAttr("Softplus")}, []*ops.Tensor{x, w}, `activation "Softplus": fused products take`},
		{ops.AttrMap{"activation": ops.StringAttr("Clip")}, []*ops.Tensor{x, w}, "Clip takes 2 values"},
		{ops.AttrMap{"activation": ops.StringAttr("LeakyRelu"), "activation_params": ops.FloatsAttr(1, 2)}, []*ops.Tensor{x, w}, "LeakyRelu takes 1 values"},
		{ops.AttrMap{"activation": ops.StringAttr("Clip"), "activation_params": ops.FloatsAttr(2, 1)}, []*ops.Tensor{x, w}, "min must not exceed max"},
		{nil, []*ops.Tensor{x, w, b, randF32(5, 2, 16, 7, 7)}, "Z is float32[2,16,7,7], want float32[2,16,9,9]"},
		{nil, []*ops.Tensor{toF64(x), toF64(w)}, "FusedConv computes float32, X is float64"},
		{nil, []*ops.Tensor{x, randF32(6, 16, 8, 3, 3)}, "X has 16 channels"},
	} {
		if c.attrs == nil {
			c.attrs = ops.AttrMap{}
		}
		c.attrs["pads"] = pads["pads"]
		_, err := opstest.Run(opstest.Node{Domain: ops.FusedDomain, OpType: "FusedConv", Opset: 1, Attrs: c.attrs, Inputs: c.in})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want it to contain %q", c.attrs, err, c.want)
		}
	}
}

// TestFastConvEmpty runs convolutions with an empty batch, no input channels and no output channels.
func TestFastConvEmpty(t *testing.T) {
	for _, c := range []struct{ x, w []int }{
		{[]int{0, 3, 8, 8}, []int{4, 3, 3, 3}},
		{[]int{2, 0, 8, 8}, []int{4, 0, 3, 3}},
		{[]int{2, 3, 8, 8}, []int{0, 3, 3, 3}},
		{[]int{0, 32, 8, 8}, []int{32, 32, 3, 3}},
	} {
		x, w, b := randF32(1, c.x...), randF32(2, c.w...), randF32(3, c.w[0])
		got := mustRun(t, convNode(22, nil, x, w, b))[0]
		for i, v := range got.Float32s() { // no input channels: each output is its bias
			if want := b.Float32s()[i/36%c.w[0]]; v != want {
				t.Fatalf("X %v W %v: element %d is %g, want the bias %g", c.x, c.w, i, v, want)
			}
		}
	}
}

// TestFastConvStopsWhenCancelled runs every strategy with an already-cancelled context, on one and two
// threads: each must return before computing most of Y (which starts as NaN), not run to the end.
func TestFastConvStopsWhenCancelled(t *testing.T) {
	pool := parallel.NewPool(2)
	defer pool.Close()
	cases := []struct {
		x, w []int
		attr ops.AttrMap
	}{
		{[]int{8, 1, 28, 28}, []int{6, 1, 5, 5}, nil},                                      // direct, im2col
		{[]int{8, 16, 20, 20}, []int{16, 16, 3, 3}, ops.AttrMap{"pads": ints(1, 1, 1, 1)}}, // winograd, direct, im2col
		{[]int{8, 16, 12, 12}, []int{16, 16, 1, 1}, nil},                                   // pointwise, im2col
		{[]int{8, 16, 12, 12}, []int{16, 1, 3, 3}, ops.AttrMap{"group": ops.IntAttr(16)}},  // depthwise, im2col
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range cases {
		x, w := randF32(1, c.x...), randF32(2, c.w...)
		op, err := buildConv(ops.NodeInfo{OpType: "Conv", Opset: 22, Attrs: c.attr, NumInputs: 2, NumOutputs: 1})
		if err != nil {
			t.Fatal(err)
		}
		s, err := op.(*convOp).shape([]ops.ValueInfo{{DType: ops.Float32, Shape: x.Shape()}, {DType: ops.Float32, Shape: w.Shape()}})
		if err != nil {
			t.Fatal(err)
		}
		k := prepareFastConv(s, nil, nil, convEpilogue{})
		for _, st := range strategiesFor(&k.s, w) {
			k.strategy = st
			for _, threads := range []int{1, 2} {
				ec := ops.SerialContext()
				ec.Context = ctx
				if threads > 1 {
					ec.Pool, ec.Threads = pool, threads
				}
				ec.Scratch = make([]float32, k.ScratchSize())
				y := ops.New(ops.Float32, s.outShape)
				fillNaN(y)
				if err := k.Run(ec, []*ops.Tensor{x, w}, []*ops.Tensor{y}); err != nil {
					t.Fatal(err)
				}
				if written := countNotNaN(y); written > y.Len()/2 {
					t.Errorf("X %v W %v, %s, %d threads: cancelled Run still wrote %d of %d outputs", c.x, c.w, st.name(), threads, written, y.Len())
				}
			}
		}
	}
}

// TestReferenceConvStopsWhenCancelled does the same for the kernel other dtypes get (float64 direct,
// float16 and bfloat16 through the float32 GEMM) and for ConvTranspose.
func TestReferenceConvStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, op := range []string{"Conv", "ConvTranspose"} {
		for _, dt := range []ops.DType{ops.Float64, ops.Float16, ops.BFloat16, ops.Float32} {
			x := opstest.FromFloat64s(dt, ops.Shape{8, 4, 10, 10}, opstest.Pattern(8*4*10*10))
			w := opstest.FromFloat64s(dt, ops.Shape{4, 4, 3, 3}, opstest.Pattern(4*4*3*3))
			p := prepare(t, node(op, 22, nil, x, w))
			p.ctx.Context = ctx
			y := p.out[0]
			fillNaN(y)
			if err := p.kernel.Run(p.ctx, p.in, p.out); err != nil {
				t.Fatal(err)
			}
			if written := countNotNaN(y); written > y.Len()/2 {
				t.Errorf("%s %s: cancelled Run still wrote %d of %d outputs", op, dt, written, y.Len())
			}
		}
	}
}

// countNotNaN counts the elements of t that are not NaN: those a kernel wrote after fillNaN.
func countNotNaN(t *ops.Tensor) int {
	n := 0
	for _, v := range t.AsFloat64s() {
		if !math.IsNaN(v) {
			n++
		}
	}
	return n
}

// TestConvDerivesWeightsAtFirstRun checks that Prepare packs nothing (plans that never run, such as the
// graph passes' probes, must not hold packed copies) and that the first Run does, once.
func TestConvDerivesWeightsAtFirstRun(t *testing.T) {
	cases := []struct {
		x, w []int
		attr ops.AttrMap
		want string
	}{
		{[]int{4, 32, 16, 16}, []int{32, 32, 3, 3}, pad1, "winograd"},
		{[]int{4, 32, 9, 9}, []int{16, 32, 3, 3}, ops.AttrMap{"strides": ints(2, 2)}, "im2col"},
		{[]int{1, 3, 64, 64}, []int{16, 3, 7, 7}, ops.AttrMap{"strides": ints(2, 2), "pads": ints(3, 3, 3, 3)}, "im2col"},
		{[]int{2, 6, 13, 13}, []int{16, 6, 3, 3}, nil, "direct"},
	}
	for _, c := range cases {
		p := prepare(t, node("Conv", 22, c.attr, randF32(1, c.x...), randF32(2, c.w...)))
		k := p.kernel.(*fastConvKernel)
		if k.Strategy() != c.want {
			t.Fatalf("X %v W %v: strategy %s, want %s", c.x, c.w, k.Strategy(), c.want)
		}
		derived := func() bool {
			switch st := k.strategy.(type) {
			case *convWinograd:
				return st.packed.v != nil
			case *convIm2col:
				return st.w.packed.v != nil
			case *convFewChannels:
				return st.packed.v != nil
			}
			t.Fatalf("strategy %T", k.strategy)
			return false
		}
		if derived() {
			t.Errorf("%s: Prepare packed the weights", c.want)
		}
		if err := k.Run(p.ctx, p.in, p.out); err != nil {
			t.Fatal(err)
		}
		if !derived() {
			t.Errorf("%s: Run did not pack the weights", c.want)
		}
	}
}

// TestDirectConvPollsWithinAnImage: the direct strategy's unit is a whole image, many milliseconds for a
// large one, so it polls the run's context between blocks of output channels as well (plain and wrapped
// layouts). Called for one unit with a cancelled context, it must leave that image's Y unwritten.
func TestDirectConvPollsWithinAnImage(t *testing.T) {
	done := make(chan struct{})
	close(done)
	for _, c := range []struct {
		x, w []int
	}{
		{[]int{1, 3, 40, 40}, []int{48, 3, 3, 3}}, // wide rows: the plain layout
		{[]int{1, 6, 13, 13}, []int{48, 6, 3, 3}}, // narrow rows, C*taps >= 32: the wrapped layout
	} {
		x, w := randF32(1, c.x...), randF32(2, c.w...)
		op, err := buildConv(ops.NodeInfo{OpType: "Conv", Opset: 22, NumInputs: 2, NumOutputs: 1})
		if err != nil {
			t.Fatal(err)
		}
		s, err := op.(*convOp).shape([]ops.ValueInfo{{DType: ops.Float32, Shape: x.Shape()}, {DType: ops.Float32, Shape: w.Shape()}})
		if err != nil {
			t.Fatal(err)
		}
		k := prepareFastConv(s, w, nil, convEpilogue{})
		st := newConvFewChannels(&k.s, convWeights{t: w})
		y := ops.New(ops.Float32, s.outShape)
		fillNaN(y)
		r := &convRun{k: k, x: x.Float32s(), w: w.Float32s(), y: y.Float32s(), done: done}
		st.setup(r)
		st.run(r, 0, 1, make([]float32, st.scratchPerThread()), nil)
		if written := countNotNaN(y); written != 0 {
			t.Errorf("X %v W %v (wrapped %v): a cancelled image still got %d of %d outputs", c.x, c.w, st.wrapped(), written, y.Len())
		}
	}
}

// TestWinogradPackedMatchesTransform: the transformed weights written straight into packed panels equal
// winogradWeights' U[ξ] packed afterwards, bit for bit (channel counts off the panel and K-block sizes).
func TestWinogradPackedMatchesTransform(t *testing.T) {
	for _, s := range [][2]int{{16, 16}, {19, 300}, {64, 13}} {
		outC, inC := s[0], s[1]
		w := randF32(5, outC, inC, 3, 3).Float32s()
		u := make([]float32, wgXi*outC*inC)
		winogradWeights(u, w, outC, inC)
		got := winogradPacked(w, outC, inC)
		for xi := range wgXi {
			want := gemm.PackA(false, outC, inC, u[xi*outC*inC:(xi+1)*outC*inC], inC).Data()
			if !slices.Equal(got[xi].Data(), want) {
				t.Fatalf("M=%d C=%d: U[%d] packed directly differs from U packed afterwards", outC, inC, xi)
			}
		}
	}
}

// TestWinogradOneThreadIgnoresGOMAXPROCS: the threaded blocks of a Winograd convolution are balanced for
// GOMAXPROCS threads (ResNet-18 CIFAR's 8x8 layers: one block of 32 tiles becomes two of 16 at
// GOMAXPROCS=2), but a one-thread run must cut its tiles the same way whatever GOMAXPROCS is (issue 15
// item 5: Threads: 1 was slower in a GOMAXPROCS=2 process), and still compute the convolution.
func TestWinogradOneThreadIgnoresGOMAXPROCS(t *testing.T) {
	x, w := randF32(1, 2, 16, 16, 16), randF32(2, 32, 16, 3, 3) // 2 images of 4x4 tiles: 32 tiles
	op, err := buildConv(ops.NodeInfo{OpType: "Conv", Opset: 22, Attrs: ops.AttrMap{"pads": ints(1, 1, 1, 1)}, NumInputs: 2, NumOutputs: 1})
	if err != nil {
		t.Fatal(err)
	}
	s, err := op.(*convOp).shape([]ops.ValueInfo{{DType: ops.Float32, Shape: x.Shape()}, {DType: ops.Float32, Shape: w.Shape()}})
	if err != nil {
		t.Fatal(err)
	}
	want := referenceConv(&s, x, w, nil, nil, convEpilogue{})
	layout := map[int][2]int{}
	for _, procs := range []int{1, 2} {
		old := goruntime.GOMAXPROCS(procs)
		k := prepareFastConv(s, w, nil, convEpilogue{})
		goruntime.GOMAXPROCS(old)
		wg, ok := k.strategy.(*convWinograd)
		if !ok {
			t.Fatalf("GOMAXPROCS=%d: strategy %s, want winograd", procs, k.Strategy())
		}
		layout[procs] = [2]int{wg.serialUnits(), wg.serialScratch()}
		if procs == 2 && wg.units() != 2 {
			t.Errorf("GOMAXPROCS=2: %d threaded blocks, want 2 (the case this test is about)", wg.units())
		}
		ctx := ops.SerialContext()
		ctx.Scratch = make([]float32, k.ScratchSize())
		y := ops.New(ops.Float32, s.outShape)
		if err := k.Run(ctx, []*ops.Tensor{x, w}, []*ops.Tensor{y}); err != nil {
			t.Fatal(err)
		}
		if err := closeTo(y.Float32s(), want, 2e-4, 2e-4); err != nil {
			t.Errorf("GOMAXPROCS=%d, one thread: %v", procs, err)
		}
	}
	if layout[1] != layout[2] {
		t.Errorf("one-thread layout (blocks, scratch) %v at GOMAXPROCS=1, %v at GOMAXPROCS=2", layout[1], layout[2])
	}
}

// TestWinogradPhasesAtBatch1: a batch-1 layer of 16 tiles is one block, so at GOMAXPROCS=2 its input
// transform, products and output transform are each cut across a 2-thread pool (every thread with its own
// bands, over scratch full of NaN), and the result is the reference's.
func TestWinogradPhasesAtBatch1(t *testing.T) {
	pool := parallel.NewPool(2)
	defer pool.Close()
	x, w, b := randF32(1, 1, 32, 14, 14), randF32(2, 48, 32, 3, 3), randF32(3, 48)
	s, k, want := prepareAtTwoProcs(t, x, w, b, ops.AttrMap{"pads": ints(1, 1, 1, 1)})
	wg, ok := k.strategy.(*convWinograd)
	if !ok {
		t.Fatalf("strategy %s, want winograd", k.Strategy())
	}
	if wg.units() != 1 || wg.phaseThreads < 2 {
		t.Fatalf("%d blocks, phases cut for %d threads; want 1 block cut for 2 threads", wg.units(), wg.phaseThreads)
	}
	if err := closeTo(runOnPool(t, k, pool, s.outShape, x, w, b), want, 2e-4, 2e-4); err != nil {
		t.Error(err)
	}
}

// TestIm2colBlocksAcrossThreadsAtBatch1: a batch-1 stem cut into blocks of output rows shares its blocks
// across a 2-thread pool at GOMAXPROCS=2, each thread with its own column buffer (scratch full of NaN),
// and gives the reference's result.
func TestIm2colBlocksAcrossThreadsAtBatch1(t *testing.T) {
	pool := parallel.NewPool(2)
	defer pool.Close()
	x, w, b := randF32(1, 1, 3, 160, 156), randF32(2, 16, 3, 7, 7), randF32(3, 16)
	s, k, want := prepareAtTwoProcs(t, x, w, b, ops.AttrMap{"pads": ints(3, 3, 3, 3), "strides": ints(2, 2)})
	ic, ok := k.strategy.(*convIm2col)
	if !ok {
		t.Fatalf("strategy %s, want im2col", k.Strategy())
	}
	if blocks := ceilDiv(s.win.out[0], ic.blockRows); blocks < 3 || ic.blockThreads < 2 {
		t.Fatalf("%d blocks shared across %d threads; want at least 3 across 2", blocks, ic.blockThreads)
	}
	if err := closeTo(runOnPool(t, k, pool, s.outShape, x, w, b), want, 2e-4, 2e-4); err != nil {
		t.Error(err)
	}
}

// prepareAtTwoProcs prepares a ReLU-fused convolution of constant W at GOMAXPROCS=2 (the strategies cut
// their work for the machine's threads at Prepare) and returns it with the reference's result.
func prepareAtTwoProcs(t *testing.T, x, w, b *ops.Tensor, attr ops.AttrMap) (convShape, *fastConvKernel, []float64) {
	t.Helper()
	s := testConvShape(t, x.Shape(), w.Shape(), attr)
	epi := convEpilogue{act: gemm.ActReLU, hi: float32(math.Inf(1))}
	old := goruntime.GOMAXPROCS(2)
	k := prepareFastConv(s, w, nil, epi)
	goruntime.GOMAXPROCS(old)
	return s, k, referenceConv(&s, x, w, b, nil, epi)
}

// runOnPool runs k on all of pool's threads over scratch full of NaN (what a strategy reads before writing
// shows in the result) and returns Y.
func runOnPool(t *testing.T, k *fastConvKernel, pool *parallel.Pool, outShape ops.Shape, in ...*ops.Tensor) []float32 {
	t.Helper()
	ctx := ops.SerialContext()
	ctx.Pool, ctx.Threads = pool, pool.Threads()
	ctx.Scratch = make([]float32, k.ScratchSize())
	for i := range ctx.Scratch {
		ctx.Scratch[i] = float32(math.NaN())
	}
	y := ops.New(ops.Float32, outShape)
	if err := k.Run(ctx, in, []*ops.Tensor{y}); err != nil {
		t.Fatal(err)
	}
	return y.Float32s()
}

// TestGemmTColumnsSplitAtBatch1: a batch-1 transposed product over enough columns (2304 x 49) unrolls
// them across a 2-thread pool, and gives the reference's result.
func TestGemmTColumnsSplitAtBatch1(t *testing.T) {
	pool := parallel.NewPool(2)
	defer pool.Close()
	x, w, b := randF32(1, 1, 256, 7, 7), randF32(2, 64, 256, 3, 3), randF32(3, 64)
	s, k, want := prepareAtTwoProcs(t, x, w, b, ops.AttrMap{"pads": ints(1, 1, 1, 1)})
	if k.Strategy() != "gemm-t" {
		t.Fatalf("strategy %s, want gemm-t", k.Strategy())
	}
	if cols := s.groupInC * s.taps * s.outSize; cols < im2colSplitMinFloats {
		t.Fatalf("%d column floats, below the split threshold: the test would not split", cols)
	}
	if err := closeTo(runOnPool(t, k, pool, s.outShape, x, w, b), want, 2e-4, 2e-4); err != nil {
		t.Error(err)
	}
}

// TestPostActivationInsideGEMM: EfficientNet-B0's first 1x1 expansion (16 to 96 channels at 112x112,
// SiLU) and an im2col stem (3x3 stride 2, HardSwish) leave the post activation to their GEMM
// (activation.Finisher: each thread finishes what it computed, inside the product's one parallel section,
// where it ran after the product on one thread), apply it exactly once, and give the same bits on 1, 2
// and 3 threads.
func TestPostActivationInsideGEMM(t *testing.T) {
	for _, c := range []struct {
		name     string
		x, w     []int
		attr     ops.AttrMap
		post     activation.Func
		strategy string
	}{
		{"efficientnet expand 1x1 silu", []int{1, 16, 112, 112}, []int{96, 16, 1, 1}, nil, activation.Func{Kind: activation.SiLU}, "pointwise"},
		{"stem 3x3 s2 hardswish", []int{1, 3, 64, 64}, []int{16, 3, 3, 3}, ops.AttrMap{"pads": ints(1, 1, 1, 1), "strides": ints(2, 2)},
			activation.Func{Kind: activation.HardSwish, Alpha: 1.0 / 6, Beta: 0.5}, "im2col"},
	} {
		x, w, b := randF32(1, c.x...), randF32(2, c.w...), randF32(3, c.w[0])
		s := testConvShape(t, x.Shape(), w.Shape(), c.attr)
		epi := convEpilogue{post: c.post}
		old := goruntime.GOMAXPROCS(2)
		k := prepareFastConv(s, w, nil, epi)
		goruntime.GOMAXPROCS(old)
		if k.Strategy() != c.strategy {
			t.Fatalf("%s: strategy %s, want %s", c.name, k.Strategy(), c.strategy)
		}
		if lo, hi, ok := k.strategy.unitOutput(0); !ok || lo != hi {
			t.Errorf("%s: unitOutput(0) = %d, %d, %v: the post activation is left to a pass after the unit", c.name, lo, hi, ok)
		}
		want := referenceConv(&s, x, w, b, nil, epi)
		var first []float32
		for _, threads := range []int{1, 2, 3} {
			pool := parallel.NewPool(threads)
			got := runOnPool(t, k, pool, s.outShape, x, w, b)
			pool.Close()
			if err := closeTo(got, want, 2e-4, 2e-4); err != nil {
				t.Fatalf("%s threads %d: %v", c.name, threads, err)
			}
			if first == nil {
				first = got
				continue
			}
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(first[i]) {
					t.Fatalf("%s threads %d: y[%d] = %v, one thread %v", c.name, threads, i, got[i], first[i])
				}
			}
		}
	}
}

// TestWinogradPostSplitAtBatch1: a batch-1 Winograd convolution with SiLU (YOLO's and U-Net's 3x3 layers)
// applies the activation over Y (64 channels of 28x28, 50K elements) in one more parallel section than
// the same layer with ReLU, where it ran on one thread after the product, and matches the reference on 1,
// 2 and 3 threads (to Winograd's tolerance: its one-thread block layout rounds differently).
func TestWinogradPostSplitAtBatch1(t *testing.T) {
	x, w, b := randF32(1, 1, 32, 28, 28), randF32(2, 64, 32, 3, 3), randF32(3, 64)
	s := testConvShape(t, x.Shape(), w.Shape(), ops.AttrMap{"pads": ints(1, 1, 1, 1)})
	prepare := func(epi convEpilogue) *fastConvKernel {
		old := goruntime.GOMAXPROCS(2)
		defer goruntime.GOMAXPROCS(old)
		return prepareFastConv(s, w, nil, epi)
	}
	silu := prepare(convEpilogue{post: activation.Func{Kind: activation.SiLU}})
	relu := prepare(convEpilogue{act: gemm.ActReLU, hi: float32(math.Inf(1))})
	if silu.Strategy() != "winograd" || relu.Strategy() != "winograd" {
		t.Fatalf("strategies %s and %s, want winograd", silu.Strategy(), relu.Strategy())
	}
	want := referenceConv(&s, x, w, b, nil, convEpilogue{post: activation.Func{Kind: activation.SiLU}})
	for _, threads := range []int{1, 2, 3} {
		pool := parallel.NewPool(threads)
		got := runOnPool(t, silu, pool, s.outShape, x, w, b)
		siluForks := pool.Forks()
		runOnPool(t, relu, pool, s.outShape, x, w, b)
		reluForks := pool.Forks() - siluForks
		pool.Close()
		if threads > 1 && siluForks != reluForks+1 {
			t.Errorf("threads %d: %d parallel sections with SiLU, %d with ReLU; want one more", threads, siluForks, reluForks)
		}
		if err := closeTo(got, want, 2e-4, 2e-4); err != nil {
			t.Fatalf("threads %d: %v", threads, err)
		}
	}
}

// TestDirectSplitAtBatch1: a batch-1 convolution on the direct tiles (U-Net's full-resolution layers: 16
// output channels) cuts its one image across the pool (two parallel sections: the padded copy, then the
// row bands) and gives, on 1, 2 and 3 threads, the reference's result and the same bits, with the residual
// and a post activation applied band by band.
func TestDirectSplitAtBatch1(t *testing.T) {
	x, w, b := randF32(1, 1, 32, 37, 45), randF32(2, 16, 32, 3, 3), randF32(3, 16)
	s := testConvShape(t, x.Shape(), w.Shape(), ops.AttrMap{"pads": ints(1, 1, 1, 1)})
	z := randF32(4, s.outShape...)
	for _, e := range []struct {
		name string
		epi  convEpilogue
	}{
		{"relu", convEpilogue{act: gemm.ActReLU, hi: float32(math.Inf(1))}},
		{"clip+sum", convEpilogue{act: gemm.ActClip, lo: -0.3, hi: 0.5, sum: true}},
		{"silu+sum", convEpilogue{post: activation.Func{Kind: activation.SiLU}, sum: true}},
	} {
		old := goruntime.GOMAXPROCS(2)
		k := prepareFastConv(s, w, nil, e.epi)
		goruntime.GOMAXPROCS(old)
		if k.Strategy() != "direct" {
			t.Fatalf("%s: strategy %s, want direct", e.name, k.Strategy())
		}
		want := referenceConv(&s, x, w, b, z, e.epi)
		in := []*ops.Tensor{x, w, b}
		if e.epi.sum {
			in = append(in, z)
		}
		var first []float32
		for _, threads := range []int{1, 2, 3} {
			pool := parallel.NewPool(threads)
			got := runOnPool(t, k, pool, s.outShape, in...)
			forks := pool.Forks()
			pool.Close()
			if threads > 1 && forks != 2 {
				t.Errorf("%s threads %d: %d parallel sections, want 2 (padding, rows)", e.name, threads, forks)
			}
			if err := closeTo(got, want, 2e-4, 2e-4); err != nil {
				t.Errorf("%s threads %d: %v", e.name, threads, err)
			}
			if first == nil {
				first = got
				continue
			}
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(first[i]) {
					t.Fatalf("%s threads %d: y[%d] = %v, one thread %v", e.name, threads, i, got[i], first[i])
				}
			}
		}
	}
}
