package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

const (
	i64T  = onnxpb.TensorProto_INT64
	boolT = onnxpb.TensorProto_BOOL
)

func i64Scalar(v int64) *onnx.Array { return &onnx.Array{DataType: i64T, Dims: []int64{}, Data: []int64{v}} }
func boolScalar(v bool) *onnx.Array { return &onnx.Array{DataType: boolT, Dims: []int64{}, Data: []bool{v}} }

func compileWith(t *testing.T, b *exporter.Graph, opset int64, opts runtime.Options) (*runtime.Plan, error) {
	t.Helper()
	m, err := b.Model(exporter.ModelOptions{Opset: opset})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if m, err = onnx.Decode(raw); err != nil {
		t.Fatal(err)
	}
	return runtime.Compile(m, opts)
}

func run1(t *testing.T, p *runtime.Plan, in ...*ops.Tensor) []*ops.Tensor {
	t.Helper()
	s := p.NewSession()
	defer s.Close()
	out, err := s.Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return cloneAll(out)
}

func cloneAll(ts []*ops.Tensor) []*ops.Tensor {
	c := make([]*ops.Tensor, len(ts))
	for i, t := range ts {
		c[i] = t.Clone()
	}
	return c
}

// counterBody is a Loop body over a carried float32[4] x: x' = x + one (the body's own initializer), the
// scan output x' * two (a Constant node of the body), and the condition iteration_num < stop, where stop
// is a value of the outer graph, read through a capture. With stop = 3 the condition ends the loop after
// 4 iterations.
func counterBody(stop string) *exporter.Graph {
	body := exporter.NewGraph("counter")
	iter := body.Input("iter", i64T)
	body.Input("cond_in", boolT)
	x := body.Input("x_in", f32, 4)
	one := body.Initializer("one", arr([]int64{1}, 1))
	two := body.Node("Constant", nil, exporter.Attrs{"value": arr([]int64{1}, 2)})
	body.NodeNamed("next", "Add", "", []string{x, one}, []string{"x_out"}, nil)
	body.NodeNamed("double", "Mul", "", []string{"x_out", two}, []string{"row"}, nil)
	body.NodeNamed("test", "Less", "", []string{iter, stop}, []string{"cond_out"}, nil)
	body.Output("cond_out", boolT)
	body.Output("x_out", f32, 4)
	body.Output("row", f32, 4)
	return body
}

// Every combination of Loop's optional trip count and condition, each given as a graph input or as a
// constant (the plan is then static), at the first opset of each signature.
func TestLoopTripCountAndCondition(t *testing.T) {
	x0 := []float32{0, 10, 20, 30}
	cases := []struct {
		name      string
		m         string // "", "input" or "const"
		mValue    int64
		cond      string
		condValue bool
		iters     int
	}{
		{"neither: the body's condition ends it", "", 0, "", false, 4},
		{"M input", "input", 3, "", false, 3},
		{"M constant", "const", 3, "", false, 3},
		{"M beyond the condition", "input", 9, "", false, 4},
		{"cond input true", "", 0, "input", true, 4},
		{"cond input false", "", 0, "input", false, 0},
		{"cond constant false", "", 0, "const", false, 0},
		{"M and cond", "input", 2, "input", true, 2},
		{"M constant, cond constant", "const", 4, "const", true, 4},
		{"M zero", "const", 0, "", false, 0},
		{"M negative", "input", -2, "", false, 0},
	}
	for _, opset := range []int64{11, 13, 16, 21} {
		for _, c := range cases {
			t.Run(fmt.Sprintf("opset%d/%s", opset, c.name), func(t *testing.T) {
				b := exporter.NewGraph("loop")
				x := b.Input("x", f32, 4)
				stop := b.Initializer("stop", i64Scalar(3))
				var feeds []*ops.Tensor
				feeds = append(feeds, ops.FromSlice(ops.Shape{4}, x0))
				m, cond := "", ""
				switch c.m {
				case "input":
					m = b.Input("M", i64T)
					feeds = append(feeds, ops.Scalar(c.mValue))
				case "const":
					m = b.Initializer("M", i64Scalar(c.mValue))
				}
				switch c.cond {
				case "input":
					cond = b.Input("cond", boolT)
					feeds = append(feeds, ops.Scalar(c.condValue))
				case "const":
					cond = b.Initializer("cond", boolScalar(c.condValue))
				}
				b.NodeNamed("loop", "Loop", "", []string{m, cond, x}, []string{"x_final", "rows"}, exporter.Attrs{"body": counterBody(stop)})
				b.Output("x_final", f32, 4)
				b.Output("rows", f32, "n", 4)
				p, err := compileWith(t, b, opset, runtime.Options{Threads: 1})
				if err != nil {
					t.Fatal(err)
				}
				out := run1(t, p, feeds...)
				final, rows := out[0].Float32s(), out[1]
				for i := range x0 {
					if final[i] != x0[i]+float32(c.iters) {
						t.Fatalf("x_final = %v after %d iterations, want x0 + %d", final, c.iters, c.iters)
					}
				}
				if !rows.Shape().Equal(ops.Shape{c.iters, 4}) {
					t.Fatalf("rows have shape %v, want [%d 4]", rows.Shape(), c.iters)
				}
				for k := 0; k < c.iters; k++ {
					for i := range x0 {
						if got, want := rows.Float32s()[k*4+i], 2*(x0[i]+float32(k+1)); got != want {
							t.Fatalf("rows[%d][%d] = %v, want %v", k, i, got, want)
						}
					}
				}
			})
		}
	}
}

