package runtime_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

const f32 = onnxpb.TensorProto_FLOAT

func compile(t *testing.T, b *exporter.Graph, opset int64) (*runtime.Plan, error) {
	t.Helper()
	m, err := b.Model(exporter.ModelOptions{Opset: opset})
	if err != nil {
		t.Fatal(err)
	}
	// Round-trip through bytes so the test sees what a file would give.
	raw, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	m, err = onnx.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	return runtime.Compile(m, runtime.Options{Threads: 1})
}

func mustCompile(t *testing.T, b *exporter.Graph, opset int64) *runtime.Plan {
	t.Helper()
	p, err := compile(t, b, opset)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func arr(dims []int64, v ...float32) *onnx.Array {
	return &onnx.Array{DataType: f32, Dims: dims, Data: v}
}

// A graph written out of order (consumers before producers) still runs: the compiler sorts it.
func TestNodesOutOfOrder(t *testing.T) {
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, 2)
	b.NodeNamed("second", "Add", "", []string{"t", "x"}, []string{"y"}, nil)
	b.NodeNamed("first", "Add", "", []string{x, x}, []string{"t"}, nil)
	b.Output("y", f32, 2)
	p := mustCompile(t, b, 13)
	out, err := p.NewSession().Run(context.Background(), []*ops.Tensor{ops.FromSlice(ops.Shape{2}, []float32{1, 2})})
	if err != nil {
		t.Fatal(err)
	}
	if got := out[0].Float32s(); got[0] != 3 || got[1] != 6 {
		t.Fatalf("got %v, want [3 6]", got)
	}
}

func TestGraphErrors(t *testing.T) {
	tests := []struct {
		name  string
		build func(b *exporter.Graph)
		is    error
		want  string
	}{
		{"cycle", func(b *exporter.Graph) {
			x := b.Input("x", f32, 2)
			b.NodeNamed("a", "Add", "", []string{x, "d"}, []string{"c"}, nil)
			b.NodeNamed("b", "Add", "", []string{x, "c"}, []string{"d"}, nil)
			b.Output("d", f32, 2)
		}, runtime.ErrInvalidModel, `cycle through nodes "a" (Add), "b" (Add)`},
		{"missing input", func(b *exporter.Graph) {
			x := b.Input("x", f32, 2)
			b.NodeNamed("a", "Add", "", []string{x, "nowhere"}, []string{"y"}, nil)
			b.Output("y", f32, 2)
		}, runtime.ErrInvalidModel, `"nowhere" (input of node "a")`},
		{"produced twice", func(b *exporter.Graph) {
			x := b.Input("x", f32, 2)
			b.NodeNamed("a", "Add", "", []string{x, x}, []string{"y"}, nil)
			b.NodeNamed("b", "Mul", "", []string{x, x}, []string{"y"}, nil)
			b.Output("y", f32, 2)
		}, runtime.ErrInvalidModel, `value "y" is produced twice: by node "a" and node "b"`},
		{"output never produced", func(b *exporter.Graph) {
			x := b.Input("x", f32, 2)
			b.NodeNamed("a", "Add", "", []string{x, x}, []string{"y"}, nil)
			b.Output("z", f32, 2)
		}, runtime.ErrInvalidModel, `"z" (graph output)`},
		{"unsupported ops listed together", func(b *exporter.Graph) {
			x := b.Input("x", f32, 2)
			b.NodeNamed("n1", "NoSuchOp", "", []string{x}, []string{"y"}, nil)
			b.NodeNamed("n2", "AlsoMissing", "com.example", []string{"y"}, []string{"z"}, nil)
			b.UseOpset("com.example", 1)
			b.Output("z", f32, 2)
		}, runtime.ErrUnsupported, `2 unsupported operators: node "n1" (NoSuchOp, opset 13): no kernel for this op type; node "n2" (com.example::AlsoMissing, opset 1)`},
		{"shape error names node", func(b *exporter.Graph) {
			x := b.Input("x", f32, 2)
			y := b.Input("y", f32, 3)
			b.NodeNamed("adder", "Add", "", []string{x, y}, []string{"z"}, nil)
			b.Output("z", f32, 3)
		}, runtime.ErrInvalidModel, `node "adder" (Add, opset 13): infer shapes:`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := exporter.NewGraph("g")
			tc.build(b)
			_, err := compile(t, b, 13)
			if err == nil {
				t.Fatal("compiled without error")
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("error %q does not match %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestNewerOpsetRefused(t *testing.T) {
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, 2)
	y := b.Node("Add", []string{x, x}, nil)
	b.Output(y, f32, 2)
	_, err := compile(t, b, ops.MaxOpset+1)
	if !errors.Is(err, runtime.ErrUnsupported) || !strings.Contains(err.Error(), "opset 29") {
		t.Fatalf("got %v, want an unsupported-opset error naming opset 29", err)
	}
}

func TestInputErrors(t *testing.T) {
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, "N", 3)
	y := b.Node("Add", []string{x, x}, nil)
	b.Output(y, f32, "N", 3)
	p := mustCompile(t, b, 13)
	s := p.NewSession()
	defer s.Close()
	tests := []struct {
		name string
		in   []*ops.Tensor
		want string
	}{
		{"count", nil, "the model takes 1 inputs (x float32[N,3]), got 0"},
		{"dtype", []*ops.Tensor{ops.FromSlice(ops.Shape{1, 3}, []float64{1, 2, 3})}, `input "x": expected dtype float32, got float64`},
		{"rank", []*ops.Tensor{ops.FromSlice(ops.Shape{3}, []float32{1, 2, 3})}, `input "x": expected shape [N,3] (rank 2), got [3] (rank 1)`},
		{"fixed dim", []*ops.Tensor{ops.FromSlice(ops.Shape{1, 2}, []float32{1, 2})}, `input "x": expected shape [N,3], got [1,2]: dimension 1 must be 3`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Run(context.Background(), tc.in)
			if !errors.Is(err, runtime.ErrBadInput) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrBadInput containing %q", err, tc.want)
			}
		})
	}
	// The symbolic batch takes any size, and the session re-plans when it changes.
	for _, n := range []int{1, 5, 2} {
		in := ops.New(ops.Float32, ops.Shape{n, 3})
		out, err := s.Run(context.Background(), []*ops.Tensor{in})
		if err != nil {
			t.Fatalf("batch %d: %v", n, err)
		}
		if !out[0].Shape().Equal(ops.Shape{n, 3}) {
			t.Fatalf("batch %d: output shape %v", n, out[0].Shape())
		}
	}
}

