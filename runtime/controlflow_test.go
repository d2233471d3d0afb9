package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onnxrun/onnxrun/bench"
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

func i64Scalar(v int64) *onnx.Array {
	return &onnx.Array{DataType: i64T, Dims: []int64{}, Data: []int64{v}}
}
func boolScalar(v bool) *onnx.Array {
	return &onnx.Array{DataType: boolT, Dims: []int64{}, Data: []bool{v}}
}

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

// A Loop whose shapes do not change allocates nothing per iteration: a whole Run allocates nothing once
// the session has run it once.
func TestLoopDoesNotAllocatePerIteration(t *testing.T) {
	if profileUnderRace {
		t.Skip("under -race sync.Pool drops buffers at random, so allocation counts mean nothing; checked without -race")
	}
	m, err := bench.LoopModel(1000)
	if err != nil {
		t.Fatal(err)
	}
	p, err := runtime.Compile(m, runtime.Options{Threads: 1})
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

// branch is an If branch returning the one value out, computed by build.
func branch(name string, build func(g *exporter.Graph) string, dims ...exporter.Dim) *exporter.Graph {
	g := exporter.NewGraph(name)
	out := build(g)
	g.Output(out, f32, dims...)
	return g
}

// An If whose condition is constant is replaced by the branch it takes: no If is left in the plan, and
// the branch's own initializers, Constant nodes and reads of outer values still work.
func TestConstantIfIsFolded(t *testing.T) {
	for _, cond := range []bool{true, false} {
		b := exporter.NewGraph("fold")
		x := b.Input("x", f32, 3)
		c := b.Initializer("c", boolScalar(cond))
		then := branch("then", func(g *exporter.Graph) string {
			w := g.Initializer("w", arr([]int64{3}, 1, 2, 3))
			g.NodeNamed("scale", "Mul", "", []string{x, w}, []string{"t_out"}, nil)
			return "t_out"
		}, 3)
		els := branch("else", func(g *exporter.Graph) string {
			k := g.Node("Constant", nil, exporter.Attrs{"value": arr([]int64{1}, 10)})
			g.NodeNamed("shift", "Add", "", []string{x, k}, []string{"e_out"}, nil)
			return "e_out"
		}, 3)
		b.NodeNamed("choose", "If", "", []string{c}, []string{"y"}, exporter.Attrs{"then_branch": then, "else_branch": els})
		b.Output("y", f32, 3)
		p, err := compileWith(t, b, 13, runtime.Options{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range p.Graph().Nodes {
			if n.OpType == "If" {
				t.Fatalf("cond %v: an If is left in the plan: %+v", cond, n)
			}
		}
		got := run1(t, p, ops.FromSlice(ops.Shape{3}, []float32{1, 1, 1}))[0].Float32s()
		want := []float32{11, 11, 11}
		if cond {
			want = []float32{1, 2, 3}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("cond %v: y = %v, want %v", cond, got, want)
		}
		// With the pass off (NoOptimize), the If runs and gives the same.
		p, err = compileWith(t, b, 13, runtime.Options{Threads: 1, NoOptimize: true})
		if err != nil {
			t.Fatal(err)
		}
		if got := run1(t, p, ops.FromSlice(ops.Shape{3}, []float32{1, 1, 1}))[0].Float32s(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("cond %v, not folded: y = %v, want %v", cond, got, want)
		}
	}
}

// Branches whose outputs have different shapes: the plan is made at Run with the condition's value.
func TestIfBranchesOfDifferentShapes(t *testing.T) {
	b := exporter.NewGraph("shapes")
	x := b.Input("x", f32, 4)
	c := b.Input("c", boolT)
	then := branch("then", func(g *exporter.Graph) string {
		g.NodeNamed("same", "Identity", "", []string{x}, []string{"t_out"}, nil)
		return "t_out"
	}, 4)
	els := branch("else", func(g *exporter.Graph) string {
		g.NodeNamed("both", "Concat", "", []string{x, x}, []string{"e_out"}, exporter.Attrs{"axis": 0})
		return "e_out"
	}, 8)
	b.NodeNamed("choose", "If", "", []string{c}, []string{"y"}, exporter.Attrs{"then_branch": then, "else_branch": els})
	b.Output("y", f32, "n")
	p := mustCompile(t, b, 16)
	x0 := ops.FromSlice(ops.Shape{4}, []float32{1, 2, 3, 4})
	if got := run1(t, p, x0, ops.Scalar(true))[0]; !got.Shape().Equal(ops.Shape{4}) {
		t.Errorf("then: shape %v, want [4]", got.Shape())
	}
	if got := run1(t, p, x0, ops.Scalar(false))[0]; !got.Shape().Equal(ops.Shape{8}) || got.Float32s()[5] != 2 {
		t.Errorf("else: %v %v, want [8] with x twice", got.Shape(), got.Float32s())
	}
}

// If inside Loop inside If, the innermost branch reading values of all three enclosing graphs.
func TestNestedControlFlow(t *testing.T) {
	p := mustCompile(t, nestedModel(), 13)
	x0 := []float32{1, 2}
	got := run1(t, p, ops.FromSlice(ops.Shape{2}, x0), ops.Scalar(true))[0].Float32s()
	// iteration 0: acc*3; 1: acc+1+x; 2: acc*3.
	for i, v := range x0 {
		want := ((v * 3) + 1 + v) * 3
		if got[i] != want {
			t.Errorf("y[%d] = %v, want %v", i, got[i], want)
		}
	}
	if got := run1(t, p, ops.FromSlice(ops.Shape{2}, x0), ops.Scalar(false))[0].Float32s(); got[1] != -2 {
		t.Errorf("else: y = %v, want -x", got)
	}
}

// An observed run (--dump-intermediate) sees the values inside bodies, named NODE/ATTR/VALUE at every
// depth, from the branch taken and the last iteration.
func TestObserverSeesBodyValues(t *testing.T) {
	p := mustCompile(t, nestedModel(), 13)
	s := p.NewSession()
	defer s.Close()
	seen := map[string]*ops.Tensor{}
	_, err := s.RunWithObserver(context.Background(), []*ops.Tensor{ops.FromSlice(ops.Shape{2}, []float32{1, 2}), ops.Scalar(true)},
		func(name string, t *ops.Tensor) { seen[name] = t })
	if err != nil {
		t.Fatal(err)
	}
	// The last iteration is number 2: even, so the inner If took its then branch.
	for name, want := range map[string]string{
		"y":                                  "[15 27]",
		"outer_if/then_branch/l_out":         "[15 27]",
		"outer_if/then_branch/loop/body/par": "[0]",
		"outer_if/then_branch/loop/body/inner_if/then_branch/ev_out": "[15 27]",
	} {
		t0, ok := seen[name]
		if !ok {
			t.Errorf("value %q not observed; saw %v", name, keys(seen))
			continue
		}
		if got := fmt.Sprint(t0.Data()); got != want {
			t.Errorf("%s = %s, want %s", name, got, want)
		}
	}
	if _, ok := seen["outer_if/then_branch/loop/body/inner_if/else_branch/od_out"]; ok {
		t.Errorf("a value of the branch not taken in the last iteration was observed")
	}
}

func keys(m map[string]*ops.Tensor) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// nestedModel is If(go) { then: Loop(3) { If(iteration even) { acc * scale } else { acc + bias + x } };
// else: -x }: the innermost branches read values of all three enclosing graphs.
func nestedModel() *exporter.Graph {
	b := exporter.NewGraph("nested")
	x := b.Input("x", f32, 2)
	outerCond := b.Input("go", boolT)
	scale := b.Initializer("scale", arr([]int64{1}, 3)) // depth 0, read at depth 3

	// The Loop's body: even iterations multiply by scale, odd ones add the loop body's own bias.
	body := exporter.NewGraph("loop_body")
	iter := body.Input("iter", i64T)
	cin := body.Input("cond_in", boolT)
	acc := body.Input("acc", f32, 2)
	bias := body.Initializer("bias", arr([]int64{1}, 1)) // depth 2, read at depth 3
	two := body.Initializer("two", i64Scalar(2))
	body.NodeNamed("parity", "Mod", "", []string{iter, two}, []string{"par"}, nil)
	zero := body.Initializer("zero", i64Scalar(0))
	body.NodeNamed("is_even", "Equal", "", []string{"par", zero}, []string{"even"}, nil)
	evenB := branch("even", func(g *exporter.Graph) string {
		g.NodeNamed("times", "Mul", "", []string{acc, scale}, []string{"ev_out"}, nil)
		return "ev_out"
	}, 2)
	oddB := branch("odd", func(g *exporter.Graph) string {
		g.NodeNamed("plus", "Add", "", []string{acc, bias}, []string{"od_out"}, nil)
		g.NodeNamed("plus_x", "Add", "", []string{"od_out", x}, []string{"od_out2"}, nil) // x: depth 0
		return "od_out2"
	}, 2)
	body.NodeNamed("inner_if", "If", "", []string{"even"}, []string{"acc_out"}, exporter.Attrs{"then_branch": evenB, "else_branch": oddB})
	body.NodeNamed("pass", "Identity", "", []string{cin}, []string{"cond_out"}, nil)
	body.Output("cond_out", boolT)
	body.Output("acc_out", f32, 2)

	then := branch("outer_then", func(g *exporter.Graph) string {
		m := g.Initializer("m", i64Scalar(3))
		g.NodeNamed("loop", "Loop", "", []string{m, "", x}, []string{"l_out"}, exporter.Attrs{"body": body})
		return "l_out"
	}, 2)
	els := branch("outer_else", func(g *exporter.Graph) string {
		g.NodeNamed("neg", "Neg", "", []string{x}, []string{"n_out"}, nil)
		return "n_out"
	}, 2)
	b.NodeNamed("outer_if", "If", "", []string{outerCond}, []string{"y"}, exporter.Attrs{"then_branch": then, "else_branch": els})
	b.Output("y", f32, 2)
	return b
}

// An error inside a body names the outer node and the body's node.
func TestBodyErrorNamesBothNodes(t *testing.T) {
	b := exporter.NewGraph("err")
	data := b.Input("data", f32, 3)
	idx := b.Input("idx", i64T, 1)
	body := exporter.NewGraph("body")
	body.Input("i", i64T)
	c := body.Input("c", boolT)
	body.NodeNamed("lookup", "Gather", "", []string{data, idx}, []string{"row"}, nil)
	body.NodeNamed("pass", "Identity", "", []string{c}, []string{"c_out"}, nil)
	body.Output("c_out", boolT)
	body.Output("row", f32, 1)
	m := b.Initializer("m", i64Scalar(2))
	b.NodeNamed("outer_loop", "Loop", "", []string{m, ""}, []string{"rows"}, exporter.Attrs{"body": body})
	b.Output("rows", f32, 2, 1)
	p := mustCompile(t, b, 13)
	s := p.NewSession()
	defer s.Close()
	_, err := s.Run(context.Background(), []*ops.Tensor{ops.FromSlice(ops.Shape{3}, []float32{1, 2, 3}), ops.FromSlice(ops.Shape{1}, []int64{7})})
	if err == nil {
		t.Fatal("an index out of range ran")
	}
	for _, want := range []string{`node "outer_loop" (Loop, opset 13)`, `body "body"`, `node "lookup" (Gather, opset 13)`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if !errors.Is(err, runtime.ErrBadInput) {
		t.Errorf("error %v does not match ErrBadInput", err)
	}
}

// scanSumBody is a Scan body: state s' = s + slice, and the scan output slice * 2.
func scanSumBody(dims ...exporter.Dim) *exporter.Graph {
	body := exporter.NewGraph("sum")
	s := body.Input("s", f32, dims...)
	x := body.Input("x_t", f32, dims...)
	two := body.Initializer("two", arr([]int64{1}, 2))
	body.NodeNamed("acc", "Add", "", []string{s, x}, []string{"s_out"}, nil)
	body.NodeNamed("dbl", "Mul", "", []string{x, two}, []string{"y_t"}, nil)
	body.Output("s_out", f32, dims...)
	body.Output("y_t", f32, dims...)
	return body
}

// Scan-9 and later: a scan input read along axis 1 backwards, the scan output stacked along its last axis
// backwards, against a loop written out here.
func TestScanAxesAndDirections(t *testing.T) {
	for _, opset := range []int64{9, 11, 16, 21} {
		b := exporter.NewGraph("scan")
		s0 := b.Input("s0", f32, 2, 4)
		x := b.Input("x", f32, 2, 3, 4)
		b.NodeNamed("scan", "Scan", "", []string{s0, x}, []string{"s", "y"}, exporter.Attrs{
			"body": scanSumBody(2, 4), "num_scan_inputs": 1,
			"scan_input_axes": []int64{1}, "scan_input_directions": []int64{1},
			"scan_output_axes": []int64{-1}, "scan_output_directions": []int64{1}})
		b.Output("s", f32, 2, 4)
		b.Output("y", f32, 2, 4, 3)
		p := mustCompile(t, b, opset)
		xs := make([]float32, 24)
		for i := range xs {
			xs[i] = float32(i)
		}
		out := run1(t, p, ops.New(ops.Float32, ops.Shape{2, 4}), ops.FromSlice(ops.Shape{2, 3, 4}, xs))
		wantS := make([]float32, 8)
		wantY := make([]float32, 24)
		for step := 0; step < 3; step++ {
			in, at := 2-step, 2-step // both reversed
			for i := 0; i < 2; i++ {
				for j := 0; j < 4; j++ {
					v := xs[(i*3+in)*4+j]
					wantS[i*4+j] += v
					wantY[(i*4+j)*3+at] = 2 * v
				}
			}
		}
		if !out[1].Shape().Equal(ops.Shape{2, 4, 3}) || fmt.Sprint(out[0].Float32s()) != fmt.Sprint(wantS) || fmt.Sprint(out[1].Float32s()) != fmt.Sprint(wantY) {
			t.Errorf("opset %d: s = %v, y%v = %v; want %v, %v", opset, out[0].Float32s(), out[1].Shape(), out[1].Float32s(), wantS, wantY)
		}
	}
}

// Scan-8: a batch axis the body does not see, and sequence_lens (scan outputs are zero past a length).
func TestScan8SequenceLengths(t *testing.T) {
	for _, withLens := range []bool{true, false} {
		b := exporter.NewGraph("scan8")
		lens := ""
		if withLens {
			lens = b.Initializer("lens", &onnx.Array{DataType: i64T, Dims: []int64{2}, Data: []int64{3, 1}})
		}
		s0 := b.Input("s0", f32, 2, 1)
		x := b.Input("x", f32, 2, 3, 1)
		b.NodeNamed("scan", "Scan", "", []string{lens, s0, x}, []string{"s", "y"}, exporter.Attrs{
			"body": scanSumBody(1), "num_scan_inputs": 1, "directions": []int64{1}})
		b.Output("s", f32, 2, 1)
		b.Output("y", f32, 2, 3, 1)
		p := mustCompile(t, b, 8)
		out := run1(t, p, ops.FromSlice(ops.Shape{2, 1}, []float32{100, 200}), ops.FromSlice(ops.Shape{2, 3, 1}, []float32{1, 2, 3, 4, 5, 6}))
		// Batch 0 reads 3, 2, 1; batch 1 reads 4 only with its length of 1, else 6, 5, 4.
		wantS, wantY := "[106 204]", "[6 4 2 8 0 0]"
		if !withLens {
			wantS, wantY = "[106 215]", "[6 4 2 12 10 8]"
		}
		if got := fmt.Sprint(out[0].Float32s()); got != wantS {
			t.Errorf("lens %v: s = %v, want %v", withLens, got, wantS)
		}
		if got := fmt.Sprint(out[1].Float32s()); got != wantY {
			t.Errorf("lens %v: y = %v, want %v", withLens, got, wantY)
		}
	}
}

// BenchmarkLoop runs the Loop of bench.LoopModel (1,000 iterations of Add and Mul on a float32[16]) and
// reports the time per iteration, the overhead of iterating (the two kernels themselves take a few ns).
func BenchmarkLoop(b *testing.B) {
	m, err := bench.LoopModel(1000)
	if err != nil {
		b.Fatal(err)
	}
	p, err := runtime.Compile(m, runtime.Options{Threads: 1})
	if err != nil {
		b.Fatal(err)
	}
	s := p.NewSession()
	defer s.Close()
	in := []*ops.Tensor{ops.New(ops.Float32, ops.Shape{16})}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Run(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/iteration")
}

// Sessions of one plan run control flow at once: each has its own body memory (run with -race).
func TestControlFlowSessionsRunConcurrently(t *testing.T) {
	p := mustCompile(t, nestedModel(), 13)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			s := p.NewSession()
			defer s.Close()
			x := float32(g)
			for range 50 {
				out, err := s.Run(context.Background(), []*ops.Tensor{ops.FromSlice(ops.Shape{2}, []float32{x, x}), ops.Scalar(true)})
				if err != nil {
					errs <- err
					return
				}
				if want := (x*3 + 1 + x) * 3; out[0].Float32s()[0] != want {
					errs <- fmt.Errorf("session %d: y = %v, want %v", g, out[0].Float32s(), want)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A loop-carried value whose shape changes every iteration (it doubles): the plan is dynamic and the
// body is specialised again for each new shape.
func TestLoopCarriedShapeChanges(t *testing.T) {
	b := exporter.NewGraph("grow")
	x := b.Input("x", f32, 1)
	body := exporter.NewGraph("double")
	body.Input("i", i64T)
	c := body.Input("c", boolT)
	xb := body.Input("xb", f32, "n")
	body.NodeNamed("twice", "Concat", "", []string{xb, xb}, []string{"x_out"}, exporter.Attrs{"axis": 0})
	body.NodeNamed("pass", "Identity", "", []string{c}, []string{"c_out"}, nil)
	body.Output("c_out", boolT)
	body.Output("x_out", f32, "n")
	m := b.Initializer("m", i64Scalar(3))
	b.NodeNamed("loop", "Loop", "", []string{m, "", x}, []string{"y"}, exporter.Attrs{"body": body})
	b.Output("y", f32, "n")
	p := mustCompile(t, b, 13)
	for run := 0; run < 2; run++ {
		got := run1(t, p, ops.FromSlice(ops.Shape{1}, []float32{5}))[0]
		if !got.Shape().Equal(ops.Shape{8}) || got.Float32s()[7] != 5 {
			t.Fatalf("y = %v %v, want eight 5s", got.Shape(), got.Float32s())
		}
	}
}
