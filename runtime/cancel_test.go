package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// stepLog records the test op LogStep's runs, by node name, and cancels the run's context after the
// cancelAfter-th one: a cancellation that happens while a kernel runs, at a known point of the graph.
type stepLog struct {
	ran         []string
	cancelAfter int
	cancel      context.CancelFunc
}

type stepLogKey struct{}

// logStep is an identity on float32 that logs its node into the stepLog of the run's context.
type logStep struct{ name string }

func (logStep) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	return []ops.ValueInfo{{DType: in[0].DType, Shape: in[0].Shape}}, nil
}

func (s logStep) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	return ops.KernelFunc(func(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
		if log, ok := ctx.Context.Value(stepLogKey{}).(*stepLog); ok {
			log.ran = append(log.ran, s.name)
			if len(log.ran) == log.cancelAfter {
				log.cancel()
			}
		}
		copy(out[0].Float32s(), in[0].Float32s())
		return nil
	}), nil
}

func init() {
	ops.DeclareDomain("test.cancel", 1)
	ops.Register("test.cancel", "LogStep", ops.Since(1, func(n ops.NodeInfo) (ops.Op, error) { return logStep{name: n.Name}, nil }))
}

// A context cancelled in the middle of a run of a five-node chain stops it before the next node: the
// nodes after the one that saw the cancellation never run, and Run returns context.Canceled.
func TestCancelStopsBetweenNodes(t *testing.T) {
	b := exporter.NewGraph("chain")
	b.UseOpset("test.cancel", 1)
	prev := b.Input("x", f32, 4)
	var names []string
	for i := range 5 {
		name := fmt.Sprintf("step%d", i)
		out := fmt.Sprintf("v%d", i)
		b.NodeNamed(name, "LogStep", "test.cancel", []string{prev}, []string{out}, nil)
		names, prev = append(names, name), out
	}
	b.Output(prev, f32, 4)
	m, err := b.Model(exporter.ModelOptions{Opset: 13})
	if err != nil {
		t.Fatal(err)
	}
	p, err := runtime.Compile(m, runtime.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	sess := p.NewSession()
	defer sess.Close()
	x := []*ops.Tensor{ops.FromSlice(ops.Shape{4}, []float32{1, 2, 3, 4})}

	whole := &stepLog{cancel: func() {}}
	if _, err := sess.Run(context.WithValue(context.Background(), stepLogKey{}, whole), x); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(whole.ran, names) {
		t.Fatalf("an uncancelled run ran %v, want %v", whole.ran, names)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cut := &stepLog{cancelAfter: 2, cancel: cancel}
	_, err = sess.Run(context.WithValue(ctx, stepLogKey{}, cut), x)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	if !reflect.DeepEqual(cut.ran, names[:2]) {
		t.Errorf("a run cancelled during %s ran %v, want %v", names[1], cut.ran, names[:2])
	}
}
