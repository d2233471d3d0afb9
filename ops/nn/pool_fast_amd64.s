//go:build !noasm

#include "textflag.h"

// func pool2x2Asm(y *float32, r0 *float32, r1 *float32, n int, avg int, scale float32)
//
// For j < n (n a multiple of 8), over the 2x2 stride-2 windows of input rows r0 and r1:
//
//	max (avg == 0): v = r0[2j]; v = r0[2j+1] > v ? r0[2j+1] : v; then r1[2j], r1[2j+1] the same
//	avg (avg != 0): v = (((r0[2j] + r0[2j+1]) + r1[2j]) + r1[2j+1]) * scale
//
// which is the Go loop of pool_fast.go bit for bit (VMAXPS with the new tap first returns the old value
// unless the new one is larger, NaN included).
TEXT ·pool2x2Asm(SB), NOSPLIT, $0-44
	MOVQ y+0(FP), DI
	MOVQ r0+8(FP), SI
	MOVQ r1+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ avg+32(FP), AX
	VBROADCASTSS scale+40(FP), Y8
	TESTQ CX, CX
	JZ done
loop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS (DX), Y2
	VMOVUPS 32(DX), Y3
	VSHUFPS $0x88, Y1, Y0, Y4 // r0 even columns, 128-bit lanes interleaved
	VSHUFPS $0xDD, Y1, Y0, Y5 // r0 odd
	VSHUFPS $0x88, Y3, Y2, Y6 // r1 even
	VSHUFPS $0xDD, Y3, Y2, Y7 // r1 odd
	TESTQ AX, AX
	JNZ average
	VMAXPS Y4, Y5, Y4
	VMAXPS Y4, Y6, Y4
	VMAXPS Y4, Y7, Y4
	JMP store
average:
	VADDPS Y5, Y4, Y4
	VADDPS Y6, Y4, Y4
	VADDPS Y7, Y4, Y4
	VMULPS Y8, Y4, Y4
store:
	VPERMPD $0xD8, Y4, Y4 // undo the lane interleave
	VMOVUPS Y4, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ loop
done:
	VZEROUPPER
	RET
