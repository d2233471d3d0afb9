package reduce

import (
	"math"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// Expected values come from numpy on pos(3,2,4) (see pattern): np.sum, np.mean, np.max, np.min, np.prod,
// np.sum(np.abs), np.sqrt(np.sum(x*x)), np.log(np.sum), np.log(np.sum(np.exp)), np.sum(x*x).
var reduceExpected = map[string]map[string]*ops.Tensor{
	"ReduceSum": {
		"axes1_keep":    f32(sh(3, 1, 4), 14, 17, 9, 12, 16, 8, 11, 14, 7, 10, 13, 16),
		"axes02_nokeep": f32(sh(2), 65, 82),
		"all_keep":      f32(sh(1, 1, 1), 147),
		"neg_keep":      f32(sh(3, 2, 1), 25, 27, 18, 31, 22, 24),
	},
	"ReduceMean": {
		"axes1_keep":    f32(sh(3, 1, 4), 7, 8.5, 4.5, 6, 8, 4, 5.5, 7, 3.5, 5, 6.5, 8),
		"axes02_nokeep": f32(sh(2), 5.416666507720947, 6.833333492279053),
		"all_keep":      f32(sh(1, 1, 1), 6.125),
		"neg_keep":      f32(sh(3, 2, 1), 6.25, 6.75, 4.5, 7.75, 5.5, 6),
	},
	"ReduceMax": {
		"axes1_keep":    f32(sh(3, 1, 4), 10, 11, 7, 9, 11, 7, 8, 10, 6, 8, 9, 11),
		"axes02_nokeep": f32(sh(2), 11, 11),
		"all_keep":      f32(sh(1, 1, 1), 11),
		"neg_keep":      f32(sh(3, 2, 1), 11, 10, 8, 11, 9, 11),
	},
	"ReduceMin": {
		"axes1_keep":    f32(sh(3, 1, 4), 4, 6, 2, 3, 5, 1, 3, 4, 1, 2, 4, 5),
		"axes02_nokeep": f32(sh(2), 1, 1),
		"all_keep":      f32(sh(1, 1, 1), 1),
		"neg_keep":      f32(sh(3, 2, 1), 3, 2, 1, 3, 2, 1),
	},
	"ReduceProd": {
		"axes1_keep":    f32(sh(3, 1, 4), 40, 66, 14, 27, 55, 7, 24, 40, 6, 16, 36, 55),
		"axes02_nokeep": f32(sh(2), 79833600, 878169600),
		"all_keep":      f32(sh(1, 1, 1), 70107440578560000),
		"neg_keep":      f32(sh(3, 2, 1), 924, 1080, 160, 2310, 540, 352),
	},
	"ReduceL1": {
		"axes1_keep":    f32(sh(3, 1, 4), 14, 17, 9, 12, 16, 8, 11, 14, 7, 10, 13, 16),
		"axes02_nokeep": f32(sh(2), 65, 82),
		"all_keep":      f32(sh(1, 1, 1), 147),
		"neg_keep":      f32(sh(3, 2, 1), 25, 27, 18, 31, 22, 24),
	},
	"ReduceL2": {
		"axes1_keep":    f32(sh(3, 1, 4), 10.770329475402832, 12.529964447021484, 7.280109882354736, 9.486832618713379, 12.083045959472656, 7.071067810058594, 8.5440034866333, 10.770329475402832, 6.082762718200684, 8.246211051940918, 9.848857879638672, 12.083045959472656),
		"axes02_nokeep": f32(sh(2), 21.14237403869629, 26.495283126831055),
		"all_keep":      f32(sh(1, 1, 1), 33.89690399169922),
		"neg_keep":      f32(sh(3, 2, 1), 13.964240074157715, 14.866068840026855, 10.29563045501709, 16.703292846679688, 12.083045959472656, 14.21267032623291),
	},
	"ReduceLogSum": {
		"axes1_keep":    f32(sh(3, 1, 4), 2.6390573978424072, 2.8332133293151855, 2.1972246170043945, 2.4849066734313965, 2.7725887298583984, 2.079441547393799, 2.397895336151123, 2.6390573978424072, 1.945910096168518, 2.3025851249694824, 2.5649492740631104, 2.7725887298583984),
		"axes02_nokeep": f32(sh(2), 4.174387454986572, 4.406719207763672),
		"all_keep":      f32(sh(1, 1, 1), 4.9904327392578125),
		"neg_keep":      f32(sh(3, 2, 1), 3.2188758850097656, 3.295836925506592, 2.890371799468994, 3.4339871406555176, 3.0910425186157227, 3.178053855895996),
	},
	"ReduceLogSumExp": {
		"axes1_keep":    f32(sh(3, 1, 4), 10.00247573852539, 11.006715774536133, 7.006715297698975, 9.00247573852539, 11.00247573852539, 7.002475738525391, 8.006715774536133, 10.00247573852539, 6.006715297698975, 8.00247573852539, 9.006715774536133, 11.00247573852539),
		"axes02_nokeep": f32(sh(2), 11.196767807006836, 12.080906867980957),
		"all_keep":      f32(sh(1, 1, 1), 12.426671028137207),
		"neg_keep":      f32(sh(3, 2, 1), 11.019373893737793, 10.326804161071777, 8.066737174987793, 11.326804161071777, 9.066737174987793, 11.049498558044434),
	},
	"ReduceSumSquare": {
		"axes1_keep":    f32(sh(3, 1, 4), 116, 157, 53, 90, 146, 50, 73, 116, 37, 68, 97, 146),
		"axes02_nokeep": f32(sh(2), 447, 702),
		"all_keep":      f32(sh(1, 1, 1), 1149),
		"neg_keep":      f32(sh(3, 2, 1), 195, 221, 106, 279, 146, 202),
	},
}

var reduceOpNames = []string{"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
	"ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"}

// TestReduceAxes runs every Reduce* op over the same input with axes as an attribute (the old opsets) and as
// an input (the new ones).
func TestReduceAxes(t *testing.T) {
	x := pos(ops.Float32, 3, 2, 4)
	var cases []opCase
	for _, op := range reduceOpNames {
		attrOpset, inputOpset := 13, 18
		if op == "ReduceSum" {
			attrOpset, inputOpset = 11, 13
		}
		want := reduceExpected[op]
		for _, c := range []struct {
			name     string
			axes     []int64
			keepDims int64
		}{{"axes1_keep", []int64{1}, 1}, {"axes02_nokeep", []int64{0, 2}, 0}, {"all_keep", nil, 1}, {"neg_keep", []int64{-1}, 1}} {
			attrs := ops.AttrMap{"keepdims": ops.IntAttr(c.keepDims)}
			if c.axes != nil {
				attrs["axes"] = ops.IntsAttr(c.axes...)
			}
			cases = append(cases, opCase{Name: op + "/attr/" + c.name, Op: op, Opset: attrOpset, Attrs: attrs,
				Inputs: []*ops.Tensor{x}, Want: []*ops.Tensor{want[c.name]}})
			in := []*ops.Tensor{x}
			if c.axes != nil {
				in = append(in, i64(sh(len(c.axes)), c.axes...))
			}
			cases = append(cases, opCase{Name: op + "/input/" + c.name, Op: op, Opset: inputOpset,
				Attrs: ops.AttrMap{"keepdims": ops.IntAttr(c.keepDims)}, Inputs: in, Want: []*ops.Tensor{want[c.name]}})
		}
		// An explicit empty axes input also means every axis.
		cases = append(cases, opCase{Name: op + "/input/empty_axes", Op: op, Opset: inputOpset,
			Inputs: []*ops.Tensor{x, i64(sh(0))}, Want: []*ops.Tensor{want["all_keep"]}})
	}
	runCases(t, cases)
}

// TestReduceNoop: noop_with_empty_axes reduces nothing, but each op still applies its element-wise part.
func TestReduceNoop(t *testing.T) {
	x := f32(sh(2, 2), 4, 11, 7, 3)
	l := func(v float64) float64 { return math.Log(v) }
	want := map[string][]float64{
		"ReduceSum": {4, 11, 7, 3}, "ReduceMean": {4, 11, 7, 3}, "ReduceMax": {4, 11, 7, 3}, "ReduceMin": {4, 11, 7, 3},
		"ReduceProd": {4, 11, 7, 3}, "ReduceL1": {4, 11, 7, 3}, "ReduceL2": {4, 11, 7, 3},
		"ReduceLogSum": {l(4), l(11), l(7), l(3)}, "ReduceLogSumExp": {4, 11, 7, 3}, "ReduceSumSquare": {16, 121, 49, 9},
	}
	var cases []opCase
	for _, op := range reduceOpNames {
		opset := 18
		if op == "ReduceSum" {
			opset = 13
		}
		noop := ops.AttrMap{"noop_with_empty_axes": ops.IntAttr(1)}
		cases = append(cases,
			opCase{Name: op + "/absent_axes", Op: op, Opset: opset, Attrs: noop, Inputs: []*ops.Tensor{x}, Want: []*ops.Tensor{f32(sh(2, 2), want[op]...)}},
			opCase{Name: op + "/empty_axes", Op: op, Opset: opset, Attrs: noop, Inputs: []*ops.Tensor{x, i64(sh(0))}, Want: []*ops.Tensor{f32(sh(2, 2), want[op]...)}},
			// noop_with_empty_axes does not matter when axes are given.
			opCase{Name: op + "/given_axes", Op: op, Opset: opset, Attrs: noop, Inputs: []*ops.Tensor{pos(ops.Float32, 3, 2, 4), i64(sh(1), -1)},
				Want: []*ops.Tensor{reduceExpected[op]["neg_keep"]}},
		)
	}
	runCases(t, cases)
}

// TestReduceEmptySet: reducing over a dimension of size 0 gives each op's identity.
func TestReduceEmptySet(t *testing.T) {
	identity := map[string]float64{
		"ReduceSum": 0, "ReduceMean": nan, "ReduceMax": -inf, "ReduceMin": inf, "ReduceProd": 1, "ReduceL1": 0,
		"ReduceL2": 0, "ReduceLogSum": -inf, "ReduceLogSumExp": -inf, "ReduceSumSquare": 0,
	}
	var cases []opCase
	for _, op := range reduceOpNames {
		v := identity[op]
		cases = append(cases,
			opCase{Name: op + "/reduced_axis_empty", Op: op, Opset: 18, Inputs: []*ops.Tensor{f32(sh(2, 0, 4)), i64(sh(1), 1)},
				Want: []*ops.Tensor{f32(sh(2, 1, 4), v, v, v, v, v, v, v, v)}},
			opCase{Name: op + "/kept_axis_empty", Op: op, Opset: 18, Inputs: []*ops.Tensor{f32(sh(2, 0, 4)), i64(sh(1), 0)},
				Want: []*ops.Tensor{f32(sh(1, 0, 4))}},
			opCase{Name: op + "/all_axes_of_empty", Op: op, Opset: 13, Attrs: ops.AttrMap{"keepdims": ops.IntAttr(0)},
				Inputs: []*ops.Tensor{f32(sh(0, 3))}, Want: []*ops.Tensor{f32(sh(), v)}},
		)
	}
	runCases(t, cases)
}

func TestReduceMisc(t *testing.T) {
	b := func(shape ops.Shape, v ...bool) *ops.Tensor { return ops.FromSlice(shape, v) }
	noKeep := ops.AttrMap{"keepdims": ops.IntAttr(0)}
	cases := []opCase{
		{Name: "sum_mixed_signs", Op: "ReduceSum", Opset: 13, Inputs: []*ops.Tensor{pat(ops.Float32, 3, 2, 4), i64(sh(1), 0)},
			Want: []*ops.Tensor{f32(sh(1, 2, 4), -3, -4, 6, -6, 4, 3, -9, 12)}},
		{Name: "scalar_input", Op: "ReduceSum", Opset: 13, Inputs: []*ops.Tensor{f32(sh(), 5)}, Want: []*ops.Tensor{f32(sh(), 5)}},
		{Name: "size_one_dims", Op: "ReduceMax", Opset: 18, Inputs: []*ops.Tensor{f32(sh(1, 3, 1), 1, 5, 2), i64(sh(1), 0)},
			Want: []*ops.Tensor{f32(sh(1, 3, 1), 1, 5, 2)}},
		{Name: "max_nan_wins", Op: "ReduceMax", Opset: 18, Inputs: []*ops.Tensor{f32(sh(2, 3), 1, nan, 3, 4, 5, 6), i64(sh(1), 1)},
			Want: []*ops.Tensor{f32(sh(2, 1), nan, 6)}},
		{Name: "min_nan_wins_kept_inner", Op: "ReduceMin", Opset: 18, Inputs: []*ops.Tensor{f32(sh(2, 2), 1, nan, 3, 0), i64(sh(1), 0)},
			Want: []*ops.Tensor{f32(sh(1, 2), 1, nan)}},
		{Name: "logsumexp_large", Op: "ReduceLogSumExp", Opset: 18, Attrs: noKeep, Inputs: []*ops.Tensor{f32(sh(3), 1000, 1001, 999)},
			Want: []*ops.Tensor{f32(sh(), 1001.4075927734375)}},
		{Name: "logsumexp_all_neg_inf", Op: "ReduceLogSumExp", Opset: 18, Attrs: noKeep, Inputs: []*ops.Tensor{f32(sh(2), -inf, -inf)},
			Want: []*ops.Tensor{f32(sh(), -inf)}},
		{Name: "max_int64", Op: "ReduceMax", Opset: 18, Attrs: noKeep, Inputs: []*ops.Tensor{pat(ops.Int64, 3, 2, 4), i64(sh(2), 1, 2)},
			Want: []*ops.Tensor{tensor(ops.Int64, sh(3), []float64{5, 5, 5})}},
		{Name: "sum_int32", Op: "ReduceSum", Opset: 11, Attrs: ops.AttrMap{"axes": ops.IntsAttr(0)}, Inputs: []*ops.Tensor{pat(ops.Int32, 3, 2, 4)},
			Want: []*ops.Tensor{tensor(ops.Int32, sh(1, 2, 4), []float64{-3, -4, 6, -6, 4, 3, -9, 12})}},
		{Name: "max_uint8", Op: "ReduceMax", Opset: 12, Inputs: []*ops.Tensor{tensor(ops.Uint8, sh(2, 2), []float64{1, 200, 3, 4})},
			Want: []*ops.Tensor{tensor(ops.Uint8, sh(1, 1), []float64{200})}},
		{Name: "min_int8_empty", Op: "ReduceMin", Opset: 18, Inputs: []*ops.Tensor{tensor(ops.Int8, sh(0, 2), nil), i64(sh(1), 0)},
			Want: []*ops.Tensor{tensor(ops.Int8, sh(1, 2), []float64{127, 127})}},
		{Name: "max_int32_empty", Op: "ReduceMax", Opset: 18, Inputs: []*ops.Tensor{tensor(ops.Int32, sh(0, 1), nil), i64(sh(1), 0)},
			Want: []*ops.Tensor{tensor(ops.Int32, sh(1, 1), []float64{math.MinInt32})}},
		{Name: "mean_int64_truncates", Op: "ReduceMean", Opset: 18, Attrs: noKeep, Inputs: []*ops.Tensor{tensor(ops.Int64, sh(4), []float64{1, 2, 3, 4})},
			Want: []*ops.Tensor{tensor(ops.Int64, sh(), []float64{2})}},
		{Name: "mean_int32_empty", Op: "ReduceMean", Opset: 18, Attrs: noKeep, Inputs: []*ops.Tensor{tensor(ops.Int32, sh(0), nil)},
			Want: []*ops.Tensor{tensor(ops.Int32, sh(), []float64{0})}},
		{Name: "logsumexp_int32", Op: "ReduceLogSumExp", Opset: 18, Attrs: noKeep,
			Inputs: []*ops.Tensor{tensor(ops.Int32, sh(2, 2), []float64{1, 2, 3, 4}), i64(sh(1), 1)},
			Want:   []*ops.Tensor{tensor(ops.Int32, sh(2), []float64{2, 4})}},
		{Name: "sumsquare_uint64", Op: "ReduceSumSquare", Opset: 18, Attrs: noKeep,
			Inputs: []*ops.Tensor{tensor(ops.Uint64, sh(3), []float64{1, 2, 3})}, Want: []*ops.Tensor{tensor(ops.Uint64, sh(), []float64{14})}},
		{Name: "max_bool", Op: "ReduceMax", Opset: 20, Inputs: []*ops.Tensor{b(sh(2, 2), true, false, false, false), i64(sh(1), 1)},
			Want: []*ops.Tensor{b(sh(2, 1), true, false)}},
		{Name: "min_bool", Op: "ReduceMin", Opset: 20, Inputs: []*ops.Tensor{b(sh(2, 2), true, true, false, true), i64(sh(1), 1)},
			Want: []*ops.Tensor{b(sh(2, 1), true, false)}},
		{Name: "max_bool_empty", Op: "ReduceMax", Opset: 20, Inputs: []*ops.Tensor{b(sh(0, 2)), i64(sh(1), 0)},
			Want: []*ops.Tensor{b(sh(1, 2), false, false)}},
		{Name: "min_bool_empty", Op: "ReduceMin", Opset: 20, Inputs: []*ops.Tensor{b(sh(0, 2)), i64(sh(1), 0)},
			Want: []*ops.Tensor{b(sh(1, 2), true, true)}},
		{Name: "mean_float16", Op: "ReduceMean", Opset: 18, Inputs: []*ops.Tensor{pos(ops.Float16, 3, 2, 4), i64(sh(1), 0)},
			Want: []*ops.Tensor{tensor(ops.Float16, sh(1, 2, 4), []float64{5, 4.666666507720947, 8, 4, 7.333333492279053, 7, 3, 10})}},
		{Name: "sum_bfloat16", Op: "ReduceSum", Opset: 13, Attrs: noKeep, Inputs: []*ops.Tensor{pos(ops.BFloat16, 3, 2, 4)},
			Want: []*ops.Tensor{tensor(ops.BFloat16, sh(), []float64{147})}},
		{Name: "l2_float64", Op: "ReduceL2", Opset: 18, Attrs: noKeep, Inputs: []*ops.Tensor{pos(ops.Float64, 3, 2, 4), i64(sh(2), 0, 2)},
			Want: []*ops.Tensor{tensor(ops.Float64, sh(2), []float64{21.14237403869629, 26.495283126831055})}},
		{Name: "logsumexp_float64", Op: "ReduceLogSumExp", Opset: 18, Attrs: noKeep, Inputs: []*ops.Tensor{pos(ops.Float64, 3, 2, 4)},
			Want: []*ops.Tensor{tensor(ops.Float64, sh(), []float64{12.426671028137207})}},
		{Name: "logsumexp_float16", Op: "ReduceLogSumExp", Opset: 18, Inputs: []*ops.Tensor{pos(ops.Float16, 3, 2, 4), i64(sh(1), -1)},
			Want: []*ops.Tensor{tensor(ops.Float16, sh(3, 2, 1), []float64{11.019373893737793, 10.326804161071777, 8.066737174987793, 11.326804161071777, 9.066737174987793, 11.049498558044434})}},
	}
	runCases(t, cases)
}

func TestReduceErrors(t *testing.T) {
	x := pos(ops.Float32, 3, 2, 4)
	cases := []opCase{
		{Name: "duplicate_axes", Op: "ReduceSum", Opset: 13, Inputs: []*ops.Tensor{x, i64(sh(2), 1, -2)},
			ErrSub: "axes [1 -2] name dimension 1 twice", ErrIs: ops.ErrInvalid},
		{Name: "axis_out_of_range", Op: "ReduceMean", Opset: 13, Attrs: ops.AttrMap{"axes": ops.IntsAttr(3)}, Inputs: []*ops.Tensor{x},
			ErrSub: "axis 3 is out of range [-3, 2]", ErrIs: ops.ErrInvalid},
		{Name: "bool_before_20", Op: "ReduceMax", Opset: 18, Inputs: []*ops.Tensor{ops.FromSlice(sh(1), []bool{true})},
			ErrSub: "dtype bool, opset 18 allows", ErrIs: ops.ErrInvalid},
		{Name: "int8_before_12", Op: "ReduceMax", Opset: 11, Inputs: []*ops.Tensor{tensor(ops.Int8, sh(1), []float64{1})},
			ErrSub: "dtype int8, opset 11"},
		{Name: "bool_sum", Op: "ReduceSum", Opset: 13, Inputs: []*ops.Tensor{ops.FromSlice(sh(1), []bool{true})},
			ErrSub: "dtype bool"},
		{Name: "int32_axes", Op: "ReduceSum", Opset: 13, Inputs: []*ops.Tensor{x, tensor(ops.Int32, sh(1), []float64{1})},
			ErrSub: "axes has dtype int32, want int64"},
		{Name: "2d_axes", Op: "ReduceSum", Opset: 13, Inputs: []*ops.Tensor{x, i64(sh(1, 1), 1)},
			ErrSub: "axes has shape [1,1], want 1-D"},
		{Name: "axes_input_at_attr_opset", Op: "ReduceMean", Opset: 17, Inputs: []*ops.Tensor{x, i64(sh(1), 1)},
			ErrSub: "takes 1 input (axes is an attribute)"},
		{Name: "runtime_axes", Op: "ReduceSum", Opset: 13, Inputs: []*ops.Tensor{x, i64(sh(1), 1)}, NonConst: []int{1},
			ErrSub: "axes are a runtime input", ErrIs: ops.ErrDynamicShape},
		{Name: "bad_keepdims", Op: "ReduceSum", Opset: 13, Attrs: ops.AttrMap{"keepdims": ops.FloatsAttr(1, 2)}, Inputs: []*ops.Tensor{x},
			ErrSub: `attribute "keepdims"`},
	}
	runCases(t, cases)
}

func TestReducePlanMergesDims(t *testing.T) {
	p := newReducePlan(reduceSum, sh(2, 3, 1, 4, 5), []bool{false, true, true, true, false})
	if want := []int{2, 12, 5}; len(p.dims) != 3 || p.dims[0] != want[0] || p.dims[1] != want[1] || p.dims[2] != want[2] {
		t.Fatalf("dims %v, want %v", p.dims, want)
	}
	if p.outStrides[0] != 5 || p.outStrides[1] != 0 || p.outStrides[2] != 1 || p.count != 12 {
		t.Fatalf("outStrides %v count %d", p.outStrides, p.count)
	}
}

func TestReduceRunAllocatesNothing(t *testing.T) {
	for _, c := range []struct {
		op string
		x  *ops.Tensor
	}{{"ReduceSum", pos(ops.Float32, 3, 2, 4)}, {"ReduceLogSumExp", pos(ops.Float64, 3, 2, 4)},
		{"ReduceLogSumExp", pos(ops.Int32, 3, 2, 4)}, {"ReduceMax", pos(ops.Float16, 3, 2, 4)}, {"ReduceProd", pos(ops.Int64, 3, 2, 4)}} {
		axes := i64(sh(1), 1)
		k, out, ctx := prepareNode(t, c.op, 18, nil, 1, c.x, axes)
		assertNoAllocs(t, c.op+"/"+c.x.DType().String(), k, ctx, []*ops.Tensor{c.x, axes}, out)
	}
}
