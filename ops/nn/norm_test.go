package nn

import (
	"math"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

func node(op string, opset int, attrs ops.AttrMap, in ...*ops.Tensor) opstest.Node {
	return opstest.Node{OpType: op, Opset: opset, Attrs: attrs, Inputs: in}
}

var eps0 = ops.AttrMap{"epsilon": ops.FloatAttr(0)}

func TestBatchNormalization(t *testing.T) {
	// Channel 0 holds 1, 2 and channel 1 holds 3, 4 (N=1, C=2, 1x2 spatial).
	x := f32(ops.Shape{1, 2, 1, 2}, 1, 2, 3, 4)
	scale, bias := f32(ops.Shape{2}, 1, 2), f32(ops.Shape{2}, 0, 1)
	mean, variance := f32(ops.Shape{2}, 1, 3), f32(ops.Shape{2}, 1, 4)
	train := ops.AttrMap{"epsilon": ops.FloatAttr(0), "training_mode": ops.IntAttr(1)}
	// Batch statistics: means 1.5 and 3.5, variances 0.25; running = input*0.9 + batch*0.1.
	runningMean, runningVar := f32(ops.Shape{2}, 1.05, 3.05), f32(ops.Shape{2}, 0.925, 3.625)
	trainedY := f32(ops.Shape{1, 2, 1, 2}, -1, 1, -1, 3)
	runCases(t, []opCase{
		{name: "inference", node: node("BatchNormalization", 15, eps0, x, scale, bias, mean, variance),
			want: []*ops.Tensor{f32(ops.Shape{1, 2, 1, 2}, 0, 1, 1, 2)}},
		{name: "epsilon", node: node("BatchNormalization", 15, ops.AttrMap{"epsilon": ops.FloatAttr(3)}, x, scale, bias, mean, variance),
			want: []*ops.Tensor{f32(ops.Shape{1, 2, 1, 2}, 0, 0.5, 1, 1+2/float32(math.Sqrt(7)))}},
		{name: "float64", node: node("BatchNormalization", 9, eps0, toF64(x), toF64(scale), toF64(bias), toF64(mean), toF64(variance)),
			want: []*ops.Tensor{f64(ops.Shape{1, 2, 1, 2}, 0, 1, 1, 2)}},
		{name: "mixed types at opset 15", node: node("BatchNormalization", 15, eps0, toHalf(x), toF64(scale), toF64(bias), mean, variance),
			want: []*ops.Tensor{toHalf(f32(ops.Shape{1, 2, 1, 2}, 0, 1, 1, 2))}},
		{name: "training opset 15",
			node: opstest.Node{OpType: "BatchNormalization", Opset: 15, Attrs: train, Inputs: []*ops.Tensor{x, scale, bias, mean, variance}, NumOutputs: 3},
			want: []*ops.Tensor{trainedY, runningMean, runningVar}},
		{name: "training without running outputs",
			node: node("BatchNormalization", 14, train, x, scale, bias, mean, variance),
			want: []*ops.Tensor{trainedY}},
		{name: "training opset 9 by outputs",
			node: opstest.Node{OpType: "BatchNormalization", Opset: 9, Attrs: eps0, Inputs: []*ops.Tensor{x, scale, bias, mean, variance}, NumOutputs: 5},
			want: []*ops.Tensor{trainedY, runningMean, runningVar, f32(ops.Shape{2}, 1.5, 3.5), f32(ops.Shape{2}, 0.25, 0.25)}},
		{name: "opset 6 is_test", node: opstest.Node{OpType: "BatchNormalization", Opset: 6,
			Attrs:  ops.AttrMap{"epsilon": ops.FloatAttr(0), "is_test": ops.IntAttr(1)},
			Inputs: []*ops.Tensor{x, scale, bias, mean, variance}},
			want: []*ops.Tensor{f32(ops.Shape{1, 2, 1, 2}, 0, 1, 1, 2)}},
		// spatial=0: each (C, D) cell has its own statistics; X is N=2 x C=1 x D=2.
		{name: "spatial 0", node: node("BatchNormalization", 7, ops.AttrMap{"epsilon": ops.FloatAttr(0), "spatial": ops.IntAttr(0)},
			f32(ops.Shape{2, 1, 2}, 1, 2, 3, 4), f32(ops.Shape{1, 2}, 1, 1), f32(ops.Shape{1, 2}, 0, 0), f32(ops.Shape{1, 2}, 1, 2), f32(ops.Shape{1, 2}, 1, 4)),
			want: []*ops.Tensor{f32(ops.Shape{2, 1, 2}, 0, 0, 2, 1)}},
		{name: "1-D batch", node: node("BatchNormalization", 9, eps0, f32(ops.Shape{3}, 1, 2, 3), f32(ops.Shape{1}, 1), f32(ops.Shape{1}, 0), f32(ops.Shape{1}, 2), f32(ops.Shape{1}, 1)),
			want: []*ops.Tensor{f32(ops.Shape{3}, -1, 0, 1)}},
		{name: "outputs in inference", node: opstest.Node{OpType: "BatchNormalization", Opset: 15, Inputs: []*ops.Tensor{x, scale, bias, mean, variance}, NumOutputs: 3},
			wantErr: "training_mode is 0 but the node declares 3 outputs"},
		{name: "scale shape", node: node("BatchNormalization", 15, nil, x, f32(ops.Shape{3}, 1, 2, 3), bias, mean, variance),
			wantErr: "input scale has shape [3], want [2] for X [1,2,1,2]"},
		{name: "mixed types before 14", node: node("BatchNormalization", 9, nil, x, toF64(scale), bias, mean, variance),
			wantErr: "input scale has dtype float64, X has float32 (opset 9 wants one type)"},
		{name: "missing var", node: node("BatchNormalization", 15, nil, x, scale, bias, mean), wantErr: "input 4 is required but missing"},
	})
}

func TestInstanceNormalization(t *testing.T) {
	// Plane (0,0) is 1, 3 (mean 2, variance 1); plane (0,1) is 2, 6 (mean 4, variance 4).
	x := f32(ops.Shape{1, 2, 1, 2}, 1, 3, 2, 6)
	scale, bias := f32(ops.Shape{2}, 1, 2), f32(ops.Shape{2}, 0, 1)
	runCases(t, []opCase{
		{name: "basic", node: node("InstanceNormalization", 22, eps0, x, scale, bias), want: []*ops.Tensor{f32(ops.Shape{1, 2, 1, 2}, -1, 1, -1, 3)}},
		{name: "opset 1", node: node("InstanceNormalization", 1, eps0, x, scale, bias), want: []*ops.Tensor{f32(ops.Shape{1, 2, 1, 2}, -1, 1, -1, 3)}},
		{name: "epsilon", node: node("InstanceNormalization", 6, ops.AttrMap{"epsilon": ops.FloatAttr(3)}, x, scale, bias),
			want: []*ops.Tensor{f32(ops.Shape{1, 2, 1, 2}, -0.5, 0.5, 1-4/float32(math.Sqrt(7)), 1+4/float32(math.Sqrt(7)))}},
		{name: "bfloat16", node: node("InstanceNormalization", 22, eps0, toBF16(x), toBF16(scale), toBF16(bias)),
			want: []*ops.Tensor{toBF16(f32(ops.Shape{1, 2, 1, 2}, -1, 1, -1, 3))}},
		{name: "scale shape", node: node("InstanceNormalization", 22, nil, x, f32(ops.Shape{1}, 1), bias), wantErr: "scale has shape [1], want [2]"},
		{name: "negative epsilon", node: node("InstanceNormalization", 22, ops.AttrMap{"epsilon": ops.FloatAttr(-1)}, x, scale, bias), wantErr: `"epsilon" is -1`},
	})
}

func TestLayerNormalization(t *testing.T) {
	x := f32(ops.Shape{2, 2}, 1, 3, 2, 6)
	scale, bias := f32(ops.Shape{2}, 1, 2), f32(ops.Shape{2}, 0, 1)
	stats := func(v ...float32) *ops.Tensor { return f32(ops.Shape{2, 1}, v...) }
	runCases(t, []opCase{
		{name: "last axis", node: opstest.Node{OpType: "LayerNormalization", Opset: 17, Attrs: eps0, Inputs: []*ops.Tensor{x, scale, bias}, NumOutputs: 3},
			want: []*ops.Tensor{f32(ops.Shape{2, 2}, -1, 3, -1, 3), stats(2, 4), stats(1, 0.5)}},
		{name: "no bias", node: node("LayerNormalization", 17, eps0, x, scale),
			want: []*ops.Tensor{f32(ops.Shape{2, 2}, -1, 2, -1, 2)}},
		{name: "scale broadcast from [1, 2]", node: node("LayerNormalization", 17, eps0, x, f32(ops.Shape{1, 2}, 1, 2), f32(ops.Shape{1}, 1)),
			want: []*ops.Tensor{f32(ops.Shape{2, 2}, 0, 3, 0, 3)}},
		// axis 0 normalises all four values: mean 3, variance 3.5.
		{name: "axis 0", node: opstest.Node{OpType: "LayerNormalization", Opset: 17, Attrs: ops.AttrMap{"axis": ops.IntAttr(0), "epsilon": ops.FloatAttr(0)},
			Inputs: []*ops.Tensor{x, f32(ops.Shape{2, 2}, 1, 1, 1, 1)}, NumOutputs: 3},
			want: []*ops.Tensor{f32(ops.Shape{2, 2}, -1.06904497, 0, -0.53452248, 1.60356745), f32(ops.Shape{1, 1}, 3), f32(ops.Shape{1, 1}, 0.5345224838)}},
		{name: "float64 X, float32 statistics", node: opstest.Node{OpType: "LayerNormalization", Opset: 17, Attrs: eps0,
			Inputs: []*ops.Tensor{toF64(x), toF64(scale), toF64(bias)}, NumOutputs: 2},
			want: []*ops.Tensor{f64(ops.Shape{2, 2}, -1, 3, -1, 3), stats(2, 4)}},
		{name: "float16", node: node("LayerNormalization", 17, eps0, toHalf(x), toHalf(scale), toHalf(bias)),
			want: []*ops.Tensor{toHalf(f32(ops.Shape{2, 2}, -1, 3, -1, 3))}},
		{name: "axis out of range", node: node("LayerNormalization", 17, ops.AttrMap{"axis": ops.IntAttr(2)}, x, scale), wantErr: "axis 2 is out of range [-2, 1]"},
		{name: "scale shape", node: node("LayerNormalization", 17, nil, x, f32(ops.Shape{3}, 1, 2, 3)), wantErr: "Scale has shape [3], which does not broadcast to X [2,2]"},
		{name: "stash_type", node: node("LayerNormalization", 17, ops.AttrMap{"stash_type": ops.IntAttr(11)}, x, scale), wantErr: "stash_type 11"},
	})
}

func TestGroupNormalization(t *testing.T) {
	// Group 0 holds channels 0, 1 = 1, 3 (mean 2, variance 1); group 1 holds 2, 6 (mean 4, variance 4).
	x := f32(ops.Shape{1, 4, 1, 1}, 1, 3, 2, 6)
	groups := ops.AttrMap{"num_groups": ops.IntAttr(2), "epsilon": ops.FloatAttr(0)}
	runCases(t, []opCase{
		{name: "opset 21 per channel", node: node("GroupNormalization", 21, groups, x, f32(ops.Shape{4}, 1, 2, 3, 4), f32(ops.Shape{4}, 0, 0, 0, 1)),
			want: []*ops.Tensor{f32(ops.Shape{1, 4, 1, 1}, -1, 2, -3, 5)}},
		{name: "opset 18 per group", node: node("GroupNormalization", 18, groups, x, f32(ops.Shape{2}, 1, 2), f32(ops.Shape{2}, 0, 1)),
			want: []*ops.Tensor{f32(ops.Shape{1, 4, 1, 1}, -1, 1, -1, 3)}},
		{name: "one group is layer norm over C,H,W", node: node("GroupNormalization", 21, ops.AttrMap{"num_groups": ops.IntAttr(1), "epsilon": ops.FloatAttr(0)},
			f32(ops.Shape{1, 2, 1, 1}, 1, 3), f32(ops.Shape{2}, 1, 1), f32(ops.Shape{2}, 0, 0)),
			want: []*ops.Tensor{f32(ops.Shape{1, 2, 1, 1}, -1, 1)}},
		{name: "float64", node: node("GroupNormalization", 21, groups, toF64(x), f64(ops.Shape{4}, 1, 2, 3, 4), f64(ops.Shape{4}, 0, 0, 0, 1)),
			want: []*ops.Tensor{f64(ops.Shape{1, 4, 1, 1}, -1, 2, -3, 5)}},
		{name: "groups do not divide", node: node("GroupNormalization", 21, ops.AttrMap{"num_groups": ops.IntAttr(3)}, x, f32(ops.Shape{4}, 1, 2, 3, 4), f32(ops.Shape{4}, 0, 0, 0, 1)),
			wantErr: "num_groups 3 does not divide the 4 channels"},
		{name: "opset 21 wants per-channel scale", node: node("GroupNormalization", 21, groups, x, f32(ops.Shape{2}, 1, 2), f32(ops.Shape{2}, 0, 1)),
			wantErr: "scale has shape [2], want [4] (one value per channel at opset 21)"},
		{name: "missing num_groups", node: node("GroupNormalization", 21, nil, x, f32(ops.Shape{4}, 1, 2, 3, 4), f32(ops.Shape{4}, 0, 0, 0, 1)),
			wantErr: `"num_groups" is required`},
	})
}

func TestLRN(t *testing.T) {
	x := f32(ops.Shape{1, 3, 1, 1}, 1, 2, 3)
	runCases(t, []opCase{
		// size 3: channel c sums the squares of c-1..c+1; alpha/size = 1, beta 1, bias 1.
		{name: "size 3", node: node("LRN", 13, ops.AttrMap{"size": ops.IntAttr(3), "alpha": ops.FloatAttr(3), "beta": ops.FloatAttr(1), "bias": ops.FloatAttr(1)}, x),
			want: []*ops.Tensor{f32(ops.Shape{1, 3, 1, 1}, 1.0/6, 2.0/15, 3.0/14)}},
		// size 2: floor((2-1)/2) = 0 channels before, ceil((2-1)/2) = 1 after.
		{name: "size 2", node: node("LRN", 1, ops.AttrMap{"size": ops.IntAttr(2), "alpha": ops.FloatAttr(2), "beta": ops.FloatAttr(1), "bias": ops.FloatAttr(1)}, x),
			want: []*ops.Tensor{f32(ops.Shape{1, 3, 1, 1}, 1.0/6, 2.0/14, 3.0/10)}},
		{name: "defaults", node: node("LRN", 13, ops.AttrMap{"size": ops.IntAttr(1)}, toF64(x)),
			want: []*ops.Tensor{f64(ops.Shape{1, 3, 1, 1}, 1/math.Pow(1+1e-4, 0.75), 2/math.Pow(1+4e-4, 0.75), 3/math.Pow(1+9e-4, 0.75))}},
		{name: "size required", node: node("LRN", 13, nil, x), wantErr: `"size" is required`},
		{name: "size 0", node: node("LRN", 13, ops.AttrMap{"size": ops.IntAttr(0)}, x), wantErr: `"size" is 0`},
	})
}

func TestMeanVarianceNormalization(t *testing.T) {
	x := f32(ops.Shape{2, 1, 1, 2}, 1, 3, 5, 7)
	runCases(t, []opCase{
		{name: "default axes", node: node("MeanVarianceNormalization", 13, nil, x),
			want: []*ops.Tensor{f32(ops.Shape{2, 1, 1, 2}, -1.34164079, -0.4472136, 0.4472136, 1.34164079)}},
		{name: "last axis", node: node("MeanVarianceNormalization", 13, ops.AttrMap{"axes": ints(-1)}, f32(ops.Shape{2, 1, 1, 2}, 1, 3, 5, 8)),
			want: []*ops.Tensor{f32(ops.Shape{2, 1, 1, 2}, -1, 1, -1, 1)}},
		{name: "constant input stays finite", node: node("MeanVarianceNormalization", 9, ops.AttrMap{"axes": ints(3)}, f32(ops.Shape{1, 1, 1, 2}, 4, 4)),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 1, 2}, 0, 0)}},
		{name: "axis out of range", node: node("MeanVarianceNormalization", 13, nil, f32(ops.Shape{2, 2}, 1, 2, 3, 4)), wantErr: "axis 2 is out of range"},
		{name: "repeated axis", node: node("MeanVarianceNormalization", 13, ops.AttrMap{"axes": ints(1, -3)}, x), wantErr: "names axis 1 twice"},
	})
}

