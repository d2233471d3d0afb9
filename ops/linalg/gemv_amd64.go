//go:build !noasm

package linalg

import "golang.org/x/sys/cpu"

// haveGemvAsm says whether gemv32 runs the AVX2+FMA kernel of gemv_amd64.s.
var haveGemvAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasAVX

//go:noescape
func gemv32Asm(k int, x *float32, w *float32, ldw int, y *[32]float32)

// gemv32 is gemv32Go in assembly where the CPU has AVX2 and FMA.
func gemv32(k int, x, w []float32, ldw int, y *[32]float32) {
	if haveGemvAsm {
		_ = x[k-1]
		_ = w[(k-1)*ldw+31]
		gemv32Asm(k, &x[0], &w[0], ldw*4, y)
		return
	}
	gemv32Go(k, x, w, ldw, y)
}
