package reduce

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/vecmath"
)

// TestSoftmaxFloat32RunsVecmath checks that float32 Softmax and LogSoftmax over contiguous rows give
// vecmath's rows bit for bit (the float64 path they replace rounds differently), for a small tensor run
// inline and a large one split by rows over a 2-thread pool, with no allocation.
func TestSoftmaxFloat32RunsVecmath(t *testing.T) {
	pool := ops.NewPool(2)
	defer pool.Close()
	rng := rand.New(rand.NewPCG(9, 10))
	for _, c := range []struct {
		op  string
		row func(dst, src []float32)
	}{{"Softmax", vecmath.Softmax}, {"LogSoftmax", vecmath.LogSoftmax}} {
		for _, shape := range []ops.Shape{{3, 7}, {12, 197, 31}} {
			x := ops.New(ops.Float32, shape)
			for i := range x.Float32s() {
				x.Float32s()[i] = float32(rng.NormFloat64() * 5)
			}
			k, out, ctx := prepareNode(t, c.op, 13, nil, 1, x)
			ctx.Pool, ctx.Threads = pool, 2
			in := []*ops.Tensor{x}
			if err := k.Run(ctx, in, out); err != nil {
				t.Fatal(err)
			}
			n := shape[len(shape)-1]
			want := make([]float32, x.Len())
			for r := 0; r < x.Len(); r += n {
				c.row(want[r:r+n], x.Float32s()[r:r+n])
			}
			for i, got := range out[0].Float32s() {
				if math.Float32bits(got) != math.Float32bits(want[i]) {
					t.Fatalf("%s %v: y[%d] = %g, vecmath gives %g", c.op, shape, i, got, want[i])
				}
			}
			assertNoAllocs(t, c.op, k, ctx, in, out)
		}
	}
}

// BenchmarkSoftmaxFloat32 runs Softmax over ViT-B/16's attention scores (12 heads × 197 × 197, rows of
// 197), one thread.
func BenchmarkSoftmaxFloat32(b *testing.B) {
	x := ops.New(ops.Float32, ops.Shape{12, 197, 197})
	rng := rand.New(rand.NewPCG(15, 16))
	for i := range x.Float32s() {
		x.Float32s()[i] = float32(rng.NormFloat64() * 3)
	}
	k, out, ctx := prepareNode(b, "Softmax", 13, nil, 1, x)
	in := []*ops.Tensor{x}
	b.SetBytes(int64(4 * x.Len()))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := k.Run(ctx, in, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(x.Len()), "ns/elem")
}
