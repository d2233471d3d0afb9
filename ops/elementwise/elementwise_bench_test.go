package elementwise_test

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// Shapes from LeNet-sized activations and a ResNet-sized block.
func benchKernel(b *testing.B, op string, opset int, attrs ops.AttrMap, inputs ...*ops.Tensor) {
	k, out := prepared(b, op, opset, attrs, inputs...)
	ctx := ops.SerialContext()
	b.SetBytes(int64(out[0].Len() * out[0].DType().Size()))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := k.Run(ctx, inputs, out); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAddSameShape(b *testing.B) {
	x := ops.New(ops.Float32, ops.Shape{1, 64, 56, 56})
	benchKernel(b, "Add", 14, nil, x, x)
}

func BenchmarkAddChannelBias(b *testing.B) {
	benchKernel(b, "Add", 14, nil, ops.New(ops.Float32, ops.Shape{1, 64, 56, 56}), ops.New(ops.Float32, ops.Shape{64, 1, 1}))
}

func BenchmarkMulScalar(b *testing.B) {
	benchKernel(b, "Mul", 14, nil, ops.New(ops.Float32, ops.Shape{1, 64, 56, 56}), ops.New(ops.Float32, ops.Shape{}))
}

func BenchmarkRelu(b *testing.B) {
	benchKernel(b, "Relu", 14, nil, ops.New(ops.Float32, ops.Shape{1, 64, 56, 56}))
}

func BenchmarkSigmoid(b *testing.B) {
	benchKernel(b, "Sigmoid", 13, nil, ops.New(ops.Float32, ops.Shape{1, 64, 56, 56}))
}

// BenchmarkAddNaive is the baseline: a plain Go loop over two float32 slices of the same length.
func BenchmarkAddNaive(b *testing.B) {
	n := 64 * 56 * 56
	x, y, z := make([]float32, n), make([]float32, n), make([]float32, n)
	b.SetBytes(int64(4 * n))
	for i := 0; i < b.N; i++ {
		for j := range z {
			z[j] = x[j] + y[j]
		}
	}
}
