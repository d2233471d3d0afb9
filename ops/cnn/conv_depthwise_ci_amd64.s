//go:build !noasm

#include "textflag.h"

// The channel-interleaved depthwise kernels of conv_depthwise_ci.go (AVX-512): the transposes between
// 16 planes and [pixel][16 channels] vectors, and the stencil over the interleaved padded block.

// TRANSPOSE16 transposes the 16x16 matrix whose rows are Z0..Z15 in place (row r of the result, in Zr,
// is column r of the input), through Z16..Z31: unpack pairs of rows (2x2 blocks within each 128-bit
// lane), shuffle pairs of those (4x4 blocks within each lane), then move whole lanes twice.
#define TRANSPOSE16 \
	VUNPCKLPS Z1, Z0, Z16 \
	VUNPCKHPS Z1, Z0, Z17 \
	VUNPCKLPS Z3, Z2, Z18 \
	VUNPCKHPS Z3, Z2, Z19 \
	VUNPCKLPS Z5, Z4, Z20 \
	VUNPCKHPS Z5, Z4, Z21 \
	VUNPCKLPS Z7, Z6, Z22 \
	VUNPCKHPS Z7, Z6, Z23 \
	VUNPCKLPS Z9, Z8, Z24 \
	VUNPCKHPS Z9, Z8, Z25 \
	VUNPCKLPS Z11, Z10, Z26 \
	VUNPCKHPS Z11, Z10, Z27 \
	VUNPCKLPS Z13, Z12, Z28 \
	VUNPCKHPS Z13, Z12, Z29 \
	VUNPCKLPS Z15, Z14, Z30 \
	VUNPCKHPS Z15, Z14, Z31 \
	VSHUFPS $0x44, Z18, Z16, Z0 \
	VSHUFPS $0xEE, Z18, Z16, Z1 \
	VSHUFPS $0x44, Z19, Z17, Z2 \
	VSHUFPS $0xEE, Z19, Z17, Z3 \
	VSHUFPS $0x44, Z22, Z20, Z4 \
	VSHUFPS $0xEE, Z22, Z20, Z5 \
	VSHUFPS $0x44, Z23, Z21, Z6 \
	VSHUFPS $0xEE, Z23, Z21, Z7 \
	VSHUFPS $0x44, Z26, Z24, Z8 \
	VSHUFPS $0xEE, Z26, Z24, Z9 \
	VSHUFPS $0x44, Z27, Z25, Z10 \
	VSHUFPS $0xEE, Z27, Z25, Z11 \
	VSHUFPS $0x44, Z30, Z28, Z12 \
	VSHUFPS $0xEE, Z30, Z28, Z13 \
	VSHUFPS $0x44, Z31, Z29, Z14 \
	VSHUFPS $0xEE, Z31, Z29, Z15 \
	VSHUFF32X4 $0x88, Z4, Z0, Z16 \
	VSHUFF32X4 $0xDD, Z4, Z0, Z17 \
	VSHUFF32X4 $0x88, Z12, Z8, Z18 \
	VSHUFF32X4 $0xDD, Z12, Z8, Z19 \
	VSHUFF32X4 $0x88, Z5, Z1, Z20 \
	VSHUFF32X4 $0xDD, Z5, Z1, Z21 \
	VSHUFF32X4 $0x88, Z13, Z9, Z22 \
	VSHUFF32X4 $0xDD, Z13, Z9, Z23 \
	VSHUFF32X4 $0x88, Z6, Z2, Z24 \
	VSHUFF32X4 $0xDD, Z6, Z2, Z25 \
	VSHUFF32X4 $0x88, Z14, Z10, Z26 \
	VSHUFF32X4 $0xDD, Z14, Z10, Z27 \
	VSHUFF32X4 $0x88, Z7, Z3, Z28 \
	VSHUFF32X4 $0xDD, Z7, Z3, Z29 \
	VSHUFF32X4 $0x88, Z15, Z11, Z30 \
	VSHUFF32X4 $0xDD, Z15, Z11, Z31 \
	VSHUFF32X4 $0x88, Z18, Z16, Z0 \
	VSHUFF32X4 $0xDD, Z18, Z16, Z8 \
	VSHUFF32X4 $0x88, Z19, Z17, Z4 \
	VSHUFF32X4 $0xDD, Z19, Z17, Z12 \
	VSHUFF32X4 $0x88, Z22, Z20, Z1 \
	VSHUFF32X4 $0xDD, Z22, Z20, Z9 \
	VSHUFF32X4 $0x88, Z23, Z21, Z5 \
	VSHUFF32X4 $0xDD, Z23, Z21, Z13 \
	VSHUFF32X4 $0x88, Z26, Z24, Z2 \
	VSHUFF32X4 $0xDD, Z26, Z24, Z10 \
	VSHUFF32X4 $0x88, Z27, Z25, Z6 \
	VSHUFF32X4 $0xDD, Z27, Z25, Z14 \
	VSHUFF32X4 $0x88, Z30, Z28, Z3 \
	VSHUFF32X4 $0xDD, Z30, Z28, Z11 \
	VSHUFF32X4 $0x88, Z31, Z29, Z7 \
	VSHUFF32X4 $0xDD, Z31, Z29, Z15


