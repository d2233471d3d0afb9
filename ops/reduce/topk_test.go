package reduce

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

func TestTopK(t *testing.T) {
	seq := f32(sh(3, 4), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
	tk := func(name string, opset int, attrs ops.AttrMap, in []*ops.Tensor, values, indices *ops.Tensor) opCase {
		return opCase{Name: name, Op: "TopK", Opset: opset, Attrs: attrs, Inputs: in, Want: []*ops.Tensor{values, indices}}
	}
	k := func(v int64) *ops.Tensor { return i64(sh(1), v) }
	smallest := ops.AttrMap{"largest": ops.IntAttr(0)}
	ties := f32(sh(5), 3, 1, 3, 2, 1)
	cases := []opCase{
		tk("default_last_axis", 24, nil, []*ops.Tensor{seq, k(3)},
			f32(sh(3, 3), 3, 2, 1, 7, 6, 5, 11, 10, 9), i64(sh(3, 3), 3, 2, 1, 3, 2, 1, 3, 2, 1)),
		tk("k_attribute", 1, ops.AttrMap{"k": ops.IntAttr(3)}, []*ops.Tensor{seq},
			f32(sh(3, 3), 3, 2, 1, 7, 6, 5, 11, 10, 9), i64(sh(3, 3), 3, 2, 1, 3, 2, 1, 3, 2, 1)),
		tk("k_input_opset10", 10, ops.AttrMap{"axis": ops.IntAttr(1)}, []*ops.Tensor{seq, k(1)},
			f32(sh(3, 1), 3, 7, 11), i64(sh(3, 1), 3, 3, 3)),
		tk("smallest", 11, smallest, []*ops.Tensor{seq, k(2)}, f32(sh(3, 2), 0, 1, 4, 5, 8, 9), i64(sh(3, 2), 0, 1, 0, 1, 0, 1)),
		tk("ties_lower_index_first", 11, nil, []*ops.Tensor{ties, k(3)}, f32(sh(3), 3, 3, 2), i64(sh(3), 0, 2, 3)),
		tk("ties_smallest", 11, smallest, []*ops.Tensor{ties, k(3)}, f32(sh(3), 1, 1, 2), i64(sh(3), 1, 4, 3)),
		tk("all_equal", 11, nil, []*ops.Tensor{f32(sh(4), 2, 2, 2, 2), k(4)}, f32(sh(4), 2, 2, 2, 2), i64(sh(4), 0, 1, 2, 3)),
		// pat(3,4) along axis 0: each column keeps its two largest.
		tk("axis0_strided", 11, ops.AttrMap{"axis": ops.IntAttr(0)}, []*ops.Tensor{pat(ops.Float32, 3, 4), k(2)},
			f32(sh(2, 4), 4, 5, 2, 3, -1, 0, 1, -2), i64(sh(2, 4), 1, 0, 2, 1, 2, 1, 0, 2)),
		tk("negative_axis", 11, ops.AttrMap{"axis": ops.IntAttr(-2)}, []*ops.Tensor{pat(ops.Float32, 3, 4), k(2)},
			f32(sh(2, 4), 4, 5, 2, 3, -1, 0, 1, -2), i64(sh(2, 4), 1, 0, 2, 1, 2, 1, 0, 2)),
		tk("nan_is_largest", 11, nil, []*ops.Tensor{f32(sh(3), 1, nan, 3), k(2)}, f32(sh(2), nan, 3), i64(sh(2), 1, 2)),
		tk("k_zero", 11, nil, []*ops.Tensor{seq, k(0)}, f32(sh(3, 0)), i64(sh(3, 0))),
		tk("k_is_n", 11, smallest, []*ops.Tensor{f32(sh(5), 5, 3, 4, 1, 2), k(5)}, f32(sh(5), 1, 2, 3, 4, 5), i64(sh(5), 3, 4, 1, 2, 0)),
		tk("uint64", 24, nil, []*ops.Tensor{tensor(ops.Uint64, sh(4), []float64{1, 1 << 40, 7, 3}), k(2)},
			tensor(ops.Uint64, sh(2), []float64{1 << 40, 7}), i64(sh(2), 1, 2)),
		tk("int32", 11, nil, []*ops.Tensor{pat(ops.Int32, 3, 4), k(1)}, tensor(ops.Int32, sh(3, 1), []float64{5, 4, 2}), i64(sh(3, 1), 1, 0, 2)),
		tk("float16", 11, nil, []*ops.Tensor{pat(ops.Float16, 3, 4), k(1)}, tensor(ops.Float16, sh(3, 1), []float64{5, 4, 2}), i64(sh(3, 1), 1, 0, 2)),
		tk("bfloat16", 24, nil, []*ops.Tensor{pat(ops.BFloat16, 3, 4), k(1)}, tensor(ops.BFloat16, sh(3, 1), []float64{5, 4, 2}), i64(sh(3, 1), 1, 0, 2)),
		tk("float64", 24, nil, []*ops.Tensor{pat(ops.Float64, 3, 4), k(1)}, tensor(ops.Float64, sh(3, 1), []float64{5, 4, 2}), i64(sh(3, 1), 1, 0, 2)),
		{Name: "k_too_large", Op: "TopK", Opset: 11, Inputs: []*ops.Tensor{seq, k(5)}, Want: []*ops.Tensor{nil, nil},
			ErrSub: "k=5 is outside [0, 4]", ErrIs: ops.ErrInvalid},
		{Name: "k_negative", Op: "TopK", Opset: 11, Inputs: []*ops.Tensor{seq, k(-1)}, Want: []*ops.Tensor{nil, nil},
			ErrSub: "k=-1 is outside"},
		{Name: "k_two_elements", Op: "TopK", Opset: 11, Inputs: []*ops.Tensor{seq, i64(sh(2), 1, 2)}, Want: []*ops.Tensor{nil, nil},
			ErrSub: "K has shape [2]"},
		{Name: "k_runtime", Op: "TopK", Opset: 11, Inputs: []*ops.Tensor{seq, k(1)}, NonConst: []int{1}, Want: []*ops.Tensor{nil, nil},
			ErrSub: "K is a runtime input", ErrIs: ops.ErrDynamicShape},
		{Name: "k_attr_missing", Op: "TopK", Opset: 1, Inputs: []*ops.Tensor{seq}, Want: []*ops.Tensor{nil, nil},
			ErrSub: `"k" is required`},
		{Name: "int_before_11", Op: "TopK", Opset: 10, Inputs: []*ops.Tensor{pat(ops.Int32, 3), k(1)}, Want: []*ops.Tensor{nil, nil},
			ErrSub: "dtype int32, opset 10"},
		{Name: "one_output", Op: "TopK", Opset: 11, Inputs: []*ops.Tensor{seq, k(1)}, Want: []*ops.Tensor{nil},
			ErrSub: "2 outputs"},
	}
	runCases(t, cases)
}

func TestTopKRunAllocatesNothing(t *testing.T) {
	for _, x := range []*ops.Tensor{pat(ops.Float32, 3, 8), pat(ops.Float16, 3, 8), pat(ops.Int64, 3, 8)} {
		kt := i64(sh(1), 3)
		k, out, ctx := prepareNode(t, "TopK", 11, nil, 2, x, kt)
		assertNoAllocs(t, x.DType().String(), k, ctx, []*ops.Tensor{x, kt}, out)
	}
}
