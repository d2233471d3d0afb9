package ml

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

type A = ops.AttrMap

var (
	ints    = ops.IntsAttr
	floats  = ops.FloatsAttr
	strs    = ops.StringsAttr
	str     = ops.StringAttr
	intAttr = ops.IntAttr
)

func node(op string, opset int, attrs A, nout int, in ...*ops.Tensor) opstest.Node {
	return opstest.Node{Domain: Domain, OpType: op, Opset: opset, Attrs: attrs, Inputs: in, NumOutputs: nout}
}

func strTensor(v ...string) *ops.Tensor { return ops.FromSlice(ops.Shape{len(v)}, v) }

// regressorTree is one tree: x0 <= 1 ? (x1 < 0 ? 10 : 20) : 30, NaN in x0 going to the true side.
func regressorTree() A {
	return A{
		"nodes_treeids":                   ints(0, 0, 0, 0, 0),
		"nodes_nodeids":                   ints(0, 1, 2, 3, 4),
		"nodes_featureids":                ints(0, 1, 0, 0, 0),
		"nodes_modes":                     strs("BRANCH_LEQ", "BRANCH_LT", "LEAF", "LEAF", "LEAF"),
		"nodes_values":                    floats(1, 0, 0, 0, 0),
		"nodes_truenodeids":               ints(1, 2, 0, 0, 0),
		"nodes_falsenodeids":              ints(4, 3, 0, 0, 0),
		"nodes_missing_value_tracks_true": ints(1, 0, 0, 0, 0),
		"target_treeids":                  ints(0, 0, 0),
		"target_nodeids":                  ints(2, 3, 4),
		"target_ids":                      ints(0, 0, 0),
		"target_weights":                  floats(10, 20, 30),
	}
}

func TestTreeEnsembleRegressorTiesAndMissingValues(t *testing.T) {
	nan := float32(math.NaN())
	x := opstest.F32(ops.Shape{5, 2},
		1, -1, // a tie at the threshold: LEQ goes true, then x1 < 0
		1, 0, // tie on the LT node: goes false
		2, -1, // > 1
		nan, -1, // missing x0 tracks true
		0, nan) // missing x1 tracks false
	want := opstest.F32(ops.Shape{5, 1}, 10, 20, 30, 10, 20)
	opstest.Check(t, node("TreeEnsembleRegressor", 3, regressorTree(), 1, x), []*ops.Tensor{want}, "", nil)

	// base_values_as_tensor (opset 3) is added after the aggregation.
	attrs := regressorTree()
	attrs["base_values_as_tensor"] = ops.TensorAttr(ops.FromSlice(ops.Shape{1}, []float64{0.5}))
	want = opstest.F32(ops.Shape{5, 1}, 10.5, 20.5, 30.5, 10.5, 20.5)
	opstest.Check(t, node("TreeEnsembleRegressor", 3, attrs, 1, x), []*ops.Tensor{want}, "", nil)
}

func TestTreeEnsembleClassifierLabels(t *testing.T) {
	attrs := regressorTree()
	for _, k := range []string{"treeids", "nodeids", "ids", "weights"} {
		attrs["class_"+k] = attrs["target_"+k]
		delete(attrs, "target_"+k)
	}
	attrs["class_ids"] = ints(0, 1, 2)
	attrs["class_weights"] = floats(1, 1, 1)
	x := opstest.F32(ops.Shape{3, 2}, 0, -1, 0, 1, 5, 5)
	scores := opstest.F32(ops.Shape{3, 3}, 1, 0, 0, 0, 1, 0, 0, 0, 1)

	attrs["classlabels_strings"] = strs("a", "b", "c")
	got := opstest.MustRun(t, node("TreeEnsembleClassifier", 1, attrs, 2, x))
	if l := ops.Data[string](got[0]); strings.Join(l, ",") != "a,b,c" {
		t.Errorf("string labels %q, want a,b,c", l)
	}
	opstest.AssertClose(t, got[1], scores)

	delete(attrs, "classlabels_strings")
	attrs["classlabels_int64s"] = ints(7, 8, 9)
	got = opstest.MustRun(t, node("TreeEnsembleClassifier", 3, attrs, 2, x))
	opstest.AssertClose(t, got[0], opstest.I64(ops.Shape{3}, 7, 8, 9))
}

