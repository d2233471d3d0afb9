package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	goruntime "runtime"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// dropModel is x[N,in] → MatMul w1 → Gemm w2 (+ bias c) → Relu: two weight matrices that only their
// GEMMs read, packed, and a bias read as it is. It returns the builder and the bytes of w1 and w2.
func dropModel(in, hidden, out int) (*exporter.Graph, int64) {
	rng := rand.New(rand.NewSource(1))
	values := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64()) / 8
		}
		return v
	}
	b := exporter.NewGraph("drop")
	x := b.Input("x", f32, "N", in)
	h := b.Node("MatMul", []string{x, b.Initializer("w1", arr([]int64{int64(in), int64(hidden)}, values(in*hidden)...))}, nil)
	g := b.Node("Gemm", []string{h, b.Initializer("w2", arr([]int64{int64(hidden), int64(out)}, values(hidden*out)...)),
		b.Initializer("c", arr([]int64{int64(out)}, values(out)...))}, nil)
	b.Output(b.Node("Relu", []string{g}, nil), f32, "N", out)
	return b, int64(in*hidden+hidden*out) * 4
}

// mustCompileWith compiles b's model (opset 13), round-tripped through bytes, with opts.
func mustCompileWith(t *testing.T, b *exporter.Graph, opts runtime.Options) *runtime.Plan {
	t.Helper()
	p, err := compileWith(t, b, 13, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func runBatch(t *testing.T, p *runtime.Plan, batch, width int) []float32 {
	t.Helper()
	in := make([]float32, batch*width)
	for i := range in {
		in[i] = float32(i%11-5) / 4
	}
	out, err := p.NewSession().Run(context.Background(), []*ops.Tensor{ops.FromSlice(ops.Shape{batch, width}, in)})
	if err != nil {
		t.Fatal(err)
	}
	return out[0].Float32s()
}

func liveHeap() uint64 {
	var ms goruntime.MemStats
	goruntime.GC()
	goruntime.GC()
	goruntime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// The weights only GEMMs read are held once, packed: after the first run the plan keeps no plain copy
// (WeightBytes and the live heap fall by their size against a plan that keeps them), the results are
// bit-identical, later batch sizes still find the packed forms, and the bias, read as it is, stays.
func TestPlainWeightsDroppedOncePacked(t *testing.T) {
	const in, hidden, out = 512, 384, 256
	b, plainBytes := dropModel(in, hidden, out)

	before := liveHeap()
	kept := mustCompileWith(t, b, runtime.Options{Threads: 1, KeepPlainWeights: true})
	wantFirst := runBatch(t, kept, 1, in)
	keptHeap := liveHeap() - before

	before = liveHeap()
	dropped := mustCompileWith(t, b, runtime.Options{Threads: 1})
	gotFirst := runBatch(t, dropped, 1, in)
	droppedHeap := liveHeap() - before

	if d := kept.WeightBytes() - dropped.WeightBytes(); d != plainBytes {
		t.Errorf("WeightBytes: %d kept, %d dropped: the difference is %d, want the plain weights' %d",
			kept.WeightBytes(), dropped.WeightBytes(), d, plainBytes)
	}
	if keptHeap < droppedHeap || keptHeap-droppedHeap < uint64(plainBytes)*9/10 {
		t.Errorf("live heap: %d bytes with the plain weights kept, %d dropped: want at least 90%% of %d less", keptHeap, droppedHeap, plainBytes)
	}
	for _, batch := range []int{1, 3, 5} {
		want, got := wantFirst, gotFirst
		if batch != 1 {
			want, got = runBatch(t, kept, batch, in), runBatch(t, dropped, batch, in)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("batch %d: y[%d] = %g with the plain weights dropped, %g kept", batch, i, got[i], want[i])
			}
		}
	}
	for _, name := range []string{"w1", "w2"} {
		_, err := dropped.Constant(name)
		var de *runtime.DroppedConstantError
		if !errors.As(err, &de) || de.Constant != name || !errors.Is(err, runtime.ErrUnsupported) {
			t.Errorf("Constant(%q) = %v, want a *DroppedConstantError", name, err)
		}
		if c, err := kept.Constant(name); err != nil || c.Len() == 0 {
			t.Errorf("Constant(%q) of the plan that keeps its weights = %v, %v", name, c, err)
		}
	}
	if c, err := dropped.Constant("c"); err != nil || c.Len() != out {
		t.Errorf("Constant(\"c\") (the bias, read as it is) = %v, %v; want it kept", c, err)
	}
	goruntime.KeepAlive(kept)
	goruntime.KeepAlive(dropped)
}

// Gemm with a fused activation reads B from another packed form at a batch of 1 than at others: a plan
// first run at a larger batch, which dropped B, makes that form from B's GEMM panels, with the results of
// a plan that kept B.
func TestGemvFormFromPackedWeight(t *testing.T) {
	const in, hidden, out = 64, 48, 32
	b, _ := dropModel(in, hidden, out)
	kept := mustCompileWith(t, b, runtime.Options{Threads: 1, KeepPlainWeights: true})
	p := mustCompileWith(t, b, runtime.Options{Threads: 1})
	for _, batch := range []int{4, 1} {
		want, got := runBatch(t, kept, batch, in), runBatch(t, p, batch, in)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("batch %d: y[%d] = %g, want %g", batch, i, got[i], want[i])
			}
		}
		for _, name := range []string{"w1", "w2"} {
			if _, err := p.Constant(name); err == nil {
				t.Errorf("batch %d: %s, read only by GEMMs, was not dropped", batch, name)
			}
		}
	}
}

