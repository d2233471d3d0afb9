// The body of the separable pool's passes, included by pool_sep_amd64.s once for MaxPool and once for
// AveragePool with these macros defined: POOL_COL and POOL_ROW (the routines' names), POOL_INIT (sets Y15
// to the value a column's fold starts from), POOL_PS and POOL_SS (folds a new value, the first source,
// into the running one, the second), POOL_FIX_PS and POOL_FIX_SS (combine a window's fold, the second
// source, with its entry of first, the first source).

// POOL_COL(dst, x *float32, blocks, tail, rowStride, rows int)
//
// For each of the 8*blocks+tail columns: dst[c] = x[0*rowStride + c] OP ... OP x[(rows-1)*rowStride + c]
// folded from POOL_INIT in row order, eight columns at a time, then the tail one at a time. rows >= 1.
TEXT POOL_COL(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ blocks+16(FP), CX
	MOVQ tail+24(FP), R10
	MOVQ rowStride+32(FP), R8
	MOVQ rows+40(FP), R9
	SHLQ $2, R8
	POOL_INIT // Y15: where a column starts

quad: // 32 columns at a time: four independent running maxima per row load
	CMPQ CX, $4
	JLT single
	VMOVAPS Y15, Y0
	VMOVAPS Y15, Y1
	VMOVAPS Y15, Y2
	VMOVAPS Y15, Y3
	MOVQ SI, BX
	MOVQ R9, DX

quadrow:
	VMOVUPS (BX), Y4
	VMOVUPS 32(BX), Y5
	VMOVUPS 64(BX), Y6
	VMOVUPS 96(BX), Y7
	POOL_PS Y0, Y4, Y0
	POOL_PS Y1, Y5, Y1
	POOL_PS Y2, Y6, Y2
	POOL_PS Y3, Y7, Y3
	ADDQ R8, BX
	DECQ DX
	JNZ quadrow
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $4, CX
	JMP quad

single:
	TESTQ CX, CX
	JZ coltail
	VMOVAPS Y15, Y0
	MOVQ SI, BX
	MOVQ R9, DX

singlerow:
	VMOVUPS (BX), Y4
	POOL_PS Y0, Y4, Y0
	ADDQ R8, BX
	DECQ DX
	JNZ singlerow
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JMP single

coltail:
	TESTQ R10, R10
	JZ coldone
	VMOVAPS X15, X0
	MOVQ SI, BX
	MOVQ R9, DX

coltailrow:
	VMOVSS (BX), X4
	POOL_SS X0, X4, X0
	ADDQ R8, BX
	DECQ DX
	JNZ coltailrow
	VMOVSS X0, (DI)
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ R10
	JMP coltail

coldone:
	VZEROUPPER
	RET

// POOL_ROW(y, v, first *float32, blocks, tail, stride, k int)
//
// For each of the 8*blocks+tail outputs j (stride 1 or 2, k >= 1), eight at a time, then the tail one at
// a time:
//
//	acc = v[j*stride]; acc = v[j*stride+i] OP acc for i in [1, k)
//	y[j] = acc FIX first[j*stride]
//
// Stride 2 takes the even elements of sixteen loaded ones (VSHUFPS within 128-bit lanes), which leaves the
// outputs in the order 0 1 4 5 2 3 6 7 (pairs); VPERMPD puts them back before the store.
TEXT POOL_ROW(SB), NOSPLIT, $0-56
	MOVQ y+0(FP), DI
	MOVQ v+8(FP), SI
	MOVQ first+16(FP), R10
	MOVQ blocks+24(FP), CX
	MOVQ tail+32(FP), R11
	MOVQ stride+40(FP), R8
	MOVQ k+48(FP), R9
	DECQ R9 // taps after the first
	CMPQ R8, $2
	JEQ s2block

s1block:
	TESTQ CX, CX
	JZ rowtail
	VMOVUPS (SI), Y0
	MOVQ SI, BX
	MOVQ R9, DX

s1tap:
	TESTQ DX, DX
	JZ s1fix
	ADDQ $4, BX
	VMOVUPS (BX), Y1
	POOL_PS Y0, Y1, Y0
	DECQ DX
	JMP s1tap

s1fix:
	VMOVUPS (R10), Y2
	POOL_FIX_PS Y2, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, R10
	ADDQ $32, DI
	DECQ CX
	JMP s1block

s2block:
	TESTQ CX, CX
	JZ rowtail
	VMOVUPS (SI), Y4
	VMOVUPS 32(SI), Y5
	VSHUFPS $0x88, Y5, Y4, Y0
	MOVQ SI, BX
	MOVQ R9, DX

s2tap:
	TESTQ DX, DX
	JZ s2fix
	ADDQ $4, BX
	VMOVUPS (BX), Y4
	VMOVUPS 32(BX), Y5
	VSHUFPS $0x88, Y5, Y4, Y1
	POOL_PS Y0, Y1, Y0
	DECQ DX
	JMP s2tap

s2fix:
	VMOVUPS (R10), Y4
	VMOVUPS 32(R10), Y5
	VSHUFPS $0x88, Y5, Y4, Y2
	POOL_FIX_PS Y2, Y0, Y0
	VPERMPD $0xD8, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $64, SI
	ADDQ $64, R10
	ADDQ $32, DI
	DECQ CX
	JMP s2block

rowtail: // one output at a time: v and first advance by stride elements
	SHLQ $2, R8

rowtailout:
	TESTQ R11, R11
	JZ rowdone
	VMOVSS (SI), X0
	MOVQ SI, BX
	MOVQ R9, DX

rowtailtap:
	TESTQ DX, DX
	JZ rowtailfix
	ADDQ $4, BX
	VMOVSS (BX), X1
	POOL_SS X0, X1, X0
	DECQ DX
	JMP rowtailtap

rowtailfix:
	VMOVSS (R10), X2
	POOL_FIX_SS X2, X0, X0
	VMOVSS X0, (DI)
	ADDQ R8, SI
	ADDQ R8, R10
	ADDQ $4, DI
	DECQ R11
	JMP rowtailout

rowdone:
	VZEROUPPER
	RET
