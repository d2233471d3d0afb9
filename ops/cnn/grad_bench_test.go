package cnn

import (
	"math/rand"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// BenchmarkConvGrad times ConvGrad on LeNet's two convolutions for a 64-image shard (what each of two
// training threads runs at batch 128): conv1 wants dW and dB only, conv2 also dX.
func BenchmarkConvGrad(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	f := func(shape ...int) *ops.Tensor {
		t := ops.New(ops.Float32, shape)
		for i := range t.Float32s() {
			t.Float32s()[i] = rng.Float32()
		}
		return t
	}
	for _, c := range []struct {
		name     string
		dy, x, w *ops.Tensor
		wantDX   bool
	}{
		{"conv1", f(64, 6, 26, 26), f(64, 1, 28, 28), f(6, 1, 3, 3), false},
		{"conv2", f(64, 16, 11, 11), f(64, 6, 13, 13), f(16, 6, 3, 3), true},
	} {
		b.Run(c.name, func(b *testing.B) {
			build, _, _ := ops.Lookup(ops.TrainingDomain, "ConvGrad", 1)
			op, err := build(ops.NodeInfo{Domain: ops.TrainingDomain, OpType: "ConvGrad", Opset: 1, NumInputs: 3, NumOutputs: 3})
			if err != nil {
				b.Fatal(err)
			}
			in := []ops.ValueInfo{{DType: ops.Float32, Shape: c.dy.Shape()}, {DType: ops.Float32, Shape: c.x.Shape()}, {DType: ops.Float32, Shape: c.w.Shape()}}
			info, err := op.InferShapes(in)
			if err != nil {
				b.Fatal(err)
			}
			k, err := op.Prepare(in, info)
			if err != nil {
				b.Fatal(err)
			}
			ctx := ops.SerialContext()
			ctx.Scratch = make([]float32, k.(ops.Scratcher).ScratchSize())
			out := []*ops.Tensor{nil, ops.New(ops.Float32, info[1].Shape), ops.New(ops.Float32, info[2].Shape)}
			if c.wantDX {
				out[0] = ops.New(ops.Float32, info[0].Shape)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := k.Run(ctx, []*ops.Tensor{c.dy, c.x, c.w}, out); err != nil {
					b.Fatal(err)
				}
			}
			flops := 2 * float64(k.(ops.Coster).FLOPs())
			if !c.wantDX {
				flops /= 2
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
