package conformance

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
	"github.com/onnxrun/onnxrun/tensorio"
)

// ModelTolerance is the comparison the reference models' README asks for: |got - want| <= 1e-4 + 1e-4*|want|.
var ModelTolerance = Tolerance{RTol: 1e-4, ATol: 1e-4}

// RunModelDir checks a reference-model folder (model.onnx, input_0.npy [, input_1.npy ...], expected_0.npy
// [, expected_1.npy ...], the layout of ../shared/models) at the batch the inputs have and, when the model's
// batch dimension is symbolic, again at batch 1 on the first sample.
func RunModelDir(dir string, tol Tolerance) (res Result) {
	res = Result{Name: filepath.Base(dir), Dir: dir}
	defer func() {
		if r := recover(); r != nil {
			res.Status, res.Reason = Error, fmt.Sprintf("panic: %v", r)
		}
	}()
	plan, err := runtime.Load(filepath.Join(dir, "model.onnx"), runtime.Options{Threads: 1})
	if err != nil {
		return res.failed(err)
	}
	inputs, err := readNumbered(dir, "input", len(plan.Inputs()))
	if err != nil {
		return res.failed(err)
	}
	wants, err := readNumbered(dir, "expected", len(plan.Outputs()))
	if err != nil {
		return res.failed(err)
	}
	sess := plan.NewSession()
	defer sess.Close()
	check := func(label string, in, want []*ops.Tensor) bool {
		got, err := sess.Run(context.Background(), in)
		if err != nil {
			res = res.failed(fmt.Errorf("%s: %w", label, err))
			return false
		}
		for i := range want {
			if err := ops.AllClose(got[i], want[i], tol.RTol, tol.ATol); err != nil {
				res.Status, res.Reason = Fail, fmt.Sprintf("%s: output %d (%s): %v", label, i, plan.Outputs()[i].Name, err)
				return false
			}
			res.WorstAbs = math.Max(res.WorstAbs, worstAbs(got[i], want[i]))
		}
		res.DataSets++
		return true
	}
	if !check(fmt.Sprintf("batch %d", batchOf(inputs)), inputs, wants) {
		return res
	}
	if batchOf(inputs) > 1 && symbolicBatch(plan) {
		if !check("batch 1", firstSample(inputs), firstSample(wants)) {
			return res
		}
	}
	res.Status = Pass
	return res
}

func readNumbered(dir, prefix string, n int) ([]*ops.Tensor, error) {
	out := make([]*ops.Tensor, n)
	for i := range out {
		path := filepath.Join(dir, fmt.Sprintf("%s_%d.npy", prefix, i))
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("%s: missing (the model has %d %ss)", path, n, prefix)
		}
		t, err := tensorio.ReadNPYFile(path)
		if err != nil {
			return nil, err
		}
		out[i] = t
	}
	return out, nil
}

func batchOf(ts []*ops.Tensor) int {
	if len(ts) == 0 || ts[0].Rank() == 0 {
		return 0
	}
	return ts[0].Shape()[0]
}

func symbolicBatch(p *runtime.Plan) bool {
	for _, in := range p.Inputs() {
		if len(in.Dims) == 0 || !in.Dims[0].Symbolic() {
			return false
		}
	}
	return true
}

// firstSample returns each tensor's first row along axis 0, keeping the axis (shape [1, ...]).
func firstSample(ts []*ops.Tensor) []*ops.Tensor {
	out := make([]*ops.Tensor, len(ts))
	for i, t := range ts {
		shape := t.Shape().Clone()
		n := shape[0]
		shape[0] = 1
		per := t.Len() / n
		out[i], _ = ops.FromData(t.DType(), shape, ops.Slice(t.Data(), 0, per))
	}
	return out
}
