//go:build ignore

// gen writes kernel_amd64.s, the AVX2+FMA micro-kernels of package gemm.
// It is a plain text generator (no avo) because the kernels are one fixed
// register schedule: 12 accumulators, 2 B vectors, 2 A broadcasts. Two
// variants differ only in how A is addressed (see kernel.go):
//
//	kernel6x16FMAColA: A[i][p] at a[p*lda+i] (packed panels, lda = 6, or a
//	                   transposed A read in place)
//	kernel6x16FMARowA: A[i][p] at a[i*lda+p] (a row-major A read in place)
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
)

var b strings.Builder

func emit(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

// acc returns the accumulator register of row i, half h (columns 8h..8h+7).
func acc(i, h int) string { return fmt.Sprintf("Y%d", 2*i+h) }

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

// Register plan (no R14/R15: g and the dynamic-linking scratch register).
//
//	CX k left, DX *tileArgs, DI C, SI ldc bytes
//	BX B, R11 ldb bytes, R12 3*ldb bytes
//	ColA: AX A, R10 lda bytes, R8 3*lda bytes
//	RowA: AX A rows 0-2, R8 A rows 3-5, R10 lda bytes
//	R9 C prefetch walk (before the loop), then flags; R8, R10 reused after the loop.
type kernel struct {
	name string
	rowA bool
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

func (kn kernel) step(u int) {
	bAddr := stepIndex("BX", "R11", "R12", u)
	emit("\tVMOVUPS %s, Y12", bAddr)
	emit("\tVMOVUPS 32%s, Y13", bAddr)
	for i := 0; i < mr; i++ {
		bc := fmt.Sprintf("Y%d", 14+i%2)
		emit("\tVBROADCASTSS %s, %s", kn.aAddr(i, u), bc)
		emit("\tVFMADD231PS Y12, %s, %s", bc, acc(i, 0))
		emit("\tVFMADD231PS Y13, %s, %s", bc, acc(i, 1))
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
	if steps == 1 {
		emit("\tADDQ R11, BX")
	} else {
		emit("\tLEAQ (BX)(R11*%d), BX", steps)
	}
}

func (kn kernel) gen() {
	layout := "a[p*lda+i]"
	if kn.rowA {
		layout = "a[i*lda+p]"
	}
	emit("// func %s(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, t *tileArgs)", kn.name)
	emit("// Semantics: microKernel in kernel.go, with A[i][p] = %s.", layout)
	emit("// Y0-Y11 accumulate (row i in Y2i, Y2i+1), Y12-Y13 hold a B row, Y14-Y15 A broadcasts.")
	emit("TEXT ·%s(SB), NOSPLIT, $0-64", kn.name)
	emit("\tMOVQ k+0(FP), CX")
	emit("\tMOVQ a+8(FP), AX")
	emit("\tMOVQ lda+16(FP), R10")
	emit("\tMOVQ b+24(FP), BX")
	emit("\tMOVQ ldb+32(FP), R11")
	emit("\tMOVQ c+40(FP), DI")
	emit("\tMOVQ ldc+48(FP), SI")
	emit("\tMOVQ t+56(FP), DX")
	emit("\tSHLQ $2, SI")
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
		emit("\tPREFETCHT0 (R9)")
		emit("\tPREFETCHT0 60(R9)")
		if i < mr-1 {
			emit("\tADDQ SI, R9")
		}
	}
	for i := 0; i < 2*mr; i++ {
		emit("\tVXORPS Y%d, Y%d, Y%d", i, i, i)
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
	epilogue()
}

// epilogue emits the tileArgs part shared by the kernels: scale, beta*C,
// biases, clamp, store. tileArgs offsets: alpha 0, beta 4, lo 8, hi 12,
// flags 16, rowBias 24, colBias 32.
func epilogue() {
	emit("epilogue:")
	emit("\tMOVQ 16(DX), R9 // flags")
	emit("\tVBROADCASTSS 0(DX), Y12 // alpha")
	for i := 0; i < 2*mr; i++ {
		emit("\tVMULPS Y12, Y%d, Y%d", i, i)
	}
	emit("")
	emit("\tTESTQ $1, R9 // flagLoadC: += beta*C")
	emit("\tJEQ rowbias")
	emit("\tVBROADCASTSS 4(DX), Y13 // beta")
	emit("\tMOVQ DI, R8")
	for i := 0; i < mr; i++ {
		emit("\tVFMADD231PS (R8), Y13, %s", acc(i, 0))
		emit("\tVFMADD231PS 32(R8), Y13, %s", acc(i, 1))
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
		emit("\tVBROADCASTSS %d(R10), Y14", 4*i)
		emit("\tVADDPS Y14, %s, %s", acc(i, 0), acc(i, 0))
		emit("\tVADDPS Y14, %s, %s", acc(i, 1), acc(i, 1))
	}
	emit("")
	emit("colbias:")
	emit("\tTESTQ $4, R9 // flagColBias: += colBias[j]")
	emit("\tJEQ clamp")
	emit("\tMOVQ 32(DX), R10")
	emit("\tVMOVUPS (R10), Y14")
	emit("\tVMOVUPS 32(R10), Y15")
	for i := 0; i < mr; i++ {
		emit("\tVADDPS Y14, %s, %s", acc(i, 0), acc(i, 0))
		emit("\tVADDPS Y15, %s, %s", acc(i, 1), acc(i, 1))
	}
	emit("")
	emit("clamp:")
	emit("\tTESTQ $8, R9 // flagClamp: min(max(x, lo), hi), NaN kept")
	emit("\tJEQ store")
	emit("\tVBROADCASTSS 8(DX), Y14 // lo")
	emit("\tVBROADCASTSS 12(DX), Y15 // hi")
	emit("\t// Intel MAXPS/MINPS return the second source when either is NaN; in Go")
	emit("\t// operand order that is the first operand, so x goes first.")
	for i := 0; i < 2*mr; i++ {
		emit("\tVMAXPS Y%d, Y14, Y%d", i, i)
		emit("\tVMINPS Y%d, Y15, Y%d", i, i)
	}
	emit("")
	emit("store:")
	emit("\tMOVQ DI, R8")
	for i := 0; i < mr; i++ {
		emit("\tVMOVUPS %s, (R8)", acc(i, 0))
		emit("\tVMOVUPS %s, 32(R8)", acc(i, 1))
		if i < mr-1 {
			emit("\tADDQ SI, R8")
		}
	}
	emit("\tVZEROUPPER")
	emit("\tRET")
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
	kernel{name: "kernel6x16FMAColA"}.gen()
	emit("")
	kernel{name: "kernel6x16FMARowA", rowA: true}.gen()
	emit("")
	packBTrans16()
	if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
