package elementwise_test

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// benchThreads is benchKernel on a session context of the given threads.
func benchThreads(b *testing.B, threads int, op string, opset int, attrs ops.AttrMap, inputs ...*ops.Tensor) {
	k, out := prepared(b, op, opset, attrs, inputs...)
	ctx := ops.SerialContext()
	if threads > 1 {
		pool := ops.NewPool(threads)
		defer pool.Close()
		ctx.Pool, ctx.Threads, ctx.Parallel = pool, threads, pool.For
	}
	b.SetBytes(int64(out[0].Len() * out[0].DType().Size()))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := k.Run(ctx, inputs, out); err != nil {
			b.Fatal(err)
		}
	}
}

// MobileNetV2's first Relu6 ([1,32,112,112]) and an EfficientNet-sized activation, on 1 and 2 threads.
func BenchmarkRelu6(b *testing.B) {
	x := ops.New(ops.Float32, ops.Shape{1, 32, 112, 112})
	lo, hi := ops.New(ops.Float32, ops.Shape{}), ops.New(ops.Float32, ops.Shape{})
	hi.Float32s()[0] = 6
	b.Run("threads=1", func(b *testing.B) { benchThreads(b, 1, "Clip", 13, nil, x, lo, hi) })
	b.Run("threads=2", func(b *testing.B) { benchThreads(b, 2, "Clip", 13, nil, x, lo, hi) })
}

func BenchmarkHardSwish(b *testing.B) {
	x := ops.New(ops.Float32, ops.Shape{1, 16, 112, 112})
	b.Run("threads=1", func(b *testing.B) { benchThreads(b, 1, "HardSwish", 14, nil, x) })
	b.Run("threads=2", func(b *testing.B) { benchThreads(b, 2, "HardSwish", 14, nil, x) })
}

func BenchmarkLeakyRelu(b *testing.B) {
	x := ops.New(ops.Float32, ops.Shape{1, 64, 56, 56})
	b.Run("threads=1", func(b *testing.B) { benchThreads(b, 1, "LeakyRelu", 16, nil, x) })
	b.Run("threads=2", func(b *testing.B) { benchThreads(b, 2, "LeakyRelu", 16, nil, x) })
}

func BenchmarkMaxSameShape(b *testing.B) {
	x := ops.New(ops.Float32, ops.Shape{1, 64, 56, 56})
	b.Run("threads=1", func(b *testing.B) { benchThreads(b, 1, "Max", 13, nil, x, x) })
	b.Run("threads=2", func(b *testing.B) { benchThreads(b, 2, "Max", 13, nil, x, x) })
}

func BenchmarkMulChannel(b *testing.B) {
	x, s := ops.New(ops.Float32, ops.Shape{8, 64, 28, 28}), ops.New(ops.Float32, ops.Shape{1, 64, 1, 1})
	b.Run("threads=1", func(b *testing.B) { benchThreads(b, 1, "Mul", 14, nil, x, s) })
	b.Run("threads=2", func(b *testing.B) { benchThreads(b, 2, "Mul", 14, nil, x, s) })
}