func TestTreeEnsembleClassifierBinaryWithLogistic(t *testing.T) {
	// Gradient boosting's binary export: every vote for class 0, a base value, LOGISTIC.
	attrs := A{
		"nodes_treeids": ints(0, 0, 0), "nodes_nodeids": ints(0, 1, 2), "nodes_featureids": ints(0, 0, 0),
		"nodes_modes": strs("BRANCH_LEQ", "LEAF", "LEAF"), "nodes_values": floats(0, 0, 0),
		"nodes_truenodeids": ints(1, 0, 0), "nodes_falsenodeids": ints(2, 0, 0),
		"class_treeids": ints(0, 0), "class_nodeids": ints(1, 2), "class_ids": ints(0, 0), "class_weights": floats(-2, 3),
		"base_values": floats(0.5), "classlabels_int64s": ints(0, 1), "post_transform": str("LOGISTIC"),
	}
	x := opstest.F32(ops.Shape{2, 1}, -1, 1)
	p0, p1 := logistic(-1.5), logistic(3.5)
	want := []*ops.Tensor{opstest.I64(ops.Shape{2}, 0, 1), opstest.F32(ops.Shape{2, 2}, float32(1-p0), float32(p0), float32(1-p1), float32(p1))}
	opstest.Check(t, node("TreeEnsembleClassifier", 3, attrs, 2, x), want, "", nil)
}

func TestTreeEnsembleAggregatesAndMembership(t *testing.T) {
	// Two trees of one split each: x0 in {1, 3} ? leaf 0 : leaf 1, and x0 > 2 ? leaf 2 : leaf 3.
	attrs := func(agg int64) A {
		return A{
			"nodes_featureids": ints(0, 0), "nodes_modes": ops.TensorAttr(ops.FromSlice(ops.Shape{2}, []uint8{6, 3})),
			"nodes_splits":      ops.TensorAttr(opstest.F32(ops.Shape{2}, 0, 2)),
			"nodes_truenodeids": ints(0, 2), "nodes_trueleafs": ints(1, 1), "nodes_falsenodeids": ints(1, 3), "nodes_falseleafs": ints(1, 1),
			"leaf_targetids": ints(0, 0, 0, 0), "leaf_weights": ops.TensorAttr(opstest.F32(ops.Shape{4}, 1, 2, 4, 8)),
			"membership_values": ops.TensorAttr(opstest.F32(ops.Shape{3}, 1, 3, float32(math.NaN()))),
			"tree_roots":        ints(0, 1), "n_targets": intAttr(1), "aggregate_function": intAttr(agg),
		}
	}
	x := opstest.F32(ops.Shape{3, 1}, 1, 3, 2)
	for agg, want := range map[int64][]float32{0: {4.5, 2.5, 5}, 1: {9, 5, 10}, 2: {1, 1, 2}, 3: {8, 4, 8}} {
		opstest.Check(t, node("TreeEnsemble", 5, attrs(agg), 1, x), []*ops.Tensor{opstest.F32(ops.Shape{3, 1}, want...)}, "", nil)
	}
}

