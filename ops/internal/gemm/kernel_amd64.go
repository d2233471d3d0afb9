//go:build !noasm

package gemm

import "github.com/onnxrun/onnxrun/ops/internal/isa"

//go:generate go run ./asm/gen.go -o kernel_amd64.s

// kernel6x16FMAColA and kernel6x16FMARowA are the AVX2+FMA micro-kernels,
// in the column and row forms of microKernel (kernel.go). They need AVX2 and
// FMA: call them only when isa.Max() >= isa.AVX2.
//
//go:noescape
func kernel6x16FMAColA(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, t *tileArgs)

//go:noescape
func kernel6x16FMARowA(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, t *tileArgs)

// kernel6x32AVX512ColA and kernel6x32AVX512RowA are the AVX-512 wide kernels
// (kernel.go: a 6×32 tile read from two B panels t.bStride floats apart), in
// the column and row forms. They need AVX-512 F: call them only when
// isa.Max() >= isa.AVX512.
//
//go:noescape
func kernel6x32AVX512ColA(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, t *tileArgs)

//go:noescape
func kernel6x32AVX512RowA(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, t *tileArgs)

// packBTrans16AVX packs a full panel of a transposed B, 8 k steps at a
// time: dst[p*16+c] = src[c*lds+p] for c < 16, p < 8*n8. It needs AVX.
//
//go:noescape
func packBTrans16AVX(dst *float32, src *float32, lds int, n8 int)

// packBTrans16 writes dst[p*nr+c] = src[c*lds+p] for c < nr, p < kc: one
// full panel of a transposed B.
func packBTrans16(dst, src []float32, lds, kc int) {
	done := 0
	if n8 := kc / 8; hasAVX2 && n8 > 0 {
		_ = dst[n8*8*nr-1]         // the assembly writes n8*8 k steps
		_ = src[(nr-1)*lds+n8*8-1] // and reads that many from each row
		packBTrans16AVX(&dst[0], &src[0], lds, n8)
		done = n8 * 8
	}
	packBTrans16Go(dst, src, lds, done, kc)
}

var hasAVX2 = isa.Max() >= isa.AVX2

var fmaImpl = &impl{name: "avx2fma", asm: "AVX2+FMA 6x16", colA: kernel6x16FMAColA, rowA: kernel6x16FMARowA, minParallelWork: parallelMinWork}

// avx512Impl runs the 6×32 AVX-512 kernel over pairs of full B panels and
// the AVX2 6×16 one on a last odd panel and on partial tiles (every AVX-512
// CPU has AVX2).
var avx512Impl = &impl{name: "avx512", asm: "AVX-512 6x32", colA: kernel6x16FMAColA, rowA: kernel6x16FMARowA,
	wideColA: kernel6x32AVX512ColA, wideRowA: kernel6x32AVX512RowA, widePanels: 2, minParallelWork: parallelMinWork}

// implVariants are the GEMM variants by instruction-set level; isa.Pick chooses defaultImpl among them.
var implVariants = []isa.Variant[*impl]{
	{Level: isa.PureGo, Name: "pure Go", Fn: genericImpl},
	{Level: isa.AVX2, Name: fmaImpl.asm, Fn: fmaImpl},
	{Level: isa.AVX512, Name: avx512Impl.asm, Fn: avx512Impl},
}
