package cnn

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// TestGlobalPoolParallelEqualsSerial: a float32 global pooling big enough to split its planes across two
// threads writes exactly what one thread writes, for each kind, and allocates nothing doing it.
func TestGlobalPoolParallelEqualsSerial(t *testing.T) {
	x := opstest.RandF32(1, 3, 17, 31, 29) // 45,849 elements: above globalPoolParallelMin
	pool := ops.NewPool(2)
	defer pool.Close()
	for _, op := range []string{"GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"} {
		p := opstest.MustPrepare(t, opstest.NewNode(op, 2, nil, x))
		if op != "GlobalLpPool" {
			p = opstest.MustPrepare(t, opstest.NewNode(op, 1, nil, x))
		}
		if err := p.Kernel.Run(p.Ctx, p.In, p.Out); err != nil {
			t.Fatal(err)
		}
		want := p.Out[0].Clone()
		ctx := *p.Ctx
		ctx.Pool, ctx.Threads, ctx.Parallel = pool, 2, pool.For
		got := ops.New(ops.Float32, want.Shape())
		outs := []*ops.Tensor{got}
		if err := p.Kernel.Run(&ctx, p.In, outs); err != nil {
			t.Fatal(err)
		}
		for i, w := range want.Float32s() {
			if g := got.Float32s()[i]; g != w {
				t.Fatalf("%s: Y[%d] = %v on two threads, %v on one", op, i, g, w)
			}
		}
		if !opstest.RaceEnabled {
			if allocs := testing.AllocsPerRun(10, func() { _ = p.Kernel.Run(&ctx, p.In, outs) }); allocs != 0 {
				t.Errorf("%s: a two-thread Run allocates %v times", op, allocs)
			}
		}
	}
}