// TreeEnsemble-5 over float16: splits, weights and set members are float16 tensors, X and Y float16. A
// feature one half-precision step above a split (2.001953125 > 2) must take the other branch, and the
// sums round to float16 once.
func TestTreeEnsembleFloat16(t *testing.T) {
	half := func(v ...float64) *ops.Tensor { return opstest.FromFloat64s(ops.Float16, ops.Shape{len(v)}, v) }
	third := float64(ops.Float16FromFloat32(1.0 / 3).Float32())
	a := A{
		"nodes_featureids": ints(0, 0), "nodes_modes": ops.TensorAttr(ops.FromSlice(ops.Shape{2}, []uint8{6, 3})),
		"nodes_splits":      ops.TensorAttr(half(0, 2)),
		"nodes_truenodeids": ints(0, 2), "nodes_trueleafs": ints(1, 1), "nodes_falsenodeids": ints(1, 3), "nodes_falseleafs": ints(1, 1),
		"leaf_targetids": ints(0, 0, 0, 0), "leaf_weights": ops.TensorAttr(half(1, 2, 4, third)),
		"membership_values": ops.TensorAttr(half(1, 3, math.NaN())),
		"tree_roots":        ints(0, 1), "n_targets": intAttr(1), "aggregate_function": intAttr(1),
	}
	x := opstest.FromFloat64s(ops.Float16, ops.Shape{4, 1}, []float64{1, 3, 2, 2.001953125})
	want := opstest.FromFloat64s(ops.Float16, ops.Shape{4, 1}, []float64{1 + third, 5, 2 + third, 6})
	opstest.Check(t, node("TreeEnsemble", 5, a, 1, x), []*ops.Tensor{want}, "", nil)
	opstest.CheckRunAllocatesNothing(t, map[string]opstest.Node{"float16": node("TreeEnsemble", 5, a, 1, x)})
}

func TestTreeHostileAttributes(t *testing.T) {
	x := opstest.F32(ops.Shape{1, 2}, 0, 0)
	for name, tc := range map[string]struct {
		edit func(A)
		err  string
	}{
		"child out of range":    {func(a A) { a["nodes_truenodeids"] = ints(1, 9, 0, 0, 0) }, "leads to node id 9"},
		"cycle":                 {func(a A) { a["nodes_truenodeids"] = ints(1, 0, 0, 0, 0) }, "cycle"},
		"lengths differ":        {func(a A) { a["nodes_featureids"] = ints(0, 1) }, "nodes_featureids"},
		"vote on a branch":      {func(a A) { a["target_nodeids"] = ints(0, 3, 4) }, "not a leaf"},
		"target out of range":   {func(a A) { a["target_ids"] = ints(0, 5, 0) }, "target_ids"},
		"unknown mode":          {func(a A) { a["nodes_modes"] = strs("BRANCH_X", "BRANCH_LT", "LEAF", "LEAF", "LEAF") }, "BRANCH_X"},
		"duplicate id":          {func(a A) { a["nodes_nodeids"] = ints(0, 1, 2, 3, 3) }, "repeats"},
		"feature past input":    {func(a A) { a["nodes_featureids"] = ints(7, 1, 0, 0, 0) }, "feature 7"},
		"negative feature":      {func(a A) { a["nodes_featureids"] = ints(-1, 1, 0, 0, 0) }, "nodes_featureids"},
		"aggregate unknown":     {func(a A) { a["aggregate_function"] = str("MEDIAN") }, "MEDIAN"},
		"post_transform broken": {func(a A) { a["post_transform"] = str("TANH") }, "TANH"},
	} {
		t.Run(name, func(t *testing.T) {
			a := regressorTree()
			tc.edit(a)
			opstest.Check(t, node("TreeEnsembleRegressor", 3, a, 1, x), nil, tc.err, ops.ErrInvalid)
		})
	}
	v5 := func() A {
		return A{
			"nodes_featureids": ints(0), "nodes_modes": ops.TensorAttr(ops.FromSlice(ops.Shape{1}, []uint8{0})),
			"nodes_splits":      ops.TensorAttr(opstest.F32(ops.Shape{1}, 0)),
			"nodes_truenodeids": ints(0), "nodes_trueleafs": ints(0), "nodes_falsenodeids": ints(0), "nodes_falseleafs": ints(1),
			"leaf_targetids": ints(0), "leaf_weights": ops.TensorAttr(opstest.F32(ops.Shape{1}, 1)),
			"tree_roots": ints(0), "n_targets": intAttr(1),
		}
	}
	for name, tc := range map[string]struct {
		edit func(A)
		err  string
	}{
		"self loop":          {func(a A) {}, "cycle"},
		"leaf out of range":  {func(a A) { a["nodes_falsenodeids"] = ints(4) }, "nodes_falsenodeids"},
		"root out of range":  {func(a A) { a["tree_roots"] = ints(3) }, "tree_roots"},
		"mode out of range":  {func(a A) { a["nodes_modes"] = ops.TensorAttr(ops.FromSlice(ops.Shape{1}, []uint8{9})) }, "nodes_modes"},
		"splits too short":   {func(a A) { a["nodes_splits"] = ops.TensorAttr(opstest.F32(ops.Shape{0})) }, "nodes_splits"},
		"member without set": {func(a A) { a["nodes_modes"] = ops.TensorAttr(ops.FromSlice(ops.Shape{1}, []uint8{6})) }, "membership_values"},
		"target too big":     {func(a A) { a["leaf_targetids"] = ints(1) }, "leaf_targetids"},
		"no n_targets":       {func(a A) { delete(a, "n_targets") }, "n_targets"},
	} {
		t.Run("v5 "+name, func(t *testing.T) {
			a := v5()
			tc.edit(a)
			opstest.Check(t, node("TreeEnsemble", 5, a, 1, x), nil, tc.err, ops.ErrInvalid)
		})
	}
}

