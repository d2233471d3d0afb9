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
			cases = append(cases, opCase{name: op + "/attr/" + c.name, op: op, opset: attrOpset, attrs: attrs,
				inputs: []*ops.Tensor{x}, want: []*ops.Tensor{want[c.name]}})
			in := []*ops.Tensor{x}
			if c.axes != nil {
				in = append(in, i64(sh(len(c.axes)), c.axes...))
			}
			cases = append(cases, opCase{name: op + "/input/" + c.name, op: op, opset: inputOpset,
				attrs: ops.AttrMap{"keepdims": ops.IntAttr(c.keepDims)}, inputs: in, want: []*ops.Tensor{want[c.name]}})
		}
		// An explicit empty axes input also means every axis.
		cases = append(cases, opCase{name: op + "/input/empty_axes", op: op, opset: inputOpset,
			inputs: []*ops.Tensor{x, i64(sh(0))}, want: []*ops.Tensor{want["all_keep"]}})
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
			opCase{name: op + "/absent_axes", op: op, opset: opset, attrs: noop, inputs: []*ops.Tensor{x}, want: []*ops.Tensor{f32(sh(2, 2), want[op]...)}},
			opCase{name: op + "/empty_axes", op: op, opset: opset, attrs: noop, inputs: []*ops.Tensor{x, i64(sh(0))}, want: []*ops.Tensor{f32(sh(2, 2), want[op]...)}},
			// noop_with_empty_axes does not matter when axes are given.
			opCase{name: op + "/given_axes", op: op, opset: opset, attrs: noop, inputs: []*ops.Tensor{pos(ops.Float32, 3, 2, 4), i64(sh(1), -1)},
				want: []*ops.Tensor{reduceExpected[op]["neg_keep"]}},
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
			opCase{name: op + "/reduced_axis_empty", op: op, opset: 18, inputs: []*ops.Tensor{f32(sh(2, 0, 4)), i64(sh(1), 1)},
				want: []*ops.Tensor{f32(sh(2, 1, 4), v, v, v, v, v, v, v, v)}},
			opCase{name: op + "/kept_axis_empty", op: op, opset: 18, inputs: []*ops.Tensor{f32(sh(2, 0, 4)), i64(sh(1), 0)},
				want: []*ops.Tensor{f32(sh(1, 0, 4))}},
			opCase{name: op + "/all_axes_of_empty", op: op, opset: 13, attrs: ops.AttrMap{"keepdims": ops.IntAttr(0)},
				inputs: []*ops.Tensor{f32(sh(0, 3))}, want: []*ops.Tensor{f32(sh(), v)}},
		)
	}
	runCases(t, cases)
}

