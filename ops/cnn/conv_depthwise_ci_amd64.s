//go:build !noasm

#include "textflag.h"

// The channel-interleaved depthwise kernels of conv_depthwise_ci.go (AVX-512, then AVX2): the transposes
// between 16 planes and [pixel][16 channels] vectors, and the stencil over the interleaved padded block.

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

// DWCI_LOAD16 loads the 16 rows SI, SI+R8, ... masked (zeroing) by K1 into Z0..Z15. Clobbers R11.
#define DWCI_LOAD16 \
	MOVQ SI, R11 \
	VMOVUPS.Z (R11), K1, Z0 \
	ADDQ R8, R11 \
	VMOVUPS.Z (R11), K1, Z1 \
	ADDQ R8, R11 \
	VMOVUPS.Z (R11), K1, Z2 \
	ADDQ R8, R11 \
	VMOVUPS.Z (R11), K1, Z3 \
	ADDQ R8, R11 \
	VMOVUPS.Z (R11), K1, Z4 \
	ADDQ R8, R11 \
	VMOVUPS.Z (R11), K1, Z5 \
	ADDQ R8, R11 \
	VMOVUPS.Z (R11), K1, Z6 \
	ADDQ R8, R11 \
	VMOVUPS.Z (R11), K1, Z7 \
	ADDQ R8, R11 \
	VMOVUPS.Z (R11), K1, Z8 \
	ADDQ R8, R11 \
	VMOVUPS.Z (R11), K1, Z9 \
	ADDQ R8, R11 \
	VMOVUPS.Z (R11), K1, Z10 \
	ADDQ R8, R11 \
	VMOVUPS.Z (R11), K1, Z11 \
	ADDQ R8, R11 \
	VMOVUPS.Z (R11), K1, Z12 \
	ADDQ R8, R11 \
	VMOVUPS.Z (R11), K1, Z13 \
	ADDQ R8, R11 \
	VMOVUPS.Z (R11), K1, Z14 \
	ADDQ R8, R11 \
	VMOVUPS.Z (R11), K1, Z15

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
	DWCI_LOAD16
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

// PACKTO_STORE stores pixel vector REG to dst at the offset at[I/8] (R10 points at the step's entries)
// and leaves when it was the last pixel (DX counts the pixels left).
#define PACKTO_STORE(REG, I) \
	MOVQ I(R10), AX \
	VMOVUPS REG, (DI)(AX*4) \
	DECQ DX \
	JZ packto_done