func TestLabelEncoder(t *testing.T) {
	x := strTensor("b", "zz", "a")
	// Opset 2: an unknown key takes default_int64.
	opstest.Check(t, node("LabelEncoder", 2, A{"keys_strings": strs("a", "b"), "values_int64s": ints(5, 6), "default_int64": intAttr(-9)}, 1, x),
		[]*ops.Tensor{opstest.I64(ops.Shape{3}, 6, -9, 5)}, "", nil)
	// Opset 1: strings to their index and back.
	opstest.Check(t, node("LabelEncoder", 1, A{"classes_strings": strs("a", "b")}, 1, x), []*ops.Tensor{opstest.I64(ops.Shape{3}, 1, -1, 0)}, "", nil)
	got := opstest.MustRun(t, node("LabelEncoder", 1, A{"classes_strings": strs("a", "b"), "default_string": str("?")}, 1, opstest.I64(ops.Shape{3}, 1, 7, 0)))
	if l := ops.Data[string](got[0]); strings.Join(l, ",") != "b,?,a" {
		t.Errorf("int64 to string: %q", l)
	}
	// Opset 4: a NaN key matches any NaN; float values default to -0.
	nan := float32(math.NaN())
	got = opstest.MustRun(t, node("LabelEncoder", 4, A{"keys_floats": floats(nan, 1), "values_floats": floats(3, 4)}, 1, opstest.F32(ops.Shape{3}, 1, nan, 2)))
	if y := got[0].Float32s(); y[0] != 4 || y[1] != 3 || y[2] != 0 || !math.Signbit(float64(y[2])) {
		t.Errorf("float keys: %v, want [4 3 -0]", y)
	}
	// A repeated key maps to its last value.
	opstest.Check(t, node("LabelEncoder", 4, A{"keys_int64s": ints(1, 1), "values_int64s": ints(5, 6)}, 1, opstest.I64(ops.Shape{1}, 1)),
		[]*ops.Tensor{opstest.I64(ops.Shape{1}, 6)}, "", nil)
	for name, tc := range map[string]struct {
		attrs A
		err   string
	}{
		"lengths":       {A{"keys_strings": strs("a", "b"), "values_int64s": ints(1)}, "values_int64s"},
		"no keys":       {A{"values_int64s": ints(1)}, "keys_*"},
		"two keys":      {A{"keys_strings": strs("a"), "keys_int64s": ints(1), "values_int64s": ints(1)}, "keys_*"},
		"default type":  {A{"keys_strings": strs("a"), "values_int64s": ints(1), "default_tensor": ops.TensorAttr(opstest.F32(ops.Shape{1}, 1))}, "default_tensor"},
		"wrong X dtype": {A{"keys_int64s": ints(1), "values_int64s": ints(1)}, "dtype string"},
	} {
		t.Run(name, func(t *testing.T) {
			opstest.Check(t, node("LabelEncoder", 4, tc.attrs, 1, x), nil, tc.err, ops.ErrInvalid)
		})
	}
}

