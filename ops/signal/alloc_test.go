package signal

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// TestRunAllocatesNothing holds every kernel of the package to the contract that Run does no heap allocation.
func TestRunAllocatesNothing(t *testing.T) {
	opstest.CheckRunAllocatesNothing(t, map[string]opstest.Node{
		"DFT complex prime (Bluestein)": dftNode(nil, opstest.RandF32(7, 2, 257, 2)),
		"DFT real f64":                  dftNode(nil, opstest.ToF64(opstest.RandF32(7, 2, 48, 1))),
		"DFT irfft f16":                 dftNode(ops.AttrMap{"onesided": ops.IntAttr(1), "inverse": ops.IntAttr(1)}, opstest.ToHalf(opstest.RandF32(7, 3, 9, 2))),
		"STFT window":                   opstest.NewNode("STFT", 17, nil, opstest.RandF32(7, 1, 1000, 1), ops.Scalar(int64(160)), opstest.RandF32(8, 400)),
	})
}
