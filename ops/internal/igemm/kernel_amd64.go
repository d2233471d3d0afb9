//go:build amd64 && !noasm

package igemm

import (
	"golang.org/x/sys/cpu"

	"github.com/onnxrun/onnxrun/ops/internal/isa"
)

// kernelVNNI is the AVX-512 VNNI micro-kernel (VPDPBUSD on zmm; an 8×32 tile with two B panels). It
// needs AVX-512 F and VNNI: call it only when hasVNNI.
//
//go:noescape
func kernelVNNI(a, b []byte, panels int, tile *[maxPanels * mr * nr]int32, rows int)

// kernel4x8AVX2 computes a 4×8 corner of an 8x16 tile exactly with AVX2 (see kernel_amd64.s).
//
//go:noescape
func kernel4x8AVX2(a, b *byte, groups int, out *int32)

// kernel8x16AVX2 is the AVX2 micro-kernel: each panel's tile as four 4×8 corners (two when rows <= 4).
func kernel8x16AVX2(a, b []byte, panels int, tile *[maxPanels * mr * nr]int32, rows int) {
	kb := len(b) / panels
	groups := kb / (nr * kg)
	if groups == 0 {
		*tile = [maxPanels * mr * nr]int32{}
		return
	}
	_ = a[groups*mr*kg-1]
	for q := 0; q < panels; q++ {
		for rh := 0; rh < ceilDiv(rows, 4); rh++ {
			for ch := 0; ch < 2; ch++ {
				kernel4x8AVX2(&a[rh*4*kg], &b[q*kb+ch*8*kg], groups, &tile[q*mr*nr+rh*4*nr+ch*8])
			}
		}
	}
}

// requantRow16AVX512 is the requantising epilogue of one full tile row (kernel_amd64.s). It needs
// AVX-512 F.
//
//go:noescape
func requantRow16AVX512(src, colAdj, zb *int32, mult *float32, colBias *int32, dst *byte, args *requantRowArgs)

// requantRow16 runs requantRow16AVX512 for a task whose kernel is at the AVX512 level.
func requantRow16(src, colAdj, zb []int32, mult []float32, colBias []int32, dst []byte, args *requantRowArgs) bool {
	_, _, _, _, _, _ = src[nr-1], colAdj[nr-1], zb[nr-1], mult[nr-1], colBias[nr-1], dst[nr-1]
	requantRow16AVX512(&src[0], &colAdj[0], &zb[0], &mult[0], &colBias[0], &dst[0], args)
	return true
}

// requantTile16AVX512 is the requantising epilogue of a tile's first rows rows, all 16 columns, with
// one multiplier per row (kernel_amd64.s). It needs AVX-512 F.
//
//go:noescape
func requantTile16AVX512(src *int32, rows int, colAdj, zb, colBias *int32, dst *byte, ldy int, args *requantTileArgs)

// requantTile16 runs requantTile16AVX512 for a task whose kernel is at the AVX512 level; dst is the
// tile's first output row and ldy the stride of the next ones.
func requantTile16(tile *[mr * nr]int32, rows int, colAdj, zb, colBias []int32, dst []byte, ldy int, args *requantTileArgs) bool {
	_, _, _, _ = colAdj[nr-1], zb[nr-1], colBias[nr-1], dst[(rows-1)*ldy+nr-1]
	requantTile16AVX512(&tile[0], rows, &colAdj[0], &zb[0], &colBias[0], &dst[0], ldy, args)
	return true
}

// correctRow16AVX512 is the int32 epilogue of one full tile row (kernel_amd64.s). It needs AVX-512 F.
//
//go:noescape
func correctRow16AVX512(src, colAdj, zb *int32, dst *int32, args *requantRowArgs)

// correctRow16 runs correctRow16AVX512 for a task whose kernel is at the AVX512 level.
func correctRow16(src, colAdj, zb, dst []int32, args *requantRowArgs) bool {
	_, _, _, _ = src[nr-1], colAdj[nr-1], zb[nr-1], dst[nr-1]
	correctRow16AVX512(&src[0], &colAdj[0], &zb[0], &dst[0], args)
	return true
}

const haveRequantAsm = true

// packBPanel16AVX2 is packBPanel16Go in AVX2 (kernel_amd64.s).
//
//go:noescape
func packBPanel16AVX2(dst, b *byte, ldb, groups int, flip4 uint32, sums *int32)

// packBPanel16Asm runs packBPanel16AVX2 after checking the slices' extents.
func packBPanel16Asm(dst []byte, sums []int32, b []byte, ldb, groups int, flip4 uint32) {
	if groups == 0 {
		clear(sums[:nr])
		return
	}
	_, _, _ = dst[groups*nr*kg-1], sums[nr-1], b[(groups*kg-1)*ldb+nr-1]
	packBPanel16AVX2(&dst[0], &b[0], ldb, groups, flip4, &sums[0])
}

// asmPackBVariants lists the assembly panel packers this CPU has.
func asmPackBVariants() []isa.Variant[packBPanel16Func] {
	return []isa.Variant[packBPanel16Func]{{Level: isa.AVX2, Name: "AVX2 B panel packing", Fn: packBPanel16Asm}}
}

// hasVNNI: isa has no VNNI level, so the AVX512 level (which ONNXRUN_ISA=avx2 or purego lowers away)
// is required and the VNNI extension is checked here.
var hasVNNI = cpu.X86.HasAVX512VNNI

// asmKernelVariants lists the assembly micro-kernels this CPU has.
func asmKernelVariants() []isa.Variant[microKernel] {
	vs := []isa.Variant[microKernel]{{Level: isa.AVX2, Name: "AVX2 8x16 (int16 widening, exact)", Fn: kernel8x16AVX2}}
	if hasVNNI {
		vs = append(vs, isa.Variant[microKernel]{Level: isa.AVX512, Name: "AVX-512 VNNI 8x32", Fn: kernelVNNI})
	}
	return vs
}
