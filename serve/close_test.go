package serve

import (
	"context"
	"errors"
	"testing"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// TestCloseClosesALoadedPlan: closing a model that Load compiled closes its plan, which unmaps the model
// file (a new session of it fails with runtime.ErrClosed); a plan the caller handed to NewModel stays the
// caller's to close.
func TestCloseClosesALoadedPlan(t *testing.T) {
	model, _, _, err := sharedLenet()
	if err != nil {
		testenv.Missing(t, "../shared/models/lenet_torch_opset13", err.Error())
	}
	x := ops.New(ops.Float32, ops.Shape{1, 1, 28, 28})
	m, err := Load(ModelSource{Name: "lenet", Path: model}, Config{Sessions: 1})
	if err != nil {
		t.Fatal(err)
	}
	plan := m.plan
	m.Close()
	if _, err := plan.NewSession().Run(context.Background(), []*ops.Tensor{x}); !errors.Is(err, runtime.ErrClosed) {
		t.Errorf("a session of a closed model's plan ran: got %v, want runtime.ErrClosed", err)
	}

	own, err := runtime.Load(model, runtime.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	m, err = NewModel("lenet", own, Config{Sessions: 1})
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	if _, err := own.NewSession().Run(context.Background(), []*ops.Tensor{x}); err != nil {
		t.Errorf("closing a model closed the plan its caller owns: %v", err)
	}
}
