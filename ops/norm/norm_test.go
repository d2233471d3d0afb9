package norm

import (
	"math"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

var eps0 = ops.AttrMap{"epsilon": ops.FloatAttr(0)}

func TestBatchNormalization(t *testing.T) {
	// Channel 0 holds 1, 2 and channel 1 holds 3, 4 (N=1, C=2, 1x2 spatial).
	x := opstest.F32(ops.Shape{1, 2, 1, 2}, 1, 2, 3, 4)
	scale, bias := opstest.F32(ops.Shape{2}, 1, 2), opstest.F32(ops.Shape{2}, 0, 1)
	mean, variance := opstest.F32(ops.Shape{2}, 1, 3), opstest.F32(ops.Shape{2}, 1, 4)
	train := ops.AttrMap{"epsilon": ops.FloatAttr(0), "training_mode": ops.IntAttr(1)}
	// Batch statistics: means 1.5 and 3.5, variances 0.25; running = input*0.9 + batch*0.1.
	runningMean, runningVar := opstest.F32(ops.Shape{2}, 1.05, 3.05), opstest.F32(ops.Shape{2}, 0.925, 3.625)
	trainedY := opstest.F32(ops.Shape{1, 2, 1, 2}, -1, 1, -1, 3)
	opstest.RunNodeCases(t, []opstest.NodeCase{
		{Name: "inference", Node: opstest.NewNode("BatchNormalization", 15, eps0, x, scale, bias, mean, variance),
			Want: []*ops.Tensor{opstest.F32(ops.Shape{1, 2, 1, 2}, 0, 1, 1, 2)}},
		{Name: "epsilon", Node: opstest.NewNode("BatchNormalization", 15, ops.AttrMap{"epsilon": ops.FloatAttr(3)}, x, scale, bias, mean, variance),
			Want: []*ops.Tensor{opstest.F32(ops.Shape{1, 2, 1, 2}, 0, 0.5, 1, 1+2/float32(math.Sqrt(7)))}},
		{Name: "float64", Node: opstest.NewNode("BatchNormalization", 9, eps0, opstest.ToF64(x), opstest.ToF64(scale), opstest.ToF64(bias), opstest.ToF64(mean), opstest.ToF64(variance)),
			Want: []*ops.Tensor{opstest.F64(ops.Shape{1, 2, 1, 2}, 0, 1, 1, 2)}},
		{Name: "mixed types at opset 15", Node: opstest.NewNode("BatchNormalization", 15, eps0, opstest.ToHalf(x), opstest.ToF64(scale), opstest.ToF64(bias), mean, variance),
			Want: []*ops.Tensor{opstest.ToHalf(opstest.F32(ops.Shape{1, 2, 1, 2}, 0, 1, 1, 2))}},
		{Name: "training opset 15",
			Node: opstest.Node{OpType: "BatchNormalization", Opset: 15, Attrs: train, Inputs: []*ops.Tensor{x, scale, bias, mean, variance}, NumOutputs: 3},
			Want: []*ops.Tensor{trainedY, runningMean, runningVar}},
		{Name: "training without running outputs",
			Node: opstest.NewNode("BatchNormalization", 14, train, x, scale, bias, mean, variance),
			Want: []*ops.Tensor{trainedY}},
		{Name: "training opset 9 by outputs",
			Node: opstest.Node{OpType: "BatchNormalization", Opset: 9, Attrs: eps0, Inputs: []*ops.Tensor{x, scale, bias, mean, variance}, NumOutputs: 5},
			Want: []*ops.Tensor{trainedY, runningMean, runningVar, opstest.F32(ops.Shape{2}, 1.5, 3.5), opstest.F32(ops.Shape{2}, 0.25, 0.25)}},
		{Name: "opset 6 is_test", Node: opstest.Node{OpType: "BatchNormalization", Opset: 6,
			Attrs:  ops.AttrMap{"epsilon": ops.FloatAttr(0), "is_test": ops.IntAttr(1)},
			Inputs: []*ops.Tensor{x, scale, bias, mean, variance}},
			Want: []*ops.Tensor{opstest.F32(ops.Shape{1, 2, 1, 2}, 0, 1, 1, 2)}},
		// spatial=0: each (C, D) cell has its own statistics; X is N=2 x C=1 x D=2.
		{Name: "spatial 0", Node: opstest.NewNode("BatchNormalization", 7, ops.AttrMap{"epsilon": ops.FloatAttr(0), "spatial": ops.IntAttr(0)},
			opstest.F32(ops.Shape{2, 1, 2}, 1, 2, 3, 4), opstest.F32(ops.Shape{1, 2}, 1, 1), opstest.F32(ops.Shape{1, 2}, 0, 0), opstest.F32(ops.Shape{1, 2}, 1, 2), opstest.F32(ops.Shape{1, 2}, 1, 4)),
			Want: []*ops.Tensor{opstest.F32(ops.Shape{2, 1, 2}, 0, 0, 2, 1)}},
		{Name: "1-D batch", Node: opstest.NewNode("BatchNormalization", 9, eps0, opstest.F32(ops.Shape{3}, 1, 2, 3), opstest.F32(ops.Shape{1}, 1), opstest.F32(ops.Shape{1}, 0), opstest.F32(ops.Shape{1}, 2), opstest.F32(ops.Shape{1}, 1)),
			Want: []*ops.Tensor{opstest.F32(ops.Shape{3}, -1, 0, 1)}},
		{Name: "outputs in inference", Node: opstest.Node{OpType: "BatchNormalization", Opset: 15, Inputs: []*ops.Tensor{x, scale, bias, mean, variance}, NumOutputs: 3},
			WantErr: "training_mode is 0 but the node declares 3 outputs"},
		{Name: "scale shape", Node: opstest.NewNode("BatchNormalization", 15, nil, x, opstest.F32(ops.Shape{3}, 1, 2, 3), bias, mean, variance),
			WantErr: "input scale has shape [3], want [2] for X [1,2,1,2]"},
		{Name: "mixed types before 14", Node: opstest.NewNode("BatchNormalization", 9, nil, x, opstest.ToF64(scale), bias, mean, variance),
			WantErr: "input scale has dtype float64, X has float32 (opset 9 wants one type)"},
		{Name: "missing var", Node: opstest.NewNode("BatchNormalization", 15, nil, x, scale, bias, mean), WantErr: "input 4 is required but missing"},
	})
}

func TestInstanceNormalization(t *testing.T) {
	// Plane (0,0) is 1, 3 (mean 2, variance 1); plane (0,1) is 2, 6 (mean 4, variance 4).
	x := opstest.F32(ops.Shape{1, 2, 1, 2}, 1, 3, 2, 6)
	scale, bias := opstest.F32(ops.Shape{2}, 1, 2), opstest.F32(ops.Shape{2}, 0, 1)
	opstest.RunNodeCases(t, []opstest.NodeCase{
		{Name: "basic", Node: opstest.NewNode("InstanceNormalization", 22, eps0, x, scale, bias), Want: []*ops.Tensor{opstest.F32(ops.Shape{1, 2, 1, 2}, -1, 1, -1, 3)}},
		{Name: "opset 1", Node: opstest.NewNode("InstanceNormalization", 1, eps0, x, scale, bias), Want: []*ops.Tensor{opstest.F32(ops.Shape{1, 2, 1, 2}, -1, 1, -1, 3)}},
		{Name: "epsilon", Node: opstest.NewNode("InstanceNormalization", 6, ops.AttrMap{"epsilon": ops.FloatAttr(3)}, x, scale, bias),
			Want: []*ops.Tensor{opstest.F32(ops.Shape{1, 2, 1, 2}, -0.5, 0.5, 1-4/float32(math.Sqrt(7)), 1+4/float32(math.Sqrt(7)))}},
		{Name: "bfloat16", Node: opstest.NewNode("InstanceNormalization", 22, eps0, opstest.ToBF16(x), opstest.ToBF16(scale), opstest.ToBF16(bias)),
			Want: []*ops.Tensor{opstest.ToBF16(opstest.F32(ops.Shape{1, 2, 1, 2}, -1, 1, -1, 3))}},
		{Name: "scale shape", Node: opstest.NewNode("InstanceNormalization", 22, nil, x, opstest.F32(ops.Shape{1}, 1), bias), WantErr: "scale has shape [1], want [2]"},
		{Name: "negative epsilon", Node: opstest.NewNode("InstanceNormalization", 22, ops.AttrMap{"epsilon": ops.FloatAttr(-1)}, x, scale, bias), WantErr: `"epsilon" is -1`},
	})
}

func TestLayerNormalization(t *testing.T) {
	x := opstest.F32(ops.Shape{2, 2}, 1, 3, 2, 6)
	scale, bias := opstest.F32(ops.Shape{2}, 1, 2), opstest.F32(ops.Shape{2}, 0, 1)
	stats := func(v ...float32) *ops.Tensor { return opstest.F32(ops.Shape{2, 1}, v...) }
	opstest.RunNodeCases(t, []opstest.NodeCase{
		{Name: "last axis", Node: opstest.Node{OpType: "LayerNormalization", Opset: 17, Attrs: eps0, Inputs: []*ops.Tensor{x, scale, bias}, NumOutputs: 3},
			Want: []*ops.Tensor{opstest.F32(ops.Shape{2, 2}, -1, 3, -1, 3), stats(2, 4), stats(1, 0.5)}},
		{Name: "no bias", Node: opstest.NewNode("LayerNormalization", 17, eps0, x, scale),
			Want: []*ops.Tensor{opstest.F32(ops.Shape{2, 2}, -1, 2, -1, 2)}},
		{Name: "scale broadcast from [1, 2]", Node: opstest.NewNode("LayerNormalization", 17, eps0, x, opstest.F32(ops.Shape{1, 2}, 1, 2), opstest.F32(ops.Shape{1}, 1)),
			Want: []*ops.Tensor{opstest.F32(ops.Shape{2, 2}, 0, 3, 0, 3)}},
		// axis 0 normalises all four values: mean 3, variance 3.5.
		{Name: "axis 0", Node: opstest.Node{OpType: "LayerNormalization", Opset: 17, Attrs: ops.AttrMap{"axis": ops.IntAttr(0), "epsilon": ops.FloatAttr(0)},
			Inputs: []*ops.Tensor{x, opstest.F32(ops.Shape{2, 2}, 1, 1, 1, 1)}, NumOutputs: 3},
			Want: []*ops.Tensor{opstest.F32(ops.Shape{2, 2}, -1.06904497, 0, -0.53452248, 1.60356745), opstest.F32(ops.Shape{1, 1}, 3), opstest.F32(ops.Shape{1, 1}, 0.5345224838)}},
		{Name: "float64 X, float32 statistics", Node: opstest.Node{OpType: "LayerNormalization", Opset: 17, Attrs: eps0,
			Inputs: []*ops.Tensor{opstest.ToF64(x), opstest.ToF64(scale), opstest.ToF64(bias)}, NumOutputs: 2},
			Want: []*ops.Tensor{opstest.F64(ops.Shape{2, 2}, -1, 3, -1, 3), stats(2, 4)}},
		{Name: "float16", Node: opstest.NewNode("LayerNormalization", 17, eps0, opstest.ToHalf(x), opstest.ToHalf(scale), opstest.ToHalf(bias)),
			Want: []*ops.Tensor{opstest.ToHalf(opstest.F32(ops.Shape{2, 2}, -1, 3, -1, 3))}},
		{Name: "axis out of range", Node: opstest.NewNode("LayerNormalization", 17, ops.AttrMap{"axis": ops.IntAttr(2)}, x, scale), WantErr: "axis 2 is out of range [-2, 1]"},
		{Name: "scale shape", Node: opstest.NewNode("LayerNormalization", 17, nil, x, opstest.F32(ops.Shape{3}, 1, 2, 3)), WantErr: "Scale has shape [3], which does not broadcast to X [2,2]"},
		{Name: "stash_type", Node: opstest.NewNode("LayerNormalization", 17, ops.AttrMap{"stash_type": ops.IntAttr(11)}, x, scale), WantErr: "stash_type 11"},
	})
}

func TestGroupNormalization(t *testing.T) {
	// Group 0 holds channels 0, 1 = 1, 3 (mean 2, variance 1); group 1 holds 2, 6 (mean 4, variance 4).
	x := opstest.F32(ops.Shape{1, 4, 1, 1}, 1, 3, 2, 6)
	groups := ops.AttrMap{"num_groups": ops.IntAttr(2), "epsilon": ops.FloatAttr(0)}
	opstest.RunNodeCases(t, []opstest.NodeCase{
		{Name: "opset 21 per channel", Node: opstest.NewNode("GroupNormalization", 21, groups, x, opstest.F32(ops.Shape{4}, 1, 2, 3, 4), opstest.F32(ops.Shape{4}, 0, 0, 0, 1)),
			Want: []*ops.Tensor{opstest.F32(ops.Shape{1, 4, 1, 1}, -1, 2, -3, 5)}},
		{Name: "opset 18 per group", Node: opstest.NewNode("GroupNormalization", 18, groups, x, opstest.F32(ops.Shape{2}, 1, 2), opstest.F32(ops.Shape{2}, 0, 1)),
			Want: []*ops.Tensor{opstest.F32(ops.Shape{1, 4, 1, 1}, -1, 1, -1, 3)}},
		{Name: "one group is layer norm over C,H,W", Node: opstest.NewNode("GroupNormalization", 21, ops.AttrMap{"num_groups": ops.IntAttr(1), "epsilon": ops.FloatAttr(0)},
			opstest.F32(ops.Shape{1, 2, 1, 1}, 1, 3), opstest.F32(ops.Shape{2}, 1, 1), opstest.F32(ops.Shape{2}, 0, 0)),
			Want: []*ops.Tensor{opstest.F32(ops.Shape{1, 2, 1, 1}, -1, 1)}},
		{Name: "float64", Node: opstest.NewNode("GroupNormalization", 21, groups, opstest.ToF64(x), opstest.F64(ops.Shape{4}, 1, 2, 3, 4), opstest.F64(ops.Shape{4}, 0, 0, 0, 1)),
			Want: []*ops.Tensor{opstest.F64(ops.Shape{1, 4, 1, 1}, -1, 2, -3, 5)}},
		{Name: "groups do not divide", Node: opstest.NewNode("GroupNormalization", 21, ops.AttrMap{"num_groups": ops.IntAttr(3)}, x, opstest.F32(ops.Shape{4}, 1, 2, 3, 4), opstest.F32(ops.Shape{4}, 0, 0, 0, 1)),
			WantErr: "num_groups 3 does not divide the 4 channels"},
		{Name: "opset 21 wants per-channel scale", Node: opstest.NewNode("GroupNormalization", 21, groups, x, opstest.F32(ops.Shape{2}, 1, 2), opstest.F32(ops.Shape{2}, 0, 1)),
			WantErr: "scale has shape [2], want [4] (one value per channel at opset 21)"},
		{Name: "missing num_groups", Node: opstest.NewNode("GroupNormalization", 21, nil, x, opstest.F32(ops.Shape{4}, 1, 2, 3, 4), opstest.F32(ops.Shape{4}, 0, 0, 0, 1)),
			WantErr: `"num_groups" is required`},
	})
}

func TestLRN(t *testing.T) {
	x := opstest.F32(ops.Shape{1, 3, 1, 1}, 1, 2, 3)
	opstest.RunNodeCases(t, []opstest.NodeCase{
		// size 3: channel c sums the squares of c-1..c+1; alpha/size = 1, beta 1, bias 1.
		{Name: "size 3", Node: opstest.NewNode("LRN", 13, ops.AttrMap{"size": ops.IntAttr(3), "alpha": ops.FloatAttr(3), "beta": ops.FloatAttr(1), "bias": ops.FloatAttr(1)}, x),
			Want: []*ops.Tensor{opstest.F32(ops.Shape{1, 3, 1, 1}, 1.0/6, 2.0/15, 3.0/14)}},
		// size 2: floor((2-1)/2) = 0 channels before, ceil((2-1)/2) = 1 after.
		{Name: "size 2", Node: opstest.NewNode("LRN", 1, ops.AttrMap{"size": ops.IntAttr(2), "alpha": ops.FloatAttr(2), "beta": ops.FloatAttr(1), "bias": ops.FloatAttr(1)}, x),
			Want: []*ops.Tensor{opstest.F32(ops.Shape{1, 3, 1, 1}, 1.0/6, 2.0/14, 3.0/10)}},
		{Name: "defaults", Node: opstest.NewNode("LRN", 13, ops.AttrMap{"size": ops.IntAttr(1)}, opstest.ToF64(x)),
			Want: []*ops.Tensor{opstest.F64(ops.Shape{1, 3, 1, 1}, 1/math.Pow(1+1e-4, 0.75), 2/math.Pow(1+4e-4, 0.75), 3/math.Pow(1+9e-4, 0.75))}},
		{Name: "size required", Node: opstest.NewNode("LRN", 13, nil, x), WantErr: `"size" is required`},
		{Name: "size 0", Node: opstest.NewNode("LRN", 13, ops.AttrMap{"size": ops.IntAttr(0)}, x), WantErr: `"size" is 0`},
	})
}

func TestMeanVarianceNormalization(t *testing.T) {
	x := opstest.F32(ops.Shape{2, 1, 1, 2}, 1, 3, 5, 7)
	opstest.RunNodeCases(t, []opstest.NodeCase{
		{Name: "default axes", Node: opstest.NewNode("MeanVarianceNormalization", 13, nil, x),
			Want: []*ops.Tensor{opstest.F32(ops.Shape{2, 1, 1, 2}, -1.34164079, -0.4472136, 0.4472136, 1.34164079)}},
		{Name: "last axis", Node: opstest.NewNode("MeanVarianceNormalization", 13, ops.AttrMap{"axes": opstest.Ints(-1)}, opstest.F32(ops.Shape{2, 1, 1, 2}, 1, 3, 5, 8)),
			Want: []*ops.Tensor{opstest.F32(ops.Shape{2, 1, 1, 2}, -1, 1, -1, 1)}},
		{Name: "constant input stays finite", Node: opstest.NewNode("MeanVarianceNormalization", 9, ops.AttrMap{"axes": opstest.Ints(3)}, opstest.F32(ops.Shape{1, 1, 1, 2}, 4, 4)),
			Want: []*ops.Tensor{opstest.F32(ops.Shape{1, 1, 1, 2}, 0, 0)}},
		{Name: "axis out of range", Node: opstest.NewNode("MeanVarianceNormalization", 13, nil, opstest.F32(ops.Shape{2, 2}, 1, 2, 3, 4)), WantErr: "axis 2 is out of range"},
		{Name: "repeated axis", Node: opstest.NewNode("MeanVarianceNormalization", 13, ops.AttrMap{"axes": opstest.Ints(1, -3)}, x), WantErr: "names axis 1 twice"},
	})
}

func TestLpNormalization(t *testing.T) {
	x := opstest.F32(ops.Shape{2, 2}, 3, -4, 0, 0)
	opstest.RunNodeCases(t, []opstest.NodeCase{
		{Name: "l2 last axis", Node: opstest.NewNode("LpNormalization", 22, nil, x), Want: []*ops.Tensor{opstest.F32(ops.Shape{2, 2}, 0.6, -0.8, 0, 0)}},
		{Name: "l1 last axis", Node: opstest.NewNode("LpNormalization", 1, ops.AttrMap{"p": ops.IntAttr(1)}, x), Want: []*ops.Tensor{opstest.F32(ops.Shape{2, 2}, 3.0/7, -4.0/7, 0, 0)}},
		{Name: "l2 axis 0", Node: opstest.NewNode("LpNormalization", 22, ops.AttrMap{"axis": ops.IntAttr(0)}, x), Want: []*ops.Tensor{opstest.F32(ops.Shape{2, 2}, 1, -1, 0, 0)}},
		{Name: "float16", Node: opstest.NewNode("LpNormalization", 22, nil, opstest.ToHalf(x)), Want: []*ops.Tensor{opstest.ToHalf(opstest.F32(ops.Shape{2, 2}, 0.6, -0.8, 0, 0))}, RTol: 1e-3},
		{Name: "p 3", Node: opstest.NewNode("LpNormalization", 22, ops.AttrMap{"p": ops.IntAttr(3)}, x), WantErr: `"p" is 3, want 1 or 2`},
		{Name: "axis", Node: opstest.NewNode("LpNormalization", 22, ops.AttrMap{"axis": ops.IntAttr(2)}, x), WantErr: "axis 2 is out of range"},
	})
}

func TestRMSNormalization(t *testing.T) {
	// Rows 3, 4 (mean square 12.5) and 0, 2 (mean square 2).
	x := opstest.F32(ops.Shape{2, 2}, 3, 4, 0, 2)
	r1, r2 := float32(1/math.Sqrt(12.5)), float32(1/math.Sqrt(2))
	scale := opstest.F32(ops.Shape{2}, 1, 2)
	opstest.RunNodeCases(t, []opstest.NodeCase{
		{Name: "last axis", Node: opstest.NewNode("RMSNormalization", 23, eps0, x, scale), Want: []*ops.Tensor{opstest.F32(ops.Shape{2, 2}, 3*r1, 8*r1, 0, 4*r2)}},
		// axis 0: one mean square (9+16+0+4)/4 = 7.25 over everything.
		{Name: "axis 0", Node: opstest.NewNode("RMSNormalization", 23, ops.AttrMap{"axis": ops.IntAttr(0), "epsilon": ops.FloatAttr(0)}, x, opstest.F32(ops.Shape{1}, 1)),
			Want: []*ops.Tensor{opstest.F32(ops.Shape{2, 2}, 3/float32(math.Sqrt(7.25)), 4/float32(math.Sqrt(7.25)), 0, 2/float32(math.Sqrt(7.25)))}},
		{Name: "epsilon", Node: opstest.NewNode("RMSNormalization", 23, ops.AttrMap{"epsilon": ops.FloatAttr(2)}, x, scale),
			Want: []*ops.Tensor{opstest.F32(ops.Shape{2, 2}, 3/float32(math.Sqrt(14.5)), 8/float32(math.Sqrt(14.5)), 0, 2)}},
		{Name: "float64 X, float32 scale gives float32", Node: opstest.NewNode("RMSNormalization", 23, eps0, opstest.ToF64(x), scale),
			Want: []*ops.Tensor{opstest.F32(ops.Shape{2, 2}, 3*r1, 8*r1, 0, 4*r2)}},
		{Name: "bfloat16", Node: opstest.NewNode("RMSNormalization", 23, eps0, opstest.ToBF16(x), opstest.ToBF16(scale)),
			Want: []*ops.Tensor{opstest.ToBF16(opstest.F32(ops.Shape{2, 2}, 3*r1, 8*r1, 0, 4*r2))}, RTol: 1e-2},
		{Name: "scale shape", Node: opstest.NewNode("RMSNormalization", 23, nil, x, opstest.F32(ops.Shape{3}, 1, 2, 3)), WantErr: "scale has shape [3], which does not broadcast to X [2,2]"},
	})
}

// TestNormalizationsCheckEpsilonAndStashTheSameWay: LayerNormalization, RMSNormalization and
// GroupNormalization read epsilon and stash_type through one helper, so each refuses the same bad values
// with the same message.
func TestNormalizationsCheckEpsilonAndStashTheSameWay(t *testing.T) {
	x := opstest.F32(ops.Shape{1, 4, 1, 2}, 1, 2, 3, 4, 5, 6, 7, 8)
	lastAxis := opstest.F32(ops.Shape{2}, 1, 1)
	perChannel := opstest.F32(ops.Shape{4}, 1, 1, 1, 1)
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
			_, err := opstest.Run(opstest.NewNode(c.op, c.opset, attrs, c.inputs...))
			if err == nil || !strings.Contains(err.Error(), bad.wantErr) {
				t.Errorf("%s-%d with %s: error %v, want one containing %q", c.op, c.opset, attr, err, bad.wantErr)
			}
		}
	}
}
