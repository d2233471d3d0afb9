//go:build amd64 && !noasm

package igemm

import "github.com/onnxrun/onnxrun/ops/internal/isa"

// asmKernelVariants lists the assembly micro-kernels this build has.
func asmKernelVariants() []isa.Variant[microKernel] { return nil }
