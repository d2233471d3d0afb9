package reduce

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// y = pat(2,3,4); expected values from numpy.cumsum (exclusive = cumsum - y, reverse through np.flip).
func TestCumSum(t *testing.T) {
	y := pat(ops.Float32, 2, 3, 4)
	x1 := f32(sh(5), 1, 2, 3, 4, 5)
	attrs := func(excl, rev int64) ops.AttrMap {
		return ops.AttrMap{"exclusive": ops.IntAttr(excl), "reverse": ops.IntAttr(rev)}
	}
	c := func(name string, opset int, a ops.AttrMap, x, axis, want *ops.Tensor) opCase {
		return opCase{Name: name, Op: "CumSum", Opset: opset, Attrs: a, Inputs: []*ops.Tensor{x, axis}, Want: []*ops.Tensor{want}}
	}
	ax := func(v int64) *ops.Tensor { return i64(sh(), v) }
	cases := []opCase{
		c("1d", 14, nil, x1, ax(0), f32(sh(5), 1, 3, 6, 10, 15)),
		c("1d_exclusive", 14, attrs(1, 0), x1, ax(0), f32(sh(5), 0, 1, 3, 6, 10)),
		c("1d_reverse", 14, attrs(0, 1), x1, ax(0), f32(sh(5), 15, 14, 12, 9, 5)),
		c("1d_reverse_exclusive", 11, attrs(1, 1), x1, ax(0), f32(sh(5), 14, 12, 9, 5, 0)),
		c("3d_axis1", 14, nil, y, ax(1), f32(sh(2, 3, 4), -2, 5, 1, -3, 2, 5, -3, 0, 1, 0, -1, -2, 5, 1, -3, 4, 5, -3, 0, 3, 0, -1, -2, 8)),
		c("3d_axis0", 14, nil, y, ax(0), f32(sh(2, 3, 4), -2, 5, 1, -3, 4, 0, -4, 3, -1, -5, 2, -2, 3, 6, -2, 1, 4, -4, -1, 2, -6, -3, 0, 3)),
		c("3d_axis1_exclusive", 14, attrs(1, 0), y, ax(-2), f32(sh(2, 3, 4), 0, 0, 0, 0, -2, 5, 1, -3, 2, 5, -3, 0, 0, 0, 0, 0, 5, 1, -3, 4, 5, -3, 0, 3)),
		c("3d_axis1_reverse", 14, attrs(0, 1), y, ax(1), f32(sh(2, 3, 4), 1, 0, -1, -2, 3, -5, -2, 1, -1, -5, 2, -2, 0, -1, -2, 8, -5, -2, 1, 4, -5, 2, -2, 5)),
		c("3d_axis1_reverse_exclusive", 14, attrs(1, 1), y, tensor(ops.Int32, sh(), []float64{1}),
			f32(sh(2, 3, 4), 3, -5, -2, 1, -1, -5, 2, -2, 0, 0, 0, 0, -5, -2, 1, 4, -5, 2, -2, 5, 0, 0, 0, 0)),
		c("axis_as_1d", 14, nil, x1, i64(sh(1), 0), f32(sh(5), 1, 3, 6, 10, 15)),
		c("int32", 11, nil, tensor(ops.Int32, sh(5), []float64{1, 2, 3, 4, 5}), ax(0), tensor(ops.Int32, sh(5), []float64{1, 3, 6, 10, 15})),
		c("uint64", 11, attrs(1, 0), tensor(ops.Uint64, sh(3), []float64{1, 2, 3}), ax(0), tensor(ops.Uint64, sh(3), []float64{0, 1, 3})),
		c("float64", 11, nil, tensor(ops.Float64, sh(5), []float64{1, 2, 3, 4, 5}), ax(0), tensor(ops.Float64, sh(5), []float64{1, 3, 6, 10, 15})),
		c("float16", 14, nil, tensor(ops.Float16, sh(5), []float64{1, 2, 3, 4, 5}), ax(0), tensor(ops.Float16, sh(5), []float64{1, 3, 6, 10, 15})),
		c("bfloat16", 14, attrs(0, 1), tensor(ops.BFloat16, sh(5), []float64{1, 2, 3, 4, 5}), ax(0), tensor(ops.BFloat16, sh(5), []float64{15, 14, 12, 9, 5})),
		c("empty_axis", 14, nil, f32(sh(2, 0)), ax(1), f32(sh(2, 0))),
		{Name: "runtime_axis", Op: "CumSum", Opset: 14, Inputs: []*ops.Tensor{y, ax(2)}, NonConst: []int{1},
			Want: []*ops.Tensor{f32(sh(2, 3, 4), -2, 3, 4, 1, 4, 4, 0, 3, -1, -6, -4, -6, 5, 6, 3, 7, 0, -4, -1, -2, -5, -3, -5, 0)}},
		{Name: "runtime_axis_out_of_range", Op: "CumSum", Opset: 14, Inputs: []*ops.Tensor{y, ax(3)}, NonConst: []int{1},
			ErrSub: "CumSum axis 3 is out of range [-3, 2]", ErrIs: ops.ErrInvalid},
		{Name: "const_axis_out_of_range", Op: "CumSum", Opset: 14, Inputs: []*ops.Tensor{y, ax(-4)},
			ErrSub: "axis -4 is out of range [-3, 2]", ErrIs: ops.ErrInvalid},
		{Name: "float_axis", Op: "CumSum", Opset: 14, Inputs: []*ops.Tensor{y, f32(sh(), 0)}, ErrSub: "axis has dtype float32"},
		{Name: "float16_before_14", Op: "CumSum", Opset: 13, Inputs: []*ops.Tensor{pat(ops.Float16, 3), ax(0)}, ErrSub: "dtype float16, opset 13"},
		{Name: "scalar_input", Op: "CumSum", Opset: 14, Inputs: []*ops.Tensor{f32(sh(), 1), ax(0)}, ErrSub: "out of range for a scalar"},
	}
	runCases(t, cases)
}

func TestCumSumRunAllocatesNothing(t *testing.T) {
	for _, x := range []*ops.Tensor{pat(ops.Float32, 2, 3, 4), pat(ops.Float16, 2, 3, 4), pat(ops.Int64, 2, 3, 4)} {
		axis := i64(sh(), 1)
		k, out, ctx := prepareNode(t, "CumSum", 14, ops.AttrMap{"exclusive": ops.IntAttr(1)}, 1, x, axis)
		assertNoAllocs(t, x.DType().String(), k, ctx, []*ops.Tensor{x, axis}, out)
	}
}