func TestLpNormalization(t *testing.T) {
	x := f32(ops.Shape{2, 2}, 3, -4, 0, 0)
	runCases(t, []opCase{
		{name: "l2 last axis", node: node("LpNormalization", 22, nil, x), want: []*ops.Tensor{f32(ops.Shape{2, 2}, 0.6, -0.8, 0, 0)}},
		{name: "l1 last axis", node: node("LpNormalization", 1, ops.AttrMap{"p": ops.IntAttr(1)}, x), want: []*ops.Tensor{f32(ops.Shape{2, 2}, 3.0/7, -4.0/7, 0, 0)}},
		{name: "l2 axis 0", node: node("LpNormalization", 22, ops.AttrMap{"axis": ops.IntAttr(0)}, x), want: []*ops.Tensor{f32(ops.Shape{2, 2}, 1, -1, 0, 0)}},
		{name: "float16", node: node("LpNormalization", 22, nil, toHalf(x)), want: []*ops.Tensor{toHalf(f32(ops.Shape{2, 2}, 0.6, -0.8, 0, 0))}, rtol: 1e-3},
		{name: "p 3", node: node("LpNormalization", 22, ops.AttrMap{"p": ops.IntAttr(3)}, x), wantErr: `"p" is 3, want 1 or 2`},
		{name: "axis", node: node("LpNormalization", 22, ops.AttrMap{"axis": ops.IntAttr(2)}, x), wantErr: "axis 2 is out of range"},
	})
}

