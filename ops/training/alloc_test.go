package training

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// TestRunAllocatesNothing holds every kernel of the package to the contract that Run does no heap allocation.
func TestRunAllocatesNothing(t *testing.T) {
	opstest.CheckRunAllocatesNothing(t, map[string]opstest.Node{
		"SoftmaxCrossEntropyLoss":       {OpType: "SoftmaxCrossEntropyLoss", Opset: 13, Inputs: []*ops.Tensor{opstest.RandF32(7, 3, 4, 2), ops.FromSlice(ops.Shape{3, 2}, []int64{0, 1, 2, 3, 1, 0})}, NumOutputs: 2},
		"NegativeLogLikelihoodLoss f16": opstest.NewNode("NegativeLogLikelihoodLoss", 22, ops.AttrMap{"reduction": ops.StringAttr("none")}, opstest.ToHalf(opstest.RandF32(7, 3, 4)), ops.FromSlice(ops.Shape{3}, []int32{0, 3, 2})),
	})
}