func TestCategoryMapperAndOneHotEncoder(t *testing.T) {
	attrs := A{"cats_strings": strs("x", "y"), "cats_int64s": ints(3, 4)}
	opstest.Check(t, node("CategoryMapper", 1, attrs, 1, strTensor("y", "q")), []*ops.Tensor{opstest.I64(ops.Shape{2}, 4, -1)}, "", nil)

	oh := A{"cats_int64s": ints(3, 4, 5)}
	opstest.Check(t, node("OneHotEncoder", 1, oh, 1, opstest.F32(ops.Shape{1, 2}, 4.7, 9)),
		[]*ops.Tensor{opstest.F32(ops.Shape{1, 2, 3}, 0, 1, 0, 0, 0, 0)}, "", nil)
	oh["zeros"] = intAttr(0)
	opstest.Check(t, node("OneHotEncoder", 1, oh, 1, opstest.F32(ops.Shape{2}, 4, 9)), nil, "no category", nil)
	opstest.Check(t, node("OneHotEncoder", 1, A{"cats_strings": strs("a", "b")}, 1, strTensor("b")),
		[]*ops.Tensor{opstest.F32(ops.Shape{1, 2}, 0, 1)}, "", nil)
}

func TestTransforms(t *testing.T) {
	x := opstest.F32(ops.Shape{2, 2}, 3, -4, 0, 0)
	opstest.Check(t, node("Normalizer", 1, A{"norm": str("L2")}, 1, x), []*ops.Tensor{opstest.F32(ops.Shape{2, 2}, 0.6, -0.8, 0, 0)}, "", nil)
	opstest.Check(t, node("Normalizer", 1, A{"norm": str("L1")}, 1, x), []*ops.Tensor{opstest.F32(ops.Shape{2, 2}, 3.0/7, -4.0/7, 0, 0)}, "", nil)
	opstest.Check(t, node("Normalizer", 1, A{"norm": str("MAX")}, 1, x), []*ops.Tensor{opstest.F32(ops.Shape{2, 2}, 1, -4.0/3, 0, 0)}, "", nil)
	opstest.Check(t, node("Scaler", 1, A{"offset": floats(1, 2), "scale": floats(2)}, 1, x), []*ops.Tensor{opstest.F32(ops.Shape{2, 2}, 4, -12, -2, -4)}, "", nil)
	opstest.Check(t, node("Scaler", 1, A{"offset": floats(1, 2, 3)}, 1, x), nil, "offset", ops.ErrInvalid)
	opstest.Check(t, node("Binarizer", 1, A{"threshold": ops.FloatAttr(0)}, 1, opstest.I64(ops.Shape{3}, -1, 0, 2)), []*ops.Tensor{opstest.I64(ops.Shape{3}, 0, 0, 1)}, "", nil)

	nan := float32(math.NaN())
	opstest.Check(t, node("Imputer", 1, A{"imputed_value_floats": floats(7, 8), "replaced_value_float": ops.FloatAttr(nan)}, 1, opstest.F32(ops.Shape{2, 2}, nan, 1, 2, nan)),
		[]*ops.Tensor{opstest.F32(ops.Shape{2, 2}, 7, 1, 2, 8)}, "", nil)
	opstest.Check(t, node("Imputer", 1, A{"imputed_value_int64s": ints(0), "replaced_value_int64": intAttr(-1)}, 1, opstest.I64(ops.Shape{3}, -1, 5, -1)),
		[]*ops.Tensor{opstest.I64(ops.Shape{3}, 0, 5, 0)}, "", nil)
	opstest.Check(t, node("Imputer", 1, A{"imputed_value_int64s": ints(0)}, 1, x), nil, "do not fit", ops.ErrInvalid)

	opstest.Check(t, node("ArrayFeatureExtractor", 1, nil, 1, strTensor("a", "b", "c"), opstest.I64(ops.Shape{2}, 2, 0)), nil, "", nil)
	opstest.Check(t, node("ArrayFeatureExtractor", 1, nil, 1, x, opstest.I64(ops.Shape{1}, 2)), nil, "index 0 is 2", ops.ErrInvalid)
	n := node("ArrayFeatureExtractor", 1, nil, 1, x, opstest.I64(ops.Shape{1}, 5))
	n.NonConstInputs = []int{1}
	opstest.Check(t, n, nil, "index 0 is 5", ops.ErrInvalid)

	opstest.Check(t, node("FeatureVectorizer", 1, A{"inputdimensions": ints(1, 3)}, 1, x, opstest.I64(ops.Shape{2, 2}, 5, 6, 7, 8)),
		[]*ops.Tensor{opstest.F32(ops.Shape{2, 4}, 3, 5, 6, 0, 0, 7, 8, 0)}, "", nil)
	fv := node("FeatureVectorizer", 1, A{"inputdimensions": ints(1)}, 1, x, x)
	opstest.Check(t, fv, nil, "inputdimensions", ops.ErrInvalid)
}

