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

// packBTrans16AVX packs a full panel of a transposed B, 8 k steps at a
// time: dst[p*16+c] = src[c*lds+p] for c < 16, p < 8*n8. It needs AVX.
//
//go:noescape
func packBTrans16AVX(dst *float32, src *float32, lds int, n8 int)

// packBTrans16 writes dst[p*nr+c] = src[c*lds+p] for c < nr, p < kc: one
// full panel of a transposed B.
func packBTrans16(dst, src []float32, lds, kc int) {
	done := 0
	if n8 := kc / 8; hasFMA && n8 > 0 {
		_ = dst[n8*8*nr-1]         // the assembly writes n8*8 k steps
		_ = src[(nr-1)*lds+n8*8-1] // and reads that many from each row
		packBTrans16AVX(&dst[0], &src[0], lds, n8)
		done = n8 * 8
	}
	packBTrans16Go(dst, src, lds, done, kc)
}

var hasFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasAVX

var fmaImpl = &impl{name: "avx2fma", asm: "AVX2+FMA 6x16", colA: kernel6x16FMAColA, rowA: kernel6x16FMARowA, minParallelWork: parallelMinWork}

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
