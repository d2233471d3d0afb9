//go:build ignore

// gen writes kernel_amd64.s, the AVX2+FMA and AVX-512 micro-kernels of package gemm.
// It is a plain text generator (no avo) because the kernels are one fixed
// register schedule each (see kernel): kernel6x16FMA{ColA,RowA} on ymm
// registers, and kernel6x32AVX512{ColA,RowA} on zmm registers, which read B
// as two 16-column panels side by side so that packing keeps one layout
// (nr = 16) for every variant.
//
// Run from ops/internal/gemm: go run ./asm/gen.go -o kernel_amd64.s
// (go generate does this).
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

const (
	mr     = 6
	nr     = 16
	unroll = 4
	// widePanels is the number of 16-column B panels the AVX-512 kernel
	// covers (see wideKernel).
	widePanels = 2
)

var b strings.Builder

func emit(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

// stepIndex is the address suffix of k step u (0..3) of an unrolled group
// for an operand whose base is base and whose k stride is in reg1 (1×) and
// reg3 (3×).
func stepIndex(base, reg1, reg3 string, u int) string {
	return [unroll]string{
		"(" + base + ")",
		"(" + base + ")(" + reg1 + "*1)",
		"(" + base + ")(" + reg1 + "*2)",
		"(" + base + ")(" + reg3 + "*1)",
	}[u]
}

// kernel is one micro-kernel: mr rows by perRow vectors of C. Two register
// files share the generator:
//
//	AVX2 (vec "Y", 8 lanes, perRow 2): a 6×16 tile from one B panel, the
//	  vectors of a B row 32 bytes apart; Y0-Y11 accumulate, Y12-Y13 hold a B
//	  row, Y14-Y15 A broadcasts.
//	AVX-512 (vec "Z", 16 lanes, wide): a 6×(16·perRow) tile read from perRow
//	  B panels of 16 columns side by side, panel q at b + q*tileArgs.bStride
//	  floats (kernel.go's wide kernels); Z0.. accumulate, Z24.. hold B,
//	  Z28-Z29 A broadcasts.
//
// Each k step loads perRow B vectors and broadcasts mr A values for
// mr·perRow FMAs. Two forms differ only in how A is addressed (kernel.go):
// column form A[i][p] at a[p*lda+i] (packed panels, lda = 6, or a transposed
// A in place), row form A[i][p] at a[i*lda+p] (a row-major A in place).
//
// Register plan (no R14/R15: g and the dynamic-linking scratch register):
//
//	CX k left, DX *tileArgs, DI C, SI ldc bytes
//	BX B (wide: panel 0; panel q in bBase[q]), R11 ldb bytes, R12 3*ldb bytes
//	ColA: AX A, R10 lda bytes, R8 3*lda bytes
//	RowA: AX A rows 0-2, R8 A rows 3-5, R10 lda bytes
//	R9 C prefetch walk (before the loop; wide: then the panel stride), then
//	flags; R8, R10 reused after the loop.
type kernel struct {
	name   string
	rowA   bool
	vec    string // register file: "Y" or "Z"
	perRow int    // accumulators per row
	wide   bool   // one B panel per vector (AVX-512); else one B panel, vectors side by side
	bReg0  int    // first B register; the two A broadcast registers follow the B ones at bcast0
	bcast0 int
}

// bBase holds the base register of each B panel of a wide kernel; DI and SI
// are free during the loop and reloaded for the epilogue.
var bBase = [...]string{"BX", "R13", "DI", "SI"}

func (kn kernel) reg(n int) string { return fmt.Sprintf("%s%d", kn.vec, n) }

// acc returns the accumulator register of row i, vector v.
func (kn kernel) acc(i, v int) string { return kn.reg(i*kn.perRow + v) }

// vecBytes is the width of one vector in bytes.
func (kn kernel) vecBytes() int {
	if kn.vec == "Z" {
		return 64
	}
	return 32
}

// aAddr is the address of A[i][step u] within an unrolled group.
func (kn kernel) aAddr(i, u int) string {
	if kn.rowA {
		base := "AX"
		if i >= 3 {
			base = "R8"
		}
		idx := [3]string{"", "(R10*1)", "(R10*2)"}[i%3]
		return fmt.Sprintf("%d(%s)%s", 4*u, base, idx)
	}
	return fmt.Sprintf("%d%s", 4*i, stepIndex("AX", "R10", "R8", u))
}

// bAddr is the address of B vector v at step u within an unrolled group.
func (kn kernel) bAddr(v, u int) string {
	if kn.wide {
		return stepIndex(bBase[v], "R11", "R12", u)
	}
	off := ""
	if v > 0 {
		off = fmt.Sprint(v * kn.vecBytes())
	}
	return off + stepIndex("BX", "R11", "R12", u)
}

func (kn kernel) bBases() []string {
	if kn.wide {
		return bBase[:kn.perRow]
	}
	return bBase[:1]
}

func (kn kernel) step(u int) {
	for v := 0; v < kn.perRow; v++ {
		emit("\tVMOVUPS %s, %s", kn.bAddr(v, u), kn.reg(kn.bReg0+v))
	}
	for i := 0; i < mr; i++ {
		bc := kn.reg(kn.bcast0 + i%2)
		emit("\tVBROADCASTSS %s, %s", kn.aAddr(i, u), bc)
		for v := 0; v < kn.perRow; v++ {
			emit("\tVFMADD231PS %s, %s, %s", kn.reg(kn.bReg0+v), bc, kn.acc(i, v))
		}
	}
}

// advance moves A and B on by steps k steps.
func (kn kernel) advance(steps int) {
	if kn.rowA {
		emit("\tADDQ $%d, AX", 4*steps)
		emit("\tADDQ $%d, R8", 4*steps)
	} else if steps == 1 {
		emit("\tADDQ R10, AX")
	} else {
		emit("\tLEAQ (AX)(R10*%d), AX", steps)
	}
	for _, base := range kn.bBases() {
		if steps == 1 {
			emit("\tADDQ R11, %s", base)
		} else {
			emit("\tLEAQ (%s)(R11*%d), %s", base, steps, base)
		}
	}
}

func (kn kernel) gen() {
	layout := "a[p*lda+i]"
	if kn.rowA {
		layout = "a[i*lda+p]"
	}
	width := kn.perRow * kn.vecBytes() / 4
	emit("// func %s(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, t *tileArgs)", kn.name)
	emit("// Semantics: microKernel in kernel.go over a %dx%d tile, with A[i][p] = %s.", mr, width, layout)
	if kn.wide {
		emit("// B panel q (columns 16q..16q+15) at b + q*t.bStride floats.")
	}
	emit("// %s-%s accumulate (row i, vector v in %s(%di+v)), %s-%s hold a B row, %s-%s A broadcasts.",
		kn.reg(0), kn.reg(mr*kn.perRow-1), kn.vec, kn.perRow, kn.reg(kn.bReg0), kn.reg(kn.bReg0+kn.perRow-1),
		kn.reg(kn.bcast0), kn.reg(kn.bcast0+1))
	emit("TEXT ·%s(SB), NOSPLIT, $0-64", kn.name)
	emit("\tMOVQ k+0(FP), CX")
	emit("\tMOVQ a+8(FP), AX")
	emit("\tMOVQ lda+16(FP), R10")
	emit("\tMOVQ b+24(FP), BX")
	emit("\tMOVQ ldb+32(FP), R11")
	kn.loadC()
	emit("\tSHLQ $2, R10")
	emit("\tSHLQ $2, R11")
	emit("\tLEAQ (R11)(R11*2), R12")
	if kn.rowA {
		emit("\tLEAQ (AX)(R10*2), R8")
		emit("\tADDQ R10, R8 // rows 3-5")
	} else {
		emit("\tLEAQ (R10)(R10*2), R8")
	}
	emit("")
	emit("\t// Warm the C tile while the product runs.")
	emit("\tMOVQ DI, R9")
	for i := 0; i < mr; i++ {
		for off := 0; off < 4*width-4; off += 64 {
			emit("\tPREFETCHT0 %s", memOff(off, "R9"))
		}
		emit("\tPREFETCHT0 %d(R9)", 4*width-4)
		if i < mr-1 {
			emit("\tADDQ SI, R9")
		}
	}
	if kn.wide {
		emit("")
		emit("\t// B panel bases: panel q at b + q*bStride.")
		emit("\tMOVQ 40(DX), R9 // bStride")
		emit("\tSHLQ $2, R9")
		bases := kn.bBases()
		for q := 1; q < len(bases); q++ {
			emit("\tLEAQ (%s)(R9*1), %s", bases[q-1], bases[q])
		}
	}
	for i := 0; i < mr*kn.perRow; i++ {
		if kn.vec == "Z" {
			emit("\tVPXORD %s, %s, %s", kn.reg(i), kn.reg(i), kn.reg(i))
		} else {
			emit("\tVXORPS %s, %s, %s", kn.reg(i), kn.reg(i), kn.reg(i))
		}
	}
	emit("")
	emit("\tCMPQ CX, $%d", unroll)
	emit("\tJLT tail")
	emit("loop:")
	for u := 0; u < unroll; u++ {
		kn.step(u)
	}
	kn.advance(unroll)
	emit("\tSUBQ $%d, CX", unroll)
	emit("\tCMPQ CX, $%d", unroll)
	emit("\tJGE loop")
	emit("")
	emit("tail:")
	emit("\tTESTQ CX, CX")
	emit("\tJEQ epilogue")
	kn.step(0)
	kn.advance(1)
	emit("\tDECQ CX")
	emit("\tJMP tail")
	emit("")
	kn.epilogue()
}

// loadC loads C, ldc (in bytes) and t; a kernel whose loop used DI or SI
// for B panels loads them again for the epilogue.
func (kn kernel) loadC() {
	emit("\tMOVQ c+40(FP), DI")
	emit("\tMOVQ ldc+48(FP), SI")
	emit("\tMOVQ t+56(FP), DX")
	emit("\tSHLQ $2, SI")
}

// epilogue emits the tileArgs part: scale, beta*C, biases, clamp, store.
// tileArgs offsets: alpha 0, beta 4, lo 8, hi 12, flags 16, rowBias 24,
// colBias 32. The B and broadcast registers are free here.
func (kn kernel) epilogue() {
	n := mr * kn.perRow
	vb := kn.vecBytes()
	b0, b1 := kn.reg(kn.bReg0), kn.reg(kn.bReg0+1)
	x0, x1 := kn.reg(kn.bcast0), kn.reg(kn.bcast0+1)
	emit("epilogue:")
	if kn.wide && kn.perRow > 2 {
		kn.loadC()
	}
	emit("\tMOVQ 16(DX), R9 // flags")
	emit("\tVBROADCASTSS 0(DX), %s // alpha", b0)
	for i := 0; i < n; i++ {
		emit("\tVMULPS %s, %s, %s", b0, kn.reg(i), kn.reg(i))
	}
	emit("")
	emit("\tTESTQ $1, R9 // flagLoadC: += beta*C")
	emit("\tJEQ rowbias")
	emit("\tVBROADCASTSS 4(DX), %s // beta", b1)
	emit("\tMOVQ DI, R8")
	for i := 0; i < mr; i++ {
		for v := 0; v < kn.perRow; v++ {
			emit("\tVFMADD231PS %s, %s, %s", memOff(v*vb, "R8"), b1, kn.acc(i, v))
		}
		if i < mr-1 {
			emit("\tADDQ SI, R8")
		}
	}
	emit("")
	emit("rowbias:")
	emit("\tTESTQ $2, R9 // flagRowBias: += rowBias[i]")
	emit("\tJEQ colbias")
	emit("\tMOVQ 24(DX), R10")
	for i := 0; i < mr; i++ {
		emit("\tVBROADCASTSS %d(R10), %s", 4*i, x0)
		for v := 0; v < kn.perRow; v++ {
			emit("\tVADDPS %s, %s, %s", x0, kn.acc(i, v), kn.acc(i, v))
		}
	}
	emit("")
	emit("colbias:")
	emit("\tTESTQ $4, R9 // flagColBias: += colBias[j]")
	emit("\tJEQ clamp")
	emit("\tMOVQ 32(DX), R10")
	for v := 0; v < kn.perRow; v++ {
		emit("\tVMOVUPS %s, %s", memOff(v*vb, "R10"), kn.reg(kn.bReg0+v))
	}
	for i := 0; i < mr; i++ {
		for v := 0; v < kn.perRow; v++ {
			emit("\tVADDPS %s, %s, %s", kn.reg(kn.bReg0+v), kn.acc(i, v), kn.acc(i, v))
		}
	}
	emit("")
	emit("clamp:")
	emit("\tTESTQ $8, R9 // flagClamp: min(max(x, lo), hi), NaN kept")
	emit("\tJEQ store")
	emit("\tVBROADCASTSS 8(DX), %s // lo", x0)
	emit("\tVBROADCASTSS 12(DX), %s // hi", x1)
	emit("\t// Intel MAXPS/MINPS return the second source when either is NaN; in Go")
	emit("\t// operand order that is the first operand, so x goes first.")
	for i := 0; i < n; i++ {
		emit("\tVMAXPS %s, %s, %s", kn.reg(i), x0, kn.reg(i))
		emit("\tVMINPS %s, %s, %s", kn.reg(i), x1, kn.reg(i))
	}
	emit("")
	emit("store:")
	emit("\tMOVQ DI, R8")
	for i := 0; i < mr; i++ {
		for v := 0; v < kn.perRow; v++ {
			emit("\tVMOVUPS %s, %s", kn.acc(i, v), memOff(v*vb, "R8"))
		}
		if i < mr-1 {
			emit("\tADDQ SI, R8")
		}
	}
	emit("\tVZEROUPPER")
	emit("\tRET")
}

// memOff is the address off(base), without a zero offset.
func memOff(off int, base string) string {
	if off == 0 {
		return "(" + base + ")"
	}
	return fmt.Sprintf("%d(%s)", off, base)
}

// packBTrans16 emits the transposing B packer: 16 stored rows (the columns
// j of op(B)) of n8*8 values each become n8*8 packed k steps of 16 values,
// by 8×8 transposes (unpack, shuffle, lane permute).
func packBTrans16() {
	emit("// func packBTrans16AVX(dst *float32, src *float32, lds int, n8 int)")
	emit("// dst[p*16+c] = src[c*lds+p] for c < 16, p < 8*n8.")
	emit("TEXT ·packBTrans16AVX(SB), NOSPLIT, $0-32")
	emit("\tMOVQ dst+0(FP), DI")
	emit("\tMOVQ src+8(FP), SI")
	emit("\tMOVQ lds+16(FP), R8")
	emit("\tMOVQ n8+24(FP), CX")
	emit("\tSHLQ $2, R8")
	emit("\tLEAQ (R8)(R8*2), R9 // 3*lds")
	emit("\tLEAQ (SI)(R8*4), R10 // row 4")
	emit("\tLEAQ (R10)(R8*4), R11 // row 8")
	emit("\tLEAQ (R11)(R8*4), R12 // row 12")
	emit("\tTESTQ CX, CX")
	emit("\tJEQ done")
	emit("loop:")
	bases := []string{"SI", "R10", "R11", "R12"}
	for half := 0; half < 2; half++ {
		for r := 0; r < 8; r++ {
			row := half*8 + r
			base := bases[row/4]
			idx := [4]string{"", "(R8*1)", "(R8*2)", "(R9*1)"}[row%4]
			emit("\tVMOVUPS (%s)%s, Y%d", base, idx, r)
		}
		for q := 0; q < 4; q++ {
			emit("\tVUNPCKLPS Y%d, Y%d, Y%d", 2*q+1, 2*q, 8+2*q)
			emit("\tVUNPCKHPS Y%d, Y%d, Y%d", 2*q+1, 2*q, 9+2*q)
		}
		// s0..s7 into Y0..Y7: columns {0,4}, {1,5}, {2,6}, {3,7} of rows 0-3 and 4-7.
		emit("\tVSHUFPS $0x44, Y10, Y8, Y0")
		emit("\tVSHUFPS $0xEE, Y10, Y8, Y1")
		emit("\tVSHUFPS $0x44, Y11, Y9, Y2")
		emit("\tVSHUFPS $0xEE, Y11, Y9, Y3")
		emit("\tVSHUFPS $0x44, Y14, Y12, Y4")
		emit("\tVSHUFPS $0xEE, Y14, Y12, Y5")
		emit("\tVSHUFPS $0x44, Y15, Y13, Y6")
		emit("\tVSHUFPS $0xEE, Y15, Y13, Y7")
		for q := 0; q < 4; q++ {
			emit("\tVPERM2F128 $0x20, Y%d, Y%d, Y%d", 4+q, q, 8+q)
			emit("\tVPERM2F128 $0x31, Y%d, Y%d, Y%d", 4+q, q, 12+q)
		}
		// Y8+q holds k step q, Y12+q k step 4+q, for these 8 columns.
		for q := 0; q < 8; q++ {
			emit("\tVMOVUPS Y%d, %d(DI)", 8+q, q*64+half*32)
		}
	}
	emit("\tADDQ $32, SI")
	emit("\tADDQ $32, R10")
	emit("\tADDQ $32, R11")
	emit("\tADDQ $32, R12")
	emit("\tADDQ $512, DI")
	emit("\tDECQ CX")
	emit("\tJNE loop")
	emit("done:")
	emit("\tVZEROUPPER")
	emit("\tRET")
}

func main() {
	out := flag.String("o", "kernel_amd64.s", "output file")
	flag.Parse()
	emit("// Code generated by go run ./asm/gen.go; DO NOT EDIT.")
	emit("")
	emit("//go:build !noasm")
	emit("")
	emit("#include \"textflag.h\"")
	emit("")
	avx2 := kernel{vec: "Y", perRow: 2, bReg0: 12, bcast0: 14}
	avx512 := kernel{vec: "Z", perRow: widePanels, wide: true, bReg0: 24, bcast0: 28}
	for _, kn := range []kernel{avx2, avx512} {
		name := fmt.Sprintf("kernel6x%dFMA", 16*kn.perRow/2)
		if kn.wide {
			name = fmt.Sprintf("kernel6x%dAVX512", 16*kn.perRow)
		}
		for _, rowA := range []bool{false, true} {
			kn.name, kn.rowA = name+"ColA", rowA
			if rowA {
				kn.name = name + "RowA"
			}
			kn.gen()
			emit("")
		}
	}
	packBTrans16()
	if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