// Constant subgraphs fold away at plan time, and Identity disappears.
func TestConstantFoldingAndIdentity(t *testing.T) {
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, 2)
	c := b.Initializer("c", arr([]int64{2}, 1, 2))
	c2 := b.Node("Add", []string{c, c}, nil) // folds to [2, 4]
	id := b.Node("Identity", []string{c2}, nil)
	y := b.Node("Mul", []string{x, id}, nil)
	b.Output(y, f32, 2)
	p := mustCompile(t, b, 13)
	if n := len(p.Graph().Nodes); n != 2 {
		t.Errorf("%d nodes after passes, want 2 (Identity removed)", n)
	}
	if got := p.Describe(ops.Shape{2}); !strings.Contains(got, "1 steps") {
		t.Errorf("plan is not a single step:\n%s", got)
	}
	out, err := p.NewSession().Run(context.Background(), []*ops.Tensor{ops.FromSlice(ops.Shape{2}, []float32{10, 10})})
	if err != nil {
		t.Fatal(err)
	}
	if got := out[0].Float32s(); got[0] != 20 || got[1] != 40 {
		t.Fatalf("got %v, want [20 40]", got)
	}
}

// Sessions of one plan run concurrently with the same results.
func TestConcurrentSessions(t *testing.T) {
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, "N", 4)
	y := b.Node("Mul", []string{x, x}, nil)
	z := b.Node("Add", []string{y, x}, nil)
	b.Output(z, f32, "N", 4)
	p := mustCompile(t, b, 13)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			s := p.NewSession()
			defer s.Close()
			for i := 0; i < 50; i++ {
				n := 1 + (g+i)%3
				in := ops.New(ops.Float32, ops.Shape{n, 4})
				for j := range in.Float32s() {
					in.Float32s()[j] = float32(g + j)
				}
				out, err := s.Run(context.Background(), []*ops.Tensor{in})
				if err != nil {
					errs <- err
					return
				}
				for j, v := range out[0].Float32s() {
					xv := float32(g + j)
					if v != xv*xv+xv {
						errs <- errors.New("wrong value under concurrency")
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestCancelledContext(t *testing.T) {
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, 2)
	y := b.Node("Add", []string{x, x}, nil)
	b.Output(y, f32, 2)
	p := mustCompile(t, b, 13)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := p.NewSession().Run(ctx, []*ops.Tensor{ops.New(ops.Float32, ops.Shape{2})})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}
