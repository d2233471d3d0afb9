package array

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

func TestShapeSizeConstant(t *testing.T) {
	se := func(start, end int64) ops.AttrMap {
		return ops.AttrMap{"start": ops.IntAttr(start), "end": ops.IntAttr(end)}
	}
	a := arange(2, 3, 4)
	runCases(t, []opCase{
		{name: "shape", node: node("Shape", 13, nil, a), want: out(vec(2, 3, 4))},
		{name: "shape/start -1", node: node("Shape", 15, ops.AttrMap{"start": ops.IntAttr(-1)}, a), want: out(vec(4))},
		{name: "shape/end -1", node: node("Shape", 15, ops.AttrMap{"end": ops.IntAttr(-1)}, a), want: out(vec(2, 3))},
		{name: "shape/clipped", node: node("Shape", 15, se(-10, 10), a), want: out(vec(2, 3, 4))},
		{name: "shape/start after end", node: node("Shape", 21, se(2, 1), a), want: out(i64(ops.Shape{0}))},
		{name: "shape/opset1 ignores start", node: node("Shape", 1, ops.AttrMap{"start": ops.IntAttr(1)}, a), want: out(vec(2, 3, 4))},
		{name: "shape/scalar", node: node("Shape", 13, nil, ops.Scalar(true)), want: out(i64(ops.Shape{0}))},
		{name: "size", node: node("Size", 13, nil, a), want: out(ops.Scalar(int64(24)))},
		{name: "size/empty", node: node("Size", 1, nil, strs(ops.Shape{3, 0})), want: out(ops.Scalar(int64(0)))},

		{name: "constant/value", node: node("Constant", 1, ops.AttrMap{"value": ops.TensorAttr(arange(2, 2))}), want: out(arange(2, 2))},
		{name: "constant/value_float", node: node("Constant", 12, ops.AttrMap{"value_float": ops.FloatAttr(2.5)}), want: out(ops.Scalar(float32(2.5)))},
		{name: "constant/value_floats", node: node("Constant", 13, ops.AttrMap{"value_floats": ops.FloatsAttr(1, 2)}), want: out(f32(ops.Shape{2}, 1, 2))},
		{name: "constant/value_int", node: node("Constant", 19, ops.AttrMap{"value_int": ops.IntAttr(-3)}), want: out(ops.Scalar(int64(-3)))},
		{name: "constant/value_ints", node: node("Constant", 25, ops.AttrMap{"value_ints": ops.IntsAttr(4, 5)}), want: out(vec(4, 5))},
		{name: "constant/value_string", node: node("Constant", 12, ops.AttrMap{"value_string": ops.StringAttr("hi")}), want: out(ops.Scalar("hi"))},
		{name: "constant/value_strings", node: node("Constant", 12, ops.AttrMap{"value_strings": ops.StringsAttr("a", "b")}), want: out(strs(ops.Shape{2}, "a", "b"))},
		{name: "constant/two values", node: node("Constant", 13, ops.AttrMap{"value_int": ops.IntAttr(1), "value_float": ops.FloatAttr(1)}), err: "exactly one value attribute"},
		{name: "constant/none", node: node("Constant", 13, nil), err: "no value attribute"},
		{name: "constant/sparse", node: node("Constant", 13, ops.AttrMap{"sparse_value": ops.Attr{Type: 11}}), is: ops.ErrUnsupported},
		{name: "constant/value_int before 12", node: node("Constant", 11, ops.AttrMap{"value_int": ops.IntAttr(1)}), err: "not defined before opset 12"},

		{name: "constantofshape/default", node: node("ConstantOfShape", 9, nil, vec(2, 1)), want: out(f32(ops.Shape{2, 1}, 0, 0))},
		{name: "constantofshape/int", node: node("ConstantOfShape", 20, ops.AttrMap{"value": ops.TensorAttr(i32(ops.Shape{1}, 7))}, vec(3)), want: out(i32(ops.Shape{3}, 7, 7, 7))},
		{name: "constantofshape/scalar shape", node: node("ConstantOfShape", 21, ops.AttrMap{"value": ops.TensorAttr(bools(ops.Shape{1}, true))}, i64(ops.Shape{0})), want: out(ops.Scalar(true))},
		{name: "constantofshape/zero dim", node: node("ConstantOfShape", 9, nil, vec(2, 0)), want: out(f32(ops.Shape{2, 0}))},
		{name: "constantofshape/negative", node: node("ConstantOfShape", 9, nil, vec(-1)), err: "invalid dimension -1"},
		{name: "constantofshape/two values", node: node("ConstantOfShape", 9, ops.AttrMap{"value": ops.TensorAttr(f32(ops.Shape{2}, 1, 2))}, vec(1)), err: "exactly one element"},
		{name: "constantofshape/not const", node: nonConst(node("ConstantOfShape", 9, nil, vec(1)), 0), is: ops.ErrDynamicShape},
	})
}