func TestLinearModels(t *testing.T) {
	x := opstest.F32(ops.Shape{2, 2}, 1, 2, -1, -3)
	// Binary: one row of coefficients, two labels; scores [-s, s].
	got := opstest.MustRun(t, node("LinearClassifier", 1, A{"coefficients": floats(1, 1), "intercepts": floats(-1), "classlabels_strings": strs("no", "yes")}, 2, x))
	if l := ops.Data[string](got[0]); strings.Join(l, ",") != "yes,no" {
		t.Errorf("labels %q, want yes,no", l)
	}
	opstest.AssertClose(t, got[1], opstest.F32(ops.Shape{2, 2}, -2, 2, 5, -5))
	// Three classes, SOFTMAX.
	got = opstest.MustRun(t, node("LinearClassifier", 1, A{"coefficients": floats(1, 0, 0, 1, 0, 0), "classlabels_ints": ints(4, 5, 6), "post_transform": str("SOFTMAX")}, 2, x))
	opstest.AssertClose(t, got[0], opstest.I64(ops.Shape{2}, 5, 6))
	opstest.Check(t, node("LinearClassifier", 1, A{"coefficients": floats(1, 2, 3), "classlabels_ints": ints(0, 1)}, 2, x), nil, "do not make rows", ops.ErrInvalid)
	opstest.Check(t, node("LinearClassifier", 1, A{"coefficients": floats(1, 2), "intercepts": floats(1, 2, 3), "classlabels_ints": ints(0, 1)}, 2, x), nil, "intercepts", ops.ErrInvalid)

	opstest.Check(t, node("LinearRegressor", 1, A{"coefficients": floats(1, 1, 2, 0), "intercepts": floats(0, 1), "targets": intAttr(2)}, 1, x),
		[]*ops.Tensor{opstest.F32(ops.Shape{2, 2}, 3, 3, -4, -1)}, "", nil)
	opstest.Check(t, node("LinearRegressor", 1, A{"coefficients": floats(1, 1, 2), "targets": intAttr(2)}, 1, x), nil, "rows", ops.ErrInvalid)
}

