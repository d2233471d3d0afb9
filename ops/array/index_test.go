package array

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

func TestGather(t *testing.T) {
	axis := func(a int64) ops.AttrMap { return ops.AttrMap{"axis": ops.IntAttr(a)} }
	a := arange(3, 4)
	runCases(t, []opCase{
		// np.take(a, [[2,-1],[0,1]], axis=1)
		{name: "gather/axis1 negative index", node: node("Gather", 13, axis(1), a, i64(ops.Shape{2, 2}, 2, -1, 0, 1)),
			want: out(f32(ops.Shape{3, 2, 2}, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9))},
		{name: "gather/axis0 int32", node: node("Gather", 11, nil, a, i32(ops.Shape{2}, 2, 0)),
			want: out(f32(ops.Shape{2, 4}, 8, 9, 10, 11, 0, 1, 2, 3))},
		{name: "gather/scalar index", node: node("Gather", 1, axis(-1), a, ops.Scalar(int64(1))), want: out(f32(ops.Shape{3}, 1, 5, 9))},
		{name: "gather/non-const indices", node: nonConst(node("Gather", 13, nil, strs(ops.Shape{3}, "a", "b", "c"), vec(2, 2, 0)), 1),
			want: out(strs(ops.Shape{3}, "c", "c", "a"))},
		{name: "gather/empty indices", node: node("Gather", 13, nil, a, i64(ops.Shape{0})), want: out(f32(ops.Shape{0, 4}))},
		{name: "gather/out of range", node: nonConst(node("Gather", 13, axis(1), a, vec(0, 4)), 1),
			err: "index 4 (element 1 of indices) is out of range for axis 1 of size 4", is: ops.ErrInvalid},
		{name: "gather/too negative", node: node("Gather", 13, nil, a, vec(-4)), err: "index -4 (element 0 of indices) is out of range for axis 0 of size 3"},
		{name: "gather/float indices", node: node("Gather", 13, nil, a, f32(ops.Shape{1}, 0)), err: "want int64 or int32"},
		{name: "gather/axis", node: node("Gather", 13, axis(2), a, vec(0)), err: "axis 2 is out of range"},

		// np.take_along_axis(np.arange(9).reshape(3,3), [[1,0,2],[2,2,2]], axis=0), with -1 for 2
		{name: "elements/axis0", node: node("GatherElements", 13, nil, arange(3, 3), i64(ops.Shape{2, 3}, 1, 0, 2, 2, 2, -1)),
			want: out(f32(ops.Shape{2, 3}, 3, 1, 8, 6, 7, 8))},
		{name: "elements/axis1 smaller indices", node: node("GatherElements", 11, axis(1), arange(2, 3), i32(ops.Shape{1, 2}, 2, 0)),
			want: out(f32(ops.Shape{1, 2}, 2, 0))},
		{name: "elements/out of range", node: node("GatherElements", 13, axis(1), arange(2, 3), vec(0, 3).View(ops.Shape{1, 2})),
			err: "index 3 (element 1 of indices) is out of range for axis 1 of size 3"},
		{name: "elements/rank", node: node("GatherElements", 13, nil, arange(2, 3), vec(0)), err: "ranks differ"},
		{name: "elements/too large", node: node("GatherElements", 13, nil, arange(2, 3), i64(ops.Shape{1, 4}, 0, 0, 0, 0)), err: "larger than data"},

		{name: "nd/full tuples", node: node("GatherND", 13, nil, arange(2, 3, 4), i64(ops.Shape{2, 3}, 1, 2, 3, 0, 1, 0)), want: out(f32(ops.Shape{2}, 23, 4))},
		// np.arange(24).reshape(2,3,4)[[1,0],[2,1]]
		{name: "nd/slices", node: node("GatherND", 11, nil, arange(2, 3, 4), i64(ops.Shape{2, 2}, 1, 2, 0, 1)),
			want: out(f32(ops.Shape{2, 4}, 20, 21, 22, 23, 4, 5, 6, 7))},
		{name: "nd/batch dims", node: node("GatherND", 12, ops.AttrMap{"batch_dims": ops.IntAttr(1)}, arange(2, 3, 4), i64(ops.Shape{2, 1, 1}, 2, -3)),
			want: out(f32(ops.Shape{2, 1, 4}, 8, 9, 10, 11, 12, 13, 14, 15))},
		{name: "nd/out of range", node: node("GatherND", 13, nil, arange(2, 3), i64(ops.Shape{1, 2}, 1, 3)), err: "index 3 (element 1 of indices) is out of range for axis 1 of size 3"},
		{name: "nd/tuple too long", node: node("GatherND", 13, nil, arange(2, 3), i64(ops.Shape{1, 3}, 0, 0, 0)), err: "tuples of 3 coordinates"},
		{name: "nd/batch mismatch", node: node("GatherND", 13, ops.AttrMap{"batch_dims": ops.IntAttr(1)}, arange(2, 3), i64(ops.Shape{3, 1}, 0, 0, 0)), err: "batch dimension 0 differs"},
	})
}