// At a batch of 1 a Gemm with a fused activation reads B only in its vector-matrix layout, so the plan
// makes no GEMM panels of it: its weights are held once (not panels and vector-matrix rows side by side,
// which doubled GPT-2's decoder step). A later batch, B's elements dropped meanwhile, makes the panels
// from that layout, with the results of a plan that kept B (and batch 1 again finds its layout). Widths that are not multiples of the
// layouts' tiles check the padding.
func TestGemvFormAloneAtBatchOne(t *testing.T) {
	const in, hidden, out = 70, 50, 37
	b, plainBytes := dropModel(in, hidden, out)
	kept := mustCompileWith(t, b, runtime.Options{Threads: 1, KeepPlainWeights: true})
	p := mustCompileWith(t, b, runtime.Options{Threads: 1})
	for i, batch := range []int{1, 4, 1} {
		want, got := runBatch(t, kept, batch, in), runBatch(t, p, batch, in)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("batch %d: y[%d] = %g, want %g", batch, i, got[i], want[i])
			}
		}
		if i == 0 && p.WeightBytes() > plainBytes*3/2 {
			// One form of each weight, padded to its tiles, and the bias: under 1.5 times the plain weights.
			t.Errorf("after batch 1: WeightBytes = %d for %d bytes of weights: more than one packed form of them", p.WeightBytes(), plainBytes)
		}
	}
}

// A weight that a node reads as it is (here an Add beside the MatMul) keeps its elements.
func TestPlainWeightKeptForPlainReader(t *testing.T) {
	const width = 32
	w := make([]float32, width*width)
	for i := range w {
		w[i] = float32(i%9) / 9
	}
	b := exporter.NewGraph("mixed")
	x := b.Input("x", f32, width, width)
	wName := b.Initializer("w", arr([]int64{width, width}, w...))
	y := b.Node("Add", []string{b.Node("MatMul", []string{x, wName}, nil), wName}, nil)
	b.Output(y, f32, width, width)
	p := mustCompileWith(t, b, runtime.Options{Threads: 1})
	if c, err := p.Constant("w"); err != nil || c.Len() != width*width {
		t.Fatalf("Constant(\"w\") = %v, %v; want it kept for the Add", c, err)
	}
	runBatch(t, p, width, width)
}

// A batch of 0 after the weights were dropped computes nothing and reads nothing: it runs.
func TestEmptyBatchAfterDrop(t *testing.T) {
	const in, hidden, out = 16, 8, 4
	b, _ := dropModel(in, hidden, out)
	p := mustCompileWith(t, b, runtime.Options{Threads: 1})
	runBatch(t, p, 1, in)
	if _, err := p.Constant("w2"); err == nil {
		t.Fatal("w2 was not dropped")
	}
	if got := runBatch(t, p, 0, in); len(got) != 0 {
		t.Errorf("batch 0 gave %d elements", len(got))
	}
}

// The dynamic path evaluates every node while planning, a GEMM with its plain weights: once they are
// dropped, that is an error naming the node and the weight, not a product with missing data.
func TestEvaluatingDroppedWeightFails(t *testing.T) {
	const in, hidden, out = 16, 8, 4
	b, _ := dropModel(in, hidden, out)
	x := []*ops.Tensor{ops.FromSlice(ops.Shape{1, in}, make([]float32, in))}
	kept := mustCompileWith(t, b, runtime.Options{Threads: 1, KeepPlainWeights: true})
	runBatch(t, kept, 1, in)
	if err := runtime.EvaluateAll(kept, x); err != nil {
		t.Fatalf("with the weights kept: %v", err)
	}
	p := mustCompileWith(t, b, runtime.Options{Threads: 1})
	runBatch(t, p, 1, in)
	err := runtime.EvaluateAll(p, x)
	var de *runtime.DroppedConstantError
	var ne *runtime.NodeError
	if !errors.As(err, &de) || de.Constant != "w1" || !errors.As(err, &ne) {
		t.Fatalf("evaluating the dropped weight w1: %v, want a *DroppedConstantError for w1 in a *NodeError", err)
	}
}