func TestRMSNormalization(t *testing.T) {
	// Rows 3, 4 (mean square 12.5) and 0, 2 (mean square 2).
	x := f32(ops.Shape{2, 2}, 3, 4, 0, 2)
	r1, r2 := float32(1/math.Sqrt(12.5)), float32(1/math.Sqrt(2))
	scale := f32(ops.Shape{2}, 1, 2)
	runCases(t, []opCase{
		{name: "last axis", node: node("RMSNormalization", 23, eps0, x, scale), want: []*ops.Tensor{f32(ops.Shape{2, 2}, 3*r1, 8*r1, 0, 4*r2)}},
		// axis 0: one mean square (9+16+0+4)/4 = 7.25 over everything.
		{name: "axis 0", node: node("RMSNormalization", 23, ops.AttrMap{"axis": ops.IntAttr(0), "epsilon": ops.FloatAttr(0)}, x, f32(ops.Shape{1}, 1)),
			want: []*ops.Tensor{f32(ops.Shape{2, 2}, 3/float32(math.Sqrt(7.25)), 4/float32(math.Sqrt(7.25)), 0, 2/float32(math.Sqrt(7.25)))}},
		{name: "epsilon", node: node("RMSNormalization", 23, ops.AttrMap{"epsilon": ops.FloatAttr(2)}, x, scale),
			want: []*ops.Tensor{f32(ops.Shape{2, 2}, 3/float32(math.Sqrt(14.5)), 8/float32(math.Sqrt(14.5)), 0, 2)}},
		{name: "float64 X, float32 scale gives float32", node: node("RMSNormalization", 23, eps0, toF64(x), scale),
			want: []*ops.Tensor{f32(ops.Shape{2, 2}, 3*r1, 8*r1, 0, 4*r2)}},
		{name: "bfloat16", node: node("RMSNormalization", 23, eps0, toBF16(x), toBF16(scale)),
			want: []*ops.Tensor{toBF16(f32(ops.Shape{2, 2}, 3*r1, 8*r1, 0, 4*r2))}, rtol: 1e-2},
		{name: "scale shape", node: node("RMSNormalization", 23, nil, x, f32(ops.Shape{3}, 1, 2, 3)), wantErr: "scale has shape [3], which does not broadcast to X [2,2]"},
	})
}