func TestRange(t *testing.T) {
	runCases(t, []opCase{
		// np.arange(np.float32(1.5), np.float32(4.0), np.float32(0.7)) but for the last element: the spec's
		// start + 3*delta rounds to 3.5999999, where numpy's arange (which accumulates) gives 3.6000001.
		{name: "float", node: node("Range", 11, nil, ops.Scalar(float32(1.5)), ops.Scalar(float32(4)), ops.Scalar(float32(0.7))),
			want: out(f32(ops.Shape{4}, 1.5, 2.2, 2.9, 3.5999999))},
		{name: "int32 negative delta", node: node("Range", 11, nil, ops.Scalar(int32(10)), ops.Scalar(int32(4)), ops.Scalar(int32(-3))),
			want: out(i32(ops.Shape{2}, 10, 7))},
		{name: "int64 exact", node: node("Range", 11, nil, ops.Scalar(int64(1<<53+1)), ops.Scalar(int64(1<<53+4)), ops.Scalar(int64(2))),
			want: out(vec(1<<53+1, 1<<53+3))},
		{name: "empty", node: node("Range", 11, nil, ops.Scalar(int64(5)), ops.Scalar(int64(1)), ops.Scalar(int64(1))), want: out(i64(ops.Shape{0}))},
		{name: "float16", node: node("Range", 27, nil, ops.Scalar(ops.Float16FromFloat32(1)), ops.Scalar(ops.Float16FromFloat32(2)), ops.Scalar(ops.Float16FromFloat32(0.5))),
			want: out(ops.FromSlice(ops.Shape{2}, []ops.Float16Bits{ops.Float16FromFloat32(1), ops.Float16FromFloat32(1.5)}))},
		{name: "zero delta", node: node("Range", 11, nil, ops.Scalar(int64(0)), ops.Scalar(int64(1)), ops.Scalar(int64(0))), err: "delta is 0"},
		{name: "mixed dtypes", node: node("Range", 11, nil, ops.Scalar(int64(0)), ops.Scalar(int32(1)), ops.Scalar(int64(1))), err: "limit has dtype int32"},
		{name: "not scalar", node: node("Range", 11, nil, vec(0, 1), vec(1), vec(1)), err: "want a scalar"},
		{name: "not const", node: nonConst(node("Range", 11, nil, ops.Scalar(int64(0)), ops.Scalar(int64(1)), ops.Scalar(int64(1))), 1), is: ops.ErrDynamicShape},
	})
}