func TestReduceMisc(t *testing.T) {
	b := func(shape ops.Shape, v ...bool) *ops.Tensor { return ops.FromSlice(shape, v) }
	noKeep := ops.AttrMap{"keepdims": ops.IntAttr(0)}
	cases := []opCase{
		{name: "sum_mixed_signs", op: "ReduceSum", opset: 13, inputs: []*ops.Tensor{pat(ops.Float32, 3, 2, 4), i64(sh(1), 0)},
			want: []*ops.Tensor{f32(sh(1, 2, 4), -3, -4, 6, -6, 4, 3, -9, 12)}},
		{name: "scalar_input", op: "ReduceSum", opset: 13, inputs: []*ops.Tensor{f32(sh(), 5)}, want: []*ops.Tensor{f32(sh(), 5)}},
		{name: "size_one_dims", op: "ReduceMax", opset: 18, inputs: []*ops.Tensor{f32(sh(1, 3, 1), 1, 5, 2), i64(sh(1), 0)},
			want: []*ops.Tensor{f32(sh(1, 3, 1), 1, 5, 2)}},
		{name: "max_nan_wins", op: "ReduceMax", opset: 18, inputs: []*ops.Tensor{f32(sh(2, 3), 1, nan, 3, 4, 5, 6), i64(sh(1), 1)},
			want: []*ops.Tensor{f32(sh(2, 1), nan, 6)}},
		{name: "min_nan_wins_kept_inner", op: "ReduceMin", opset: 18, inputs: []*ops.Tensor{f32(sh(2, 2), 1, nan, 3, 0), i64(sh(1), 0)},
			want: []*ops.Tensor{f32(sh(1, 2), 1, nan)}},
		{name: "logsumexp_large", op: "ReduceLogSumExp", opset: 18, attrs: noKeep, inputs: []*ops.Tensor{f32(sh(3), 1000, 1001, 999)},
			want: []*ops.Tensor{f32(sh(), 1001.4075927734375)}},
		{name: "logsumexp_all_neg_inf", op: "ReduceLogSumExp", opset: 18, attrs: noKeep, inputs: []*ops.Tensor{f32(sh(2), -inf, -inf)},
			want: []*ops.Tensor{f32(sh(), -inf)}},
		{name: "max_int64", op: "ReduceMax", opset: 18, attrs: noKeep, inputs: []*ops.Tensor{pat(ops.Int64, 3, 2, 4), i64(sh(2), 1, 2)},
			want: []*ops.Tensor{tensor(ops.Int64, sh(3), []float64{5, 5, 5})}},
		{name: "sum_int32", op: "ReduceSum", opset: 11, attrs: ops.AttrMap{"axes": ops.IntsAttr(0)}, inputs: []*ops.Tensor{pat(ops.Int32, 3, 2, 4)},
			want: []*ops.Tensor{tensor(ops.Int32, sh(1, 2, 4), []float64{-3, -4, 6, -6, 4, 3, -9, 12})}},
		{name: "max_uint8", op: "ReduceMax", opset: 12, inputs: []*ops.Tensor{tensor(ops.Uint8, sh(2, 2), []float64{1, 200, 3, 4})},
			want: []*ops.Tensor{tensor(ops.Uint8, sh(1, 1), []float64{200})}},
		{name: "min_int8_empty", op: "ReduceMin", opset: 18, inputs: []*ops.Tensor{tensor(ops.Int8, sh(0, 2), nil), i64(sh(1), 0)},
			want: []*ops.Tensor{tensor(ops.Int8, sh(1, 2), []float64{127, 127})}},
		{name: "max_int32_empty", op: "ReduceMax", opset: 18, inputs: []*ops.Tensor{tensor(ops.Int32, sh(0, 1), nil), i64(sh(1), 0)},
			want: []*ops.Tensor{tensor(ops.Int32, sh(1, 1), []float64{math.MinInt32})}},
		{name: "mean_int64_truncates", op: "ReduceMean", opset: 18, attrs: noKeep, inputs: []*ops.Tensor{tensor(ops.Int64, sh(4), []float64{1, 2, 3, 4})},
			want: []*ops.Tensor{tensor(ops.Int64, sh(), []float64{2})}},
		{name: "mean_int32_empty", op: "ReduceMean", opset: 18, attrs: noKeep, inputs: []*ops.Tensor{tensor(ops.Int32, sh(0), nil)},
			want: []*ops.Tensor{tensor(ops.Int32, sh(), []float64{0})}},
		{name: "logsumexp_int32", op: "ReduceLogSumExp", opset: 18, attrs: noKeep,
			inputs: []*ops.Tensor{tensor(ops.Int32, sh(2, 2), []float64{1, 2, 3, 4}), i64(sh(1), 1)},
			want:   []*ops.Tensor{tensor(ops.Int32, sh(2), []float64{2, 4})}},
		{name: "sumsquare_uint64", op: "ReduceSumSquare", opset: 18, attrs: noKeep,
			inputs: []*ops.Tensor{tensor(ops.Uint64, sh(3), []float64{1, 2, 3})}, want: []*ops.Tensor{tensor(ops.Uint64, sh(), []float64{14})}},
		{name: "max_bool", op: "ReduceMax", opset: 20, inputs: []*ops.Tensor{b(sh(2, 2), true, false, false, false), i64(sh(1), 1)},
			want: []*ops.Tensor{b(sh(2, 1), true, false)}},
		{name: "min_bool", op: "ReduceMin", opset: 20, inputs: []*ops.Tensor{b(sh(2, 2), true, true, false, true), i64(sh(1), 1)},
			want: []*ops.Tensor{b(sh(2, 1), true, false)}},
		{name: "max_bool_empty", op: "ReduceMax", opset: 20, inputs: []*ops.Tensor{b(sh(0, 2)), i64(sh(1), 0)},
			want: []*ops.Tensor{b(sh(1, 2), false, false)}},
		{name: "min_bool_empty", op: "ReduceMin", opset: 20, inputs: []*ops.Tensor{b(sh(0, 2)), i64(sh(1), 0)},
			want: []*ops.Tensor{b(sh(1, 2), true, true)}},
		{name: "mean_float16", op: "ReduceMean", opset: 18, inputs: []*ops.Tensor{pos(ops.Float16, 3, 2, 4), i64(sh(1), 0)},
			want: []*ops.Tensor{tensor(ops.Float16, sh(1, 2, 4), []float64{5, 4.666666507720947, 8, 4, 7.333333492279053, 7, 3, 10})}},
		{name: "sum_bfloat16", op: "ReduceSum", opset: 13, attrs: noKeep, inputs: []*ops.Tensor{pos(ops.BFloat16, 3, 2, 4)},
			want: []*ops.Tensor{tensor(ops.BFloat16, sh(), []float64{147})}},
		{name: "l2_float64", op: "ReduceL2", opset: 18, attrs: noKeep, inputs: []*ops.Tensor{pos(ops.Float64, 3, 2, 4), i64(sh(2), 0, 2)},
			want: []*ops.Tensor{tensor(ops.Float64, sh(2), []float64{21.14237403869629, 26.495283126831055})}},
		{name: "logsumexp_float64", op: "ReduceLogSumExp", opset: 18, attrs: noKeep, inputs: []*ops.Tensor{pos(ops.Float64, 3, 2, 4)},
			want: []*ops.Tensor{tensor(ops.Float64, sh(), []float64{12.426671028137207})}},
		{name: "logsumexp_float16", op: "ReduceLogSumExp", opset: 18, inputs: []*ops.Tensor{pos(ops.Float16, 3, 2, 4), i64(sh(1), -1)},
			want: []*ops.Tensor{tensor(ops.Float16, sh(3, 2, 1), []float64{11.019373893737793, 10.326804161071777, 8.066737174987793, 11.326804161071777, 9.066737174987793, 11.049498558044434})}},
	}
	runCases(t, cases)
}

