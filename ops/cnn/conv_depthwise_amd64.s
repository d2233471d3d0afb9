//go:build !noasm

#include "textflag.h"

// The depthwise kernels of conv_depthwise_kernel.go: for each block of 16 outputs,
//
//	dst[i] = clamp(bias + Σ_{ky<k} Σ_{kx<k} w[ky*k+kx] · src[ky*rowStride + stride*i + kx], lo, hi)
//
// clamped by VMAXPS and VMINPS with the sum as their second source, which they return when it is NaN.
// with one accumulator per block (two ymm for AVX2). Blocks do not depend on each other, so the
// out-of-order core overlaps the multiply-add chains of consecutive blocks.
//
// Registers: DI dst, SI src of the block, R8 rowStride in bytes, R9 k, CX blocks left, R10 w,
// R11 row of the tap, R12 weight of the tap, R13 rows left, R14 column offset in bytes, BX columns left.

// even16 selects the even lanes of two zmm registers (VPERMT2PS indices 0, 2, ..., 30).
DATA even16<>+0(SB)/4, $0
DATA even16<>+4(SB)/4, $2
DATA even16<>+8(SB)/4, $4
DATA even16<>+12(SB)/4, $6
DATA even16<>+16(SB)/4, $8
DATA even16<>+20(SB)/4, $10
DATA even16<>+24(SB)/4, $12
DATA even16<>+28(SB)/4, $14
DATA even16<>+32(SB)/4, $16
DATA even16<>+36(SB)/4, $18
DATA even16<>+40(SB)/4, $20
DATA even16<>+44(SB)/4, $22
DATA even16<>+48(SB)/4, $24
DATA even16<>+52(SB)/4, $26
DATA even16<>+56(SB)/4, $28
DATA even16<>+60(SB)/4, $30
GLOBL even16<>(SB), RODATA|NOPTR, $64

#define DW_ARGS \
	MOVQ dst+0(FP), DI \
	MOVQ src+8(FP), SI \
	MOVQ rowStride+16(FP), R8 \
	SHLQ $2, R8 \
	MOVQ k+24(FP), R9 \
	MOVQ blocks+32(FP), CX \
	MOVQ w+40(FP), R10

// func dwStride1AVX512(dst, src *float32, rowStride, k, blocks int, w *float32, bias, lo, hi float32)
TEXT ·dwStride1AVX512(SB), NOSPLIT, $0-60
	DW_ARGS
	VBROADCASTSS bias+48(FP), Z1
	VBROADCASTSS lo+52(FP), Z6
	VBROADCASTSS hi+56(FP), Z7
	CMPQ CX, $2
	JLT s1z_single

	// Two blocks at a time share each weight's broadcast.
s1z_pair:
	VMOVAPS Z1, Z0
	VMOVAPS Z1, Z3
	MOVQ SI, R11
	MOVQ R10, R12
	MOVQ R9, R13

s1z_prow:
	XORQ R14, R14
	MOVQ R9, BX

s1z_ptap:
	VBROADCASTSS (R12), Z2
	VFMADD231PS (R11)(R14*1), Z2, Z0
	VFMADD231PS 64(R11)(R14*1), Z2, Z3
	ADDQ $4, R12
	ADDQ $4, R14
	DECQ BX
	JNZ s1z_ptap
	ADDQ R8, R11
	DECQ R13
	JNZ s1z_prow

	VMAXPS Z0, Z6, Z0
	VMINPS Z0, Z7, Z0
	VMAXPS Z3, Z6, Z3
	VMINPS Z3, Z7, Z3
	VMOVUPS Z0, (DI)
	VMOVUPS Z3, 64(DI)
	ADDQ $128, DI
	ADDQ $128, SI
	SUBQ $2, CX
	CMPQ CX, $2
	JGE s1z_pair

s1z_single:
	TESTQ CX, CX
	JZ s1z_done

s1z_block:
	VMOVAPS Z1, Z0
	MOVQ SI, R11
	MOVQ R10, R12
	MOVQ R9, R13

s1z_row:
	XORQ R14, R14
	MOVQ R9, BX

s1z_tap:
	VBROADCASTSS (R12), Z2
	VFMADD231PS (R11)(R14*1), Z2, Z0
	ADDQ $4, R12
	ADDQ $4, R14
	DECQ BX
	JNZ s1z_tap
	ADDQ R8, R11
	DECQ R13
	JNZ s1z_row

	VMAXPS Z0, Z6, Z0
	VMINPS Z0, Z7, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, DI
	ADDQ $64, SI
	DECQ CX
	JNZ s1z_block

s1z_done:
	VZEROUPPER
	RET

