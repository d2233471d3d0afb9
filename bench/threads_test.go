package bench

import (
	"strings"
	"testing"
	"time"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// compareProfiles pairs the steps, computes what each loses to a perfect split and lists the worst first,
// with the forks per run and the units per fork of the threaded profile.
func TestCompareProfilesRanksStepsByTimeLost(t *testing.T) {
	ms := time.Millisecond
	one := &runtime.Profile{Runs: 2, Total: 20 * ms, Steps: []runtime.StepProfile{
		{Node: "conv", OpType: "Conv", OutputShapes: []ops.Shape{{1, 8, 4, 4}}, Time: 8 * ms},
		{Node: "dw", OpType: "Conv", Time: 4 * ms},
		{Node: "relu", OpType: "Relu", Time: 2 * ms},
	}}
	many := &runtime.Profile{Runs: 2, Total: 16 * ms, Steps: []runtime.StepProfile{
		{Node: "conv", OpType: "Conv", Time: 4 * ms, Forks: 4, Units: 64},
		{Node: "dw", OpType: "Conv", Time: 6 * ms, Forks: 2, Units: 4},
		{Node: "relu", OpType: "Relu", Time: 2 * ms},
	}}
	r, err := compareProfiles(one, many, 2)
	if err != nil {
		t.Fatal(err)
	}
	if r.One != 10*ms || r.Many != 8*ms || r.Speedup() != 1.25 {
		t.Errorf("whole run: one %v many %v speed-up %v, want 10ms 8ms 1.25", r.One, r.Many, r.Speedup())
	}
	var order []string
	for _, st := range r.Steps {
		order = append(order, st.Node)
	}
	if strings.Join(order, ",") != "dw,relu,conv" {
		t.Fatalf("order %v, want dw (loses 2ms), relu (0.5ms), conv (0)", order)
	}
	dw := r.Steps[0]
	if dw.One != 2*ms || dw.Many != 3*ms || dw.Lost != 2*ms || dw.ForksPerRun != 1 || dw.UnitsPerFork != 2 || dw.Speedup() != 2.0/3 {
		t.Errorf("dw = %+v", dw)
	}
	if conv := r.Steps[2]; conv.Lost != 0 || conv.UnitsPerFork != 16 || conv.Output.String() != (ops.Shape{1, 8, 4, 4}).String() {
		t.Errorf("conv = %+v", conv)
	}
	if r.Steps[1].UnitsPerFork != 0 {
		t.Errorf("relu did not fork but has %v units per fork", r.Steps[1].UnitsPerFork)
	}
	var b strings.Builder
	r.WriteText(&b, 2)
	if out := b.String(); !strings.Contains(out, "the 2 of 3 steps that lose most") || strings.Contains(out, "conv ") || !strings.Contains(out, "1.25x") {
		t.Errorf("report:\n%s", out)
	}

	many.Steps = many.Steps[:2]
	if _, err := compareProfiles(one, many, 2); err == nil || !strings.Contains(err.Error(), "3 and 2 steps") {
		t.Errorf("mismatched plans: err %v", err)
	}
}
