//go:build amd64 && !noasm

package igemm

import (
	"golang.org/x/sys/cpu"

	"github.com/onnxrun/onnxrun/ops/internal/isa"
)

// kernel8x16VNNI is the AVX-512 VNNI micro-kernel (VPDPBUSD on zmm). It needs AVX-512 F and VNNI:
// call it only when hasVNNI.
//
//go:noescape
func kernel8x16VNNI(a, b []byte, tile *[mr * nr]int32)

// hasVNNI: isa has no VNNI level, so the AVX512 level (which ONNXRUN_ISA=avx2 or purego lowers away)
// is required and the VNNI extension is checked here.
var hasVNNI = cpu.X86.HasAVX512VNNI

// asmKernelVariants lists the assembly micro-kernels this CPU has.
func asmKernelVariants() []isa.Variant[microKernel] {
	var vs []isa.Variant[microKernel]
	if hasVNNI {
		vs = append(vs, isa.Variant[microKernel]{Level: isa.AVX512, Name: "AVX-512 VNNI 8x16", Fn: kernel8x16VNNI})
	}
	return vs
}