// TestNormalizationsCheckEpsilonAndStashTheSameWay: LayerNormalization, RMSNormalization and
// GroupNormalization read epsilon and stash_type through one helper, so each refuses the same bad values
// with the same message.
func TestNormalizationsCheckEpsilonAndStashTheSameWay(t *testing.T) {
	x := f32(ops.Shape{1, 4, 1, 2}, 1, 2, 3, 4, 5, 6, 7, 8)
	lastAxis := f32(ops.Shape{2}, 1, 1)
	perChannel := f32(ops.Shape{4}, 1, 1, 1, 1)
	for _, c := range []struct {
		op     string
		opset  int
		attrs  ops.AttrMap
		inputs []*ops.Tensor
	}{
		{"LayerNormalization", 17, ops.AttrMap{}, []*ops.Tensor{x, lastAxis}},
		{"RMSNormalization", 23, ops.AttrMap{}, []*ops.Tensor{x, lastAxis}},
		{"GroupNormalization", 21, ops.AttrMap{"num_groups": ops.IntAttr(2)}, []*ops.Tensor{x, perChannel, perChannel}},
	} {
		for attr, bad := range map[string]struct {
			value   ops.Attr
			wantErr string
		}{
			"epsilon":    {ops.FloatAttr(-1), `"epsilon" is -1, want >= 0`},
			"stash_type": {ops.IntAttr(11), "stash_type 11: only 1 (float32 statistics) is implemented"},
		} {
			attrs := ops.AttrMap{attr: bad.value}
			for k, v := range c.attrs {
				attrs[k] = v
			}
			_, err := opstest.Run(node(c.op, c.opset, attrs, c.inputs...))
			if err == nil || !strings.Contains(err.Error(), bad.wantErr) {
				t.Errorf("%s-%d with %s: error %v, want one containing %q", c.op, c.opset, attr, err, bad.wantErr)
			}
		}
	}
}
