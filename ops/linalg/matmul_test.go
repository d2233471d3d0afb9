package linalg

import (
	"fmt"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// Expected values come from numpy.matmul on the pattern inputs (see pattern).
func TestMatMul(t *testing.T) {
	mm := func(name string, opset int, a, b *ops.Tensor, want *ops.Tensor) opCase {
		return opCase{Name: name, Op: "MatMul", Opset: opset, Inputs: []*ops.Tensor{a, b}, Want: []*ops.Tensor{want}}
	}
	want2d := []float64{23, -15, -20, 19, 22, -15, -19, 21}
	bcast := []float64{13, -25, 10, -27, 5, -33, 8, -29, -25, 14, -27, 13, 7, -29, 4, -31, 11, -25, 14, -21, -29, 12, -31, 11}
	cases := []opCase{
		mm("2d", 13, pat(ops.Float32, 2, 3), pat(ops.Float32, 3, 4), f32(sh(2, 4), want2d...)),
		mm("1d_1d", 13, pat(ops.Float32, 3), pat(ops.Float32, 3), f32(sh(), 30)),
		mm("1d_3d", 13, pat(ops.Float32, 3), pat(ops.Float32, 2, 3, 2), f32(sh(2, 2), 13, -25, 5, -33)),
		mm("3d_1d", 13, pat(ops.Float32, 2, 2, 3), pat(ops.Float32, 3), f32(sh(2, 2), 30, 26, 22, 18)),
		mm("broadcast_batch", 13, pat(ops.Float32, 2, 1, 2, 3), pat(ops.Float32, 3, 3, 2), f32(sh(2, 3, 2, 2), bcast...)),
		mm("folded_batch", 13, pat(ops.Float32, 2, 2, 3), pat(ops.Float32, 3, 2), f32(sh(2, 2, 2), 13, -25, 10, -27, 7, -29, 4, -31)),
		mm("batched_b_only", 13, pat(ops.Float32, 2, 3), pat(ops.Float32, 2, 3, 2), f32(sh(2, 2, 2), 13, -25, 10, -27, 5, -33, 8, -29)),
		mm("k_zero", 13, pat(ops.Float32, 2, 0), pat(ops.Float32, 0, 3), f32(sh(2, 3), 0, 0, 0, 0, 0, 0)),
		mm("empty_batch", 13, pat(ops.Float32, 0, 2, 3), pat(ops.Float32, 3, 2), f32(sh(0, 2, 2))),
		mm("float64", 1, pat(ops.Float64, 2, 3), pat(ops.Float64, 3, 4), tensor(ops.Float64, sh(2, 4), want2d)),
		mm("float16", 1, pat(ops.Float16, 2, 3), pat(ops.Float16, 3, 4), tensor(ops.Float16, sh(2, 4), want2d)),
		mm("bfloat16", 13, pat(ops.BFloat16, 2, 3), pat(ops.BFloat16, 3, 4), tensor(ops.BFloat16, sh(2, 4), want2d)),
		mm("int32", 9, pat(ops.Int32, 2, 1, 2, 3), pat(ops.Int32, 3, 3, 2), tensor(ops.Int32, sh(2, 3, 2, 2), bcast)),
		mm("int64", 13, pat(ops.Int64, 2, 3), pat(ops.Int64, 3, 4), tensor(ops.Int64, sh(2, 4), want2d)),
		mm("uint32", 9, tensor(ops.Uint32, sh(2, 2), []float64{1, 2, 3, 4}), tensor(ops.Uint32, sh(2, 1), []float64{5, 6}),
			tensor(ops.Uint32, sh(2, 1), []float64{17, 39})),
		{Name: "k_mismatch", Op: "MatMul", Opset: 13, Inputs: []*ops.Tensor{pat(ops.Float32, 2, 3), pat(ops.Float32, 4, 5)},
			ErrSub: "K=3 != 4", ErrIs: ops.ErrInvalid},
		{Name: "batch_mismatch", Op: "MatMul", Opset: 13, Inputs: []*ops.Tensor{pat(ops.Float32, 2, 2, 3), pat(ops.Float32, 3, 3, 2)},
			ErrSub: "do not broadcast", ErrIs: ops.ErrInvalid},
		{Name: "dtype_mismatch", Op: "MatMul", Opset: 13, Inputs: []*ops.Tensor{pat(ops.Float32, 2, 3), pat(ops.Float64, 3, 2)},
			ErrSub: "A is float32, B is float64"},
		{Name: "int32_before_opset9", Op: "MatMul", Opset: 8, Inputs: []*ops.Tensor{pat(ops.Int32, 2, 3), pat(ops.Int32, 3, 2)},
			ErrSub: "dtype int32, opset 8 allows {float32, float16, float64}"},
		{Name: "bfloat16_before_opset13", Op: "MatMul", Opset: 12, Inputs: []*ops.Tensor{pat(ops.BFloat16, 2, 3), pat(ops.BFloat16, 3, 2)},
			ErrSub: "dtype bfloat16"},
		{Name: "scalar_operand", Op: "MatMul", Opset: 13, Inputs: []*ops.Tensor{f32(sh(), 1), pat(ops.Float32, 3, 2)},
			ErrSub: "rank >= 1"},
	}
	runCases(t, cases)
}

// TestMatMulFoldsBatch checks that a shared B turns a batch into one tall product.
func TestMatMulFoldsBatch(t *testing.T) {
	p, err := newMatMulPlan(sh(4, 5, 3), sh(3, 2))
	if err != nil {
		t.Fatal(err)
	}
	if p.m != 20 || len(p.aOff) != 1 {
		t.Fatalf("m=%d batches=%d, want one 20-row product", p.m, len(p.aOff))
	}
	p, _ = newMatMulPlan(sh(4, 1, 5, 3), sh(2, 3, 2))
	if len(p.aOff) != 8 || p.aOff[1] != 0 || p.bOff[1] != 6 || p.aOff[2] != 15 || p.bOff[2] != 0 {
		t.Fatalf("broadcast offsets a=%v b=%v", p.aOff, p.bOff)
	}
}

func TestMatMulRunAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	for _, dt := range []ops.DType{ops.Float32, ops.Int64, ops.Float16} {
		a, b := pat(dt, 2, 3, 4), pat(dt, 4, 5)
		for _, nonConst := range [][]int{nil, {1}} {
			k, out, ctx := prepareNode(t, "MatMul", 13, nil, nonConst, a, b)
			in := []*ops.Tensor{a, b}
			if n := testing.AllocsPerRun(10, func() { _ = k.Run(ctx, in, out) }); n != 0 {
				t.Errorf("%s (non-constant inputs %v): Run allocates %v times", dt, nonConst, n)
			}
		}
	}
}

