//go:build !noasm

package fmapeak

import "golang.org/x/sys/cpu"

// fmaLoopAVX2 and fmaLoopAVX512 are kernel.run in assembly (fma_amd64.s): fmaLoopGo on 12 ymm or
// 12 zmm accumulators, with one VFMADD231PS per accumulator per iteration.
//
//go:noescape
func fmaLoopAVX2(iters int, x *float32, sum *[16]float32)

//go:noescape
func fmaLoopAVX512(iters int, x *float32, sum *[16]float32)

func init() {
	if cpu.X86.HasAVX && cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		kernels[AVX2] = kernel{lanes: 8, run: fmaLoopAVX2}
	}
	// x/sys/cpu reports AVX-512F only when the OS saves the zmm state.
	if cpu.X86.HasAVX512F {
		kernels[AVX512] = kernel{lanes: 16, run: fmaLoopAVX512}
	}
}
