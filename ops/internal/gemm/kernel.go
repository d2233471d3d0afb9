package gemm

import (
	"math"
	"unsafe"
)

var posInf = math.Inf(1)

// Flags of tileArgs.flags. The assembly kernels test the same bits.
const (
	flagLoadC   = 1 << iota // add beta*C (otherwise C is write-only)
	flagRowBias             // add rowBias[i]
	flagColBias             // add colBias[j]
	flagClamp               // clamp to [lo, hi]
)

// tileArgs carries everything of one micro-kernel call that is not a pointer
// into the panels. Its layout is read by the assembly kernels: alpha at 0,
// beta 4, lo 8, hi 12, flags 16, rowBias 24, colBias 32, bStride 40. Keep them in sync
// (TestTileArgsLayout checks it).
type tileArgs struct {
	alpha, beta float32
	lo, hi      float32
	flags       uintptr
	rowBias     *float32 // mr values when flagRowBias
	colBias     *float32 // nr values (panels*nr for a wide kernel) when flagColBias
	// bStride is, for a wide kernel (wideKernel), the distance in floats
	// from one B panel of nr columns to the next; the nr-wide kernels ignore it.
	bStride uintptr
}

// microKernel computes one full mr×nr tile of C:
//
//	acc[i][j] = Σ_{p<k} A[i][p] * b[p*ldb+j]
//	t = alpha*acc[i][j]
//	if flags&flagLoadC { t += beta*c[i*ldc+j] }
//	if flags&flagRowBias { t += rowBias[i] }
//	if flags&flagColBias { t += colBias[j] }
//	if flags&flagClamp { t = clamp(t, lo, hi) }
//	c[i*ldc+j] = t
//
// Every kernel comes in two forms that differ in how A is addressed:
//
//	column form: A[i][p] = a[p*lda+i] (a packed A panel has lda == mr;
//	             a transposed A read in place has its row stride)
//	row form:    A[i][p] = a[i*lda+p] (a row-major A read in place)
//
// b points at k rows of nr values, ldb apart: a packed B panel has
// ldb == nr, a row-major B read in place its own row stride. k may be 0.
type microKernel func(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, t *tileArgs)

// A wide kernel computes an mr×(panels*nr) tile with the microKernel
// signature and semantics, taking its B as panels nr-column blocks side by
// side: columns q*nr..q*nr+nr-1 of the tile read b + q*t.bStride (same ldb),
// write c + q*nr and take colBias + q*nr. Its pure-Go twin is
// wideGeneric, panels calls of the nr-wide kernel.

// wideGeneric is the plain-Go statement of a wide kernel of panels panels
// built from the nr-wide kernel narrow.
func wideGeneric(narrow microKernel, panels int, k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, t *tileArgs) {
	part := *t
	for q := range panels {
		bq := unsafe.Add(unsafe.Pointer(b), uintptr(q)*t.bStride*4)
		cq := unsafe.Add(unsafe.Pointer(c), q*nr*4)
		if t.flags&flagColBias != 0 {
			part.colBias = (*float32)(unsafe.Add(unsafe.Pointer(t.colBias), q*nr*4))
		}
		narrow(k, a, lda, (*float32)(bq), ldb, (*float32)(cq), ldc, &part)
	}
}

// kernelGenericColA and kernelGenericRowA are the pure-Go micro-kernels,
// the fallback on every CPU.
func kernelGenericColA(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, t *tileArgs) {
	kernelGeneric(k, a, 1, lda, b, ldb, c, ldc, t)
}

func kernelGenericRowA(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, t *tileArgs) {
	kernelGeneric(k, a, lda, 1, b, ldb, c, ldc, t)
}

// kernelGeneric reads A[i][p] at a[i*rs+p*cs]. It walks the tile in 2×4
// sub-blocks: 8 accumulators plus 6 operands fit the 15 float registers Go
// has on amd64 without spilling (measured: 2×4 beats 3×4 and 6×4 by 25-35%
// there), and arm64 fuses each update into FMADDS.
func kernelGeneric(k int, a *float32, rs, cs int, b *float32, ldb int, c *float32, ldc int, t *tileArgs) {
	var acc [mr][nr]float32
	if k == 0 {
		storeTile(&acc, c, ldc, t)
		return
	}
	ap := unsafe.Slice(a, (mr-1)*rs+(k-1)*cs+1)
	bp := unsafe.Slice(b, (k-1)*ldb+nr)
	for i0 := 0; i0 < mr; i0 += 2 {
		a0s, a1s := ap[i0*rs:], ap[(i0+1)*rs:]
		for j0 := 0; j0 < nr; j0 += 4 {
			var c00, c01, c02, c03 float32
			var c10, c11, c12, c13 float32
			bj := bp[j0:]
			for p := 0; p < k; p++ {
				bv := (*[4]float32)(bj[p*ldb:])
				b0, b1, b2, b3 := bv[0], bv[1], bv[2], bv[3]
				a0, a1 := a0s[p*cs], a1s[p*cs]
				c00 += a0 * b0
				c01 += a0 * b1
				c02 += a0 * b2
				c03 += a0 * b3
				c10 += a1 * b0
				c11 += a1 * b1
				c12 += a1 * b2
				c13 += a1 * b3
			}
			r0, r1 := &acc[i0], &acc[i0+1]
			r0[j0], r0[j0+1], r0[j0+2], r0[j0+3] = c00, c01, c02, c03
			r1[j0], r1[j0+1], r1[j0+2], r1[j0+3] = c10, c11, c12, c13
		}
	}
	storeTile(&acc, c, ldc, t)
}

// storeTile applies the tileArgs epilogue to acc and writes it to C.
func storeTile(acc *[mr][nr]float32, c *float32, ldc int, t *tileArgs) {
	cs := unsafe.Slice(c, (mr-1)*ldc+nr)
	var rowBias *[mr]float32
	var colBias *[nr]float32
	if t.flags&flagRowBias != 0 {
		rowBias = (*[mr]float32)(unsafe.Pointer(t.rowBias))
	}
	if t.flags&flagColBias != 0 {
		colBias = (*[nr]float32)(unsafe.Pointer(t.colBias))
	}
	for i := range mr {
		row := (*[nr]float32)(cs[i*ldc:])
		for j := range nr {
			v := t.alpha * acc[i][j]
			if t.flags&flagLoadC != 0 {
				v += t.beta * row[j]
			}
			if rowBias != nil {
				v += rowBias[i]
			}
			if colBias != nil {
				v += colBias[j]
			}
			if t.flags&flagClamp != 0 {
				v = clamp(v, t.lo, t.hi)
			}
			row[j] = v
		}
	}
}
