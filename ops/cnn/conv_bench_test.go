package cnn

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

// benchConvs are real layer shapes: the lecture's LeNet (NCHW: 28x28x1 → Conv 3x3 (6), 13x13x6 → Conv 3x3
// (16)) at batch 1 and 64, and the VGG-style and ResNet-18-style CIFAR networks of the benchmarks at batch 8.
var benchConvs = []struct {
	name string
	x, w []int
	attr ops.AttrMap
}{
	{"lenet_conv1_b1", []int{1, 1, 28, 28}, []int{6, 1, 3, 3}, nil},
	{"lenet_conv2_b1", []int{1, 6, 13, 13}, []int{16, 6, 3, 3}, nil},
	{"lenet_conv1_b64", []int{64, 1, 28, 28}, []int{6, 1, 3, 3}, nil},
	{"lenet_conv2_b64", []int{64, 6, 13, 13}, []int{16, 6, 3, 3}, nil},
	{"cifar_3to64_32x32_b8", []int{8, 3, 32, 32}, []int{64, 3, 3, 3}, pad1},
	{"cifar_64to64_32x32_b8", []int{8, 64, 32, 32}, []int{64, 64, 3, 3}, pad1},
	{"vgg_64to128_16x16_b8", []int{8, 64, 16, 16}, []int{128, 64, 3, 3}, pad1},
	{"cifar_128to128_16x16_b8", []int{8, 128, 16, 16}, []int{128, 128, 3, 3}, pad1},
	{"vgg_128to256_8x8_b8", []int{8, 128, 8, 8}, []int{256, 128, 3, 3}, pad1},
	{"cifar_256to256_8x8_b8", []int{8, 256, 8, 8}, []int{256, 256, 3, 3}, pad1},
	{"resnet_512to512_4x4_b8", []int{8, 512, 4, 4}, []int{512, 512, 3, 3}, pad1},
	{"resnet_64to128_s2_b8", []int{8, 64, 32, 32}, []int{128, 64, 3, 3}, pad1s2},
	{"resnet_256to512_s2_b8", []int{8, 256, 8, 8}, []int{512, 256, 3, 3}, pad1s2},
	{"resnet_64to128_1x1s2_b8", []int{8, 64, 32, 32}, []int{128, 64, 1, 1}, ops.AttrMap{"strides": ints(2, 2)}},
	// The real-architecture suite at batch 1 (bench/ortcompare): ResNet-50's stem and its layer3/layer4
	// convolutions on 14x14 and 7x7 maps, U-Net's full-resolution convolutions with few channels, YOLO's
	// 6x6 stride-2 stem and its stride-2 3x3 on 20x20, DeepLabV3's ASPP at dilation 36 on a 16x16 map.
	{"resnet50_conv1_7x7s2_b1", []int{1, 3, 224, 224}, []int{64, 3, 7, 7}, ops.AttrMap{"pads": ints(3, 3, 3, 3), "strides": ints(2, 2)}},
	{"resnet50_l1_64to64_56x56_b1", []int{1, 64, 56, 56}, []int{64, 64, 3, 3}, pad1},
	{"resnet50_l3_256to256_14x14_b1", []int{1, 256, 14, 14}, []int{256, 256, 3, 3}, pad1},
	{"resnet50_l4_512to512_7x7_b1", []int{1, 512, 7, 7}, []int{512, 512, 3, 3}, pad1},
	{"resnet50_l4_1x1_512to2048_7x7_b1", []int{1, 512, 7, 7}, []int{2048, 512, 1, 1}, nil},
	{"resnet50_l4_1x1_2048to512_7x7_b1", []int{1, 2048, 7, 7}, []int{512, 2048, 1, 1}, nil},
	{"resnet50_l3_1x1_256to1024_14x14_b1", []int{1, 256, 14, 14}, []int{1024, 256, 1, 1}, nil},
	{"resnet50_l4_1x1s2_1024to2048_b1", []int{1, 1024, 14, 14}, []int{2048, 1024, 1, 1}, ops.AttrMap{"strides": ints(2, 2)}},
	{"unet_16to16_256x256_b1", []int{1, 16, 256, 256}, []int{16, 16, 3, 3}, pad1},
	{"unet_32to16_256x256_b1", []int{1, 32, 256, 256}, []int{16, 32, 3, 3}, pad1},
	{"unet_32to32_128x128_b1", []int{1, 32, 128, 128}, []int{32, 32, 3, 3}, pad1},
	{"unet_64to32_128x128_b1", []int{1, 64, 128, 128}, []int{32, 64, 3, 3}, pad1},
	{"unet_64to64_64x64_b1", []int{1, 64, 64, 64}, []int{64, 64, 3, 3}, pad1},
	{"unet_3to16_256x256_b1", []int{1, 3, 256, 256}, []int{16, 3, 3, 3}, pad1},
	{"yolo_stem_6x6s2_b1", []int{1, 3, 320, 320}, []int{32, 3, 6, 6}, ops.AttrMap{"pads": ints(2, 2, 2, 2), "strides": ints(2, 2)}},
	{"yolo_256to512_s2_20x20_b1", []int{1, 256, 20, 20}, []int{512, 256, 3, 3}, pad1s2},
	{"yolo_1x1_512to256_10x10_b1", []int{1, 512, 10, 10}, []int{256, 512, 1, 1}, nil},
	{"yolo_256to256_10x10_b1", []int{1, 256, 10, 10}, []int{256, 256, 3, 3}, pad1},
	{"yolo_128to128_20x20_b1", []int{1, 128, 20, 20}, []int{128, 128, 3, 3}, pad1},
	{"deeplab_aspp_d12_16x16_b1", []int{1, 960, 16, 16}, []int{256, 960, 3, 3}, ops.AttrMap{"pads": ints(12, 12, 12, 12), "dilations": ints(12, 12)}},
	{"deeplab_aspp_d36_16x16_b1", []int{1, 960, 16, 16}, []int{256, 960, 3, 3}, ops.AttrMap{"pads": ints(36, 36, 36, 36), "dilations": ints(36, 36)}},
}

