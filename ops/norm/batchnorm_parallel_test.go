package norm

import (
	"math"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// TestBatchNormParallelEqualsSerial: an inference BatchNormalization big enough to split its channels
// across two threads writes exactly what one thread writes, and allocates nothing doing it.
func TestBatchNormParallelEqualsSerial(t *testing.T) {
	x := opstest.RandF32(1, 2, 17, 33, 31) // 34,782 elements: above batchNormParallelMin
	variance := opstest.RandF32(4, 17)
	for i, v := range variance.Float32s() {
		variance.Float32s()[i] = float32(math.Abs(float64(v))) + 0.1
	}
	n := opstest.NewNode("BatchNormalization", 15, nil, x, opstest.RandF32(2, 17), opstest.RandF32(3, 17), opstest.RandF32(5, 17), variance)
	p := opstest.MustPrepare(t, n)
	if err := p.Kernel.Run(p.Ctx, p.In, p.Out); err != nil {
		t.Fatal(err)
	}
	want := p.Out[0].Clone()
	pool := ops.NewPool(2)
	defer pool.Close()
	ctx := *p.Ctx
	ctx.Pool, ctx.Threads, ctx.Parallel = pool, 2, pool.For
	got := ops.New(ops.Float32, x.Shape())
	outs := []*ops.Tensor{got}
	if err := p.Kernel.Run(&ctx, p.In, outs); err != nil {
		t.Fatal(err)
	}
	for i, w := range want.Float32s() {
		if g := got.Float32s()[i]; g != w {
			t.Fatalf("Y[%d] = %v on two threads, %v on one", i, g, w)
		}
	}
	if !opstest.RaceEnabled {
		if allocs := testing.AllocsPerRun(10, func() { _ = p.Kernel.Run(&ctx, p.In, outs) }); allocs != 0 {
			t.Errorf("a two-thread Run allocates %v times", allocs)
		}
	}
}
