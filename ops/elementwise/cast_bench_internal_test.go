package elementwise

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// BenchmarkCastInt32ToFloat32 is the Cast after each ConvInteger of a dynamically quantized MobileNetV2
// (its largest, [1,96,112,112]), beside the per-element function call that mapKernel makes.
func BenchmarkCastInt32ToFloat32(b *testing.B) {
	x := ops.New(ops.Int32, ops.Shape{1, 96, 112, 112})
	for i, v := range ops.Data[int32](x) {
		ops.Data[int32](x)[i] = int32(i%5000) - 2500 + v
	}
	y := ops.New(ops.Float32, x.Shape())
	for _, k := range []struct {
		name   string
		kernel ops.Kernel
	}{{"direct", numCast[int32, float32]()}, {"mapKernel", mapKernel[int32, float32]{convertNum[int32, float32]()}}} {
		b.Run(k.name, func(b *testing.B) {
			b.SetBytes(int64(4 * x.Shape().Size()))
			for i := 0; i < b.N; i++ {
				if err := k.kernel.Run(nil, []*ops.Tensor{x}, []*ops.Tensor{y}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