var (
	pad1   = ops.AttrMap{"pads": ints(1, 1, 1, 1)}
	pad1s2 = ops.AttrMap{"pads": ints(1, 1, 1, 1), "strides": ints(2, 2)}
)

// BenchmarkConv times, for each layer, the strategy Prepare picks ("chosen"), every other strategy that fits
// the shape, and the plain reference loop (LeNet's shapes only: it takes seconds on the CIFAR ones), all on
// one thread; "chosen_2threads" runs the pick on a 2-thread pool. GFLOP/s counts 2 per multiply-add of the
// direct form, whatever the strategy does.
func BenchmarkConv(b *testing.B) {
	pool := parallel.NewPool(2)
	defer pool.Close()
	for _, c := range benchConvs {
		x, w, bias := randF32(1, c.x...), randF32(2, c.w...), randF32(3, c.w[0])
		p := prepare(b, node("Conv", 22, c.attr, x, w, bias))
		k := p.kernel.(*fastConvKernel)
		gflop := 2 * float64(k.FLOPs()) / 1e9
		run := func(b *testing.B, k *fastConvKernel, ctx *ops.ExecContext) {
			b.ReportAllocs()
			ctx.Scratch = make([]float32, k.ScratchSize())
			for i := 0; i < b.N; i++ {
				if err := k.Run(ctx, p.in, p.out); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(gflop*float64(b.N)/b.Elapsed().Seconds(), "GFLOP/s")
		}
		b.Run(c.name+"/chosen_"+k.Strategy(), func(b *testing.B) { run(b, k, ops.SerialContext()) })
		b.Run(c.name+"/chosen_2threads", func(b *testing.B) {
			ctx := ops.SerialContext()
			ctx.Pool, ctx.Threads = pool, 2
			run(b, k, ctx)
		})
		for _, st := range strategiesFor(&k.s, w) {
			if st.name() == k.Strategy() {
				continue
			}
			alt := *k
			alt.strategy = st
			b.Run(c.name+"/"+st.name(), func(b *testing.B) { run(b, &alt, ops.SerialContext()) })
		}
		if c.x[1]*c.w[0] <= 6*16 {
			b.Run(c.name+"/reference", func(b *testing.B) {
				b.ReportAllocs()
				g := k.s.win.gatherInput()
				y := p.out[0].Float32s()
				for i := 0; i < b.N; i++ {
					convDirect(&k.s, g, x.Float32s(), w.Float32s(), bias.Float32s(), y, nil)
				}
				b.ReportMetric(gflop*float64(b.N)/b.Elapsed().Seconds(), "GFLOP/s")
			})
		}
	}
}

// BenchmarkAveragePool times LeNet's 2x2 stride-2 pooling of 26x26x6, batch 32.
func BenchmarkAveragePool(b *testing.B) {
	x := randF32(1, 32, 6, 26, 26)
	p := prepare(b, node("AveragePool", 22, ops.AttrMap{"kernel_shape": ints(2, 2), "strides": ints(2, 2)}, x))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := p.kernel.Run(p.ctx, p.in, p.out); err != nil {
			b.Fatal(err)
		}
	}
}