func TestSVM(t *testing.T) {
	x := opstest.F32(ops.Shape{2, 2}, 1, 0, 0, 3)
	// RBF regressor with two support vectors: rho + Σ c·exp(-γ|x-sv|²).
	reg := A{"kernel_type": str("RBF"), "kernel_params": floats(0.5, 0, 0), "n_supports": intAttr(2), "support_vectors": floats(1, 0, 0, 1),
		"coefficients": floats(2, -1), "rho": floats(0.25)}
	want := func(x0, x1 float64) float32 {
		return float32(0.25 + 2*math.Exp(-0.5*((x0-1)*(x0-1)+x1*x1)) - math.Exp(-0.5*(x0*x0+(x1-1)*(x1-1))))
	}
	opstest.Check(t, node("SVMRegressor", 1, reg, 1, x), []*ops.Tensor{opstest.F32(ops.Shape{2, 1}, want(1, 0), want(0, 3))}, "", nil)
	reg["one_class"], reg["rho"] = intAttr(1), floats(-0.25) // scores 1.38 and -0.37
	opstest.Check(t, node("SVMRegressor", 1, reg, 1, x), []*ops.Tensor{opstest.F32(ops.Shape{2, 1}, 1, -1)}, "", nil)
	reg["coefficients"] = floats(1)
	opstest.Check(t, node("SVMRegressor", 1, reg, 1, x), nil, "coefficients", ops.ErrInvalid)

	// Two classes, one support vector each, linear kernel: s = rho + c0·(sv0·x) + c1·(sv1·x); s > 0 votes class 0.
	cls := A{"kernel_type": str("LINEAR"), "vectors_per_class": ints(1, 1), "support_vectors": floats(1, 0, 0, 1),
		"coefficients": floats(1, -1), "rho": floats(0), "classlabels_ints": ints(10, 20)}
	opstest.Check(t, node("SVMClassifier", 1, cls, 2, x), []*ops.Tensor{opstest.I64(ops.Shape{2}, 10, 20), opstest.F32(ops.Shape{2, 2}, -1, 1, 3, -3)}, "", nil)
	cls["rho"] = floats(0, 1)
	opstest.Check(t, node("SVMClassifier", 1, cls, 2, x), nil, "rho", ops.ErrInvalid)
	cls["rho"] = floats(0)
	cls["vectors_per_class"] = ints(1, -5)
	opstest.Check(t, node("SVMClassifier", 1, cls, 2, x), nil, "vectors_per_class", ops.ErrInvalid)
}

func TestPostTransforms(t *testing.T) {
	row := []float64{0, 1, 0}
	softmaxZero(row)
	if row[0] != 0 || row[1] != 1 || row[2] != 0 {
		t.Errorf("SOFTMAX_ZERO kept zeros? %v", row)
	}
	if p := probit(0.975); math.Abs(p-1.959964) > 1e-5 {
		t.Errorf("probit(0.975) = %v", p)
	}
	if logistic(-800) != 0 || logistic(800) != 1 || logistic(0) != 0.5 {
		t.Error("logistic overflows")
	}
	if _, err := parsePostTransform("nope"); !errors.Is(err, ops.ErrInvalid) {
		t.Errorf("bad post_transform: %v", err)
	}
}

func TestRegistrations(t *testing.T) {
	for _, op := range []string{"LinearClassifier", "LinearRegressor", "SVMClassifier", "SVMRegressor", "TreeEnsemble",
		"TreeEnsembleClassifier", "TreeEnsembleRegressor", "Scaler", "Normalizer", "OneHotEncoder", "LabelEncoder",
		"Binarizer", "ArrayFeatureExtractor", "Imputer", "CategoryMapper", "FeatureVectorizer"} {
		if _, _, ok := ops.Lookup(Domain, op, 5); !ok && !strings.HasPrefix(op, "TreeEnsemble") || op == "TreeEnsemble" && !ok {
			t.Errorf("%s is not registered at ai.onnx.ml opset 5", op)
		}
	}
	if _, _, ok := ops.Lookup(Domain, "TreeEnsembleRegressor", 5); ok {
		t.Error("TreeEnsembleRegressor is registered at opset 5, where it is deprecated")
	}
}