// DWCI_MASK sets K1 to the low min(AX, 16) bits, the pixels of this step that exist. AX is cut to 16
// first: BZHI reads only the low byte of its index (256 would clear every bit). Clobbers AX, CX, R9.
#define DWCI_MASK \
	MOVQ $16, R9 \
	CMPQ AX, R9 \
	CMOVQGT R9, AX \
	MOVQ $0xFFFF, CX \
	BZHIQ AX, CX, CX \
	KMOVW CX, K1

// func dwciPackAVX512(dst, src *float32, srcStride, n int)
//
// dst[p*16 + c] = src[c*srcStride + p] for c < 16 and p < ceil16(n), 0 for p >= n: 16 pixels a step,
// the rows loaded with the step's pixel mask (zeroing), all 16 pixel vectors stored.
TEXT ·dwciPackAVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ srcStride+16(FP), R8
	SHLQ $2, R8
	MOVQ n+24(FP), DX
	TESTQ DX, DX
	JLE pack_done

pack_step:
	MOVQ DX, AX
	DWCI_MASK
	MOVQ SI, R11
	VMOVUPS.Z (R11), K1, Z0
	ADDQ R8, R11
	VMOVUPS.Z (R11), K1, Z1
	ADDQ R8, R11
	VMOVUPS.Z (R11), K1, Z2
	ADDQ R8, R11
	VMOVUPS.Z (R11), K1, Z3
	ADDQ R8, R11
	VMOVUPS.Z (R11), K1, Z4
	ADDQ R8, R11
	VMOVUPS.Z (R11), K1, Z5
	ADDQ R8, R11
	VMOVUPS.Z (R11), K1, Z6
	ADDQ R8, R11
	VMOVUPS.Z (R11), K1, Z7
	ADDQ R8, R11
	VMOVUPS.Z (R11), K1, Z8
	ADDQ R8, R11
	VMOVUPS.Z (R11), K1, Z9
	ADDQ R8, R11
	VMOVUPS.Z (R11), K1, Z10
	ADDQ R8, R11
	VMOVUPS.Z (R11), K1, Z11
	ADDQ R8, R11
	VMOVUPS.Z (R11), K1, Z12
	ADDQ R8, R11
	VMOVUPS.Z (R11), K1, Z13
	ADDQ R8, R11
	VMOVUPS.Z (R11), K1, Z14
	ADDQ R8, R11
	VMOVUPS.Z (R11), K1, Z15
	TRANSPOSE16
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	VMOVUPS Z4, 256(DI)
	VMOVUPS Z5, 320(DI)
	VMOVUPS Z6, 384(DI)
	VMOVUPS Z7, 448(DI)
	VMOVUPS Z8, 512(DI)
	VMOVUPS Z9, 576(DI)
	VMOVUPS Z10, 640(DI)
	VMOVUPS Z11, 704(DI)
	VMOVUPS Z12, 768(DI)
	VMOVUPS Z13, 832(DI)
	VMOVUPS Z14, 896(DI)
	VMOVUPS Z15, 960(DI)
	ADDQ $1024, DI
	ADDQ $64, SI
	SUBQ $16, DX
	JG pack_step

