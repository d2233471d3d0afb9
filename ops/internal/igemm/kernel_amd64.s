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

// func kernel4x8AVX2(a, b *byte, groups int, out *int32)
//
// The exact AVX2 kernel's building block: a 4×8 corner of a tile (4 rows of an A panel from a, 8
// columns of a B panel from b, both at their group 0; groups groups) written to out, out+64, out+128,
// out+192 bytes (rows of an 8x16 int32 tile). Each operand is widened to int16 (VPMOVZXBW for the u8
// A, VPMOVSXBW for the s8 B) and VPMADDWD sums pairs of products into int32: |a·b| ≤ 255·128, so a
// pair fits easily and the result is exact. (VPMADDUBSW would sum the u8×s8 pairs into int16 with
// saturation, which changes results once a pair exceeds 32767, e.g. 255·127 + 255·127; ONNX
// Runtime's AVX2 u8×s8 kernel accepts that, we do not.) Each accumulator holds, per column, two
// partial sums (k 0-1 and 2-3 of every group); VPHADDD adds them at the end and VPERMQ puts the
// columns back in order. Needs AVX2.
TEXT ·kernel4x8AVX2(SB), NOSPLIT, $0-32
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ groups+16(FP), CX
	MOVQ out+24(FP), DX
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	TESTQ CX, CX
	JZ    reduce

loopAVX2:
	VPMOVSXBW    (DI), Y8
	VPMOVSXBW    16(DI), Y9
	VPBROADCASTD 0(SI), X10
	VPMOVZXBW    X10, Y10
	VPMADDWD     Y8, Y10, Y11
	VPMADDWD     Y9, Y10, Y14
	VPADDD       Y11, Y0, Y0
	VPADDD       Y14, Y1, Y1
	VPBROADCASTD 4(SI), X12
	VPMOVZXBW    X12, Y12
	VPMADDWD     Y8, Y12, Y13
	VPMADDWD     Y9, Y12, Y15
	VPADDD       Y13, Y2, Y2
	VPADDD       Y15, Y3, Y3
	VPBROADCASTD 8(SI), X10
	VPMOVZXBW    X10, Y10
	VPMADDWD     Y8, Y10, Y11
	VPMADDWD     Y9, Y10, Y14
	VPADDD       Y11, Y4, Y4
	VPADDD       Y14, Y5, Y5
	VPBROADCASTD 12(SI), X12
	VPMOVZXBW    X12, Y12
	VPMADDWD     Y8, Y12, Y13
	VPMADDWD     Y9, Y12, Y15
	VPADDD       Y13, Y6, Y6
	VPADDD       Y15, Y7, Y7
	ADDQ         $32, SI
	ADDQ         $64, DI
	DECQ         CX
	JNZ          loopAVX2

reduce:
	VPHADDD Y1, Y0, Y8
	VPERMQ  $0xD8, Y8, Y8
	VMOVDQU Y8, 0(DX)
	VPHADDD Y3, Y2, Y8
	VPERMQ  $0xD8, Y8, Y8
	VMOVDQU Y8, 64(DX)
	VPHADDD Y5, Y4, Y8
	VPERMQ  $0xD8, Y8, Y8
	VMOVDQU Y8, 128(DX)
	VPHADDD Y7, Y6, Y8
	VPERMQ  $0xD8, Y8, Y8
	VMOVDQU Y8, 192(DX)
	VZEROUPPER
	RET
