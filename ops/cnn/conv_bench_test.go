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
