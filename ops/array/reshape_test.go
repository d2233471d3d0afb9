package array

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

func TestReshapeFamily(t *testing.T) {
	a := arange(2, 3, 4)
	flat := func(shape ...int) *ops.Tensor { return arange(shape...) } // same data, another shape
	runCases(t, []opCase{
		{name: "reshape/infer", node: node("Reshape", 14, nil, a, vec(4, -1)), want: out(flat(4, 6))},
		{name: "reshape/zero copies", node: node("Reshape", 13, nil, a, vec(0, 0, -1, 2)), want: out(flat(2, 3, 2, 2))},
		{name: "reshape/attr opset1", node: node("Reshape", 1, ops.AttrMap{"shape": ops.IntsAttr(6, 4)}, a), want: out(flat(6, 4))},
		{name: "reshape/non-const data", node: nonConst(node("Reshape", 5, nil, a, vec(24)), 0), want: out(flat(24))},
		{name: "reshape/allowzero empty", node: node("Reshape", 14, ops.AttrMap{"allowzero": ops.IntAttr(1)}, f32(ops.Shape{0, 3}), vec(3, 0)), want: out(f32(ops.Shape{3, 0}))},
		{name: "reshape/int64 data", node: node("Reshape", 21, nil, arangeOf[int64](2, 3), vec(3, 2)), want: out(i64(ops.Shape{3, 2}, 0, 1, 2, 3, 4, 5))},
		{name: "reshape/string", node: node("Reshape", 19, nil, strs(ops.Shape{2}, "a", "b"), vec(1, 2)), want: out(strs(ops.Shape{1, 2}, "a", "b"))},
		{name: "reshape/size mismatch", node: node("Reshape", 14, nil, a, vec(5, 5)), err: "cannot reshape [2,3,4] (24 elements) to [5,5] (25 elements)", is: ops.ErrInvalid},
		{name: "reshape/two -1", node: node("Reshape", 14, nil, a, vec(-1, -1)), err: "more than one -1"},
		{name: "reshape/-1 not divisible", node: node("Reshape", 14, nil, a, vec(5, -1)), err: "cannot be inferred"},
		{name: "reshape/allowzero with -1", node: node("Reshape", 14, ops.AttrMap{"allowzero": ops.IntAttr(1)}, a, vec(0, -1)), err: "both 0 and -1"},
		{name: "reshape/zero past rank", node: node("Reshape", 14, nil, f32(ops.Shape{1}, 1), vec(1, 0)), err: "copies dimension 1"},
		{name: "reshape/shape not const", node: nonConst(node("Reshape", 14, nil, a, vec(24)), 1), is: ops.ErrDynamicShape},
		{name: "reshape/shape float", node: node("Reshape", 14, nil, a, f32(ops.Shape{1}, 24)), err: "want int64 or int32"},

		{name: "flatten/default", node: node("Flatten", 13, nil, a), want: out(flat(2, 12))},
		{name: "flatten/axis0", node: node("Flatten", 13, ops.AttrMap{"axis": ops.IntAttr(0)}, a), want: out(flat(1, 24))},
		{name: "flatten/axis rank", node: node("Flatten", 9, ops.AttrMap{"axis": ops.IntAttr(3)}, a), want: out(flat(24, 1))},
		{name: "flatten/negative", node: node("Flatten", 11, ops.AttrMap{"axis": ops.IntAttr(-1)}, a), want: out(flat(6, 4))},
		{name: "flatten/negative rank", node: node("Flatten", 11, ops.AttrMap{"axis": ops.IntAttr(-3)}, a), want: out(flat(1, 24))},
		{name: "flatten/out of range", node: node("Flatten", 11, ops.AttrMap{"axis": ops.IntAttr(4)}, a), err: "axis 4 is out of range [-3, 3]"},

		{name: "squeeze/all", node: node("Squeeze", 13, nil, arange(1, 3, 1, 2)), want: out(flat(3, 2))},
		{name: "squeeze/input axes", node: node("Squeeze", 13, nil, arange(1, 3, 1, 2), vec(-2)), want: out(flat(1, 3, 2))},
		{name: "squeeze/attr axes", node: node("Squeeze", 11, ops.AttrMap{"axes": ops.IntsAttr(0, 2)}, arange(1, 3, 1, 2)), want: out(flat(3, 2))},
		{name: "squeeze/not one", node: node("Squeeze", 13, nil, arange(1, 3, 1, 2), vec(1)), err: "cannot squeeze axis 1 of shape [1,3,1,2]: its size is 3"},
		{name: "squeeze/repeated axis", node: node("Squeeze", 13, nil, arange(1, 3, 1, 2), vec(0, -4)), err: "twice"},
		{name: "squeeze/out of range", node: node("Squeeze", 1, ops.AttrMap{"axes": ops.IntsAttr(4)}, arange(1, 3, 1, 2)), err: "out of range"},
		{name: "squeeze/axes not const", node: nonConst(node("Squeeze", 13, nil, arange(1, 3), vec(0)), 1), is: ops.ErrDynamicShape},

		{name: "unsqueeze/input", node: node("Unsqueeze", 13, nil, arange(3, 2), vec(0, 3)), want: out(flat(1, 3, 2, 1))},
		{name: "unsqueeze/negative unsorted", node: node("Unsqueeze", 13, nil, arange(3, 2), vec(-1, 1)), want: out(flat(3, 1, 2, 1))},
		{name: "unsqueeze/attr", node: node("Unsqueeze", 1, ops.AttrMap{"axes": ops.IntsAttr(1)}, arange(3)), want: out(flat(3, 1))},
		{name: "unsqueeze/scalar", node: node("Unsqueeze", 13, nil, f32(ops.Shape{}, 5), vec(0)), want: out(f32(ops.Shape{1}, 5))},
		{name: "unsqueeze/missing axes attr", node: node("Unsqueeze", 11, nil, arange(3)), err: "\"axes\" is required"},
		{name: "unsqueeze/out of range", node: node("Unsqueeze", 13, nil, arange(3), vec(2)), err: "axes[0] = 2 is out of range [-2, 1]"},
		{name: "unsqueeze/duplicate", node: node("Unsqueeze", 13, nil, arange(3), vec(0, 0)), err: "twice"},

		{name: "identity/float", node: node("Identity", 13, nil, a), want: out(a)},
		{name: "identity/bool", node: node("Identity", 1, nil, bools(ops.Shape{2}, true, false)), want: out(bools(ops.Shape{2}, true, false))},
	})
}

// The reshaping ops let the runtime share their input buffer.
func TestAliasers(t *testing.T) {
	for _, c := range []struct {
		op    string
		opset int
		attrs ops.AttrMap
	}{{"Reshape", 14, nil}, {"Flatten", 13, nil}, {"Squeeze", 13, nil}, {"Unsqueeze", 13, nil}, {"Identity", 16, nil}} {
		build, _, ok := ops.Lookup("", c.op, c.opset)
		if !ok {
			t.Fatalf("%s-%d not registered", c.op, c.opset)
		}
		op, err := build(ops.NodeInfo{OpType: c.op, Opset: c.opset, Attrs: c.attrs, NumOutputs: 1})
		if err != nil {
			t.Fatal(err)
		}
		a, ok := op.(ops.Aliaser)
		if !ok {
			t.Fatalf("%s does not implement ops.Aliaser", c.op)
		}
		if in, ok := a.AliasOf(0); !ok || in != 0 {
			t.Errorf("%s.AliasOf(0) = %d, %v; want 0, true", c.op, in, ok)
		}
	}
}
