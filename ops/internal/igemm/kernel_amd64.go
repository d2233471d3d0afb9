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

// kernel4x8AVX2 computes a 4×8 corner of an 8x16 tile exactly with AVX2 (see kernel_amd64.s).
//
//go:noescape
func kernel4x8AVX2(a, b *byte, groups int, out *int32)

// kernel8x16AVX2 is the AVX2 micro-kernel: the tile's four 4×8 corners.
func kernel8x16AVX2(a, b []byte, tile *[mr * nr]int32) {
	groups := len(b) / (nr * kg)
	if groups == 0 {
		*tile = [mr * nr]int32{}
		return
	}
	_ = a[groups*mr*kg-1]
	for rh := 0; rh < 2; rh++ {
		for ch := 0; ch < 2; ch++ {
			kernel4x8AVX2(&a[rh*4*kg], &b[ch*8*kg], groups, &tile[rh*4*nr+ch*8])
		}
	}
}

// hasVNNI: isa has no VNNI level, so the AVX512 level (which ONNXRUN_ISA=avx2 or purego lowers away)
// is required and the VNNI extension is checked here.
var hasVNNI = cpu.X86.HasAVX512VNNI

// asmKernelVariants lists the assembly micro-kernels this CPU has.
func asmKernelVariants() []isa.Variant[microKernel] {
	vs := []isa.Variant[microKernel]{{Level: isa.AVX2, Name: "AVX2 8x16 (int16 widening, exact)", Fn: kernel8x16AVX2}}
	if hasVNNI {
		vs = append(vs, isa.Variant[microKernel]{Level: isa.AVX512, Name: "AVX-512 VNNI 8x16", Fn: kernel8x16VNNI})
	}
	return vs
}
