package cnn

import (
	"fmt"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/gemm"
	"github.com/onnxrun/onnxrun/ops/internal/isa"
)

// depthwiseLayers are MobileNetV2's depthwise layers (3x3, pad 1), EfficientNet-B0's 5x5 ones (pad 2) and
// DeepLabV3-MobileNetV3's dilated 5x5 ones (dilation 2, pad 4), batch 1.
var depthwiseLayers = []struct {
	name     string
	c, hw, k int
	stride   int
	dilation int // 0: 1
}{
	{"mbv2_c32_112_s1", 32, 112, 3, 1, 0},
	{"mbv2_c96_112_s2", 96, 112, 3, 2, 0},
	{"mbv2_c144_56_s1", 144, 56, 3, 1, 0},
	{"mbv2_c144_56_s2", 144, 56, 3, 2, 0},
	{"mbv2_c192_28_s1", 192, 28, 3, 1, 0},
	{"mbv2_c192_28_s2", 192, 28, 3, 2, 0},
	{"mbv2_c384_14_s1", 384, 14, 3, 1, 0},
	{"mbv2_c576_14_s1", 576, 14, 3, 1, 0},
	{"mbv2_c576_14_s2", 576, 14, 3, 2, 0},
	{"mbv2_c960_7_s1", 960, 7, 3, 1, 0},
	{"effb0_c144_56_5x5_s2", 144, 56, 5, 2, 0},
	{"effb0_c480_14_5x5_s1", 480, 14, 5, 1, 0},
	{"effb0_c1152_7_5x5_s1", 1152, 7, 5, 1, 0},
	{"deeplab_c672_16_5x5_d2", 672, 16, 5, 1, 2},
	{"deeplab_c960_16_5x5_d2", 960, 16, 5, 1, 2},
}

// BenchmarkDepthwiseConv times each layer on one thread with the Clip(0, 6) epilogue MobileNetV2 fuses:
// the plane vector path with each kernel variant this CPU runs, the channel-interleaved path with the
// variant this process picks, and the gather loop they replace. GFLOP/s
// counts 2 per multiply-add.
func BenchmarkDepthwiseConv(b *testing.B) {
	for _, l := range depthwiseLayers {
		dilation := int64(max(l.dilation, 1))
		pad := int64(l.k/2) * dilation
		attr := ops.AttrMap{"group": ops.IntAttr(int64(l.c)), "pads": ints(pad, pad, pad, pad),
			"strides": ints(int64(l.stride), int64(l.stride)), "dilations": ints(dilation, dilation)}
		x, w, bias := randF32(1, 1, l.c, l.hw, l.hw), randF32(2, l.c, 1, l.k, l.k), randF32(3, l.c)
		p := prepare(b, node("Conv", 22, attr, x, w, bias))
		base := p.kernel.(*fastConvKernel)
		base.epi = convEpilogue{act: gemm.ActClip, lo: 0, hi: 6}
		gflop := 2 * float64(base.FLOPs()) / 1e9
		run := func(b *testing.B, k *fastConvKernel) {
			b.ReportAllocs()
			ctx := ops.SerialContext()
			ctx.Scratch = make([]float32, k.ScratchSize())
			for i := 0; i < b.N; i++ {
				if err := k.Run(ctx, p.in, p.out); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(gflop*float64(b.N)/b.Elapsed().Seconds(), "GFLOP/s")
		}
		for _, v := range isa.Runnable(dwKernelVariants...) {
			k := *base
			dw := *k.strategy.(*convDepthwise)
			dw.useInterleaved(nil, convWeights{})
			plan := *dw.vec
			plan.kernel = v.Fn
			dw.vec = &plan
			k.strategy = &dw
			b.Run(fmt.Sprintf("%s/vector_%s", l.name, v.Level), func(b *testing.B) { run(b, &k) })
		}
		// The channel-interleaved path on every layer, whichever the map size picks, to place the crossover.
		ci := *base
		dwci := *ci.strategy.(*convDepthwise)
		dwci.useInterleaved(newDwciPlanFor(&ci.s, dwci.vec), convWeights{t: w})
		ci.strategy = &dwci
		b.Run(fmt.Sprintf("%s/interleaved_%s", l.name, dwciTaps.Level), func(b *testing.B) { run(b, &ci) })
		k := *base
		dw := *k.strategy.(*convDepthwise)
		dw.useInterleaved(nil, convWeights{})
		dw.vec = nil
		k.strategy = &dw
		b.Run(l.name+"/gather", func(b *testing.B) { run(b, &k) })
	}
}
