//go:build !noasm

#include "textflag.h"

// The depthwise kernel of conv_depthwise_kernel.go: for each block of 16 outputs,
//
//	dst[i] = clamp(bias + Σ_{t<taps} w[t] · src[off[t] + i], lo, hi)
//
// clamped by VMAXPS and VMINPS with the sum as their second source, which they return when it is NaN.
// Four blocks run together (four zmm accumulators; two pairs of ymm for AVX2) so that each tap's offset
// load and weight broadcast serve four multiply-adds and the four chains overlap; the blocks left over
// run one at a time.
//
// Registers: DI dst, SI src of the block, R8 off, R10 w, R9 taps, CX blocks left, BX tap index, R11 the
// tap's offset.

#define DW_ARGS \
	MOVQ dst+0(FP), DI \
	MOVQ src+8(FP), SI \
	MOVQ off+16(FP), R8 \
	MOVQ w+24(FP), R10 \
	MOVQ taps+32(FP), R9 \
	MOVQ blocks+40(FP), CX

// func dwTapsAVX512(dst, src *float32, off *int, w *float32, taps, blocks int, bias, lo, hi float32)
TEXT ·dwTapsAVX512(SB), NOSPLIT, $0-60
	DW_ARGS
	VBROADCASTSS bias+48(FP), Z1
	VBROADCASTSS lo+52(FP), Z6
	VBROADCASTSS hi+56(FP), Z7
	CMPQ CX, $4
	JLT z_single

z_quad:
	VMOVAPS Z1, Z0
	VMOVAPS Z1, Z3
	VMOVAPS Z1, Z4
	VMOVAPS Z1, Z5
	XORQ BX, BX

z_qtap:
	MOVQ (R8)(BX*8), R11
	VBROADCASTSS (R10)(BX*4), Z2
	LEAQ (SI)(R11*4), R11
	VFMADD231PS (R11), Z2, Z0
	VFMADD231PS 64(R11), Z2, Z3
	VFMADD231PS 128(R11), Z2, Z4
	VFMADD231PS 192(R11), Z2, Z5
	INCQ BX
	CMPQ BX, R9
	JLT z_qtap

	VMAXPS Z0, Z6, Z0
	VMINPS Z0, Z7, Z0
	VMAXPS Z3, Z6, Z3
	VMINPS Z3, Z7, Z3
	VMAXPS Z4, Z6, Z4
	VMINPS Z4, Z7, Z4
	VMAXPS Z5, Z6, Z5
	VMINPS Z5, Z7, Z5
	VMOVUPS Z0, (DI)
	VMOVUPS Z3, 64(DI)
	VMOVUPS Z4, 128(DI)
	VMOVUPS Z5, 192(DI)
	ADDQ $256, DI
	ADDQ $256, SI
	SUBQ $4, CX
	CMPQ CX, $4
	JGE z_quad

z_single:
	TESTQ CX, CX
	JZ z_done

z_block:
	VMOVAPS Z1, Z0
	XORQ BX, BX

z_tap:
	MOVQ (R8)(BX*8), R11
	VBROADCASTSS (R10)(BX*4), Z2
	VFMADD231PS (SI)(R11*4), Z2, Z0
	INCQ BX
	CMPQ BX, R9
	JLT z_tap

	VMAXPS Z0, Z6, Z0
	VMINPS Z0, Z7, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, DI
	ADDQ $64, SI
	DECQ CX
	JNZ z_block

z_done:
	VZEROUPPER
	RET

// func dwTapsAVX2(dst, src *float32, off *int, w *float32, taps, blocks int, bias, lo, hi float32)
TEXT ·dwTapsAVX2(SB), NOSPLIT, $0-60
	DW_ARGS
	VBROADCASTSS bias+48(FP), Y1
	VBROADCASTSS lo+52(FP), Y6
	VBROADCASTSS hi+56(FP), Y7
	CMPQ CX, $2
	JLT y_single

y_pair:
	VMOVAPS Y1, Y0
	VMOVAPS Y1, Y3
	VMOVAPS Y1, Y4
	VMOVAPS Y1, Y5
	XORQ BX, BX

y_ptap:
	MOVQ (R8)(BX*8), R11
	VBROADCASTSS (R10)(BX*4), Y2
	LEAQ (SI)(R11*4), R11
	VFMADD231PS (R11), Y2, Y0
	VFMADD231PS 32(R11), Y2, Y3
	VFMADD231PS 64(R11), Y2, Y4
	VFMADD231PS 96(R11), Y2, Y5
	INCQ BX
	CMPQ BX, R9
	JLT y_ptap

	VMAXPS Y0, Y6, Y0
	VMINPS Y0, Y7, Y0
	VMAXPS Y3, Y6, Y3
	VMINPS Y3, Y7, Y3
	VMAXPS Y4, Y6, Y4
	VMINPS Y4, Y7, Y4
	VMAXPS Y5, Y6, Y5
	VMINPS Y5, Y7, Y5
	VMOVUPS Y0, (DI)
	VMOVUPS Y3, 32(DI)
	VMOVUPS Y4, 64(DI)
	VMOVUPS Y5, 96(DI)
	ADDQ $128, DI
	ADDQ $128, SI
	SUBQ $2, CX
	CMPQ CX, $2
	JGE y_pair

y_single:
	TESTQ CX, CX
	JZ y_done

	VMOVAPS Y1, Y0
	VMOVAPS Y1, Y3
	XORQ BX, BX

