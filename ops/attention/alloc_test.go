package attention

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// TestRunAllocatesNothing holds every kernel of the package to the contract that Run does no heap allocation.
func TestRunAllocatesNothing(t *testing.T) {
	opstest.CheckRunAllocatesNothing(t, map[string]opstest.Node{
		"Attention causal mask": {OpType: "Attention", Opset: 24, Attrs: ops.AttrMap{"is_causal": ops.IntAttr(1)}, Inputs: []*ops.Tensor{opstest.RandF32(7, 1, 2, 3, 4), opstest.RandF32(8, 1, 2, 5, 4), opstest.RandF32(9, 1, 2, 5, 4), ops.FromSlice(ops.Shape{5}, []bool{true, true, false, true, true})}, NumOutputs: 4},
		"RotaryEmbedding":       opstest.NewNode("RotaryEmbedding", 23, ops.AttrMap{"interleaved": ops.IntAttr(1)}, opstest.RandF32(7, 1, 2, 3, 4), opstest.RandF32(8, 1, 3, 2), opstest.RandF32(9, 1, 3, 2)),
	})
}
