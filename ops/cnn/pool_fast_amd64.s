//go:build !noasm

#include "textflag.h"

// func pool2x2Asm(y *float32, x *float32, planes int, inSize int, iw int, oh int, ow int, avg int, scale float32)
//
// Pools 2x2 stride-2 windows that lie inside the input: for each of planes planes (x advancing inSize
// elements, y oh*ow), output row oy reads input rows 2oy and 2oy+1 (iw apart) at columns 2j, 2j+1:
//
//	max (avg == 0): v = r0[2j]; v = r0[2j+1] > v ? r0[2j+1] : v; then r1[2j], r1[2j+1] the same
//	avg (avg != 0): v = (((r0[2j] + r0[2j+1]) + r1[2j]) + r1[2j+1]) * scale
//
// eight outputs at a time, then one at a time with the same operations in scalar form: the Go loop of
// pool_fast.go bit for bit (VMAXPS/VMAXSS with the new tap first return the old value unless the new one
// is larger, NaN included). Whole planes in one call matter on narrow planes such as LeNet's (13 and 5
// outputs a row), where a call and a Go tail per row cost more than the pooling.
TEXT ·pool2x2Asm(SB), NOSPLIT, $0-68
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ planes+16(FP), R8
	MOVQ inSize+24(FP), R9
	MOVQ iw+32(FP), R11
	MOVQ oh+40(FP), R12
	MOVQ ow+48(FP), R13
	MOVQ avg+56(FP), AX
	VBROADCASTSS scale+64(FP), Y8
	SHLQ $2, R9
	SHLQ $2, R11
plane:
	TESTQ R8, R8
	JZ planesdone
	MOVQ SI, BX  // input row 2oy of this plane
	MOVQ R12, R15 // output rows left
row:
	TESTQ R15, R15
	JZ nextplane
	MOVQ BX, CX
	LEAQ (BX)(R11*1), DX
	MOVQ R13, R10 // outputs left in the row
vec:
	CMPQ R10, $8
	JLT tail
	VMOVUPS (CX), Y0
	VMOVUPS 32(CX), Y1
	VMOVUPS (DX), Y2
	VMOVUPS 32(DX), Y3
	VSHUFPS $0x88, Y1, Y0, Y4
	VSHUFPS $0xDD, Y1, Y0, Y5
	VSHUFPS $0x88, Y3, Y2, Y6
	VSHUFPS $0xDD, Y3, Y2, Y7
	TESTQ AX, AX
	JNZ vecavg
	VMAXPS Y4, Y5, Y4
	VMAXPS Y4, Y6, Y4
	VMAXPS Y4, Y7, Y4
	JMP vecstore
vecavg:
	VADDPS Y5, Y4, Y4
	VADDPS Y6, Y4, Y4
	VADDPS Y7, Y4, Y4
	VMULPS Y8, Y4, Y4
vecstore:
	VPERMPD $0xD8, Y4, Y4
	VMOVUPS Y4, (DI)
	ADDQ $64, CX
	ADDQ $64, DX
	ADDQ $32, DI
	SUBQ $8, R10
	JMP vec
tail:
	TESTQ R10, R10
	JZ rowdone
	VMOVSS (CX), X4
	VMOVSS 4(CX), X5
	VMOVSS (DX), X6
	VMOVSS 4(DX), X7
	TESTQ AX, AX
	JNZ tailavg
	VMAXSS X4, X5, X4
	VMAXSS X4, X6, X4
	VMAXSS X4, X7, X4
	JMP tailstore
tailavg:
	VADDSS X5, X4, X4
	VADDSS X6, X4, X4
	VADDSS X7, X4, X4
	VMULSS X8, X4, X4
tailstore:
	VMOVSS X4, (DI)
	ADDQ $8, CX
	ADDQ $8, DX
	ADDQ $4, DI
	DECQ R10
	JMP tail
rowdone:
	LEAQ (BX)(R11*2), BX
	DECQ R15
	JMP row
nextplane:
	ADDQ R9, SI
	DECQ R8
	JMP plane
planesdone:
	VZEROUPPER
	RET

// func maxPool3x3s2Asm(y *float32, r0 *float32, r1 *float32, r2 *float32, n int, tail int)
//
// For j < n + tail, the maximum of the 3x3 stride-2 window over input rows r0, r1, r2 at columns 2j, 2j+1,
// 2j+2, taps folded in row-major order with the new tap first in VMAXPS/VMAXSS, which keeps the running
// value unless the tap is larger (a NaN tap is skipped, a NaN first tap stays): the Go loop's maxTap rule
// bit for bit. The first n (a multiple of 8) go eight at a time, reading columns up to 2n+1, so the caller
// gives n only when column 2n+1 exists; the tail goes one at a time.
//
// MAX3ROW folds the eight windows' three taps of the input row at R into Y4 (lanes interleaved);
// MAX3TAPS folds one window's three taps of the row at R into X4.
#define MAX3ROW(R) \
	VMOVUPS (R), Y0 \
	VMOVUPS 32(R), Y1 \
	VMOVUPS 8(R), Y2 \
	VMOVUPS 40(R), Y3 \
	VSHUFPS $0x88, Y1, Y0, Y5 \
	VSHUFPS $0xDD, Y1, Y0, Y6 \
	VSHUFPS $0x88, Y3, Y2, Y7 \
	VMAXPS Y4, Y5, Y4 \
	VMAXPS Y4, Y6, Y4 \
	VMAXPS Y4, Y7, Y4

#define MAX3TAPS(R) \
	VMOVSS (R), X5 \
	VMAXSS X4, X5, X4 \
	VMOVSS 4(R), X5 \
	VMAXSS X4, X5, X4 \
	VMOVSS 8(R), X5 \
	VMAXSS X4, X5, X4

TEXT ·maxPool3x3s2Asm(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), DI
	MOVQ r0+8(FP), SI
	MOVQ r1+16(FP), DX
	MOVQ r2+24(FP), BX
	MOVQ n+32(FP), CX
	MOVQ tail+40(FP), AX
	TESTQ CX, CX
	JZ max3tail
max3loop:
	// Row 0: even columns 2j (Y4), odd 2j+1 (Y5), even shifted 2j+2 (Y6); lanes interleaved as in pool2x2Asm.
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 8(SI), Y2
	VMOVUPS 40(SI), Y3
	VSHUFPS $0x88, Y1, Y0, Y4
	VSHUFPS $0xDD, Y1, Y0, Y5
	VSHUFPS $0x88, Y3, Y2, Y6
	VMAXPS Y4, Y5, Y4
	VMAXPS Y4, Y6, Y4
	MAX3ROW(DX)
	MAX3ROW(BX)
	VPERMPD $0xD8, Y4, Y4
	VMOVUPS Y4, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, BX
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ max3loop
max3tail:
	TESTQ AX, AX
	JZ max3done
	VMOVSS (SI), X4
	VMOVSS 4(SI), X5
	VMAXSS X4, X5, X4
	VMOVSS 8(SI), X5
	VMAXSS X4, X5, X4
	MAX3TAPS(DX)
	MAX3TAPS(BX)
	VMOVSS X4, (DI)
	ADDQ $8, SI
	ADDQ $8, DX
	ADDQ $8, BX
	ADDQ $4, DI
	DECQ AX
	JMP max3tail
max3done:
	VZEROUPPER
	RET
