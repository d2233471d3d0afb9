package runtime_test

import (
	"context"
	"testing"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
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
		s := p.NewSession()
		in := []*ops.Tensor{ops.New(ops.Float32, ops.Shape{4, 1, 28, 28})}
		ctx := context.Background()
		if _, err := s.Run(ctx, in); err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(20, func() {
			if _, err := s.Run(ctx, in); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("threads=%d: Session.Run allocates %.1f times per run on LeNet, want 0", threads, allocs)
		}
		s.Close()
	}
}
