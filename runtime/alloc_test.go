package runtime_test

import (
	"context"
	"path/filepath"
	goruntime "runtime"
	"testing"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
	"github.com/onnxrun/onnxrun/tensorio"
)

// sharedModel returns the path of a model under ../shared/models, or skips the test.
func sharedModel(t testing.TB, name string) string {
	t.Helper()
	return testenv.Shared(t, "models", name, "model.onnx")
}

// Run at a steady shape allocates nothing: values live in the session's arena, kernels write in place.
func TestRunDoesNotAllocate(t *testing.T) {
	if profileUnderRace {
		t.Skip("under -race sync.Pool drops buffers at random, so allocation counts mean nothing; checked without -race")
	}
	for _, threads := range []int{1, 2} {
		p, err := runtime.Load(sharedModel(t, "lenet_torch_opset13"), runtime.Options{Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		if allocs := steadyRunAllocs(t, p, ops.New(ops.Float32, ops.Shape{4, 1, 28, 28})); allocs != 0 {
			t.Errorf("threads=%d: Session.Run allocates %.1f times per run on LeNet, want 0", threads, allocs)
		}
	}
}

// steadyRunAllocs runs a new session of p once on in, then counts the allocations of the runs after it.
func steadyRunAllocs(t *testing.T, p *runtime.Plan, in ...*ops.Tensor) float64 {
	t.Helper()
	s := p.NewSession()
	defer s.Close()
	ctx := context.Background()
	if _, err := s.Run(ctx, in); err != nil {
		t.Fatal(err)
	}
	return testing.AllocsPerRun(20, func() {
		if _, err := s.Run(ctx, in); err != nil {
			t.Fatal(err)
		}
	})
}

// The ai.onnx.ml kernels keep their per-row work (features widened to float64, scores, votes, the SVM
// coupling matrix) in the planner's scratch, so a steady Run allocates nothing for them either: linear
// models, tree ensembles of both encodings, an SVM with probabilities, and a scaler chain.
func TestRunDoesNotAllocateML(t *testing.T) {
	if profileUnderRace {
		t.Skip("under -race sync.Pool drops buffers at random, so allocation counts mean nothing; checked without -race")
	}
	for _, name := range []string{"logistic_regression_3class", "linear_svc_3class", "scaler_normalizer_linear_regression",
		"random_forest_regressor_te5", "gradient_boosting_classifier_2class", "decision_tree_classifier",
		"svc_rbf_3class_probability"} {
		dir := filepath.Join("..", "conformance", "testdata", "sklearn", name)
		p, err := runtime.Load(filepath.Join(dir, "model.onnx"), runtime.Options{})
		if err != nil {
			t.Fatal(err)
		}
		x, err := tensorio.ReadNPYFile(filepath.Join(dir, "input_0.npy"))
		if err != nil {
			t.Fatal(err)
		}
		if allocs := steadyRunAllocs(t, p, x); allocs != 0 {
			t.Errorf("%s: Session.Run allocates %.1f times per run, want 0", name, allocs)
		}
	}
}

// A Threads: 1 session in a process with GOMAXPROCS=2 runs everything on the caller's goroutine: it starts
// no goroutine (no worker to spin or wake, which a GOMAXPROCS=1 process would not have either) and
// allocates nothing per run (issue 15 item 5).
func TestOneThreadSessionStartsNoGoroutine(t *testing.T) {
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(2))
	p, err := runtime.Load(sharedModel(t, "lenet_torch_opset13"), runtime.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	before := goruntime.NumGoroutine()
	s := p.NewSession()
	defer s.Close()
	in := ops.New(ops.Float32, ops.Shape{4, 1, 28, 28})
	if _, err := s.Run(context.Background(), []*ops.Tensor{in}); err != nil {
		t.Fatal(err)
	}
	// Only an increase counts: a goroutine an earlier test left (a pool worker winding down) may end meanwhile.
	if after := goruntime.NumGoroutine(); after > before {
		t.Errorf("a one-thread session and its run took the goroutines from %d to %d", before, after)
	}
	if !profileUnderRace {
		if allocs := steadyRunAllocs(t, p, in); allocs != 0 {
			t.Errorf("Session.Run allocates %.1f times per run at GOMAXPROCS=2, Threads: 1", allocs)
		}
	}
}