// func dwStride2AVX512(dst, src *float32, rowStride, k, blocks int, w *float32, bias, lo, hi float32)
//
// Tap kx of a block reads 32 consecutive inputs from column kx and keeps the even ones (VPERMT2PS).
TEXT ·dwStride2AVX512(SB), NOSPLIT, $0-60
	DW_ARGS
	VBROADCASTSS bias+48(FP), Z1
	VBROADCASTSS lo+52(FP), Z6
	VBROADCASTSS hi+56(FP), Z7
	VMOVUPS even16<>(SB), Z31
	TESTQ CX, CX
	JZ s2z_done

s2z_block:
	VMOVAPS Z1, Z0
	MOVQ SI, R11
	MOVQ R10, R12
	MOVQ R9, R13

s2z_row:
	XORQ R14, R14
	MOVQ R9, BX

s2z_tap:
	VBROADCASTSS (R12), Z2
	VMOVUPS (R11)(R14*1), Z3
	VPERMT2PS 64(R11)(R14*1), Z31, Z3
	VFMADD231PS Z3, Z2, Z0
	ADDQ $4, R12
	ADDQ $4, R14
	DECQ BX
	JNZ s2z_tap
	ADDQ R8, R11
	DECQ R13
	JNZ s2z_row

	VMAXPS Z0, Z6, Z0
	VMINPS Z0, Z7, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, DI
	ADDQ $128, SI
	DECQ CX
	JNZ s2z_block

s2z_done:
	VZEROUPPER
	RET

// func dwStride1AVX2(dst, src *float32, rowStride, k, blocks int, w *float32, bias, lo, hi float32)
TEXT ·dwStride1AVX2(SB), NOSPLIT, $0-60
	DW_ARGS
	VBROADCASTSS bias+48(FP), Y4
	VBROADCASTSS lo+52(FP), Y6
	VBROADCASTSS hi+56(FP), Y7
	TESTQ CX, CX
	JZ s1y_done

s1y_block:
	VMOVAPS Y4, Y0
	VMOVAPS Y4, Y1
	MOVQ SI, R11
	MOVQ R10, R12
	MOVQ R9, R13

s1y_row:
	XORQ R14, R14
	MOVQ R9, BX

s1y_tap:
	VBROADCASTSS (R12), Y2
	VFMADD231PS (R11)(R14*1), Y2, Y0
	VFMADD231PS 32(R11)(R14*1), Y2, Y1
	ADDQ $4, R12
	ADDQ $4, R14
	DECQ BX
	JNZ s1y_tap
	ADDQ R8, R11
	DECQ R13
	JNZ s1y_row

	VMAXPS Y0, Y6, Y0
	VMINPS Y0, Y7, Y0
	VMAXPS Y1, Y6, Y1
	VMINPS Y1, Y7, Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ $64, DI
	ADDQ $64, SI
	DECQ CX
	JNZ s1y_block

s1y_done:
	VZEROUPPER
	RET

// func dwStride2AVX2(dst, src *float32, rowStride, k, blocks int, w *float32, bias, lo, hi float32)
//
// The even lanes of two ymm loads a, b: VSHUFPS $0x88 gives a0 a2 b0 b2 | a4 a6 b4 b6, VPERMPD $0xD8
// puts the 64-bit pairs in order, a0 a2 a4 a6 b0 b2 b4 b6.
TEXT ·dwStride2AVX2(SB), NOSPLIT, $0-60
	DW_ARGS
	VBROADCASTSS bias+48(FP), Y4
	VBROADCASTSS lo+52(FP), Y6
	VBROADCASTSS hi+56(FP), Y7
	TESTQ CX, CX
	JZ s2y_done

s2y_block:
	VMOVAPS Y4, Y0
	VMOVAPS Y4, Y1
	MOVQ SI, R11
	MOVQ R10, R12
	MOVQ R9, R13

s2y_row:
	XORQ R14, R14
	MOVQ R9, BX

s2y_tap:
	VBROADCASTSS (R12), Y2
	VMOVUPS (R11)(R14*1), Y3
	VSHUFPS $0x88, 32(R11)(R14*1), Y3, Y3
	VPERMPD $0xD8, Y3, Y3
	VFMADD231PS Y3, Y2, Y0
	VMOVUPS 64(R11)(R14*1), Y5
	VSHUFPS $0x88, 96(R11)(R14*1), Y5, Y5
	VPERMPD $0xD8, Y5, Y5
	VFMADD231PS Y5, Y2, Y1
	ADDQ $4, R12
	ADDQ $4, R14
	DECQ BX
	JNZ s2y_tap
	ADDQ R8, R11
	DECQ R13
	JNZ s2y_row

	VMAXPS Y0, Y6, Y0
	VMINPS Y0, Y7, Y0
	VMAXPS Y1, Y6, Y1
	VMINPS Y1, Y7, Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ $64, DI
	ADDQ $128, SI
	DECQ CX
	JNZ s2y_block

s2y_done:
	VZEROUPPER
	RET