func TestScatter(t *testing.T) {
	red := func(r string) ops.AttrMap { return ops.AttrMap{"reduction": ops.StringAttr(r)} }
	zeros := f32(ops.Shape{3, 3}, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	idx := i64(ops.Shape{2, 3}, 1, 0, 2, 0, 2, 1)
	upd := f32(ops.Shape{2, 3}, 1, 1.1, 1.2, 2, 2.1, 2.2)
	// The spec's example 1 (also np: d[idx, [[0,1,2],[0,1,2]]] = upd).
	specOut := f32(ops.Shape{3, 3}, 2, 1.1, 0, 1, 0, 2.2, 0, 2.1, 1.2)
	runCases(t, []opCase{
		{name: "scatter/opset9", node: node("Scatter", 9, nil, zeros, idx, upd), want: out(specOut)},
		{name: "elements/none", node: nonConst(node("ScatterElements", 11, nil, zeros, idx, upd), 1), want: out(specOut)},
		{name: "elements/axis1 negative", node: node("ScatterElements", 13, ops.AttrMap{"axis": ops.IntAttr(1)}, arange(1, 5), vec(1, -2).View(ops.Shape{1, 2}), f32(ops.Shape{1, 2}, 1.1, 2.1)),
			want: out(f32(ops.Shape{1, 5}, 0, 1.1, 2, 2.1, 4))},
		// np.add.at(np.arange(6.).reshape(2,3), ([0,0,1],[1,1,2]), [10,20,30]) with axis=1
		{name: "elements/add duplicates", node: node("ScatterElements", 16, ops.AttrMap{"axis": ops.IntAttr(1), "reduction": ops.StringAttr("add")},
			arange(2, 3), i64(ops.Shape{2, 2}, 1, 1, 2, 0), f32(ops.Shape{2, 2}, 10, 20, 30, 0)),
			want: out(f32(ops.Shape{2, 3}, 0, 31, 2, 3, 4, 35))},
		{name: "elements/max int32", node: node("ScatterElements", 18, red("max"), i32(ops.Shape{3}, 5, 1, 7), vec(0, 2, 0), i32(ops.Shape{3}, 3, 9, 8)),
			want: out(i32(ops.Shape{3}, 8, 1, 9))},
		{name: "elements/min float16", node: node("ScatterElements", 18, red("min"),
			ops.FromSlice(ops.Shape{2}, []ops.Float16Bits{ops.Float16FromFloat32(1), ops.Float16FromFloat32(2)}), vec(1),
			ops.FromSlice(ops.Shape{1}, []ops.Float16Bits{ops.Float16FromFloat32(-0.5)})),
			want: out(ops.FromSlice(ops.Shape{2}, []ops.Float16Bits{ops.Float16FromFloat32(1), ops.Float16FromFloat32(-0.5)}))},
		{name: "elements/max needs opset 18", node: node("ScatterElements", 16, red("max"), zeros, idx, upd), err: "\"reduction\" is \"max\""},
		{name: "elements/reduction on strings", node: node("ScatterElements", 18, red("add"), strs(ops.Shape{1}, "a"), vec(0), strs(ops.Shape{1}, "b")), is: ops.ErrUnsupported},
		{name: "elements/out of range", node: nonConst(node("ScatterElements", 13, nil, zeros, i64(ops.Shape{1, 1}, 3), f32(ops.Shape{1, 1}, 1)), 1),
			err: "index 3 (element 0 of indices) is out of range for axis 0 of size 3"},
		{name: "elements/updates shape", node: node("ScatterElements", 13, nil, zeros, idx, f32(ops.Shape{1}, 0)), err: "updates have shape [1], indices [2,3]"},

		// d = np.arange(6.).reshape(3,2); d[[0,2]] = [[1,1],[2,2]]
		{name: "nd/rows", node: node("ScatterND", 11, nil, arange(3, 2), i64(ops.Shape{2, 1}, 0, -1), f32(ops.Shape{2, 2}, 1, 1, 2, 2)),
			want: out(f32(ops.Shape{3, 2}, 1, 1, 2, 3, 2, 2))},
		// np.multiply.at(np.arange(1., 5.).reshape(2,2), ([1,1],[0,0]), [2,3])
		{name: "nd/mul duplicates", node: node("ScatterND", 16, red("mul"), f32(ops.Shape{2, 2}, 1, 2, 3, 4), i64(ops.Shape{2, 2}, 1, 0, 1, 0), f32(ops.Shape{2}, 2, 3)),
			want: out(f32(ops.Shape{2, 2}, 1, 2, 18, 4))},
		{name: "nd/bool", node: node("ScatterND", 18, nil, bools(ops.Shape{3}, false, false, false), i64(ops.Shape{1, 1}, 1), bools(ops.Shape{1}, true)),
			want: out(bools(ops.Shape{3}, false, true, false))},
		{name: "nd/out of range", node: node("ScatterND", 13, nil, arange(3, 2), i64(ops.Shape{1, 2}, 0, 2), f32(ops.Shape{1}, 1)),
			err: "index 2 (element 1 of indices) is out of range for axis 1 of size 2"},
		{name: "nd/updates shape", node: node("ScatterND", 13, nil, arange(3, 2), i64(ops.Shape{1, 1}, 0), f32(ops.Shape{1, 3}, 1, 2, 3)), err: "want indices.shape[:-1] ++ data.shape[k:] = [1,2]"},
		{name: "nd/dtype", node: node("ScatterND", 13, nil, arange(3), i64(ops.Shape{1, 1}, 0), vec(1)), err: "updates have dtype int64"},
	})
}

func TestSelection(t *testing.T) {
	vals := f32(ops.Shape{2}, 0, 5)
	depth := ops.Scalar(int64(4))
	ind := i64(ops.Shape{2, 2}, 0, 3, -1, 5)
	runCases(t, []opCase{
		{name: "onehot/axis0 negative and out of range", node: node("OneHot", 11, ops.AttrMap{"axis": ops.IntAttr(0)}, ind, depth, vals),
			want: out(f32(ops.Shape{4, 2, 2}, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 5, 0))},
		{name: "onehot/opset9 negative is off", node: node("OneHot", 9, ops.AttrMap{"axis": ops.IntAttr(0)}, ind, depth, vals),
			want: out(f32(ops.Shape{4, 2, 2}, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0))},
		{name: "onehot/default axis float indices", node: node("OneHot", 11, nil, f32(ops.Shape{2}, 1.7, 0), f32(ops.Shape{1}, 3), vec(-1, 1)),
			want: out(i64(ops.Shape{2, 3}, -1, 1, -1, 1, -1, -1))},
		{name: "onehot/values shape", node: node("OneHot", 11, nil, vec(0), depth, vec(1, 2, 3)), err: "want [2]"},
		{name: "onehot/depth", node: node("OneHot", 11, nil, vec(0), ops.Scalar(int64(0)), vals), err: "depth is 0"},
		{name: "onehot/depth not const", node: nonConst(node("OneHot", 11, nil, vec(0), depth, vals), 1), is: ops.ErrDynamicShape},

		{name: "nonzero", node: node("NonZero", 13, nil, i32(ops.Shape{2, 3}, 1, 0, 2, 0, 0, 3)), want: out(i64(ops.Shape{2, 3}, 0, 0, 1, 0, 2, 2))},
		{name: "nonzero/negative zero and NaN", node: node("NonZero", 9, nil, f32(ops.Shape{3}, float32(negZero()), 0, float32(nan()))), want: out(i64(ops.Shape{1, 1}, 2))},
		{name: "nonzero/float16", node: node("NonZero", 13, nil, ops.FromSlice(ops.Shape{2}, []ops.Float16Bits{0x8000, 0x3c00})), want: out(i64(ops.Shape{1, 1}, 1))},
		{name: "nonzero/bool none", node: node("NonZero", 13, nil, bools(ops.Shape{2}, false, false)), want: out(i64(ops.Shape{1, 0}))},
		{name: "nonzero/not const", node: nonConst(node("NonZero", 13, nil, vec(1)), 0), is: ops.ErrDynamicShape},

		{name: "compress/axis0", node: node("Compress", 11, ops.AttrMap{"axis": ops.IntAttr(0)}, arange(3, 2), bools(ops.Shape{3}, false, true, true)),
			want: out(f32(ops.Shape{2, 2}, 2, 3, 4, 5))},
		{name: "compress/flattened short condition", node: node("Compress", 9, nil, arange(2, 3), bools(ops.Shape{4}, true, false, true, true)),
			want: out(f32(ops.Shape{3}, 0, 2, 3))},
		{name: "compress/negative axis", node: node("Compress", 11, ops.AttrMap{"axis": ops.IntAttr(-1)}, arange(2, 3), bools(ops.Shape{2}, true, false)),
			want: out(f32(ops.Shape{2, 1}, 0, 3))},
		{name: "compress/condition dtype", node: node("Compress", 11, nil, arange(2), vec(1)), err: "want a 1-D bool tensor"},
		{name: "compress/not const", node: nonConst(node("Compress", 11, nil, arange(2), bools(ops.Shape{1}, true)), 1), is: ops.ErrDynamicShape},
	})
}

func TestTrilu(t *testing.T) {
	k := func(v int64) *ops.Tensor { return ops.Scalar(v) }
	lower := ops.AttrMap{"upper": ops.IntAttr(0)}
	runCases(t, []opCase{
		// np.triu(np.arange(24).reshape(2,3,4), 1)
		{name: "upper k=1 batched", node: node("Trilu", 14, nil, arange(2, 3, 4), k(1)),
			want: out(f32(ops.Shape{2, 3, 4}, 0, 1, 2, 3, 0, 0, 6, 7, 0, 0, 0, 11, 0, 13, 14, 15, 0, 0, 18, 19, 0, 0, 0, 23))},
		// np.tril(np.arange(15).reshape(3,5), -1)
		{name: "lower k=-1", node: node("Trilu", 14, lower, arange(3, 5), k(-1)),
			want: out(f32(ops.Shape{3, 5}, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 10, 11, 0, 0, 0))},
		// np.tril(np.arange(12).reshape(4,3))
		{name: "lower default k", node: node("Trilu", 14, lower, arange(4, 3)), want: out(f32(ops.Shape{4, 3}, 0, 0, 0, 3, 4, 0, 6, 7, 8, 9, 10, 11))},
		{name: "upper k below everything", node: node("Trilu", 14, nil, arange(3, 4), k(-5)), want: out(arange(3, 4))},
		{name: "upper huge k", node: nonConst(node("Trilu", 14, nil, vec(1, 2, 3, 4).View(ops.Shape{2, 2}), k(1<<62)), 1), want: out(i64(ops.Shape{2, 2}, 0, 0, 0, 0))},
		{name: "lower huge negative k", node: node("Trilu", 14, lower, bools(ops.Shape{1, 2}, true, true), k(-1<<62)), want: out(bools(ops.Shape{1, 2}, false, false))},
		{name: "rank", node: node("Trilu", 14, nil, arange(3)), err: "want rank 2 or more"},
		{name: "k dtype", node: node("Trilu", 14, nil, arange(2, 2), i32(ops.Shape{}, 1)), err: "want an int64 scalar"},
	})
}
