package training

import (
	"math"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// One element through each optimizer, against the update rules written out.
func TestOptimizers(t *testing.T) {
	r, step := opstest.F32(ops.Shape{}, 0.1), ops.FromSlice(ops.Shape{}, []int64{2})
	x, g, s1, s2 := opstest.F32(ops.Shape{1}, 1), opstest.F32(ops.Shape{1}, 0.5), opstest.F32(ops.Shape{1}, 0.25), opstest.F32(ops.Shape{1}, 0.04)
	node := func(op string, attrs ops.AttrMap, in ...*ops.Tensor) opstest.Node {
		return opstest.Node{Domain: ops.PreviewTrainingDomain, OpType: op, Opset: 1, Attrs: attrs, Inputs: in, NumOutputs: len(in) - 3}
	}
	// Adagrad, norm 0.2, decay 0.5, ε 0.01: g = 0.7, H' = 0.25 + 0.49, X' = 1 - 0.1/2 · 0.7/(√0.74 + 0.01).
	got := opstest.MustRun(t, node("Adagrad", ops.AttrMap{"norm_coefficient": ops.FloatAttr(0.2), "decay_factor": ops.FloatAttr(0.5), "epsilon": ops.FloatAttr(0.01)}, r, step, x, g, s1))
	if err := opstest.CloseTo([]float32{got[0].Float32s()[0], got[1].Float32s()[0]}, []float64{1 - 0.05*0.7/(math.Sqrt(0.74)+0.01), 0.74}, 1e-6, 1e-7); err != nil {
		t.Errorf("Adagrad: %v", err)
	}
	// Adam, α 0.9, β 0.99: V' = 0.9·0.25 + 0.1·0.5, H' = 0.99·0.04 + 0.01·0.25, R' = 0.1·√(1-0.99²)/(1-0.9²).
	v, h := 0.9*0.25+0.1*0.5, 0.99*0.04+0.01*0.25
	rate := 0.1 * math.Sqrt(1-0.99*0.99) / (1 - 0.9*0.9)
	got = opstest.MustRun(t, node("Adam", ops.AttrMap{"alpha": ops.FloatAttr(0.9), "beta": ops.FloatAttr(0.99)}, r, step, x, g, s1, s2))
	if err := opstest.CloseTo([]float32{got[0].Float32s()[0], got[1].Float32s()[0], got[2].Float32s()[0]}, []float64{1 - rate*v/math.Sqrt(h), v, h}, 1e-6, 1e-7); err != nil {
		t.Errorf("Adam: %v", err)
	}
	// Momentum, nesterov, α 0.5, β 2: V' = 0.5·0.25 + 2·0.5, X' = 1 - 0.1·(0.5 + 0.5·V').
	m := ops.AttrMap{"alpha": ops.FloatAttr(0.5), "beta": ops.FloatAttr(2), "mode": ops.StringAttr("nesterov"), "norm_coefficient": ops.FloatAttr(0)}
	got = opstest.MustRun(t, node("Momentum", m, r, step, x, g, s1))
	if err := opstest.CloseTo([]float32{got[0].Float32s()[0], got[1].Float32s()[0]}, []float64{1 - 0.1*(0.5+0.5*1.125), 1.125}, 1e-6, 1e-7); err != nil {
		t.Errorf("Momentum: %v", err)
	}
	// Errors: Momentum's attributes are required; the inputs come in whole groups.
	if _, err := opstest.Run(node("Momentum", nil, r, step, x, g, s1)); err == nil || !strings.Contains(err.Error(), `"alpha" is required`) {
		t.Errorf("Momentum without attributes: got %v", err)
	}
	if _, err := opstest.Run(node("Adam", nil, r, step, x, g, s1)); err == nil || !strings.Contains(err.Error(), "5 inputs, want R, T and then 4 tensors") {
		t.Errorf("Adam with a missing state: got %v", err)
	}
}