// func dwciPackToAVX512(dst, src *float32, srcStride int, at *int, n int)
//
// dst[at[p]*4 bytes on + c] = src[c*srcStride + p] for c < 16 and p < n: as dwciPackAVX512, 16 pixels a
// step, each transposed pixel stored at its own offset, and only the n pixels that exist.
TEXT ·dwciPackToAVX512(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ srcStride+16(FP), R8
	SHLQ $2, R8
	MOVQ at+24(FP), R10
	MOVQ n+32(FP), DX
	TESTQ DX, DX
	JLE packto_done

packto_step:
	MOVQ DX, AX
	DWCI_MASK
	DWCI_LOAD16
	TRANSPOSE16
	PACKTO_STORE(Z0, 0)
	PACKTO_STORE(Z1, 8)
	PACKTO_STORE(Z2, 16)
	PACKTO_STORE(Z3, 24)
	PACKTO_STORE(Z4, 32)
	PACKTO_STORE(Z5, 40)
	PACKTO_STORE(Z6, 48)
	PACKTO_STORE(Z7, 56)
	PACKTO_STORE(Z8, 64)
	PACKTO_STORE(Z9, 72)
	PACKTO_STORE(Z10, 80)
	PACKTO_STORE(Z11, 88)
	PACKTO_STORE(Z12, 96)
	PACKTO_STORE(Z13, 104)
	PACKTO_STORE(Z14, 112)
	PACKTO_STORE(Z15, 120)
	ADDQ $128, R10
	ADDQ $64, SI
	JMP packto_step

packto_done:
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

// DWCI_PIXELS8 sets AX BX R9 R11-R15 to the addresses in src (DX) of the eight pixels SI's base entries
// name.
#define DWCI_PIXELS8 \
	MOVQ (SI), AX \
	LEAQ (DX)(AX*4), AX \
	MOVQ 8(SI), BX \
	LEAQ (DX)(BX*4), BX \
	MOVQ 16(SI), R9 \
	LEAQ (DX)(R9*4), R9 \
	MOVQ 24(SI), R11 \
	LEAQ (DX)(R11*4), R11 \
	MOVQ 32(SI), R12 \
	LEAQ (DX)(R12*4), R12 \
	MOVQ 40(SI), R13 \
	LEAQ (DX)(R13*4), R13 \
	MOVQ 48(SI), R14 \
	LEAQ (DX)(R14*4), R14 \
	MOVQ 56(SI), R15 \
	LEAQ (DX)(R15*4), R15

// DWCI_BIAS8 starts the eight accumulators Z0..Z7 at the biases, Z9.
#define DWCI_BIAS8 \
	VMOVAPS Z9, Z0 \
	VMOVAPS Z9, Z1 \
	VMOVAPS Z9, Z2 \
	VMOVAPS Z9, Z3 \
	VMOVAPS Z9, Z4 \
	VMOVAPS Z9, Z5 \
	VMOVAPS Z9, Z6 \
	VMOVAPS Z9, Z7

// DWCI_CLAMP_STORE8 clamps Z0..Z7 to [Z10, Z11], stores them at DI and moves DI and SI to the next group.
#define DWCI_CLAMP_STORE8 \
	VMAXPS Z0, Z10, Z0 \
	VMINPS Z0, Z11, Z0 \
	VMAXPS Z1, Z10, Z1 \
	VMINPS Z1, Z11, Z1 \
	VMAXPS Z2, Z10, Z2 \
	VMINPS Z2, Z11, Z2 \
	VMAXPS Z3, Z10, Z3 \
	VMINPS Z3, Z11, Z3 \
	VMAXPS Z4, Z10, Z4 \
	VMINPS Z4, Z11, Z4 \
	VMAXPS Z5, Z10, Z5 \
	VMINPS Z5, Z11, Z5 \
	VMAXPS Z6, Z10, Z6 \
	VMINPS Z6, Z11, Z6 \
	VMAXPS Z7, Z10, Z7 \
	VMINPS Z7, Z11, Z7 \
	VMOVUPS Z0, (DI) \
	VMOVUPS Z1, 64(DI) \
	VMOVUPS Z2, 128(DI) \
	VMOVUPS Z3, 192(DI) \
	VMOVUPS Z4, 256(DI) \
	VMOVUPS Z5, 320(DI) \
	VMOVUPS Z6, 384(DI) \
	VMOVUPS Z7, 448(DI) \
	ADDQ $512, DI \
	ADDQ $64, SI

// DWCI_TAP9 adds tap T's products: its offset at T*8(R8), its weights in W.
#define DWCI_TAP9(T, W) \
	MOVQ T*8(R8), DX \
	VFMADD231PS (AX)(DX*4), W, Z0 \
	VFMADD231PS (BX)(DX*4), W, Z1 \
	VFMADD231PS (R9)(DX*4), W, Z2 \
	VFMADD231PS (R11)(DX*4), W, Z3 \
	VFMADD231PS (R12)(DX*4), W, Z4 \
	VFMADD231PS (R13)(DX*4), W, Z5 \
	VFMADD231PS (R14)(DX*4), W, Z6 \
	VFMADD231PS (R15)(DX*4), W, Z7

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
	CMPQ taps+48(FP), $9
	JEQ taps9

taps_step:
	MOVQ src+8(FP), DX
	DWCI_PIXELS8
	DWCI_BIAS8
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

	DWCI_CLAMP_STORE8
	DECQ CX
	JNZ taps_step

	JMP taps_done

// The 3x3 windows: the nine weight vectors stay in Z16..Z24 and the taps are unrolled, so that each
// tap is one offset load and eight multiply-adds, without the weight load and the loop's compare.
taps9:
	MOVQ w+32(FP), R10
	VMOVUPS (R10), Z16
	VMOVUPS 64(R10), Z17
	VMOVUPS 128(R10), Z18
	VMOVUPS 192(R10), Z19
	VMOVUPS 256(R10), Z20
	VMOVUPS 320(R10), Z21
	VMOVUPS 384(R10), Z22
	VMOVUPS 448(R10), Z23
	VMOVUPS 512(R10), Z24
	MOVQ off+16(FP), R8

taps9_step:
	MOVQ src+8(FP), DX
	DWCI_PIXELS8
	DWCI_BIAS8
	DWCI_TAP9(0, Z16)
	DWCI_TAP9(1, Z17)
	DWCI_TAP9(2, Z18)
	DWCI_TAP9(3, Z19)
	DWCI_TAP9(4, Z20)
	DWCI_TAP9(5, Z21)
	DWCI_TAP9(6, Z22)
	DWCI_TAP9(7, Z23)
	DWCI_TAP9(8, Z24)
	DWCI_CLAMP_STORE8
	DECQ CX
	JNZ taps9_step

taps_done:
	VZEROUPPER
	RET

// TRANSPOSE8 transposes the 8x8 matrix whose rows are Y0..Y7 into Y8..Y15 (row r of the result, in
// Y(8+r), is column r of the input): unpack pairs of rows, shuffle pairs of those (4x4 blocks within each
// 128-bit lane), then join the lanes. Clobbers Y0..Y7.
#define TRANSPOSE8 \
	VUNPCKLPS Y1, Y0, Y8 \
	VUNPCKHPS Y1, Y0, Y9 \
	VUNPCKLPS Y3, Y2, Y10 \
	VUNPCKHPS Y3, Y2, Y11 \
	VUNPCKLPS Y5, Y4, Y12 \
	VUNPCKHPS Y5, Y4, Y13 \
	VUNPCKLPS Y7, Y6, Y14 \
	VUNPCKHPS Y7, Y6, Y15 \
	VSHUFPS $0x44, Y10, Y8, Y0 \
	VSHUFPS $0xEE, Y10, Y8, Y1 \
	VSHUFPS $0x44, Y11, Y9, Y2 \
	VSHUFPS $0xEE, Y11, Y9, Y3 \
	VSHUFPS $0x44, Y14, Y12, Y4 \
	VSHUFPS $0xEE, Y14, Y12, Y5 \
	VSHUFPS $0x44, Y15, Y13, Y6 \
	VSHUFPS $0xEE, Y15, Y13, Y7 \
	VPERM2F128 $0x20, Y4, Y0, Y8 \
	VPERM2F128 $0x31, Y4, Y0, Y12 \
	VPERM2F128 $0x20, Y5, Y1, Y9 \
	VPERM2F128 $0x31, Y5, Y1, Y13 \
	VPERM2F128 $0x20, Y6, Y2, Y10 \
	VPERM2F128 $0x31, Y6, Y2, Y14 \
	VPERM2F128 $0x20, Y7, Y3, Y11 \
	VPERM2F128 $0x31, Y7, Y3, Y15


// dwciIota is 0, 1, ..., 7: lane i of a step's pixel mask is set when the pixels left exceed i.
DATA dwciIota<>+0(SB)/4, $0
DATA dwciIota<>+4(SB)/4, $1
DATA dwciIota<>+8(SB)/4, $2
DATA dwciIota<>+12(SB)/4, $3
DATA dwciIota<>+16(SB)/4, $4
DATA dwciIota<>+20(SB)/4, $5
DATA dwciIota<>+24(SB)/4, $6
DATA dwciIota<>+28(SB)/4, $7
GLOBL dwciIota<>(SB), RODATA|NOPTR, $32

// DWCI_MASK8 sets REG to the pixel mask of a step with AX pixels left (any sign): lane i all ones when
// AX > i.
#define DWCI_MASK8(REG, XREG) \
	MOVQ AX, XREG \
	VPBROADCASTD XREG, REG \
	VPCMPGTD dwciIota<>(SB), REG, REG

// DWCI_LOAD8 loads the 8 rows R11, R11+R8, ... masked by Y14 into Y0..Y7. Clobbers R11.
#define DWCI_LOAD8 \
	VMASKMOVPS (R11), Y14, Y0 \
	ADDQ R8, R11 \
	VMASKMOVPS (R11), Y14, Y1 \
	ADDQ R8, R11 \
	VMASKMOVPS (R11), Y14, Y2 \
	ADDQ R8, R11 \
	VMASKMOVPS (R11), Y14, Y3 \
	ADDQ R8, R11 \
	VMASKMOVPS (R11), Y14, Y4 \
	ADDQ R8, R11 \
	VMASKMOVPS (R11), Y14, Y5 \
	ADDQ R8, R11 \
	VMASKMOVPS (R11), Y14, Y6 \
	ADDQ R8, R11 \
	VMASKMOVPS (R11), Y14, Y7 \
	ADDQ R8, R11

// DWCI_STORE_PIXELS stores Y8..Y15, 8 pixels' halves, 64 bytes apart from OFF(DI).
#define DWCI_STORE_PIXELS(OFF) \
	VMOVUPS Y8, OFF(DI) \
	VMOVUPS Y9, OFF+64(DI) \
	VMOVUPS Y10, OFF+128(DI) \
	VMOVUPS Y11, OFF+192(DI) \
	VMOVUPS Y12, OFF+256(DI) \
	VMOVUPS Y13, OFF+320(DI) \
	VMOVUPS Y14, OFF+384(DI) \
	VMOVUPS Y15, OFF+448(DI)

// func dwciPackAVX2(dst, src *float32, srcStride, n int)
//
// As dwciPackAVX512, 8 pixels a step (ceil16(n)/8 steps, so that the pixels up to ceil16(n) are
// zeroed), each step two 8x8 transposes: channels 0-7 into the pixels' low halves, 8-15 into the high.
TEXT ·dwciPackAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ srcStride+16(FP), R8
	SHLQ $2, R8
	MOVQ n+24(FP), AX
	TESTQ AX, AX
	JLE pack8_done
	MOVQ AX, DX
	ADDQ $15, DX
	SHRQ $4, DX
	SHLQ $1, DX // steps

pack8_step:
	DWCI_MASK8(Y14, X14)
	MOVQ SI, R11
	DWCI_LOAD8
	TRANSPOSE8
	DWCI_STORE_PIXELS(0)
	DWCI_MASK8(Y14, X14)
	DWCI_LOAD8
	TRANSPOSE8
	DWCI_STORE_PIXELS(32)
	ADDQ $512, DI
	ADDQ $32, SI
	SUBQ $8, AX
	DECQ DX
	JNZ pack8_step

pack8_done:
	VZEROUPPER
	RET

// PACKTO8_STORE stores half pixel REG at byte HALF of dst's offset at[I/8] (R10 points at the step's
// entries) and jumps to DONE when it was the step's last pixel (CX counts them down).
#define PACKTO8_STORE(REG, I, HALF, DONE) \
	MOVQ I(R10), R12 \
	VMOVUPS REG, HALF(DI)(R12*4) \
	DECQ CX \
	JZ DONE

// func dwciPackToAVX2(dst, src *float32, srcStride int, at *int, n int)
//
// As dwciPackToAVX512, 8 pixels a step, two 8x8 transposes: channels 0-7 into the pixels' low halves,
// stored, then 8-15 into the high ones. AX counts the pixels left, CX a half's stores.
TEXT ·dwciPackToAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ srcStride+16(FP), R8
	SHLQ $2, R8
	MOVQ at+24(FP), R10
	MOVQ n+32(FP), AX
	TESTQ AX, AX
	JLE packto8_done

packto8_step:
	DWCI_MASK8(Y14, X14)
	MOVQ SI, R11
	DWCI_LOAD8
	TRANSPOSE8
	MOVQ AX, CX
	PACKTO8_STORE(Y8, 0, 0, packto8_lows_done)
	PACKTO8_STORE(Y9, 8, 0, packto8_lows_done)
	PACKTO8_STORE(Y10, 16, 0, packto8_lows_done)
	PACKTO8_STORE(Y11, 24, 0, packto8_lows_done)
	PACKTO8_STORE(Y12, 32, 0, packto8_lows_done)
	PACKTO8_STORE(Y13, 40, 0, packto8_lows_done)
	PACKTO8_STORE(Y14, 48, 0, packto8_lows_done)
	PACKTO8_STORE(Y15, 56, 0, packto8_lows_done)

packto8_lows_done:
	DWCI_MASK8(Y14, X14)
	DWCI_LOAD8
	TRANSPOSE8
	MOVQ AX, CX
	PACKTO8_STORE(Y8, 0, 32, packto8_done)
	PACKTO8_STORE(Y9, 8, 32, packto8_done)
	PACKTO8_STORE(Y10, 16, 32, packto8_done)
	PACKTO8_STORE(Y11, 24, 32, packto8_done)
	PACKTO8_STORE(Y12, 32, 32, packto8_done)
	PACKTO8_STORE(Y13, 40, 32, packto8_done)
	PACKTO8_STORE(Y14, 48, 32, packto8_done)
	PACKTO8_STORE(Y15, 56, 32, packto8_done)
	ADDQ $64, R10
	ADDQ $32, SI
	SUBQ $8, AX
	JMP packto8_step

packto8_done:
	VZEROUPPER
	RET

// DWCI_LOAD_PIXELS loads 8 pixels' halves, 64 bytes apart from OFF(SI), into Y0..Y7.
#define DWCI_LOAD_PIXELS(OFF) \
	VMOVUPS OFF(SI), Y0 \
	VMOVUPS OFF+64(SI), Y1 \
	VMOVUPS OFF+128(SI), Y2 \
	VMOVUPS OFF+192(SI), Y3 \
	VMOVUPS OFF+256(SI), Y4 \
	VMOVUPS OFF+320(SI), Y5 \
	VMOVUPS OFF+384(SI), Y6 \
	VMOVUPS OFF+448(SI), Y7

// DWCI_STORE8 stores Y8..Y15 to the rows R11, R11+R8, ... masked by Y0. Clobbers R11.
#define DWCI_STORE8 \
	VMASKMOVPS Y8, Y0, (R11) \
	ADDQ R8, R11 \
	VMASKMOVPS Y9, Y0, (R11) \
	ADDQ R8, R11 \
	VMASKMOVPS Y10, Y0, (R11) \
	ADDQ R8, R11 \
	VMASKMOVPS Y11, Y0, (R11) \
	ADDQ R8, R11 \
	VMASKMOVPS Y12, Y0, (R11) \
	ADDQ R8, R11 \
	VMASKMOVPS Y13, Y0, (R11) \
	ADDQ R8, R11 \
	VMASKMOVPS Y14, Y0, (R11) \
	ADDQ R8, R11 \
	VMASKMOVPS Y15, Y0, (R11) \
	ADDQ R8, R11

// func dwciUnpackAVX2(dst *float32, dstStride int, src *float32, n int)
//
// As dwciUnpackAVX512, 8 pixels a step: the pixels' low halves transposed into channels 0-7, the high
// halves into 8-15, each row stored with the step's pixel mask.
TEXT ·dwciUnpackAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ dstStride+8(FP), R8
	SHLQ $2, R8
	MOVQ src+16(FP), SI
	MOVQ n+24(FP), AX
	TESTQ AX, AX
	JLE unpack8_done

unpack8_step:
	DWCI_LOAD_PIXELS(0)
	TRANSPOSE8
	DWCI_MASK8(Y0, X0)
	MOVQ DI, R11
	DWCI_STORE8
	DWCI_LOAD_PIXELS(32)
	TRANSPOSE8
	DWCI_MASK8(Y0, X0)
	DWCI_STORE8
	ADDQ $512, SI
	ADDQ $32, DI
	SUBQ $8, AX
	JG unpack8_step

unpack8_done:
	VZEROUPPER
	RET

// func dwciTapsAVX2(dst, src *float32, off, base *int, w, bias *float32, taps, groups int, lo, hi float32)
//
// As dwciTapsAVX512 with each pixel's 16 channels in two ymm halves, four pixels a step (two steps a
// group of 8): eight accumulators, each tap's two weight loads serving eight multiply-adds. Registers:
// DI dst, SI base, CX steps left, R8 the tap's offset pointer, R10 its weights, DX the offset, AX BX R9
// R11 the four pixels' addresses; the end of the offsets is kept in the frame.
TEXT ·dwciTapsAVX2(SB), NOSPLIT, $8-72
	MOVQ dst+0(FP), DI
	MOVQ base+24(FP), SI
	MOVQ groups+56(FP), CX
	SHLQ $1, CX
	MOVQ off+16(FP), R8
	MOVQ taps+48(FP), DX
	LEAQ (R8)(DX*8), DX
	MOVQ DX, offEnd-8(SP)
	MOVQ bias+40(FP), DX
	VMOVUPS (DX), Y10
	VMOVUPS 32(DX), Y11
	VBROADCASTSS lo+64(FP), Y12
	VBROADCASTSS hi+68(FP), Y13
	TESTQ CX, CX
	JLE taps4_done

taps4_step:
	MOVQ src+8(FP), DX
	MOVQ (SI), AX
	LEAQ (DX)(AX*4), AX
	MOVQ 8(SI), BX
	LEAQ (DX)(BX*4), BX
	MOVQ 16(SI), R9
	LEAQ (DX)(R9*4), R9
	MOVQ 24(SI), R11
	LEAQ (DX)(R11*4), R11
	VMOVAPS Y10, Y0
	VMOVAPS Y11, Y1
	VMOVAPS Y10, Y2
	VMOVAPS Y11, Y3
	VMOVAPS Y10, Y4
	VMOVAPS Y11, Y5
	VMOVAPS Y10, Y6
	VMOVAPS Y11, Y7
	MOVQ off+16(FP), R8
	MOVQ w+32(FP), R10

taps4_tap:
	MOVQ (R8), DX
	VMOVUPS (R10), Y8
	VMOVUPS 32(R10), Y9
	VFMADD231PS (AX)(DX*4), Y8, Y0
	VFMADD231PS 32(AX)(DX*4), Y9, Y1
	VFMADD231PS (BX)(DX*4), Y8, Y2
	VFMADD231PS 32(BX)(DX*4), Y9, Y3
	VFMADD231PS (R9)(DX*4), Y8, Y4
	VFMADD231PS 32(R9)(DX*4), Y9, Y5
	VFMADD231PS (R11)(DX*4), Y8, Y6
	VFMADD231PS 32(R11)(DX*4), Y9, Y7
	ADDQ $8, R8
	ADDQ $64, R10
	CMPQ R8, offEnd-8(SP)
	JNE taps4_tap

	VMAXPS Y0, Y12, Y0
	VMINPS Y0, Y13, Y0
	VMAXPS Y1, Y12, Y1
	VMINPS Y1, Y13, Y1
	VMAXPS Y2, Y12, Y2
	VMINPS Y2, Y13, Y2
	VMAXPS Y3, Y12, Y3
	VMINPS Y3, Y13, Y3
	VMAXPS Y4, Y12, Y4
	VMINPS Y4, Y13, Y4
	VMAXPS Y5, Y12, Y5
	VMINPS Y5, Y13, Y5
	VMAXPS Y6, Y12, Y6
	VMINPS Y6, Y13, Y6
	VMAXPS Y7, Y12, Y7
	VMINPS Y7, Y13, Y7
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS Y4, 128(DI)
	VMOVUPS Y5, 160(DI)
	VMOVUPS Y6, 192(DI)
	VMOVUPS Y7, 224(DI)
	ADDQ $256, DI
	ADDQ $32, SI
	DECQ CX
	JNZ taps4_step

taps4_done:
	VZEROUPPER
	RET