// prepareNode builds, infers and prepares a node the way opstest.Run does, returning the kernel, allocated
// outputs and a context with its scratch, so a test can time or count Run alone.
func prepareNode(t testing.TB, opType string, opset int, attrs ops.AttrMap, nonConst []int, inputs ...*ops.Tensor) (ops.Kernel, []*ops.Tensor, *ops.ExecContext) {
	t.Helper()
	p := opstest.MustPrepare(t, opstest.Node{OpType: opType, Opset: opset, Attrs: attrs, Inputs: inputs, NonConstInputs: nonConst})
	return p.Kernel, p.Out, p.Ctx
}

// A batch of small products (attention's heads: 12 × 64×64×32 here) is split across threads by product;
// it gives what one thread gives and allocates nothing.
func TestMatMulSplitsSmallBatchAcrossThreads(t *testing.T) {
	pool := ops.NewPool(2)
	defer pool.Close()
	a, b := opstest.RandF32(1, 3, 4, 64, 32), opstest.RandF32(2, 3, 4, 32, 64)
	if work := 64 * 64 * 32; work >= gemmSplitWork || 12*work < minBatchSplitWork {
		t.Fatalf("the test's products (%d multiply-adds each) do not take the batch split", work)
	}
	serial, out, ctx := prepareNode(t, "MatMul", 13, nil, []int{0, 1}, a, b)
	if mk := serial.(*matMulKernel); !mk.splitsBatch(2) || mk.splitsBatch(1) {
		t.Fatalf("a batch of 12 small products splits by product on 2 threads: %t, on 1: %t", mk.splitsBatch(2), mk.splitsBatch(1))
	}
	if big, _, _ := prepareNode(t, "MatMul", 13, nil, []int{0, 1}, opstest.RandF32(3, 2, 128, 128), opstest.RandF32(4, 2, 128, 128)); big.(*matMulKernel).splitsBatch(2) {
		t.Fatal("products the GEMM splits itself (128×128×128) were split by product")
	}
	if err := serial.Run(ctx, []*ops.Tensor{a, b}, out); err != nil {
		t.Fatal(err)
	}
	want := out[0].Clone()
	clear(out[0].Float32s())
	ctx.Pool, ctx.Threads = pool, 2
	in := []*ops.Tensor{a, b}
	if err := serial.Run(ctx, in, out); err != nil {
		t.Fatal(err)
	}
	if err := opstest.Close(out[0], want, 0, 0); err != nil {
		t.Fatalf("two threads: %v", err)
	}
	if !raceEnabled {
		if n := testing.AllocsPerRun(10, func() { _ = serial.Run(ctx, in, out) }); n != 0 {
			t.Errorf("Run on two threads allocates %v times", n)
		}
	}
}

// BenchmarkMatMulHeads times BERT-base's per-head attention product (12 × 128×64 · 64×128) on one and two
// threads.
func BenchmarkMatMulHeads(b *testing.B) {
	pool := ops.NewPool(2)
	defer pool.Close()
	x, y := opstest.RandF32(1, 12, 128, 64), opstest.RandF32(2, 12, 64, 128)
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads%d", threads), func(b *testing.B) {
			k, out, ctx := prepareNode(b, "MatMul", 13, nil, []int{0, 1}, x, y)
			if threads > 1 {
				ctx.Pool, ctx.Threads = pool, threads
			}
			in := []*ops.Tensor{x, y}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := k.Run(ctx, in, out); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(2*12*128*128*64)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
