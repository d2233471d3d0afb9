package runtime

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// The probes substitute the same size for every symbol (A) and a size per symbol name (B), the same for
// the same name on different inputs, small for a batch, never 1.
func TestProbeInputs(t *testing.T) {
	g := &Graph{Inputs: []ValueSpec{
		{Name: "x", DType: ops.Float32, HasShape: true, Dims: []Dim{{Value: -1, Param: "N"}, {Value: 3}, {Value: -1, Param: "H"}, {Value: -1}}},
		{Name: "m", DType: ops.Float32, HasShape: true, Dims: []Dim{{Value: -1, Param: "N"}, {Value: -1}}},
	}}
	a, symbolic, ok := probeInputs(g, false)
	if !ok || !symbolic {
		t.Fatalf("ok %v, symbolic %v", ok, symbolic)
	}
	b, _, _ := probeInputs(g, true)
	// N is only ever on the first axis: a batch, with small sizes. Unnamed dimensions are each their own
	// symbol.
	wantA := []ops.Shape{{2, 3, 64, 64}, {2, 64}}
	wantB := []ops.Shape{{3, 3, 96, 128}, {3, 160}}
	for i := range wantA {
		if !a[i].Shape.Equal(wantA[i]) || !b[i].Shape.Equal(wantB[i]) {
			t.Errorf("input %d: probes %v and %v, want %v and %v", i, a[i].Shape, b[i].Shape, wantA[i], wantB[i])
		}
	}
	// A symbol on the first axis of one input and another axis of another is not a batch.
	seq := &Graph{Inputs: []ValueSpec{
		{Name: "t", HasShape: true, Dims: []Dim{{Value: -1, Param: "T"}, {Value: 4}}},
		{Name: "u", HasShape: true, Dims: []Dim{{Value: 4}, {Value: -1, Param: "T"}}},
	}}
	if a, _, _ := probeInputs(seq, false); a[0].Shape[0] != 64 || a[1].Shape[1] != 64 {
		t.Errorf("T probed at %v and %v, want 64 on both", a[0].Shape, a[1].Shape)
	}
	if _, symbolic, _ := probeInputs(&Graph{Inputs: []ValueSpec{{Name: "x", HasShape: true, Dims: []Dim{{Value: 2}}}}}, false); symbolic {
		t.Error("a fixed shape is reported symbolic")
	}
}

// mergeProbes keeps what both probes agree on: fixed dimensions as sizes, dimensions that follow a symbol
// as a code equal for equal pairs of probe sizes, constants only when equal, values of the same rank only.
func TestMergeProbes(t *testing.T) {
	shapeConst := func(v ...int64) *ops.Tensor { return ops.FromSlice(ops.Shape{len(v)}, v) }
	a := map[string]ops.ValueInfo{
		"x":      {DType: ops.Float32, Shape: ops.Shape{64, 3, 64, 64}},
		"y":      {DType: ops.Float32, Shape: ops.Shape{64, 8, 64, 32}},
		"shape":  {DType: ops.Int64, Shape: ops.Shape{4}, Const: shapeConst(64, 3, 64, 64)},
		"axes":   {DType: ops.Int64, Shape: ops.Shape{2}, Const: shapeConst(2, 3)},
		"ranked": {DType: ops.Float32, Shape: ops.Shape{64}},
		"onlyA":  {DType: ops.Float32, Shape: ops.Shape{1}},
	}
	b := map[string]ops.ValueInfo{
		"x":      {DType: ops.Float32, Shape: ops.Shape{96, 3, 128, 160}},
		"y":      {DType: ops.Float32, Shape: ops.Shape{96, 8, 128, 80}},
		"shape":  {DType: ops.Int64, Shape: ops.Shape{4}, Const: shapeConst(96, 3, 128, 160)},
		"axes":   {DType: ops.Int64, Shape: ops.Shape{2}, Const: shapeConst(2, 3)},
		"ranked": {DType: ops.Float32, Shape: ops.Shape{96, 1}},
	}
	m := mergeProbes(a, b)
	x, y := m["x"].Shape, m["y"].Shape
	if x[1] != 3 || y[1] != 8 || knownDims(x) || x[0] != y[0] || x[2] != y[2] || x[3] == y[3] || x[0] == x[2] {
		t.Errorf("merged x %v, y %v: want N and H shared, W and W/2 apart, fixed sizes kept", x, y)
	}
	if m["shape"].Const != nil || m["axes"].Const == nil {
		t.Errorf("constants: shape %v (want none: it follows the symbols), axes %v (want kept)", m["shape"].Const, m["axes"].Const)
	}
	for _, name := range []string{"ranked", "onlyA"} {
		if _, ok := m[name]; ok {
			t.Errorf("%s kept, though the probes disagree on it", name)
		}
	}
}

// Two probes' messages are one error when they differ only by the probe sizes themselves.
func TestSameExceptProbeSizes(t *testing.T) {
	a := []ops.ValueInfo{{Shape: ops.Shape{2, 3, 64, 64}}}
	b := []ops.ValueInfo{{Shape: ops.Shape{3, 3, 96, 128}}}
	for _, c := range []struct {
		msgA, msgB string
		same       bool
	}{
		{"shapes [2,3,64,64] and [2,4,64,64] do not broadcast", "shapes [3,3,96,128] and [3,4,96,128] do not broadcast", true},
		{"cannot reshape 24576 elements into [1,192]", "cannot reshape 110592 elements into [1,192]", false}, // follows H*W
		{"axis 1: size 3 != 4", "axis 1: size 3 != 5", false},                                                // 4 and 5: not probe sizes
		{"node a: bad", "node b: bad", false},
	} {
		if got := sameExceptProbeSizes(c.msgA, c.msgB, a, b); got != c.same {
			t.Errorf("%q ~ %q: %v, want %v", c.msgA, c.msgB, got, c.same)
		}
	}
}
