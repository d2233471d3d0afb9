//go:build !noasm

#include "textflag.h"

// func kernel8x16VNNI(a, b []byte, tile *[128]int32)
//
// The AVX-512 VNNI micro-kernel (microKernel's contract): per group of 4 k, one 64-byte load of the
// B panel (16 columns × 4 s8), and per row of A a broadcast of its 4 u8 and a VPDPBUSD into that
// row's accumulator. Needs AVX-512 F and VNNI.
TEXT ·kernel8x16VNNI(SB), NOSPLIT, $0-56
	MOVQ a_base+0(FP), SI
	MOVQ b_base+24(FP), DI
	MOVQ b_len+32(FP), CX
	MOVQ tile+48(FP), DX
	SHRQ $6, CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	TESTQ CX, CX
	JZ    store

loop:
	VMOVDQU32    (DI), Z8
	VPBROADCASTD (SI), Z16
	VPBROADCASTD 4(SI), Z17
	VPBROADCASTD 8(SI), Z18
	VPBROADCASTD 12(SI), Z19
	VPDPBUSD     Z8, Z16, Z0
	VPDPBUSD     Z8, Z17, Z1
	VPDPBUSD     Z8, Z18, Z2
	VPDPBUSD     Z8, Z19, Z3
	VPBROADCASTD 16(SI), Z20
	VPBROADCASTD 20(SI), Z21
	VPBROADCASTD 24(SI), Z22
	VPBROADCASTD 28(SI), Z23
	VPDPBUSD     Z8, Z20, Z4
	VPDPBUSD     Z8, Z21, Z5
	VPDPBUSD     Z8, Z22, Z6
	VPDPBUSD     Z8, Z23, Z7
	ADDQ         $32, SI
	ADDQ         $64, DI
	DECQ         CX
	JNZ          loop

store:
	VMOVDQU32 Z0, (DX)
	VMOVDQU32 Z1, 64(DX)
	VMOVDQU32 Z2, 128(DX)
	VMOVDQU32 Z3, 192(DX)
	VMOVDQU32 Z4, 256(DX)
	VMOVDQU32 Z5, 320(DX)
	VMOVDQU32 Z6, 384(DX)
	VMOVDQU32 Z7, 448(DX)
	VZEROUPPER
	RET