// Constant folding keeps the values it computed on the way to others only while it needs them: the
// specialisation holds the folded value a step reads, not the one it was folded from; RunWithObserver
// still reports both.
func TestFoldedIntermediatesReleased(t *testing.T) {
	const width = 8
	w := make([]float32, width*width)
	for i := range w {
		w[i] = float32(i)
	}
	b := exporter.NewGraph("fold")
	x := b.Input("x", f32, "N", width)
	wName := b.Initializer("w", arr([]int64{width, width}, w...))
	b.NodeNamed("t1", "Transpose", "", []string{wName}, []string{"t1"}, nil)
	b.NodeNamed("t2", "Neg", "", []string{"t1"}, []string{"t2"}, nil)
	b.Output(b.Node("MatMul", []string{x, "t2"}, nil), f32, "N", width)
	// No graph passes: they would fold the chain into one initializer at Compile.
	p := mustCompileWith(t, b, runtime.Options{Threads: 1, NoOptimize: true})
	folded, err := runtime.FoldedValues(p, ops.ValueInfo{DType: ops.Float32, Shape: ops.Shape{2, width}})
	if err != nil {
		t.Fatal(err)
	}
	if len(folded) != 1 || folded[0] != "t2" {
		t.Errorf("the specialisation holds the folded values %q, want only [t2], the one MatMul reads", folded)
	}
	seen := map[string]*ops.Tensor{}
	in := ops.FromSlice(ops.Shape{2, width}, make([]float32, 2*width))
	if _, err := p.NewSession().RunWithObserver(context.Background(), []*ops.Tensor{in}, func(name string, v *ops.Tensor) { seen[name] = v }); err != nil {
		t.Fatal(err)
	}
	if v := seen["t1"]; v == nil || v.Float32s()[1] != w[width] {
		t.Errorf("the observer saw t1 = %v, want the transposed weight (t1[0][1] = %g)", v, w[width])
	}
	if v := seen["t2"]; v == nil || v.Float32s()[1] != -w[width] {
		t.Errorf("the observer saw t2 = %v, want the negated transposed weight", v)
	}
}

// Sessions that run a fresh plan at several batch sizes at once (each making its specialisation, the
// first ones dropping the weights) all get the results of a plan that keeps them; run with -race.
func TestDropWhileSessionsSpecialise(t *testing.T) {
	const in, hidden, out = 64, 48, 32
	b, _ := dropModel(in, hidden, out)
	kept := mustCompileWith(t, b, runtime.Options{Threads: 1, KeepPlainWeights: true})
	batches := []int{1, 2, 3, 4, 5, 6}
	want := make([][]float32, len(batches))
	for i, batch := range batches {
		want[i] = runBatch(t, kept, batch, in)
	}
	p := mustCompileWith(t, b, runtime.Options{Threads: 1})
	errs := make(chan error, len(batches))
	for i, batch := range batches {
		go func() {
			x := make([]float32, batch*in)
			for j := range x {
				x[j] = float32(j%11-5) / 4
			}
			got, err := p.NewSession().Run(context.Background(), []*ops.Tensor{ops.FromSlice(ops.Shape{batch, in}, x)})
			if err == nil {
				for j, v := range got[0].Float32s() {
					if v != want[i][j] {
						err = fmt.Errorf("batch %d: y[%d] = %g, want %g", batch, j, v, want[i][j])
						break
					}
				}
			}
			errs <- err
		}()
	}
	for range batches {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// A model loaded from a file, its weights in the mapped pages, drops them the same way, with the results
// of a plan that keeps them.
func TestMappedWeightsDropped(t *testing.T) {
	const in, hidden, out = 64, 48, 32
	b, _ := dropModel(in, hidden, out)
	kept := mustCompileWith(t, b, runtime.Options{Threads: 1, KeepPlainWeights: true})
	w1, err := kept.Constant("w1")
	if err != nil {
		t.Fatal(err)
	}
	m, err := b.Model(exporter.ModelOptions{Opset: 13})
	if err != nil {
		t.Fatal(err)
	}
	path := saveWithWeightAt(t, m, w1.Float32s(), 0, t.TempDir(), "drop.onnx")
	p := load(t, path, false)
	if runtime.PlanMapping(p) != nil && !runtime.ConstantMapped(p, "w1") {
		t.Fatal("w1 is not in the mapped file before the first run")
	}
	for _, batch := range []int{2, 1} {
		want, got := runBatch(t, kept, batch, in), runBatch(t, p, batch, in)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("batch %d: y[%d] = %g, want %g", batch, i, got[i], want[i])
			}
		}
	}
	if _, err := p.Constant("w1"); err == nil {
		t.Error("w1 was not dropped")
	}
}