func TestReduceErrors(t *testing.T) {
	x := pos(ops.Float32, 3, 2, 4)
	cases := []opCase{
		{name: "duplicate_axes", op: "ReduceSum", opset: 13, inputs: []*ops.Tensor{x, i64(sh(2), 1, -2)},
			errSub: "axes [1 -2] name dimension 1 twice", errIs: ops.ErrInvalid},
		{name: "axis_out_of_range", op: "ReduceMean", opset: 13, attrs: ops.AttrMap{"axes": ops.IntsAttr(3)}, inputs: []*ops.Tensor{x},
			errSub: "axis 3 is out of range [-3, 2]", errIs: ops.ErrInvalid},
		{name: "bool_before_20", op: "ReduceMax", opset: 18, inputs: []*ops.Tensor{ops.FromSlice(sh(1), []bool{true})},
			errSub: "dtype bool, opset 18 allows", errIs: ops.ErrInvalid},
		{name: "int8_before_12", op: "ReduceMax", opset: 11, inputs: []*ops.Tensor{tensor(ops.Int8, sh(1), []float64{1})},
			errSub: "dtype int8, opset 11"},
		{name: "bool_sum", op: "ReduceSum", opset: 13, inputs: []*ops.Tensor{ops.FromSlice(sh(1), []bool{true})},
			errSub: "dtype bool"},
		{name: "int32_axes", op: "ReduceSum", opset: 13, inputs: []*ops.Tensor{x, tensor(ops.Int32, sh(1), []float64{1})},
			errSub: "axes has dtype int32, want int64"},
		{name: "2d_axes", op: "ReduceSum", opset: 13, inputs: []*ops.Tensor{x, i64(sh(1, 1), 1)},
			errSub: "axes has shape [1,1], want 1-D"},
		{name: "axes_input_at_attr_opset", op: "ReduceMean", opset: 17, inputs: []*ops.Tensor{x, i64(sh(1), 1)},
			errSub: "takes 1 input (axes is an attribute)"},
		{name: "runtime_axes", op: "ReduceSum", opset: 13, inputs: []*ops.Tensor{x, i64(sh(1), 1)}, nonConst: []int{1},
			errSub: "axes are a runtime input", errIs: ops.ErrDynamicShape},
		{name: "bad_keepdims", op: "ReduceSum", opset: 13, attrs: ops.AttrMap{"keepdims": ops.FloatsAttr(1, 2)}, inputs: []*ops.Tensor{x},
			errSub: `attribute "keepdims"`},
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
