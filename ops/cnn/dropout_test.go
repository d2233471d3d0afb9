package cnn

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

func TestDropout(t *testing.T) {
	x := f32(ops.Shape{5}, 1, 2, 3, 4, 5)
	yes, no := ops.FromSlice(ops.Shape{}, []bool{true}), ops.FromSlice(ops.Shape{}, []bool{false})
	ratio := f32(ops.Shape{}, 0.5)
	allTrue := ops.FromSlice(ops.Shape{5}, []bool{true, true, true, true, true})
	seeded := ops.AttrMap{"seed": ops.IntAttr(0)}
	withMask := func(opset int, attrs ops.AttrMap, in ...*ops.Tensor) opstest.Node {
		return opstest.Node{OpType: "Dropout", Opset: opset, Attrs: attrs, Inputs: in, NumOutputs: 2}
	}
	runCases(t, []opCase{
		{name: "inference", node: withMask(22, nil, x), want: []*ops.Tensor{x, allTrue}},
		{name: "training false", node: withMask(22, seeded, x, ratio, no), want: []*ops.Tensor{x, allTrue}},
		{name: "ratio 0 trains as identity", node: withMask(13, seeded, x, f32(ops.Shape{}, 0), yes), want: []*ops.Tensor{x, allTrue}},
		// numpy's uniforms for seed 0 are 0.549, 0.715, 0.603, 0.545, 0.424: the last is < 0.5 and dropped.
		{name: "training seeded", node: withMask(22, seeded, x, ratio, yes),
			want: []*ops.Tensor{f32(ops.Shape{5}, 2, 4, 6, 8, 0), ops.FromSlice(ops.Shape{5}, []bool{true, true, true, true, false})}},
		{name: "training seeded ratio 0.6", node: withMask(12, seeded, toF64(x), f64(ops.Shape{}, 0.6), yes),
			want: []*ops.Tensor{f64(ops.Shape{5}, 0, 5, 7.5, 0, 0), ops.FromSlice(ops.Shape{5}, []bool{false, true, true, false, false})}},
		{name: "default ratio 0.5", node: withMask(22, seeded, x, nil, yes),
			want: []*ops.Tensor{f32(ops.Shape{5}, 2, 4, 6, 8, 0), nil}},
		{name: "opset 7 mask has X's type", node: withMask(7, ops.AttrMap{"ratio": ops.FloatAttr(0.3)}, x),
			want: []*ops.Tensor{x, f32(ops.Shape{5}, 1, 1, 1, 1, 1)}},
		{name: "opset 1 is_test 0 still inference", node: withMask(1, ops.AttrMap{"is_test": ops.IntAttr(0)}, x),
			want: []*ops.Tensor{x, f32(ops.Shape{5}, 1, 1, 1, 1, 1)}},
		{name: "opset 10 bool mask", node: withMask(10, nil, toHalf(x)), want: []*ops.Tensor{toHalf(x), allTrue}},
		{name: "float16 training", node: withMask(22, seeded, toHalf(x), ratio, yes),
			want: []*ops.Tensor{toHalf(f32(ops.Shape{5}, 2, 4, 6, 8, 0)), nil}},
		{name: "constant ratio 1", node: withMask(22, nil, x, f32(ops.Shape{}, 1), yes), wantErr: "ratio is 1, want a value in [0, 1)"},
		{name: "ratio 1 at run time", node: opstest.Node{OpType: "Dropout", Opset: 22, Inputs: []*ops.Tensor{x, f32(ops.Shape{}, 1), yes}, NonConstInputs: []int{1}},
			wantErr: "Dropout ratio is 1"},
		{name: "training_mode type", node: withMask(22, nil, x, ratio, f32(ops.Shape{}, 1)), wantErr: "training_mode is float32[], want a bool scalar"},
		{name: "int input", node: withMask(22, nil, i64(ops.Shape{1}, 1)), wantErr: "input data has dtype int64"},
		{name: "ratio input before opset 12", node: withMask(11, nil, x, ratio), wantErr: "at most 1 inputs"},
	})
}

// TestDropoutAliasing checks the optional interfaces the runtime relies on: an inference-only node aliases
// its input and may be folded; a node with a training_mode input neither aliases nor folds.
func TestDropoutAliasing(t *testing.T) {
	for _, c := range []struct {
		opset     int
		inputs    []bool
		wantAlias bool
	}{
		{22, []bool{true}, true},
		{22, []bool{true, true}, true},
		{22, []bool{true, false, false}, true},
		{22, []bool{true, true, true}, false},
		{22, []bool{true, false, true}, false},
		{7, []bool{true}, true},
	} {
		build, _, ok := ops.Lookup("", "Dropout", c.opset)
		if !ok {
			t.Fatalf("Dropout opset %d not registered", c.opset)
		}
		op, err := build(ops.NodeInfo{OpType: "Dropout", Opset: c.opset, NumInputs: len(c.inputs), InputPresent: c.inputs, NumOutputs: 2})
		if err != nil {
			t.Fatal(err)
		}
		al, ok := op.(ops.Aliaser)
		if !ok {
			t.Fatal("Dropout does not implement ops.Aliaser")
		}
		in, okAlias := al.AliasOf(0)
		if okAlias != c.wantAlias || (okAlias && in != 0) {
			t.Errorf("opset %d inputs %v: AliasOf(0) = %d, %v; want alias %v", c.opset, c.inputs, in, okAlias, c.wantAlias)
		}
		if _, maskAlias := al.AliasOf(1); maskAlias {
			t.Errorf("opset %d inputs %v: the mask must not alias", c.opset, c.inputs)
		}
		nd, ok := op.(ops.Nondeterministic)
		if !ok || nd.Nondeterministic() == c.wantAlias {
			t.Errorf("opset %d inputs %v: Nondeterministic() should be %v", c.opset, c.inputs, !c.wantAlias)
		}
	}
}
