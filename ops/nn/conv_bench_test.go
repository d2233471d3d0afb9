package nn

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// The lecture's Keras LeNet layers (NCHW): 28x28x1 → Conv 3x3 (6) and 13x13x6 → Conv 3x3 (16), batch 1
// and 32, plus its 2x2 average pooling.
var lenetConvs = []struct {
	name string
	x, w []int
}{
	{"conv1_b1", []int{1, 1, 28, 28}, []int{6, 1, 3, 3}},
	{"conv2_b1", []int{1, 6, 13, 13}, []int{16, 6, 3, 3}},
	{"conv1_b32", []int{32, 1, 28, 28}, []int{6, 1, 3, 3}},
	{"conv2_b32", []int{32, 6, 13, 13}, []int{16, 6, 3, 3}},
}

// BenchmarkConv times the float32 kernel (im2col + GEMM) next to the direct loop it is tested against.
func BenchmarkConv(b *testing.B) {
	for _, c := range lenetConvs {
		x, w, bias := randF32(1, c.x...), randF32(2, c.w...), randF32(3, c.w[0])
		p := prepare(b, node("Conv", 22, nil, x, w, bias))
		k := p.kernel.(*convKernel)
		gflop := 2 * float64(k.FLOPs()) / 1e9
		b.Run(c.name+"/gemm", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := k.Run(p.ctx, p.in, p.out); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(gflop*float64(b.N)/b.Elapsed().Seconds(), "GFLOP/s")
		})
		b.Run(c.name+"/direct", func(b *testing.B) {
			b.ReportAllocs()
			y := p.out[0].Float32s()
			for i := 0; i < b.N; i++ {
				convDirect(&k.s, k.g, x.Float32s(), w.Float32s(), bias.Float32s(), y)
			}
			b.ReportMetric(gflop*float64(b.N)/b.Elapsed().Seconds(), "GFLOP/s")
		})
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
