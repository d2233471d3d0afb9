//go:build !noasm

#include "textflag.h"

// func tileInterleave2AVX2(y, c0, c1 *float32, blocks, tail int, bias float32)
//
// For j in [0, 8*blocks+tail): y[2j] = c0[j] + bias, y[2j+1] = c1[j] + bias; eight j at a time (VUNPCKLPS
// and VUNPCKHPS interleave within 128-bit lanes, VPERM2F128 puts the lanes in order), then the tail one
// at a time.
TEXT ·tileInterleave2AVX2(SB), NOSPLIT, $0-44
	MOVQ y+0(FP), DI
	MOVQ c0+8(FP), SI
	MOVQ c1+16(FP), DX
	MOVQ blocks+24(FP), CX
	MOVQ tail+32(FP), R8
	VBROADCASTSS bias+40(FP), Y15

block:
	TESTQ CX, CX
	JZ tail
	VMOVUPS (SI), Y0
	VMOVUPS (DX), Y1
	VADDPS Y15, Y0, Y0
	VADDPS Y15, Y1, Y1
	VUNPCKLPS Y1, Y0, Y2 // a0 b0 a1 b1 | a4 b4 a5 b5
	VUNPCKHPS Y1, Y0, Y3 // a2 b2 a3 b3 | a6 b6 a7 b7
	VPERM2F128 $0x20, Y3, Y2, Y4
	VPERM2F128 $0x31, Y3, Y2, Y5
	VMOVUPS Y4, (DI)
	VMOVUPS Y5, 32(DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $64, DI
	DECQ CX
	JMP block

tail:
	TESTQ R8, R8
	JZ done
	VMOVSS (SI), X0
	VMOVSS (DX), X1
	VADDSS X15, X0, X0
	VADDSS X15, X1, X1
	VMOVSS X0, (DI)
	VMOVSS X1, 4(DI)
	ADDQ $4, SI
	ADDQ $4, DX
	ADDQ $8, DI
	DECQ R8
	JMP tail

done:
	VZEROUPPER
	RET