// foreverLoop is a Loop with neither trip count nor condition whose body's condition is always true.
func foreverLoop(t *testing.T, opts runtime.Options) *runtime.Plan {
	b := exporter.NewGraph("forever")
	x := b.Input("x", f32, 16)
	body := exporter.NewGraph("spin")
	body.Input("i", i64T)
	c := body.Input("c", boolT)
	xb := body.Input("xb", f32, 16)
	body.NodeNamed("keep_going", "Identity", "", []string{c}, []string{"c_out"}, nil)
	body.NodeNamed("step", "Add", "", []string{xb, xb}, []string{"x_out"}, nil)
	body.Output("c_out", boolT)
	body.Output("x_out", f32, 16)
	always := b.Initializer("always", boolScalar(true))
	b.NodeNamed("spin_loop", "Loop", "", []string{"", always, x}, []string{"y"}, exporter.Attrs{"body": body})
	b.Output("y", f32, 16)
	p, err := compileWith(t, b, 16, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A loop that never ends stops at Options.MaxLoopIterations with an error naming the node.
func TestLoopIterationLimit(t *testing.T) {
	p := foreverLoop(t, runtime.Options{Threads: 1, MaxLoopIterations: 1000})
	s := p.NewSession()
	defer s.Close()
	_, err := s.Run(context.Background(), []*ops.Tensor{ops.New(ops.Float32, ops.Shape{16})})
	var limit *runtime.IterationLimitError
	if !errors.As(err, &limit) || limit.Limit != 1000 || limit.Node != "spin_loop" {
		t.Fatalf("error %v; want an *IterationLimitError for node spin_loop at 1000", err)
	}
	if !errors.Is(err, runtime.ErrUnsupported) || !strings.Contains(err.Error(), `node "spin_loop" (Loop, opset 16)`) || !strings.Contains(err.Error(), "MaxLoopIterations") {
		t.Errorf("error %q: want it to match ErrUnsupported, name the node and the option", err)
	}
	if got := (runtime.Options{}); got.MaxLoopIterations != 0 || p.Options().MaxLoopIterations != 1000 {
		t.Errorf("options not kept: %d", p.Options().MaxLoopIterations)
	}
	if def := foreverLoop(t, runtime.Options{}).Options().MaxLoopIterations; def != runtime.DefaultMaxLoopIterations {
		t.Errorf("default MaxLoopIterations %d, want %d", def, runtime.DefaultMaxLoopIterations)
	}
}

// A loop that never ends stops when its context is cancelled, long before the default limit.
func TestLoopStopsOnCancellation(t *testing.T) {
	p := foreverLoop(t, runtime.Options{Threads: 1})
	s := p.NewSession()
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.Run(ctx, []*ops.Tensor{ops.New(ops.Float32, ops.Shape{16})})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the loop took %v to notice its context", d)
	}
}

// benchLoop is the Loop of the benchmark: 1,000 iterations (cond true) of Add and Mul on a carried
// float32[16].
func benchLoop(t testing.TB, iters int64) *exporter.Graph {
	b := exporter.NewGraph("loop_bench")
	x := b.Input("x", f32, 16)
	body := exporter.NewGraph("body")
	body.Input("i", i64T)
	c := body.Input("c", boolT)
	xb := body.Input("xb", f32, 16)
	half := body.Initializer("half", arr([]int64{1}, 0.5))
	body.NodeNamed("keep_going", "Identity", "", []string{c}, []string{"c_out"}, nil)
	body.NodeNamed("add", "Add", "", []string{xb, "xb"}, []string{"sum"}, nil)
	body.NodeNamed("mul", "Mul", "", []string{"sum", half}, []string{"x_out"}, nil)
	body.Output("c_out", boolT)
	body.Output("x_out", f32, 16)
	m := b.Initializer("M", i64Scalar(iters))
	cond := b.Initializer("cond", boolScalar(true))
	b.NodeNamed("loop", "Loop", "", []string{m, cond, x}, []string{"y"}, exporter.Attrs{"body": body})
	b.Output("y", f32, 16)
	return b
}

// A Loop whose shapes do not change allocates nothing per iteration: a whole Run allocates nothing once
// the session has run it once.
func TestLoopDoesNotAllocatePerIteration(t *testing.T) {
	if profileUnderRace {
		t.Skip("under -race sync.Pool drops buffers at random, so allocation counts mean nothing; checked without -race")
	}
	p, err := compileWith(t, benchLoop(t, 1000), 16, runtime.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := p.NewSession()
	defer s.Close()
	in := []*ops.Tensor{ops.FromSlice(ops.Shape{16}, make([]float32, 16))}
	in[0].Float32s()[3] = 1
	ctx := context.Background()
	out, err := s.Run(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if got := out[0].Float32s()[3]; got != 1 { // (x + x) * 0.5 = x
		t.Fatalf("y[3] = %v, want 1", got)
	}
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := s.Run(ctx, in); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("a Run of 1,000 iterations allocates %.1f times, want 0", allocs)
	}
}