pack_done:
	VZEROUPPER
	RET

// func dwciUnpackAVX512(dst *float32, dstStride int, src *float32, n int)
//
// dst[c*dstStride + p] = src[p*16 + c] for c < 16 and p < n: 16 pixel vectors loaded a step (src holds
// ceil16(n) of them), the 16 channel rows stored with the step's pixel mask.
TEXT ·dwciUnpackAVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ dstStride+8(FP), R8
	SHLQ $2, R8
	MOVQ src+16(FP), SI
	MOVQ n+24(FP), DX
	TESTQ DX, DX
	JLE unpack_done

unpack_step:
	MOVQ DX, AX
	DWCI_MASK
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VMOVUPS 128(SI), Z2
	VMOVUPS 192(SI), Z3
	VMOVUPS 256(SI), Z4
	VMOVUPS 320(SI), Z5
	VMOVUPS 384(SI), Z6
	VMOVUPS 448(SI), Z7
	VMOVUPS 512(SI), Z8
	VMOVUPS 576(SI), Z9
	VMOVUPS 640(SI), Z10
	VMOVUPS 704(SI), Z11
	VMOVUPS 768(SI), Z12
	VMOVUPS 832(SI), Z13
	VMOVUPS 896(SI), Z14
	VMOVUPS 960(SI), Z15
	TRANSPOSE16
	MOVQ DI, R11
	VMOVUPS Z0, K1, (R11)
	ADDQ R8, R11
	VMOVUPS Z1, K1, (R11)
	ADDQ R8, R11
	VMOVUPS Z2, K1, (R11)
	ADDQ R8, R11
	VMOVUPS Z3, K1, (R11)
	ADDQ R8, R11
	VMOVUPS Z4, K1, (R11)
	ADDQ R8, R11
	VMOVUPS Z5, K1, (R11)
	ADDQ R8, R11
	VMOVUPS Z6, K1, (R11)
	ADDQ R8, R11
	VMOVUPS Z7, K1, (R11)
	ADDQ R8, R11
	VMOVUPS Z8, K1, (R11)
	ADDQ R8, R11
	VMOVUPS Z9, K1, (R11)
	ADDQ R8, R11
	VMOVUPS Z10, K1, (R11)
	ADDQ R8, R11
	VMOVUPS Z11, K1, (R11)
	ADDQ R8, R11
	VMOVUPS Z12, K1, (R11)
	ADDQ R8, R11
	VMOVUPS Z13, K1, (R11)
	ADDQ R8, R11
	VMOVUPS Z14, K1, (R11)
	ADDQ R8, R11
	VMOVUPS Z15, K1, (R11)
	ADDQ $1024, SI
	ADDQ $64, DI
	SUBQ $16, DX
	JG unpack_step

unpack_done:
	VZEROUPPER
	RET

