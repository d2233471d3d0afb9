package ops

import (
	"errors"
	"strings"
	"testing"
)

// instantiateTestOp doubles its one input; with outputs set it declares that many outputs instead of one,
// and with noDType it forgets the dtype, for the checks of InferOutputs.
type instantiateTestOp struct {
	outputs int
	noDType bool
}

func (o instantiateTestOp) InferShapes(in []ValueInfo) ([]ValueInfo, error) {
	outs := make([]ValueInfo, max(1, o.outputs))
	for i := range outs {
		outs[i] = ValueInfo{DType: in[0].DType, Shape: in[0].Shape}
		if o.noDType {
			outs[i].DType = Undefined
		}
	}
	return outs, nil
}

func (o instantiateTestOp) Prepare(in, out []ValueInfo) (Kernel, error) {
	return KernelFunc(func(_ *ExecContext, in, out []*Tensor) error {
		for i, v := range in[0].Float32s() {
			out[0].Float32s()[i] = 2 * v
		}
		return nil
	}), nil
}

func init() {
	DeclareDomain("test.instantiate", 3)
	Register("test.instantiate", "Double", Since(1, func(n NodeInfo) (Op, error) {
		r := NewAttrReader(n.Attrs)
		op := instantiateTestOp{outputs: int(r.Int("outputs", 1)), noDType: r.Int("no_dtype", 0) != 0}
		if !n.InputPresent[0] {
			return nil, Invalidf("input 0 is required")
		}
		return op, r.Err()
	}))
}

func TestInstantiate(t *testing.T) {
	x := ValueInfo{DType: Float32, Shape: Shape{2}}
	node := func(opset int, attrs AttrMap) NodeInfo {
		return NodeInfo{Domain: "test.instantiate", OpType: "Double", Opset: opset, Attrs: attrs, NumOutputs: 1}
	}
	inst, err := Instantiate(node(2, nil), []ValueInfo{x})
	if err != nil {
		t.Fatal(err)
	}
	out := New(Float32, inst.Outputs[0].Shape)
	if err := inst.Kernel.Run(SerialContext(), []*Tensor{FromSlice(Shape{2}, []float32{1, -3})}, []*Tensor{out}); err != nil {
		t.Fatal(err)
	}
	if got := out.Float32s(); got[0] != 2 || got[1] != -6 {
		t.Errorf("ran %v, want [2 -6]", got)
	}

	cases := []struct {
		name  string
		node  NodeInfo
		in    []ValueInfo
		stage string
		want  string
	}{
		{"opset not covered", node(4, nil), []ValueInfo{x}, "build", "test.instantiate::Double (opset 4): not registered: implemented only for opsets 1-3"},
		{"builder error", node(1, nil), []ValueInfo{{}}, "build", "input 0 is required"},
		{"too few outputs", NodeInfo{Domain: "test.instantiate", OpType: "Double", Opset: 1, NumOutputs: 2}, []ValueInfo{x}, "infer shapes", "the op gives 1 outputs, the node declares 2"},
		{"no dtype", node(1, AttrMap{"no_dtype": IntAttr(1)}), []ValueInfo{x}, "infer shapes", "output 0 has no dtype"},
		{"negative dimension", node(1, nil), []ValueInfo{{DType: Float32, Shape: Shape{-2}}}, "infer shapes", "output 0:"},
	}
	for _, c := range cases {
		_, err := Instantiate(c.node, c.in)
		var se *StageError
		if !errors.As(err, &se) || se.Stage != c.stage || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want a %q StageError containing %q", c.name, err, c.stage, c.want)
		}
	}
	_, err = Instantiate(node(4, nil), []ValueInfo{x})
	var missing *NotRegisteredError
	if !errors.As(err, &missing) || !errors.Is(err, ErrUnsupported) || len(missing.Have) != 1 {
		t.Errorf("opset not covered: got %v, want a *NotRegisteredError matching ErrUnsupported with the range registered", err)
	}
}