y_tap:
	MOVQ (R8)(BX*8), R11
	VBROADCASTSS (R10)(BX*4), Y2
	LEAQ (SI)(R11*4), R11
	VFMADD231PS (R11), Y2, Y0
	VFMADD231PS 32(R11), Y2, Y3
	INCQ BX
	CMPQ BX, R9
	JLT y_tap

	VMAXPS Y0, Y6, Y0
	VMINPS Y0, Y7, Y0
	VMAXPS Y3, Y6, Y3
	VMINPS Y3, Y7, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y3, 32(DI)

y_done:
	VZEROUPPER
	RET

// even16 and odd16 select the even and the odd lanes of two zmm registers (VPERMT2PS indices).
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

DATA odd16<>+0(SB)/4, $1
DATA odd16<>+4(SB)/4, $3
DATA odd16<>+8(SB)/4, $5
DATA odd16<>+12(SB)/4, $7
DATA odd16<>+16(SB)/4, $9
DATA odd16<>+20(SB)/4, $11
DATA odd16<>+24(SB)/4, $13
DATA odd16<>+28(SB)/4, $15
DATA odd16<>+32(SB)/4, $17
DATA odd16<>+36(SB)/4, $19
DATA odd16<>+40(SB)/4, $21
DATA odd16<>+44(SB)/4, $23
DATA odd16<>+48(SB)/4, $25
DATA odd16<>+52(SB)/4, $27
DATA odd16<>+56(SB)/4, $29
DATA odd16<>+60(SB)/4, $31
GLOBL odd16<>(SB), RODATA|NOPTR, $64

// func dwSplitAVX512(dst, src *float32, evenAt, oddAt *int, rows, inW, pairs int)
//
// For each row r: dst[evenAt[r] + c] = src[r*inW + 2c], dst[oddAt[r] + c] = src[r*inW + 2c + 1] for
// c < pairs: 16 pairs a step with all lanes on (K1 the stores', K2 and K3 the two loads'; K7 all ones),
// then the last m < 16 pairs through the same step with masked loads (2m lanes, which do not fault past
// them: K5, K6) and masked stores (m lanes: K4).
//
// Registers: R8 dst, R9 src row, R10 evenAt, R11 oddAt, R12 rows left, R13 inW in bytes, R14 pairs;
// per row DI even destination, DX odd destination, SI source, CX pairs left.
TEXT ·dwSplitAVX512(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), R8
	MOVQ src+8(FP), R9
	MOVQ evenAt+16(FP), R10
	MOVQ oddAt+24(FP), R11
	MOVQ rows+32(FP), R12
	MOVQ inW+40(FP), R13
	SHLQ $2, R13
	MOVQ pairs+48(FP), R14
	VMOVUPS even16<>(SB), Z30
	VMOVUPS odd16<>(SB), Z31
	MOVQ $0xffff, AX
	KMOVW AX, K7
	MOVQ R14, CX
	ANDQ $15, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K4
	SHLQ $1, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K5
	SHRQ $16, AX
	KMOVW AX, K6

split_row:
	MOVQ (R10), DI
	LEAQ (R8)(DI*4), DI
	MOVQ (R11), DX
	LEAQ (R8)(DX*4), DX
	MOVQ R9, SI
	MOVQ R14, CX
	KMOVW K7, K1
	KMOVW K7, K2
	KMOVW K7, K3

split_step:
	CMPQ CX, $16
	JGE split_go
	TESTQ CX, CX
	JZ split_next
	KMOVW K4, K1 // the tail: its masks, and it is the row's last step
	KMOVW K5, K2
	KMOVW K6, K3
	MOVQ $16, CX

split_go:
	VMOVUPS.Z (SI), K2, Z0
	VMOVUPS.Z 64(SI), K3, Z1
	VMOVAPS Z0, Z2
	VPERMT2PS Z1, Z30, Z0
	VPERMT2PS Z1, Z31, Z2
	VMOVUPS Z0, K1, (DI)
	VMOVUPS Z2, K1, (DX)
	ADDQ $128, SI
	ADDQ $64, DI
	ADDQ $64, DX
	SUBQ $16, CX
	JMP split_step

split_next:
	ADDQ $8, R10
	ADDQ $8, R11
	ADDQ R13, R9
	DECQ R12
	JNZ split_row

	VZEROUPPER
	RET

// func dwCopyRowsAVX512(dst *float32, dstStride int, src *float32, srcStride, rows, n int)
//
// dst[r*dstStride + c] = src[r*srcStride + c] for r < rows, c < n: 16 values a step with all lanes on
// (K1; K2 all ones), the last m < 16 of a row with a masked load and store (K3), which touch nothing
// past them.
TEXT ·dwCopyRowsAVX512(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), R8
	MOVQ dstStride+8(FP), R10
	SHLQ $2, R10
	MOVQ src+16(FP), R9
	MOVQ srcStride+24(FP), R11
	SHLQ $2, R11
	MOVQ rows+32(FP), R12
	MOVQ n+40(FP), R14
	MOVQ $0xffff, AX
	KMOVW AX, K2
	MOVQ R14, CX
	ANDQ $15, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K3

copy_row:
	MOVQ R8, DI
	MOVQ R9, SI
	MOVQ R14, CX
	KMOVW K2, K1

copy_step:
	CMPQ CX, $16
	JGE copy_go
	TESTQ CX, CX
	JZ copy_next
	KMOVW K3, K1 // the tail: its mask, and it is the row's last step
	MOVQ $16, CX

copy_go:
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS Z0, K1, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP copy_step

copy_next:
	ADDQ R10, R8
	ADDQ R11, R9
	DECQ R12
	JNZ copy_row

	VZEROUPPER
	RET