// Shape and Size give their outputs as constants at plan time, even for non-constant inputs, so that a
// flatten written the PyTorch way (Shape → Gather → Unsqueeze → Concat → Reshape) folds to a constant
// target shape. This walks that chain the way the runtime's planner does: each node's inputs are constants
// from the previous node, so each could be folded.
func TestShapeChainFolds(t *testing.T) {
	x := ops.ValueInfo{DType: ops.Float32, Shape: ops.Shape{5, 3, 4}} // a graph input: no Const
	infer := func(op string, opset int, attrs ops.AttrMap, in ...ops.ValueInfo) ops.ValueInfo {
		t.Helper()
		build, _, ok := ops.Lookup("", op, opset)
		if !ok {
			t.Fatalf("%s-%d not registered", op, opset)
		}
		o, err := build(ops.NodeInfo{OpType: op, Opset: opset, Attrs: attrs, NumInputs: len(in), NumOutputs: 1})
		if err != nil {
			t.Fatal(err)
		}
		outs, err := o.InferShapes(in)
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		return outs[0]
	}
	// eval runs a node whose inputs are all constants, as constant folding does.
	eval := func(op string, opset int, attrs ops.AttrMap, in ...ops.ValueInfo) ops.ValueInfo {
		t.Helper()
		ts := make([]*ops.Tensor, len(in))
		for i, v := range in {
			if v.Const == nil {
				t.Fatalf("%s input %d is not constant", op, i)
			}
			ts[i] = v.Const
		}
		res, err := opstest.Run(opstest.Node{OpType: op, Opset: opset, Attrs: attrs, Inputs: ts})
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		return ops.ValueInfo{DType: res[0].DType(), Shape: res[0].Shape(), Const: res[0]}
	}
	c := func(t *ops.Tensor) ops.ValueInfo { return ops.ValueInfo{DType: t.DType(), Shape: t.Shape(), Const: t} }

	shape := infer("Shape", 13, nil, x)
	if shape.Const == nil {
		t.Fatal("Shape did not give a constant")
	}
	batch := eval("Gather", 13, nil, shape, c(ops.Scalar(int64(0))))
	batch1 := eval("Unsqueeze", 13, nil, batch, c(vec(0)))
	target := eval("Concat", 13, ops.AttrMap{"axis": ops.IntAttr(0)}, batch1, c(vec(-1)))
	flat := infer("Reshape", 14, nil, x, target)
	if !flat.Shape.Equal(ops.Shape{5, 12}) {
		t.Fatalf("Reshape gave %v, want [5,12]", flat.Shape)
	}
	if size := infer("Size", 13, nil, x); size.Const == nil || size.Const.Int64s()[0] != 60 {
		t.Fatalf("Size gave %+v, want constant 60", size)
	}
}

func TestTensorScatter(t *testing.T) {
	// A cache of 2 batch entries x 4 positions x 1, updates of 2 positions at write indices 1 and 3.
	past := f32(ops.Shape{2, 4, 1}, 1, 2, 3, 4, 5, 6, 7, 8)
	update := f32(ops.Shape{2, 2, 1}, -1, -2, -3, -4)
	circular := ops.AttrMap{"mode": ops.StringAttr("circular")}
	runCases(t, []opCase{
		{name: "prefill", node: node("TensorScatter", 24, nil, past, update), want: out(f32(ops.Shape{2, 4, 1}, -1, -2, 3, 4, -3, -4, 7, 8))},
		{name: "linear", node: node("TensorScatter", 24, nil, past, update, vec(1, 2)), want: out(f32(ops.Shape{2, 4, 1}, 1, -1, -2, 4, 5, 6, -3, -4))},
		{name: "circular wraps", node: node("TensorScatter", 24, circular, past, update, vec(1, 3)), want: out(f32(ops.Shape{2, 4, 1}, 1, -1, -2, 4, -4, 6, 7, -3))},
		{name: "linear past the end", node: node("TensorScatter", 24, nil, past, update, vec(1, 3)), err: "write_indices[1] is 3: position 4 is outside the cache's 4"},
		{name: "batch axis", node: node("TensorScatter", 24, ops.AttrMap{"axis": ops.IntAttr(0)}, past, update), err: "not the batch axis"},
		{name: "mode", node: node("TensorScatter", 24, ops.AttrMap{"mode": ops.StringAttr("ring")}, past, update), err: `"ring"`},
	})
}
