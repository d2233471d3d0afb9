//go:build !noasm

#include "textflag.h"

// func gemv32Asm(k int, x *float32, w *float32, ldw int, y *[32]float32)
//
// y[j] = Σ_{p<k} x[p] * w[p*ldw + j] for j < 32 (ldw in bytes): a row vector times 32 columns of a
// k-major matrix, two k steps per iteration into two sets of four YMM accumulators.
TEXT ·gemv32Asm(SB), NOSPLIT, $0-40
	MOVQ k+0(FP), CX
	MOVQ x+8(FP), SI
	MOVQ w+16(FP), BX
	MOVQ ldw+24(FP), DX
	MOVQ y+32(FP), DI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	CMPQ CX, $2
	JLT tail
loop:
	VBROADCASTSS (SI), Y8
	VBROADCASTSS 4(SI), Y9
	VFMADD231PS 0(BX), Y8, Y0
	VFMADD231PS 32(BX), Y8, Y1
	VFMADD231PS 64(BX), Y8, Y2
	VFMADD231PS 96(BX), Y8, Y3
	VFMADD231PS 0(BX)(DX*1), Y9, Y4
	VFMADD231PS 32(BX)(DX*1), Y9, Y5
	VFMADD231PS 64(BX)(DX*1), Y9, Y6
	VFMADD231PS 96(BX)(DX*1), Y9, Y7
	ADDQ $8, SI
	LEAQ (BX)(DX*2), BX
	SUBQ $2, CX
	CMPQ CX, $2
	JGE loop
tail:
	TESTQ CX, CX
	JZ done
	VBROADCASTSS (SI), Y8
	VFMADD231PS 0(BX), Y8, Y0
	VFMADD231PS 32(BX), Y8, Y1
	VFMADD231PS 64(BX), Y8, Y2
	VFMADD231PS 96(BX), Y8, Y3
done:
	VADDPS Y4, Y0, Y0
	VMOVUPS Y0, 0(DI)
	VADDPS Y5, Y1, Y1
	VMOVUPS Y1, 32(DI)
	VADDPS Y6, Y2, Y2
	VMOVUPS Y2, 64(DI)
	VADDPS Y7, Y3, Y3
	VMOVUPS Y3, 96(DI)
	VZEROUPPER
	RET
