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
		"LinearAttention gated delta GQA": {OpType: "LinearAttention", Opset: 27, NumOutputs: 2,
			Attrs:  ops.AttrMap{"q_num_heads": ops.IntAttr(4), "kv_num_heads": ops.IntAttr(2)},
			Inputs: []*ops.Tensor{opstest.RandF32(1, 2, 3, 8), opstest.RandF32(2, 2, 3, 4), opstest.RandF32(3, 2, 3, 6), opstest.RandF32(4, 2, 2, 2, 3), opstest.RandF32(5, 2, 3, 4), opstest.RandF32(6, 2, 3, 2)}},
		"FusedAttention mask": {Domain: ops.FusedDomain, OpType: "FusedAttention", Opset: 1, Attrs: ops.AttrMap{"scale": ops.FloatAttr(0.5)},
			Inputs: []*ops.Tensor{opstest.RandF32(1, 2, 3, 5, 4), opstest.RandF32(2, 2, 3, 6, 4), opstest.RandF32(3, 2, 3, 6, 7), opstest.RandF32(4, 5, 6)}},
		"RotaryEmbedding": opstest.NewNode("RotaryEmbedding", 23, ops.AttrMap{"interleaved": ops.IntAttr(1)}, opstest.RandF32(7, 1, 2, 3, 4), opstest.RandF32(8, 1, 3, 2), opstest.RandF32(9, 1, 3, 2)),
	})
}
