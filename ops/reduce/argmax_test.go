package reduce

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// x = pat(3,4) = [[-2,5,1,-3],[4,0,-4,3],[-1,-5,2,-2]]; expected indices from numpy.argmax/argmin.
func TestArgMaxMin(t *testing.T) {
	x := pat(ops.Float32, 3, 4)
	ties := f32(sh(2, 4), 1, 3, 3, 0, 2, 0, 1, 0)
	a := func(name, op string, opset int, attrs ops.AttrMap, in *ops.Tensor, want *ops.Tensor) opCase {
		return opCase{Name: name, Op: op, Opset: opset, Attrs: attrs, Inputs: []*ops.Tensor{in}, Want: []*ops.Tensor{want}}
	}
	axis := func(v int64, more ...any) ops.AttrMap {
		m := ops.AttrMap{"axis": ops.IntAttr(v)}
		for i := 0; i < len(more); i += 2 {
			m[more[i].(string)] = ops.IntAttr(more[i+1].(int64))
		}
		return m
	}
	cases := []opCase{
		a("argmax_axis0_default", "ArgMax", 13, nil, x, i64(sh(1, 4), 1, 0, 2, 1)),
		a("argmax_axis1_nokeep", "ArgMax", 13, axis(1, "keepdims", int64(0)), x, i64(sh(3), 1, 0, 2)),
		a("argmin_axis1", "ArgMin", 11, axis(1), x, i64(sh(3, 1), 3, 2, 1)),
		a("argmin_negative_axis", "ArgMin", 13, axis(-1), x, i64(sh(3, 1), 3, 2, 1)),
		a("argmax_ties_first", "ArgMax", 13, axis(1), ties, i64(sh(2, 1), 1, 0)),
		a("argmax_ties_last", "ArgMax", 12, axis(1, "select_last_index", int64(1)), ties, i64(sh(2, 1), 2, 0)),
		a("argmin_ties_first", "ArgMin", 13, axis(1), ties, i64(sh(2, 1), 3, 1)),
		a("argmin_ties_last", "ArgMin", 13, axis(1, "select_last_index", int64(1)), ties, i64(sh(2, 1), 3, 3)),
		a("argmax_nan_first", "ArgMax", 13, axis(0), f32(sh(4), 1, nan, 9, nan), i64(sh(1), 1)),
		a("argmax_int8", "ArgMax", 13, axis(1), pat(ops.Int8, 3, 4), i64(sh(3, 1), 1, 0, 2)),
		a("argmin_uint16", "ArgMin", 13, axis(0), tensor(ops.Uint16, sh(3), []float64{5, 2, 9}), i64(sh(1), 1)),
		a("argmax_float16", "ArgMax", 13, axis(1), pat(ops.Float16, 3, 4), i64(sh(3, 1), 1, 0, 2)),
		a("argmax_bfloat16", "ArgMax", 13, axis(1), pat(ops.BFloat16, 3, 4), i64(sh(3, 1), 1, 0, 2)),
		a("argmax_float64", "ArgMax", 1, axis(1), pat(ops.Float64, 3, 4), i64(sh(3, 1), 1, 0, 2)),
		a("argmin_3d_middle", "ArgMin", 13, axis(1, "keepdims", int64(0)), pat(ops.Int64, 2, 3, 2), i64(sh(2, 2), 0, 1, 0, 1)),
		{Name: "axis_out_of_range", Op: "ArgMax", Opset: 13, Attrs: axis(2), Inputs: []*ops.Tensor{x},
			ErrSub: "axis 2 is out of range [-2, 1]", ErrIs: ops.ErrInvalid},
		{Name: "empty_axis", Op: "ArgMax", Opset: 13, Attrs: axis(1), Inputs: []*ops.Tensor{f32(sh(2, 0))},
			ErrSub: "the axis is empty"},
		{Name: "bfloat16_before_13", Op: "ArgMin", Opset: 12, Inputs: []*ops.Tensor{pat(ops.BFloat16, 2)},
			ErrSub: "dtype bfloat16, opset 12"},
		{Name: "bool_input", Op: "ArgMin", Opset: 13, Inputs: []*ops.Tensor{ops.FromSlice(sh(1), []bool{true})},
			ErrSub: "dtype bool"},
	}
	runCases(t, cases)
}

func TestArgRunAllocatesNothing(t *testing.T) {
	for _, x := range []*ops.Tensor{pat(ops.Float32, 3, 4), pat(ops.Float16, 3, 4), pat(ops.Uint8, 3, 4)} {
		k, out, ctx := prepareNode(t, "ArgMax", 13, nil, 1, x)
		assertNoAllocs(t, x.DType().String(), k, ctx, []*ops.Tensor{x}, out)
	}
}
