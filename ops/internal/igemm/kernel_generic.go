//go:build !amd64 || noasm

package igemm

import "github.com/onnxrun/onnxrun/ops/internal/isa"

// asmKernelVariants is empty where there is no assembly.
func asmKernelVariants() []isa.Variant[microKernel] { return nil }
