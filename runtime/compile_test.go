package runtime_test

import (
	"context"
	"math/rand"
	"sync/atomic"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// preparesCounted counts the Prepare calls of the test op CountPrepares (an identity on float32).
var preparesCounted atomic.Int64

type countPrepares struct{}

func (countPrepares) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	return []ops.ValueInfo{{DType: in[0].DType, Shape: in[0].Shape}}, nil
}

func (countPrepares) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	preparesCounted.Add(1)
	return ops.KernelFunc(func(_ *ops.ExecContext, in, out []*ops.Tensor) error {
		copy(out[0].Float32s(), in[0].Float32s())
		return nil
	}), nil
}

func init() {
	ops.DeclareDomain("test.runtime", 1)
	ops.Register("test.runtime", "CountPrepares", ops.Since(1, func(ops.NodeInfo) (ops.Op, error) { return countPrepares{}, nil }))
}

// The graph passes probe shapes after every change without preparing kernels: Compile prepares each node
// once, for the specialisation at the declared shapes, however many times the passes re-probe, and a first
// Run at those shapes prepares nothing more.
func TestCompilePreparesEachNodeOnce(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	b := exporter.NewGraph("g")
	b.UseOpset("test.runtime", 1)
	x := b.Input("x", f32, 1, 2, 6, 6)
	c := b.Node("Conv", []string{x, b.Initializer("w", randArray(rng, 3, 2, 3, 3))}, exporter.Attrs{"pads": []int{1, 1, 1, 1}})
	r := b.Node("Relu", []string{c}, nil) // fused into the Conv by a pass: the graph changes, shapes are probed again
	b.NodeNamed("counted", "CountPrepares", "test.runtime", []string{r}, []string{"y"}, nil)
	b.Output("y", f32, 1, 3, 6, 6)
	m, err := b.Model(exporter.ModelOptions{Opset: 13})
	if err != nil {
		t.Fatal(err)
	}
	var passes int
	preparesCounted.Store(0)
	p, err := runtime.Compile(m, runtime.Options{Threads: 1, Logf: func(string, ...any) { passes++ }})
	if err != nil {
		t.Fatal(err)
	}
	if passes == 0 {
		t.Fatal("no pass changed the graph: the test no longer makes the passes probe twice")
	}
	if n := preparesCounted.Load(); n != 1 {
		t.Errorf("Compile prepared the node %d times, want 1", n)
	}
	sess := p.NewSession()
	defer sess.Close()
	if _, err := sess.Run(context.Background(), []*ops.Tensor{ops.New(ops.Float32, ops.Shape{1, 2, 6, 6})}); err != nil {
		t.Fatal(err)
	}
	if n := preparesCounted.Load(); n != 1 {
		t.Errorf("after the first Run at the declared shapes the node was prepared %d times, want 1", n)
	}
}
