package array

import (
	"math"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

func TestTransposeConcatSplit(t *testing.T) {
	perm := func(p ...int64) ops.AttrMap { return ops.AttrMap{"perm": ops.IntsAttr(p...)} }
	axis := func(a int64) ops.AttrMap { return ops.AttrMap{"axis": ops.IntAttr(a)} }
	runCases(t, []opCase{
		{name: "transpose/perm", node: node("Transpose", 13, perm(1, 2, 0), arange(2, 3, 4)),
			want: out(f32(ops.Shape{3, 4, 2}, 0, 12, 1, 13, 2, 14, 3, 15, 4, 16, 5, 17, 6, 18, 7, 19, 8, 20, 9, 21, 10, 22, 11, 23))},
		{name: "transpose/default reverses", node: node("Transpose", 1, nil, arange(2, 3, 4)),
			want: out(f32(ops.Shape{4, 3, 2}, 0, 12, 4, 16, 8, 20, 1, 13, 5, 17, 9, 21, 2, 14, 6, 18, 10, 22, 3, 15, 7, 19, 11, 23))},
		{name: "transpose/unit dims", node: node("Transpose", 21, perm(3, 0, 2, 1), arange(2, 1, 3, 2)),
			want: out(f32(ops.Shape{2, 2, 3, 1}, 0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11))},
		{name: "transpose/int16", node: node("Transpose", 13, nil, arangeOf[int16](2, 2)),
			want: out(ops.FromSlice(ops.Shape{2, 2}, []int16{0, 2, 1, 3}))},
		{name: "transpose/strings", node: node("Transpose", 13, nil, strs(ops.Shape{1, 2}, "x", "y")), want: out(strs(ops.Shape{2, 1}, "x", "y"))},
		{name: "transpose/complex128", node: node("Transpose", 13, nil, ops.FromSlice(ops.Shape{2, 1}, []complex128{1 + 2i, 3})),
			want: out(ops.FromSlice(ops.Shape{1, 2}, []complex128{1 + 2i, 3}))},
		{name: "transpose/empty", node: node("Transpose", 13, nil, f32(ops.Shape{0, 2})), want: out(f32(ops.Shape{2, 0}))},
		{name: "transpose/bad perm", node: node("Transpose", 13, perm(0, 0), arange(2, 2)), err: "not a permutation"},
		{name: "transpose/perm length", node: node("Transpose", 13, perm(0), arange(2, 2)), err: "perm [0] has 1 entries for an input of rank 2"},

		{name: "concat/negative axis", node: node("Concat", 13, axis(-1), arange(2, 3), f32(ops.Shape{2, 2}, 100, 101, 102, 103)),
			want: out(f32(ops.Shape{2, 5}, 0, 1, 2, 100, 101, 3, 4, 5, 102, 103))},
		{name: "concat/axis0 with empty", node: node("Concat", 11, axis(0), arange(1, 2), f32(ops.Shape{0, 2}), f32(ops.Shape{1, 2}, 7, 8)),
			want: out(f32(ops.Shape{2, 2}, 0, 1, 7, 8))},
		{name: "concat/opset1 default axis 1", node: node("Concat", 1, nil, arange(2, 1), arange(2, 1)), want: out(f32(ops.Shape{2, 2}, 0, 0, 1, 1))},
		{name: "concat/bool", node: node("Concat", 13, axis(0), bools(ops.Shape{1}, true), bools(ops.Shape{2}, false, true)),
			want: out(bools(ops.Shape{3}, true, false, true))},
		{name: "concat/shape mismatch", node: node("Concat", 13, axis(1), arange(2, 3), arange(3, 3)),
			err: "input 1 has shape [3,3], input 0 has shape [2,3]: they differ in dimension 0"},
		{name: "concat/rank mismatch", node: node("Concat", 13, axis(0), arange(2, 3), arange(3)), err: "rank 1"},
		{name: "concat/dtype mismatch", node: node("Concat", 13, axis(0), arange(2), vec(1)), err: "dtype int64"},
		{name: "concat/axis required", node: node("Concat", 4, nil, arange(2)), err: "\"axis\" is required"},
		{name: "concat/axis out of range", node: node("Concat", 13, axis(2), arange(2, 2)), err: "axis 2 is out of range"},
	})
	split := func(opset int, attrs ops.AttrMap, outputs int, in ...*ops.Tensor) opCase {
		n := node("Split", opset, attrs, in...)
		n.NumOutputs = outputs
		return opCase{node: n}
	}
	cases := []opCase{}
	add := func(name string, c opCase, want []*ops.Tensor, err string) {
		c.name, c.want, c.err = name, want, err
		cases = append(cases, c)
	}
	a := arange(2, 6)
	add("split/equal by outputs", split(13, ops.AttrMap{"axis": ops.IntAttr(1)}, 3, a), out(
		f32(ops.Shape{2, 2}, 0, 1, 6, 7), f32(ops.Shape{2, 2}, 2, 3, 8, 9), f32(ops.Shape{2, 2}, 4, 5, 10, 11)), "")
	add("split/input sizes", split(13, ops.AttrMap{"axis": ops.IntAttr(-1)}, 2, a, vec(1, 5)), out(
		f32(ops.Shape{2, 1}, 0, 6), f32(ops.Shape{2, 5}, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11)), "")
	add("split/attr sizes", split(11, ops.AttrMap{"split": ops.IntsAttr(1, 1)}, 2, a), out(
		f32(ops.Shape{1, 6}, 0, 1, 2, 3, 4, 5), f32(ops.Shape{1, 6}, 6, 7, 8, 9, 10, 11)), "")
	add("split/opset1 input sizes", split(1, ops.AttrMap{"axis": ops.IntAttr(1)}, 2, a, vec(4, 2)), out(
		f32(ops.Shape{2, 4}, 0, 1, 2, 3, 6, 7, 8, 9), f32(ops.Shape{2, 2}, 4, 5, 10, 11)), "")
	add("split/num_outputs uneven", split(18, ops.AttrMap{"axis": ops.IntAttr(1), "num_outputs": ops.IntAttr(4)}, 4, arange(1, 7)), out(
		f32(ops.Shape{1, 2}, 0, 1), f32(ops.Shape{1, 2}, 2, 3), f32(ops.Shape{1, 2}, 4, 5), f32(ops.Shape{1, 1}, 6)), "")
	add("split/zero sizes", split(13, nil, 3, arange(3), vec(0, 3, 0)), out(f32(ops.Shape{0}), arange(3), f32(ops.Shape{0})), "")
	add("split/uneven without sizes", split(13, ops.AttrMap{"axis": ops.IntAttr(1)}, 4, a), nil, "cannot split a dimension of 6 evenly into 4 outputs")
	add("split/num_outputs too many", split(18, ops.AttrMap{"num_outputs": ops.IntAttr(4)}, 4, arange(5)), nil, "cannot split a dimension of 5 into 4 pieces")
	add("split/num_outputs disagrees", split(18, ops.AttrMap{"num_outputs": ops.IntAttr(3)}, 2, arange(6)), nil, "but the node has 2 outputs")
	add("split/sum mismatch", split(13, nil, 2, arange(6), vec(2, 3)), nil, "split [2 3] sums to 5, but the dimension is 6")
	add("split/count mismatch", split(13, nil, 3, arange(6), vec(2, 4)), nil, "has 2 entries but the node has 3 outputs")
	add("split/negative", split(13, nil, 2, arange(6), vec(7, -1)), nil, "negative size")
	add("split/both forms", split(18, ops.AttrMap{"num_outputs": ops.IntAttr(2)}, 2, arange(6), vec(3, 3)), nil, "both the split input and the num_outputs")
	runCases(t, cases)
}

func TestSlice(t *testing.T) {
	const maxI, minI = math.MaxInt64, math.MinInt64
	a := arange(4, 5)
	runCases(t, []opCase{
		// np.arange(20).reshape(4,5)[3:0:-2, -4:100:2]
		{name: "negative step and clamping", node: node("Slice", 13, nil, a, vec(3, -4), vec(0, 100), vec(0, 1), vec(-2, 2)),
			want: out(f32(ops.Shape{2, 2}, 16, 18, 6, 8))},
		// np.arange(12).reshape(3,4)[:, ::-1]
		{name: "reverse with INT_MIN end", node: node("Slice", 13, nil, arange(3, 4), vec(-1), vec(minI), vec(1), vec(-1)),
			want: out(f32(ops.Shape{3, 4}, 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8))},
		{name: "INT_MAX end, default axes and steps", node: node("Slice", 10, nil, arange(3, 4), vec(-100, 1), vec(2, maxI)),
			want: out(f32(ops.Shape{2, 3}, 1, 2, 3, 5, 6, 7))},
		{name: "int32 starts, negative axes", node: node("Slice", 11, nil, arange(3, 4), i32(ops.Shape{1}, 1), i32(ops.Shape{1}, 3), i32(ops.Shape{1}, -1)),
			want: out(f32(ops.Shape{3, 2}, 1, 2, 5, 6, 9, 10))},
		{name: "start past end is empty", node: node("Slice", 13, nil, arange(3, 4), vec(5), vec(10), vec(1)), want: out(f32(ops.Shape{3, 0}))},
		{name: "huge step", node: node("Slice", 13, nil, arange(5), vec(1), vec(maxI), vec(0), vec(maxI)), want: out(f32(ops.Shape{1}, 1))},
		{name: "opset1 attributes", node: node("Slice", 1, ops.AttrMap{"starts": ops.IntsAttr(1), "ends": ops.IntsAttr(-1), "axes": ops.IntsAttr(1)}, arange(2, 4)),
			want: out(f32(ops.Shape{2, 2}, 1, 2, 5, 6))},
		{name: "uint8 data", node: node("Slice", 13, nil, arangeOf[uint8](6), vec(4), vec(0), vec(0), vec(-3)),
			want: out(ops.FromSlice(ops.Shape{2}, []uint8{4, 1}))},
		{name: "zero step", node: node("Slice", 13, nil, a, vec(0), vec(1), vec(0), vec(0)), err: "steps[0] is 0"},
		{name: "repeated axes", node: node("Slice", 13, nil, a, vec(0, 0), vec(1, 1), vec(0, -2)), err: "twice"},
		{name: "length mismatch", node: node("Slice", 13, nil, a, vec(0, 0), vec(1)), err: "differ in length"},
		{name: "axis out of range", node: node("Slice", 13, nil, a, vec(0), vec(1), vec(2)), err: "axes[0] = 2 is out of range"},
		{name: "starts not const", node: nonConst(node("Slice", 13, nil, a, vec(0), vec(1)), 1), is: ops.ErrDynamicShape},
		{name: "opset1 missing ends", node: node("Slice", 1, ops.AttrMap{"starts": ops.IntsAttr(1)}, a), err: "required"},
	})
}

func TestPad(t *testing.T) {
	mode := func(m string) ops.AttrMap { return ops.AttrMap{"mode": ops.StringAttr(m)} }
	a := arange(2, 3)
	runCases(t, []opCase{
		// np.pad(a, ((1,0),(0,2)), constant_values=7)
		{name: "constant value input", node: node("Pad", 11, nil, a, vec(1, 0, 0, 2), f32(ops.Shape{}, 7)),
			want: out(f32(ops.Shape{3, 5}, 7, 7, 7, 7, 7, 0, 1, 2, 7, 7, 3, 4, 5, 7, 7))},
		{name: "constant default zero", node: node("Pad", 13, nil, a, vec(0, 1, 0, 0)), want: out(f32(ops.Shape{2, 4}, 0, 0, 1, 2, 0, 3, 4, 5))},
		// np.pad(a, ((1,0),(2,1)), mode='reflect')
		{name: "reflect", node: node("Pad", 13, mode("reflect"), a, vec(1, 2, 0, 1)),
			want: out(f32(ops.Shape{3, 6}, 5, 4, 3, 4, 5, 4, 2, 1, 0, 1, 2, 1, 5, 4, 3, 4, 5, 4))},
		// np.pad(np.arange(3)[None], ((0,0),(5,4)), mode='reflect'): pads wider than the axis
		{name: "reflect wide", node: node("Pad", 13, mode("reflect"), arange(1, 3), vec(0, 5, 0, 4)),
			want: out(f32(ops.Shape{1, 12}, 1, 0, 1, 2, 1, 0, 1, 2, 1, 0, 1, 2))},
		// np.pad(a, ((1,2),(0,2)), mode='edge')
		{name: "edge", node: node("Pad", 11, mode("edge"), a, vec(1, 0, 2, 2)),
			want: out(f32(ops.Shape{5, 5}, 0, 1, 2, 2, 2, 0, 1, 2, 2, 2, 3, 4, 5, 5, 5, 3, 4, 5, 5, 5, 3, 4, 5, 5, 5))},
		// np.pad(a, ((2,1),(1,3)), mode='wrap')
		{name: "wrap", node: node("Pad", 19, mode("wrap"), a, vec(2, 1, 1, 3)),
			want: out(f32(ops.Shape{5, 7}, 2, 0, 1, 2, 0, 1, 2, 5, 3, 4, 5, 3, 4, 5, 2, 0, 1, 2, 0, 1, 2, 5, 3, 4, 5, 3, 4, 5, 2, 0, 1, 2, 0, 1, 2))},
		// np.pad(np.arange(12).reshape(3,4)[1:, :3], ((0,0),(2,0)), mode='reflect'): crop first, then pad
		{name: "negative pads crop before reflecting", node: node("Pad", 18, mode("reflect"), arange(3, 4), vec(-1, 2, 0, -1)),
			want: out(f32(ops.Shape{2, 5}, 6, 5, 4, 5, 6, 10, 9, 8, 9, 10))},
		{name: "axes input", node: node("Pad", 18, nil, a, vec(1, 0), f32(ops.Shape{1}, -1), vec(-1)),
			want: out(f32(ops.Shape{2, 4}, -1, 0, 1, 2, -1, 3, 4, 5))},
		{name: "axes input absent constant", node: node("Pad", 18, nil, a, vec(0, 0, 1, 0), nil, nil), want: out(f32(ops.Shape{3, 3}, 0, 1, 2, 3, 4, 5, 0, 0, 0))},
		{name: "opset1 paddings", node: node("Pad", 1, ops.AttrMap{"paddings": ops.IntsAttr(0, 2, 0, 0)}, a),
			want: out(f32(ops.Shape{2, 5}, 0, 0, 0, 1, 2, 0, 0, 3, 4, 5))},
		{name: "opset1 paddings required", node: node("Pad", 1, nil, a), err: "\"paddings\" is required"},
		{name: "opset2 attributes", node: node("Pad", 2, ops.AttrMap{"pads": ops.IntsAttr(0, 1, 0, 0), "value": ops.FloatAttr(9)}, a),
			want: out(f32(ops.Shape{2, 4}, 9, 0, 1, 2, 9, 3, 4, 5))},
		{name: "opset2 int value", node: node("Pad", 2, ops.AttrMap{"pads": ops.IntsAttr(1, 0), "value": ops.FloatAttr(4)}, vec(1, 2)), want: out(vec(4, 1, 2))},
		{name: "constant value non-const", node: nonConst(node("Pad", 11, nil, a, vec(0, 0, 0, 1), f32(ops.Shape{1}, 3)), 2),
			want: out(f32(ops.Shape{2, 4}, 0, 1, 2, 3, 3, 4, 5, 3))},
		{name: "string constant", node: node("Pad", 11, nil, strs(ops.Shape{1}, "a"), vec(1, 1), strs(ops.Shape{}, "-")), want: out(strs(ops.Shape{3}, "-", "a", "-"))},
		{name: "crop only", node: node("Pad", 13, nil, a, vec(0, -1, -1, 0)), want: out(f32(ops.Shape{1, 2}, 1, 2))},
		{name: "pads length", node: node("Pad", 13, nil, a, vec(1, 1)), err: "pads [1 1] has 2 entries, want 2×2"},
		{name: "negative size", node: node("Pad", 13, nil, a, vec(0, -2, 0, -2)), err: "leave a negative size"},
		{name: "reflect empty axis", node: node("Pad", 13, mode("reflect"), f32(ops.Shape{0}), vec(1, 1)), err: "no elements left"},
		{name: "wrap before opset 19", node: node("Pad", 18, mode("wrap"), a, vec(0, 0, 0, 0)), err: "\"mode\" is \"wrap\""},
		{name: "unknown mode", node: node("Pad", 19, mode("mirror"), a, vec(0, 0, 0, 0)), err: "\"mode\""},
		{name: "value dtype", node: node("Pad", 11, nil, a, vec(0, 0, 0, 0), vec(1)), err: "constant_value has dtype int64"},
		{name: "pads not const", node: nonConst(node("Pad", 11, nil, a, vec(0, 0, 0, 0)), 1), is: ops.ErrDynamicShape},
	})
}

func TestExpandTile(t *testing.T) {
	runCases(t, []opCase{
		// np.broadcast_to(np.arange(3).reshape(3,1), (2,3,4))
		{name: "expand/grow", node: node("Expand", 13, nil, arange(3, 1), vec(2, 1, 4)),
			want: out(f32(ops.Shape{2, 3, 4}, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2))},
		{name: "expand/smaller shape keeps dims", node: node("Expand", 8, nil, arange(2, 3), vec(3)), want: out(arange(2, 3))},
		{name: "expand/scalar", node: node("Expand", 13, nil, ops.Scalar(int64(7)), vec(2)), want: out(vec(7, 7))},
		{name: "expand/bool", node: node("Expand", 13, nil, bools(ops.Shape{2}, true, false), vec(2, 2)), want: out(bools(ops.Shape{2, 2}, true, false, true, false))},
		{name: "expand/mismatch", node: node("Expand", 13, nil, arange(3), vec(4)), err: "cannot expand shape [3] to [4]"},
		{name: "expand/not const", node: nonConst(node("Expand", 13, nil, arange(3), vec(3)), 1), is: ops.ErrDynamicShape},
		// np.tile(np.arange(6).reshape(2,3), (2,3))
		{name: "tile", node: node("Tile", 13, nil, arange(2, 3), vec(2, 3)), want: out(f32(ops.Shape{4, 9},
			0, 1, 2, 0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5, 3, 4, 5, 0, 1, 2, 0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5, 3, 4, 5))},
		{name: "tile/zero", node: node("Tile", 6, nil, arange(2, 3), vec(0, 1)), want: out(f32(ops.Shape{0, 3}))},
		{name: "tile/int32", node: node("Tile", 13, nil, i32(ops.Shape{2}, 1, 2), vec(2)), want: out(i32(ops.Shape{4}, 1, 2, 1, 2))},
		{name: "tile/opset1 axis", node: node("Tile", 1, nil, arange(2, 2), ops.Scalar(int64(2)), ops.Scalar(int64(1))),
			want: out(f32(ops.Shape{2, 4}, 0, 1, 0, 1, 2, 3, 2, 3))},
		{name: "tile/length", node: node("Tile", 13, nil, arange(2, 3), vec(2)), err: "repeats [2] has 1 entries for an input of rank 2"},
		{name: "tile/negative", node: node("Tile", 13, nil, arange(2), vec(-1)), err: "invalid count -1"},
	})
}

func TestDepthToSpace(t *testing.T) {
	bs := func(b int64, mode string) ops.AttrMap {
		m := ops.AttrMap{"blocksize": ops.IntAttr(b)}
		if mode != "" {
			m["mode"] = ops.StringAttr(mode)
		}
		return m
	}
	runCases(t, []opCase{
		// reshape(1,2,2,2,2,3).transpose(0,3,4,1,5,2).reshape(1,2,4,6)
		{name: "DCR", node: node("DepthToSpace", 13, bs(2, ""), arange(1, 8, 2, 3)), want: out(f32(ops.Shape{1, 2, 4, 6},
			0, 12, 1, 13, 2, 14, 24, 36, 25, 37, 26, 38, 3, 15, 4, 16, 5, 17, 27, 39, 28, 40, 29, 41, 6, 18, 7, 19, 8, 20, 30, 42, 31, 43, 32, 44, 9, 21, 10, 22, 11, 23, 33, 45, 34, 46, 35, 47))},
		// reshape(1,2,2,2,2,3).transpose(0,1,4,2,5,3).reshape(1,2,4,6)
		{name: "CRD", node: node("DepthToSpace", 11, bs(2, "CRD"), arange(1, 8, 2, 3)), want: out(f32(ops.Shape{1, 2, 4, 6},
			0, 6, 1, 7, 2, 8, 12, 18, 13, 19, 14, 20, 3, 9, 4, 10, 5, 11, 15, 21, 16, 22, 17, 23, 24, 30, 25, 31, 26, 32, 36, 42, 37, 43, 38, 44, 27, 33, 28, 34, 29, 35, 39, 45, 40, 46, 41, 47))},
		// reshape(1,2,2,2,3,2).transpose(0,3,5,1,2,4).reshape(1,8,2,3)
		{name: "SpaceToDepth", node: node("SpaceToDepth", 13, bs(2, ""), arange(1, 2, 4, 6)), want: out(f32(ops.Shape{1, 8, 2, 3},
			0, 2, 4, 12, 14, 16, 24, 26, 28, 36, 38, 40, 1, 3, 5, 13, 15, 17, 25, 27, 29, 37, 39, 41, 6, 8, 10, 18, 20, 22, 30, 32, 34, 42, 44, 46, 7, 9, 11, 19, 21, 23, 31, 33, 35, 43, 45, 47))},
		{name: "channels", node: node("DepthToSpace", 13, bs(2, ""), arange(1, 6, 1, 1)), err: "C=6 is not a multiple of blocksize²=4"},
		{name: "mode", node: node("DepthToSpace", 13, bs(2, "XYZ"), arange(1, 4, 1, 1)), err: "\"mode\""},
		{name: "rank", node: node("SpaceToDepth", 13, bs(2, ""), arange(4, 4)), err: "want 4-D"},
		{name: "divisible", node: node("SpaceToDepth", 13, bs(2, ""), arange(1, 1, 3, 4)), err: "H=3 and W=4 must be multiples of blocksize 2"},
		{name: "blocksize required", node: node("SpaceToDepth", 1, nil, arange(1, 1, 2, 2)), err: "\"blocksize\" is required"},
	})
}
