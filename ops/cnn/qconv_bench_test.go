package cnn

import (
	"math/rand"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// qconvBenchLayers are int8 layers of MobileNetV2 (the stride-2 stem, 1x1 expand, 3x3 depthwise stride 1
// and 2, 1x1 project) and ResNet-50's 3x3 layers of stages 2 to 5 (stage 3's first at stride 2) and stage 4's strided 1x1 shortcut,
// batch 1.
var qconvBenchLayers = []struct {
	name      string
	c, hw, m  int
	k, stride int
	group     int
}{
	{"mbv2_stem_c3_224_s2_m32", 3, 224, 32, 3, 2, 1},
	{"mbv2_expand_c24_56_m144", 24, 56, 144, 1, 1, 1},
	{"mbv2_dw_c32_112_s1", 32, 112, 32, 3, 1, 32},
	{"mbv2_dw_c96_112_s2", 96, 112, 96, 3, 2, 96},
	{"mbv2_dw_c144_56_s1", 144, 56, 144, 3, 1, 144},
	{"mbv2_dw_c144_56_s2", 144, 56, 144, 3, 2, 144},
	{"mbv2_dw_c192_28_s1", 192, 28, 192, 3, 1, 192},
	{"mbv2_dw_c576_14_s1", 576, 14, 576, 3, 1, 576},
	{"mbv2_project_c144_28_m32", 144, 28, 32, 1, 1, 1},
	{"resnet_c64_56_3x3", 64, 56, 64, 3, 1, 1},
	{"resnet_c128_56_3x3_s2", 128, 56, 128, 3, 2, 1},
	{"resnet_c128_28_3x3", 128, 28, 128, 3, 1, 1},
	{"resnet_c256_14_3x3", 256, 14, 256, 3, 1, 1},
	{"resnet_c512_7_3x3", 512, 7, 512, 3, 1, 1},
	{"resnet_c512_28_1x1_s2_m1024", 512, 28, 1024, 1, 2, 1},
}

// BenchmarkQLinearConv times QLinearConv (u8 activations, s8 per-channel weights, int32 bias) on one
// thread, on the fast kernel and on the reference loop it replaces. GOP/s counts 2 per multiply-add.
func BenchmarkQLinearConv(b *testing.B) {
	r := rand.New(rand.NewSource(1))
	for _, l := range qconvBenchLayers {
		pad := int64(l.k / 2)
		attrs := ops.AttrMap{"group": ops.IntAttr(int64(l.group)), "pads": ints(pad, pad, pad, pad),
			"strides": ints(int64(l.stride), int64(l.stride))}
		scales := make([]float32, l.m)
		for i := range scales {
			scales[i] = 0.01
		}
		n := node("QLinearConv", 10, attrs, rand8(r, ops.Uint8, 1, l.c, l.hw, l.hw), ops.Scalar[float32](0.05), ops.Scalar[uint8](120),
			rand8(r, ops.Int8, l.m, l.c/l.group, l.k, l.k), ops.FromSlice(ops.Shape{l.m}, scales), ops.New(ops.Int8, ops.Shape{l.m}),
			ops.Scalar[float32](0.5), ops.Scalar[uint8](128), ops.New(ops.Int32, ops.Shape{l.m}))
		p := opstest.MustPrepare(b, n)
		fast := p.Kernel.(*qconvKernel)
		ref := &qLinearConvKernel{s: fast.s, g: fast.g}
		gop := 2 * float64(fast.FLOPs()) / 1e9
		for _, v := range []struct {
			name   string
			kernel interface {
				ops.Kernel
				ops.Scratcher
			}
		}{{"fast", fast}, {"reference", ref}} {
			b.Run(l.name+"/"+v.name, func(b *testing.B) {
				b.ReportAllocs()
				ctx := ops.SerialContext()
				ctx.Scratch = make([]float32, v.kernel.ScratchSize())
				for i := 0; i < b.N; i++ {
					if err := v.kernel.Run(ctx, p.In, p.Out); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(gop*float64(b.N)/b.Elapsed().Seconds(), "GOP/s")
			})
		}
	}
}
