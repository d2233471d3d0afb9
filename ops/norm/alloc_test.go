package norm

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// TestRunAllocatesNothing holds every kernel of the package to the contract that Run does no heap allocation.
func TestRunAllocatesNothing(t *testing.T) {
	x := opstest.RandF32(1, 2, 4, 6, 6)
	c4 := opstest.RandF32(4, 4)
	opstest.CheckRunAllocatesNothing(t, map[string]opstest.Node{
		"BatchNormalization": opstest.NewNode("BatchNormalization", 15, nil, x, c4, c4, c4, ops.FromSlice(ops.Shape{4}, []float32{1, 2, 3, 4})),
		"BatchNorm training": {OpType: "BatchNormalization", Opset: 15, Attrs: ops.AttrMap{"training_mode": ops.IntAttr(1)}, Inputs: []*ops.Tensor{x, c4, c4, c4, c4}, NumOutputs: 3},
		"InstanceNorm":       opstest.NewNode("InstanceNormalization", 22, nil, x, c4, c4),
		"LayerNorm":          {OpType: "LayerNormalization", Opset: 17, Inputs: []*ops.Tensor{x, opstest.RandF32(7, 6), opstest.RandF32(8, 6)}, NumOutputs: 3},
		"LayerNorm f16":      opstest.NewNode("LayerNormalization", 17, nil, opstest.ToHalf(x), opstest.ToHalf(opstest.RandF32(7, 6))),
		"GroupNorm":          opstest.NewNode("GroupNormalization", 21, ops.AttrMap{"num_groups": ops.IntAttr(2)}, x, c4, c4),
		"LRN":                opstest.NewNode("LRN", 13, ops.AttrMap{"size": ops.IntAttr(3)}, x),
		"MVN":                opstest.NewNode("MeanVarianceNormalization", 13, nil, x),
	})
}
