package cnn

import "github.com/onnxrun/onnxrun/ops"

// init says which convolution and pooling kernels this CPU gets (onnxrun --version).
func init() {
	ops.RegisterKernelVariant("conv direct (few channels)", haveDirectTileAsm, "AVX2+FMA")
	ops.RegisterKernelVariant("conv winograd", haveWinogradAsm, "AVX2+FMA")
	ops.RegisterKernelVariant("pooling", havePoolAsm, "AVX2")
}
