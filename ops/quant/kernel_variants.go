package quant

import (
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/qvec"
)

// init says which float32 ↔ 8-bit conversion kernel this CPU gets (onnxrun --version); qvec's own init
// has chosen.
func init() {
	ops.RegisterKernelVariant("quantize/dequantize 8-bit", qvec.HasAsm(), qvec.VariantName())
}