// func dwciTapsAVX512(dst, src *float32, off, base *int, w, bias *float32, taps, groups int, lo, hi float32)
//
// For each pixel i < 8*groups: dst[i*16 + c] = clamp(bias[c] + Σ_t w[t*16 + c] · src[base[i] + off[t] + c]).
// Eight pixels a step, one zmm accumulator each, so that each tap's weight load serves eight
// multiply-adds and eight chains hide the FMA latency. Registers: DI dst, SI base, CX steps left, R8 the
// tap's offset pointer, R10 its weights, DX the offset, AX BX R9 R11-R15 the eight pixels' addresses;
// the end of the offsets is kept in the frame.
TEXT ·dwciTapsAVX512(SB), NOSPLIT, $8-72
	MOVQ dst+0(FP), DI
	MOVQ base+24(FP), SI
	MOVQ groups+56(FP), CX
	MOVQ off+16(FP), R8
	MOVQ taps+48(FP), DX
	LEAQ (R8)(DX*8), DX
	MOVQ DX, offEnd-8(SP)
	MOVQ bias+40(FP), DX
	VMOVUPS (DX), Z9
	VBROADCASTSS lo+64(FP), Z10
	VBROADCASTSS hi+68(FP), Z11
	TESTQ CX, CX
	JLE taps_done

taps_step:
	MOVQ src+8(FP), DX
	MOVQ (SI), AX
	LEAQ (DX)(AX*4), AX
	MOVQ 8(SI), BX
	LEAQ (DX)(BX*4), BX
	MOVQ 16(SI), R9
	LEAQ (DX)(R9*4), R9
	MOVQ 24(SI), R11
	LEAQ (DX)(R11*4), R11
	MOVQ 32(SI), R12
	LEAQ (DX)(R12*4), R12
	MOVQ 40(SI), R13
	LEAQ (DX)(R13*4), R13
	MOVQ 48(SI), R14
	LEAQ (DX)(R14*4), R14
	MOVQ 56(SI), R15
	LEAQ (DX)(R15*4), R15
	VMOVAPS Z9, Z0
	VMOVAPS Z9, Z1
	VMOVAPS Z9, Z2
	VMOVAPS Z9, Z3
	VMOVAPS Z9, Z4
	VMOVAPS Z9, Z5
	VMOVAPS Z9, Z6
	VMOVAPS Z9, Z7
	MOVQ off+16(FP), R8
	MOVQ w+32(FP), R10

taps_tap:
	MOVQ (R8), DX
	VMOVUPS (R10), Z8
	VFMADD231PS (AX)(DX*4), Z8, Z0
	VFMADD231PS (BX)(DX*4), Z8, Z1
	VFMADD231PS (R9)(DX*4), Z8, Z2
	VFMADD231PS (R11)(DX*4), Z8, Z3
	VFMADD231PS (R12)(DX*4), Z8, Z4
	VFMADD231PS (R13)(DX*4), Z8, Z5
	VFMADD231PS (R14)(DX*4), Z8, Z6
	VFMADD231PS (R15)(DX*4), Z8, Z7
	ADDQ $8, R8
	ADDQ $64, R10
	CMPQ R8, offEnd-8(SP)
	JNE taps_tap

	VMAXPS Z0, Z10, Z0
	VMINPS Z0, Z11, Z0
	VMAXPS Z1, Z10, Z1
	VMINPS Z1, Z11, Z1
	VMAXPS Z2, Z10, Z2
	VMINPS Z2, Z11, Z2
	VMAXPS Z3, Z10, Z3
	VMINPS Z3, Z11, Z3
	VMAXPS Z4, Z10, Z4
	VMINPS Z4, Z11, Z4
	VMAXPS Z5, Z10, Z5
	VMINPS Z5, Z11, Z5
	VMAXPS Z6, Z10, Z6
	VMINPS Z6, Z11, Z6
	VMAXPS Z7, Z10, Z7
	VMINPS Z7, Z11, Z7
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	VMOVUPS Z4, 256(DI)
	VMOVUPS Z5, 320(DI)
	VMOVUPS Z6, 384(DI)
	VMOVUPS Z7, 448(DI)
	ADDQ $512, DI
	ADDQ $64, SI
	DECQ CX
	JNZ taps_step

taps_done:
	VZEROUPPER
	RET
