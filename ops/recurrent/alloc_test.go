package recurrent

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// TestRunAllocatesNothing holds every kernel of the package to the contract that Run does no heap allocation.
func TestRunAllocatesNothing(t *testing.T) {
	opstest.CheckRunAllocatesNothing(t, map[string]opstest.Node{
		"LSTM bidirectional": {OpType: "LSTM", Opset: 22, Attrs: ops.AttrMap{"hidden_size": ops.IntAttr(3), "direction": ops.StringAttr("bidirectional")}, Inputs: []*ops.Tensor{opstest.RandF32(7, 4, 2, 5), opstest.RandF32(8, 2, 12, 5), opstest.RandF32(9, 2, 12, 3)}, NumOutputs: 3},
		"GRU f16":            {OpType: "GRU", Opset: 22, Attrs: ops.AttrMap{"hidden_size": ops.IntAttr(3)}, Inputs: []*ops.Tensor{opstest.ToHalf(opstest.RandF32(7, 4, 2, 5)), opstest.ToHalf(opstest.RandF32(8, 1, 9, 5)), opstest.ToHalf(opstest.RandF32(9, 1, 9, 3))}, NumOutputs: 2},
		"RNN f64":            {OpType: "RNN", Opset: 22, Attrs: ops.AttrMap{"hidden_size": ops.IntAttr(3), "layout": ops.IntAttr(1)}, Inputs: []*ops.Tensor{opstest.ToF64(opstest.RandF32(7, 2, 4, 5)), opstest.ToF64(opstest.RandF32(8, 1, 3, 5)), opstest.ToF64(opstest.RandF32(9, 1, 3, 3))}, NumOutputs: 2},
	})
}
