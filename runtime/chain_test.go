package runtime_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// chainModel is n nodes in a line on a [1,8] input, MatMul by a constant, Add of a constant, Relu, repeated:
// a graph as long as the deepest real exports, where the passes rewrite every third node (each MatMul and
// Add become a Gemm, then a FusedGemm with the Relu).
func chainModel(tb testing.TB, n int) *onnx.Model {
	tb.Helper()
	b := exporter.NewGraph("chain")
	v := b.Input("x", f32, 1, 8)
	w := make([]float32, 64)
	for i := range w {
		w[i] = float32(i%9) / 64 // rows sum to at most 1: values grow by at most 8 a layer
	}
	wName := b.Initializer("w", arr([]int64{8, 8}, w...))
	c := b.Initializer("c", arr([]int64{8}, 1, 2, 3, 4, 5, 6, 7, 8))
	for i := 0; i < n; i++ {
		out := fmt.Sprintf("v%d", i)
		switch i % 3 {
		case 0:
			b.NodeNamed(fmt.Sprintf("matmul%d", i), "MatMul", "", []string{v, wName}, []string{out}, nil)
		case 1:
			b.NodeNamed(fmt.Sprintf("add%d", i), "Add", "", []string{v, c}, []string{out}, nil)
		case 2:
			b.NodeNamed(fmt.Sprintf("relu%d", i), "Relu", "", []string{v}, []string{out}, nil)
		}
		v = out
	}
	b.Output(v, f32, 1, 8)
	m, err := b.Model(exporter.ModelOptions{Opset: 13})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// TestLongChain compiles and runs a 30,000-node chain: nothing in Compile or Run may recurse per node or
// slow down per node as the graph grows (BenchmarkCompileChain shows the time per node), and the fused
// result must still be right.
func TestLongChain(t *testing.T) {
	const n = 30000
	p, err := runtime.Compile(chainModel(t, n), runtime.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(p.Graph().Nodes), n/3; got != want {
		t.Fatalf("%d nodes after the passes, want %d (every MatMul, Add, Relu fused)", got, want)
	}
	x := []float32{-1, 0.5, 2, -3, 4, 0, 1, -0.25}
	out, err := p.NewSession().Run(context.Background(), []*ops.Tensor{ops.FromSlice(ops.Shape{1, 8}, x)})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float64, 8)
	for i, v := range x {
		want[i] = float64(v)
	}
	for layer := 0; layer < n/3; layer++ {
		next := make([]float64, 8)
		for j := range next {
			sum := float64(j + 1) // c
			for k, v := range want {
				sum += v * float64((k*8+j)%9) / 64
			}
			next[j] = math.Max(sum, 0)
		}
		want = next
	}
	for j, got := range out[0].Float32s() {
		if d := math.Abs(float64(got) - want[j]); d > 1e-4*math.Abs(want[j])+1e-3 {
			t.Errorf("output %d: got %g, want %g", j, got, want[j])
		}
	}
}

// BenchmarkCompileChain shows how Compile scales with the node count: the time per node should stay flat.
func BenchmarkCompileChain(b *testing.B) {
	defer func(was bool) { *runtime.VerifyRewrites = was }(*runtime.VerifyRewrites)
	*runtime.VerifyRewrites = false
	for _, n := range []int{1000, 4000, 16000} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			m := chainModel(b, n)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p, err := runtime.Compile(m, runtime.Options{Threads: 1})
				if err != nil {
					b.Fatal(err)
				}
				if got, want := len(p.Graph().Nodes), (n+2)/3; got != want {
					b.Fatalf("%d nodes after the passes, want %d (every MatMul, Add, Relu fused)", got, want)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/node")
		})
	}
}
