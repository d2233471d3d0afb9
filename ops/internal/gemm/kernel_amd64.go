//go:build !noasm

package gemm

import "golang.org/x/sys/cpu"

//go:generate go run ./asm/gen.go -o kernel_amd64.s

// kernel6x16FMAColA and kernel6x16FMARowA are the AVX2+FMA micro-kernels,
// in the column and row forms of microKernel (kernel.go). They need AVX2 and
// FMA: call them only when hasFMA.
//
//go:noescape
func kernel6x16FMAColA(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, t *tileArgs)

//go:noescape
func kernel6x16FMARowA(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, t *tileArgs)

var hasFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasAVX

var fmaImpl = &impl{name: "avx2fma", colA: kernel6x16FMAColA, rowA: kernel6x16FMARowA, minParallelWork: parallelMinWork}

func init() {
	if hasFMA {
		defaultImpl = fmaImpl
	}
}

// asmImpls lists the assembly variants this CPU can run.
func asmImpls() []*impl {
	if hasFMA {
		return []*impl{fmaImpl}
	}
	return nil
}
