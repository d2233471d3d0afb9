package runtime_test

import (
	"context"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// profileGraph is x[N,3] · W[3,4] → Relu → Reshape to [N,2,2]: a kernel that reports its multiply-adds
// (MatMul), one that does not (Relu), and a view that runs no kernel (Reshape). It compiles without the
// graph passes, so that the steps stay these three whatever fusions the passes learn.
func profileGraph(t *testing.T) *runtime.Plan {
	t.Helper()
	b := exporter.NewGraph("profile")
	x := b.Input("x", f32, "N", 3)
	w := b.Initializer("w", arr([]int64{3, 4}, 1, -1, 2, 0, 0, 1, -1, 2, 3, 0, 1, -2))
	shape := b.Initializer("shape", &onnx.Array{DataType: onnxpb.TensorProto_INT64, Dims: []int64{3}, Data: []int64{-1, 2, 2}})
	b.NodeNamed("mm", "MatMul", "", []string{x, w}, []string{"h"}, nil)
	b.NodeNamed("act", "Relu", "", []string{"h"}, []string{"r"}, nil)
	b.NodeNamed("view", "Reshape", "", []string{"r", shape}, []string{"y"}, nil)
	b.Output("y", f32, "N", 2, 2)
	m, err := b.Model(exporter.ModelOptions{Opset: 13})
	if err != nil {
		t.Fatal(err)
	}
	p, err := runtime.Compile(m, runtime.Options{Threads: 1, NoOptimize: true})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunProfiled(t *testing.T) {
	p := profileGraph(t)
	sess := p.NewSession()
	defer sess.Close()
	ctx := context.Background()
	x := ops.FromSlice(ops.Shape{2, 3}, []float32{1, 2, 3, -1, 0, 1})

	want, err := sess.Run(ctx, []*ops.Tensor{x})
	if err != nil {
		t.Fatal(err)
	}
	wantY := append([]float32(nil), want[0].Float32s()...)

	prof := &runtime.Profile{}
	for run := 1; run <= 3; run++ {
		got, err := sess.RunProfiled(ctx, []*ops.Tensor{x}, prof)
		if err != nil {
			t.Fatal(err)
		}
		if !got[0].Shape().Equal(ops.Shape{2, 2, 2}) {
			t.Fatalf("run %d: output shape %v, want [2 2 2]", run, got[0].Shape())
		}
		for i, v := range got[0].Float32s() {
			if v != wantY[i] {
				t.Fatalf("run %d: RunProfiled output %v differs from Run's %v", run, got[0].Float32s(), wantY)
			}
		}
		if prof.Runs != run {
			t.Errorf("after run %d: Runs = %d", run, prof.Runs)
		}
	}

	wantSteps := []struct {
		node, op string
		in, out  []ops.Shape
		macs     int64
	}{
		{"mm", "MatMul", []ops.Shape{{2, 3}, {3, 4}}, []ops.Shape{{2, 4}}, 2 * 4 * 3},
		{"act", "Relu", []ops.Shape{{2, 4}}, []ops.Shape{{2, 4}}, 0},
		// "view" is a Reshape the planner turned into a view: no kernel runs, so it has no step.
	}
	if len(prof.Steps) != len(wantSteps) {
		t.Fatalf("profile has %d steps %+v, want %d", len(prof.Steps), prof.Steps, len(wantSteps))
	}
	var sum int64
	for i, w := range wantSteps {
		st := prof.Steps[i]
		if st.Node != w.node || st.OpType != w.op || st.MACs != w.macs {
			t.Errorf("step %d = {%s %s MACs=%d}, want {%s %s MACs=%d}", i, st.Node, st.OpType, st.MACs, w.node, w.op, w.macs)
		}
		if !shapesEqual(st.InputShapes, w.in) || !shapesEqual(st.OutputShapes, w.out) {
			t.Errorf("step %d (%s): shapes %v -> %v, want %v -> %v", i, st.Node, st.InputShapes, st.OutputShapes, w.in, w.out)
		}
		if st.Time < 0 {
			t.Errorf("step %d (%s): negative time %v", i, st.Node, st.Time)
		}
		sum += int64(st.Time)
	}
	// The whole-run clock encloses every step's clock.
	if int64(prof.Total) < sum {
		t.Errorf("Total %v is less than the sum of the steps %v", prof.Total, sum)
	}
	if prof.ArenaBytes <= 0 {
		t.Errorf("ArenaBytes = %d, want > 0 (the MatMul and Relu outputs live in the arena)", prof.ArenaBytes)
	}

	// Another batch size is another plan: the profile starts over with the new shapes.
	x5 := ops.New(ops.Float32, ops.Shape{5, 3})
	if _, err := sess.RunProfiled(ctx, []*ops.Tensor{x5}, prof); err != nil {
		t.Fatal(err)
	}
	if prof.Runs != 1 || !prof.Steps[0].OutputShapes[0].Equal(ops.Shape{5, 4}) || prof.Steps[0].MACs != 5*4*3 {
		t.Errorf("after a batch of 5: Runs=%d, step 0 output %v MACs %d; want 1, [5 4], 60", prof.Runs, prof.Steps[0].OutputShapes[0], prof.Steps[0].MACs)
	}

	prof.Reset()
	if prof.Runs != 0 || prof.Total != 0 || prof.Steps[0].Time != 0 || prof.Mean() != 0 || len(prof.Steps) != 2 {
		t.Errorf("Reset left Runs=%d Total=%v step time %v, %d steps", prof.Runs, prof.Total, prof.Steps[0].Time, len(prof.Steps))
	}
}

// RunProfiled counts the parallel sections each kernel opens: a 256³ MatMul on a two-thread session
// splits across the pool (at least one fork per run), a Relu over 8 elements never does, and a one-thread
// session forks nowhere.
func TestRunProfiledCountsForks(t *testing.T) {
	const n = 256
	w := make([]float32, n*n)
	for i := range w {
		w[i] = float32(i%7) - 3
	}
	b := exporter.NewGraph("forks")
	x := b.Input("x", f32, n, n)
	wi := b.Initializer("w", arr([]int64{n, n}, w...))
	small := b.Input("s", f32, 2, 4)
	b.NodeNamed("mm", "MatMul", "", []string{x, wi}, []string{"y"}, nil)
	b.NodeNamed("act", "Relu", "", []string{small}, []string{"r"}, nil)
	b.Output("y", f32, n, n)
	b.Output("r", f32, 2, 4)
	m, err := b.Model(exporter.ModelOptions{Opset: 13})
	if err != nil {
		t.Fatal(err)
	}
	in := []*ops.Tensor{ops.New(ops.Float32, ops.Shape{n, n}), ops.New(ops.Float32, ops.Shape{2, 4})}
	for _, threads := range []int{1, 2} {
		p, err := runtime.Compile(m, runtime.Options{Threads: threads, NoOptimize: true})
		if err != nil {
			t.Fatal(err)
		}
		sess := p.NewSession()
		prof := &runtime.Profile{}
		const runs = 3
		for range runs {
			if _, err := sess.RunProfiled(context.Background(), in, prof); err != nil {
				t.Fatal(err)
			}
		}
		sess.Close()
		forks := map[string]int64{}
		for _, st := range prof.Steps {
			forks[st.Node] = st.Forks
			// Every parallel section hands the pool at least 2 units, and no units go unforked.
			if st.Units < 2*st.Forks || (st.Forks == 0) != (st.Units == 0) {
				t.Errorf("threads=%d: %s opened %d forks with %d units", threads, st.Node, st.Forks, st.Units)
			}
		}
		if threads == 1 && (forks["mm"] != 0 || forks["act"] != 0) {
			t.Errorf("threads=1: forks %v, want none", forks)
		}
		if threads == 2 && (forks["mm"] < runs || forks["act"] != 0) {
			t.Errorf("threads=2: forks %v over %d runs, want mm >= %d and act 0", forks, runs, runs)
		}
		prof.Reset()
		if prof.Steps[0].Forks != 0 || prof.Steps[0].Units != 0 {
			t.Errorf("threads=%d: Reset left %d forks, %d units", threads, prof.Steps[0].Forks, prof.Steps[0].Units)
		}
	}
}

// NewProfile describes a plan before anything runs; RunProfiled then times exactly those steps.
func TestNewProfile(t *testing.T) {
	p := profileGraph(t)
	prof, err := p.NewProfile(ops.Shape{7, 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(prof.Steps) != 2 || prof.Steps[0].MACs != 7*4*3 || prof.Runs != 0 {
		t.Fatalf("NewProfile([7,3]) = %d steps, MatMul MACs %d, Runs %d; want 2, 84, 0", len(prof.Steps), prof.Steps[0].MACs, prof.Runs)
	}
	steps := prof.Steps
	sess := p.NewSession()
	defer sess.Close()
	if _, err := sess.RunProfiled(context.Background(), []*ops.Tensor{ops.New(ops.Float32, ops.Shape{7, 3})}, prof); err != nil {
		t.Fatal(err)
	}
	if prof.Runs != 1 || &prof.Steps[0] != &steps[0] {
		t.Errorf("a run at the profile's shapes should add to it, not describe the plan again (Runs=%d)", prof.Runs)
	}
}

func TestProfileErrors(t *testing.T) {
	p := profileGraph(t)
	sess := p.NewSession()
	defer sess.Close()
	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"nil profile", func() error {
			_, err := sess.RunProfiled(context.Background(), []*ops.Tensor{ops.New(ops.Float32, ops.Shape{1, 3})}, nil)
			return err
		}, "needs a Profile"},
		{"wrong input", func() error {
			_, err := sess.RunProfiled(context.Background(), []*ops.Tensor{ops.New(ops.Float32, ops.Shape{1, 4})}, &runtime.Profile{})
			return err
		}, "dimension 1 must be 3"},
		{"shapes count", func() error {
			_, err := p.NewProfile()
			return err
		}, "one shape per model input"},
		{"bad shape", func() error {
			_, err := p.NewProfile(ops.Shape{2, 5})
			return err
		}, "mm"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// On LeNet, profiling allocates nothing either, at 1 and 2 threads, and every step is accounted for.
func TestRunProfiledDoesNotAllocate(t *testing.T) {
	for _, threads := range []int{1, 2} {
		p, err := runtime.Load(sharedModel(t, "lenet_torch_opset13"), runtime.Options{Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		s := p.NewSession()
		in := []*ops.Tensor{ops.New(ops.Float32, ops.Shape{4, 1, 28, 28})}
		ctx := context.Background()
		prof := &runtime.Profile{}
		if _, err := s.RunProfiled(ctx, in, prof); err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(20, func() {
			if _, err := s.RunProfiled(ctx, in, prof); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 && !profileUnderRace {
			t.Errorf("threads=%d: RunProfiled allocates %.1f times per run on LeNet, want 0", threads, allocs)
		}
		var macs int64
		for _, st := range prof.Steps {
			macs += st.MACs
		}
		if macs == 0 {
			t.Errorf("threads=%d: no step of LeNet reports its multiply-adds", threads)
		}
		s.Close()
	}
}

func shapesEqual(a, b []ops.Shape) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

// RunProfiled shows what ran inside the bodies of control-flow nodes, at every depth: each body's runs
// (branches taken, iterations) and each of its nodes' calls and time, added up over the runs.
func TestRunProfiledSeesInsideBodies(t *testing.T) {
	p := mustCompile(t, nestedModel(), 13)
	s := p.NewSession()
	defer s.Close()
	var prof runtime.Profile
	in := []*ops.Tensor{ops.FromSlice(ops.Shape{2}, []float32{1, 2}), ops.Scalar(true)}
	for range 2 {
		if _, err := s.RunProfiled(context.Background(), in, &prof); err != nil {
			t.Fatal(err)
		}
	}
	if len(prof.Steps) != 1 || prof.Steps[0].Node != "outer_if" {
		t.Fatalf("steps %+v, want the outer If alone", prof.Steps)
	}
	runs := map[string]int{}
	calls := map[string]int{}
	var walk func(path string, bodies []runtime.BodyProfile)
	walk = func(path string, bodies []runtime.BodyProfile) {
		for _, b := range bodies {
			runs[path+b.Attr] = b.Runs
			for _, st := range b.Steps {
				name := path + b.Attr + "/" + st.Node
				calls[name] = st.Calls
				if st.Calls > 0 && st.Time <= 0 {
					t.Errorf("%s ran %d times in no time", name, st.Calls)
				}
				walk(name+"/", st.Bodies)
			}
		}
	}
	walk("outer_if/", prof.Steps[0].Bodies)
	// Two runs of the model; the Loop iterates 3 times, its If takes then at iterations 0 and 2.
	for name, want := range map[string]int{
		"outer_if/then_branch":                                2,
		"outer_if/else_branch":                                0,
		"outer_if/then_branch/loop/body":                      6,
		"outer_if/then_branch/loop/body/inner_if/then_branch": 4,
		"outer_if/then_branch/loop/body/inner_if/else_branch": 2,
	} {
		if runs[name] != want {
			t.Errorf("%s ran %d times, want %d (all: %v)", name, runs[name], want, runs)
		}
	}
	for name, want := range map[string]int{
		"outer_if/then_branch/loop":                                  2,
		"outer_if/then_branch/loop/body/parity":                      6,
		"outer_if/then_branch/loop/body/inner_if":                    6,
		"outer_if/then_branch/loop/body/inner_if/else_branch/plus_x": 2,
		"outer_if/else_branch/neg":                                   0,
	} {
		if calls[name] != want {
			t.Errorf("%s was called %d times, want %d (all: %v)", name, calls[name], want, calls)
		}
	}
	prof.Reset()
	if b := prof.Steps[0].Bodies[1]; b.Runs != 0 || b.Steps[0].Calls != 0 || b.Steps[0].Time != 0 {
		t.Errorf("Reset left the body profile %+v", b)
	}
}
