package elementwise_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/vecmath"
)

// TestFloat32RunsVecmath checks that the float32 kernels of Exp, Log, Erf, Sigmoid, Tanh, Gelu (both
// forms), Swish (alpha 1 and another) and Softplus give vecmath's results bit for bit (the float64 map they replace rounds differently
// on some elements), on a tensor large enough to be split over a 2-thread pool and on a small one, and
// that Run still allocates nothing with the pool.
func TestFloat32RunsVecmath(t *testing.T) {
	pool := ops.NewPool(2)
	defer pool.Close()
	ctx := ops.SerialContext()
	ctx.Pool, ctx.Threads = pool, 2
	rng := rand.New(rand.NewPCG(7, 8))
	cases := []struct {
		op    string
		opset int
		attrs ops.AttrMap
		f     vecmath.Kernel
		abs   bool // positive inputs only (Log)
	}{
		{"Exp", 13, nil, vecmath.Exp, false},
		{"Log", 13, nil, vecmath.Log, true},
		{"Erf", 13, nil, vecmath.Erf, false},
		{"Sigmoid", 13, nil, vecmath.Sigmoid, false},
		{"Tanh", 13, nil, vecmath.Tanh, false},
		{"Gelu", 20, nil, vecmath.GeluErf, false},
		{"Gelu", 20, ops.AttrMap{"approximate": ops.StringAttr("tanh")}, vecmath.GeluTanh, false},
		{"Swish", 24, nil, vecmath.SiLU, false},
		{"Swish", 24, ops.AttrMap{"alpha": ops.FloatAttr(1.702)}, func(dst, src []float32) { vecmath.Swish(dst, src, 1.702) }, false},
		{"Softplus", 22, nil, vecmath.Softplus, false},
	}
	for _, c := range cases {
		for _, n := range []int{37, 100_003} {
			x := ops.New(ops.Float32, ops.Shape{n})
			for i := range x.Float32s() {
				v := float32(rng.NormFloat64() * 3)
				if c.abs {
					v = float32(math.Abs(float64(v)))
				}
				x.Float32s()[i] = v
			}
			k, out := prepared(t, c.op, c.opset, c.attrs, x)
			inputs := []*ops.Tensor{x}
			if err := k.Run(ctx, inputs, out); err != nil {
				t.Fatal(err)
			}
			want := make([]float32, n)
			c.f(want, x.Float32s())
			for i, got := range out[0].Float32s() {
				if math.Float32bits(got) != math.Float32bits(want[i]) {
					t.Fatalf("%s %v n=%d: y[%d] = %g, vecmath gives %g", c.op, c.attrs, n, i, got, want[i])
				}
			}
			if allocs := testing.AllocsPerRun(10, func() { _ = k.Run(ctx, inputs, out) }); allocs != 0 {
				t.Errorf("%s n=%d: Run allocates %v times", c.op, n, allocs)
			}
		}
	}
}

// BenchmarkTranscendentalFloat32 measures ns/element of the float32 kernels vecmath serves, on 16K
// elements (cache-resident) and 4M (memory), one thread.
func BenchmarkTranscendentalFloat32(b *testing.B) {
	cases := []struct {
		op    string
		opset int
		attrs ops.AttrMap
	}{
		{"Sigmoid", 13, nil}, {"Swish", 24, nil}, {"Gelu", 20, nil}, {"Tanh", 13, nil}, {"Exp", 13, nil}, {"Erf", 13, nil},
	}
	rng := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{16 << 10, 4 << 20} {
		x := ops.New(ops.Float32, ops.Shape{n})
		for i := range x.Float32s() {
			x.Float32s()[i] = float32(rng.NormFloat64() * 3)
		}
		for _, c := range cases {
			b.Run(fmt.Sprintf("%s/n=%d", c.op, n), func(b *testing.B) {
				benchKernel(b, c.op, c.opset, c.attrs, x)
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/elem")
			})
		}
	}
}
