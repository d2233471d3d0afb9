package linalg

import (
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/gemm"
)

// init says which GEMM and GEMV kernels this CPU gets (onnxrun --version); gemm's own init has chosen.
func init() {
	asm := gemm.AssemblyKernel()
	ops.RegisterKernelVariant("gemm", asm != "", asm)
	ops.RegisterKernelVariant("gemv", haveGemvAsm, "AVX2+FMA")
}
