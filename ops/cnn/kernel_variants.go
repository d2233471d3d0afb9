package cnn

import (
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/isa"
)

// init says which convolution and pooling kernels this CPU gets (onnxrun --version).
func init() {
	ops.RegisterKernelVariant("conv direct (few channels)", haveDirectTileAsm, "AVX2+FMA")
	ops.RegisterKernelVariant("conv winograd", haveWinogradAsm, "AVX2+FMA")
	ops.RegisterKernelVariant("pooling", havePoolAsm, "AVX2")
	ops.RegisterKernelVariant("conv depthwise 3x3/5x5", dwKernel.Level != isa.PureGo, dwKernel.Name)
	ops.RegisterKernelVariant("conv depthwise small maps (16 channels interleaved)", dwciTaps.Level != isa.PureGo, dwciTaps.Name)
	ops.RegisterKernelVariant("pool separable", poolSepAsm, isa.Pick(poolSepVariants...).Name)
	ops.RegisterKernelVariant("pool 8-bit max", maxShiftedAsm, isa.Pick(maxShiftedVariants...).Name)
	ops.RegisterKernelVariant("conv transpose tiles", tileInterleaveAsm, isa.Pick(tileInterleaveVariants...).Name)
}
