//go:build !noasm

#include "textflag.h"

// VNNI_ROWS4 adds one group of four rows of the A panel at (SI) (their 4-byte words at byte offsets
// o0..o3, broadcast into t0..t3) times the B group in Z8 into the accumulators z0..z3.
#define VNNI_ROWS4(o0, o1, o2, o3, t0, t1, t2, t3, z0, z1, z2, z3) \
	VPBROADCASTD o0(SI), t0 \
	VPBROADCASTD o1(SI), t1 \
	VPBROADCASTD o2(SI), t2 \
	VPBROADCASTD o3(SI), t3 \
	VPDPBUSD     Z8, t0, z0 \
	VPDPBUSD     Z8, t1, z1 \
	VPDPBUSD     Z8, t2, z2 \
	VPDPBUSD     Z8, t3, z3

// VNNI_PAIR_ROW adds row r of one group of the A panel at (SI) (its 4-byte word at byte offset o,
// broadcast into t) times the groups of both B panels in Z8 and Z9 into that row's accumulators z0, z1.
#define VNNI_PAIR_ROW(o, t, z0, z1) \
	VPBROADCASTD o(SI), t \
	VPDPBUSD     Z8, t, z0 \
	VPDPBUSD     Z9, t, z1

// VNNI_PAIR_LOAD_ROWS4 loads the current group of both B panels (at (DI) and (R8)) into Z8 and Z9 and
// adds rows 0-3 of the A group at (SI) times them into Z0-Z3 and Z24-Z27.
#define VNNI_PAIR_LOAD_ROWS4 \
	VMOVDQU32 (DI), Z8 \
	VMOVDQU32 (R8), Z9 \
	VNNI_PAIR_ROW(0, Z16, Z0, Z24) \
	VNNI_PAIR_ROW(4, Z17, Z1, Z25) \
	VNNI_PAIR_ROW(8, Z18, Z2, Z26) \
	VNNI_PAIR_ROW(12, Z19, Z3, Z27)

// VNNI_PAIR_NEXT moves to the next group of A and of both B panels and counts it off CX.
#define VNNI_PAIR_NEXT \
	ADDQ $32, SI \
	ADDQ $64, DI \
	ADDQ $64, R8 \
	DECQ CX

// func kernelVNNI(a, b []byte, panels int, tile *[256]int32, rows int)
//
// The AVX-512 VNNI micro-kernel (microKernel's contract). With one B panel: per group of 4 k, one
// 64-byte load of the panel (16 columns × 4 s8), and per row of A a broadcast of its 4 u8 and a
// VPDPBUSD into that row's accumulator. With two panels (an 8×32 tile, the second panel right after
// the first in b): two 64-byte loads feed the same broadcasts, 16 VPDPBUSD per 8 broadcasts instead
// of 8 (the one-panel loop is bound by its loads), into 16 accumulators. With rows <= 4, only the
// first four rows. Needs AVX-512 F and VNNI.
TEXT ·kernelVNNI(SB), NOSPLIT, $0-72
	MOVQ a_base+0(FP), SI
	MOVQ b_base+24(FP), DI
	MOVQ b_len+32(FP), CX
	MOVQ panels+48(FP), AX
	MOVQ tile+56(FP), DX
	MOVQ rows+64(FP), BX
	CMPQ AX, $2
	JEQ  pair
	SHRQ $6, CX
	CMPQ BX, $4
	JLE  four
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
	VNNI_ROWS4(0, 4, 8, 12, Z16, Z17, Z18, Z19, Z0, Z1, Z2, Z3)
	VNNI_ROWS4(16, 20, 24, 28, Z20, Z21, Z22, Z23, Z4, Z5, Z6, Z7)
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

four:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	TESTQ  CX, CX
	JZ     store4

loop4:
	VMOVDQU32    (DI), Z8
	VNNI_ROWS4(0, 4, 8, 12, Z16, Z17, Z18, Z19, Z0, Z1, Z2, Z3)
	ADDQ         $32, SI
	ADDQ         $64, DI
	DECQ         CX
	JNZ          loop4

store4:
	VMOVDQU32 Z0, (DX)
	VMOVDQU32 Z1, 64(DX)
	VMOVDQU32 Z2, 128(DX)
	VMOVDQU32 Z3, 192(DX)
	VZEROUPPER
	RET

pair:
	SHRQ $1, CX          // bytes per panel
	LEAQ (DI)(CX*1), R8  // the second panel
	SHRQ $6, CX          // groups
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z24, Z24, Z24
	VPXORD Z25, Z25, Z25
	VPXORD Z26, Z26, Z26
	VPXORD Z27, Z27, Z27
	CMPQ BX, $4
	JLE  pair4
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z28, Z28, Z28
	VPXORD Z29, Z29, Z29
	VPXORD Z30, Z30, Z30
	VPXORD Z31, Z31, Z31
	TESTQ CX, CX
	JZ    pairstore

pairloop:
	VNNI_PAIR_LOAD_ROWS4
	VNNI_PAIR_ROW(16, Z20, Z4, Z28)
	VNNI_PAIR_ROW(20, Z21, Z5, Z29)
	VNNI_PAIR_ROW(24, Z22, Z6, Z30)
	VNNI_PAIR_ROW(28, Z23, Z7, Z31)
	VNNI_PAIR_NEXT
	JNZ       pairloop

pairstore:
	VMOVDQU32 Z4, 256(DX)
	VMOVDQU32 Z5, 320(DX)
	VMOVDQU32 Z6, 384(DX)
	VMOVDQU32 Z7, 448(DX)
	VMOVDQU32 Z28, 768(DX)
	VMOVDQU32 Z29, 832(DX)
	VMOVDQU32 Z30, 896(DX)
	VMOVDQU32 Z31, 960(DX)
	JMP       pairstore4

pair4:
	TESTQ CX, CX
	JZ    pairstore4

pairloop4:
	VNNI_PAIR_LOAD_ROWS4
	VNNI_PAIR_NEXT
	JNZ       pairloop4

pairstore4:
	VMOVDQU32 Z0, (DX)
	VMOVDQU32 Z1, 64(DX)
	VMOVDQU32 Z2, 128(DX)
	VMOVDQU32 Z3, 192(DX)
	VMOVDQU32 Z24, 512(DX)
	VMOVDQU32 Z25, 576(DX)
	VMOVDQU32 Z26, 640(DX)
	VMOVDQU32 Z27, 704(DX)
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

// CORRECT_ROW16 loads 16 raw int32 products from (SI) into Z0 and applies the zero-point correction
// Z0 -= za·colAdj + zb·rowSum: colAdj at (DI), zb at (R8), za and rowSum at 0(AX) and 4(AX).
#define CORRECT_ROW16 \
	VMOVDQU32    (SI), Z0       \
	VPBROADCASTD 0(AX), Z1      \
	VPMULLD      (DI), Z1, Z1   \
	VPSUBD       Z1, Z0, Z0     \
	VPBROADCASTD 4(AX), Z2      \
	VPMULLD      (R8), Z2, Z2   \
	VPSUBD       Z2, Z0, Z0

// func requantRow16AVX512(src, colAdj, zb *int32, mult *float32, colBias *int32, dst *byte, args *requantRowArgs)
//
// The requantising epilogue of one full 16-column row of a tile (store's Go loop, vectorised):
// acc = src - za·colAdj - zb·rowSum + rowBias + colBias (int32, wrapping), v = float32(acc)·mult
// clamped to ±limit (so that the conversion cannot overflow; any such value saturates anyway),
// rounded half to even by VCVTPS2DQ (the default MXCSR rounding), + yZero, clamped to [lo, hi] and
// narrowed to bytes. The caller guarantees finite multipliers (a NaN product would convert to
// INT_MIN where the Go loop gives the zero point). Needs AVX-512 F.
TEXT ·requantRow16AVX512(SB), NOSPLIT, $0-56
	MOVQ src+0(FP), SI
	MOVQ colAdj+8(FP), DI
	MOVQ zb+16(FP), R8
	MOVQ mult+24(FP), R9
	MOVQ colBias+32(FP), R10
	MOVQ dst+40(FP), DX
	MOVQ args+48(FP), AX
	CORRECT_ROW16
	VPBROADCASTD 8(AX), Z3
	VPADDD       Z3, Z0, Z0
	VPADDD       (R10), Z0, Z0
	VCVTDQ2PS    Z0, Z0
	VMULPS       (R9), Z0, Z0
	VBROADCASTSS 24(AX), Z4
	VMINPS       Z4, Z0, Z0
	VBROADCASTSS 28(AX), Z4
	VMAXPS       Z4, Z0, Z0
	VCVTPS2DQ    Z0, Z0
	VPBROADCASTD 12(AX), Z4
	VPADDD       Z4, Z0, Z0
	VPBROADCASTD 16(AX), Z5
	VPMAXSD      Z5, Z0, Z0
	VPBROADCASTD 20(AX), Z6
	VPMINSD      Z6, Z0, Z0
	VPMOVDB      Z0, (DX)
	VZEROUPPER
	RET

// func correctRow16AVX512(src, colAdj, zb *int32, dst *int32, args *requantRowArgs)
//
// The int32 epilogue of one full 16-column row of a tile: dst = src - za·colAdj - zb·rowSum
// (wrapping), with za and rowSum at offsets 0 and 4 of args. Needs AVX-512 F.
TEXT ·correctRow16AVX512(SB), NOSPLIT, $0-40
	MOVQ src+0(FP), SI
	MOVQ colAdj+8(FP), DI
	MOVQ zb+16(FP), R8
	MOVQ dst+24(FP), DX
	MOVQ args+32(FP), AX
	CORRECT_ROW16
	VMOVDQU32    Z0, (DX)
	VZEROUPPER
	RET

// func packBPanel16AVX2(dst, b *byte, ldb, groups int, flip4 uint32, sums *int32)
//
// packB's loop over whole groups for one full panel of 16 columns (its Go twin is packBPanel16Go):
// per group, the 16 bytes of each of four rows of B at b, b+ldb, b+2·ldb, b+3·ldb are interleaved
// into 16 columns × 4 bytes (bytes, then words), XORed with flip4 and stored as the group's 64
// bytes; each column's 4 stored s8 values are summed by VPMADDUBSW with ones (at most 2·128 in
// magnitude per word: no saturation) and VPMADDWD with ones. sums[0..15] receive the sums (stored,
// not added). Needs AVX2.
TEXT ·packBPanel16AVX2(SB), NOSPLIT, $0-48
	MOVQ         dst+0(FP), DI
	MOVQ         b+8(FP), SI
	MOVQ         ldb+16(FP), BX
	MOVQ         groups+24(FP), CX
	MOVL         flip4+32(FP), AX
	MOVL         AX, X15
	VPBROADCASTD X15, Y15
	MOVQ         sums+40(FP), DX
	MOVL         $0x01010101, AX
	MOVL         AX, X14
	VPBROADCASTD X14, Y14
	MOVL         $0x00010001, AX
	MOVL         AX, X13
	VPBROADCASTD X13, Y13
	VPXOR        Y11, Y11, Y11
	VPXOR        Y12, Y12, Y12
	LEAQ         (BX)(BX*2), R8
	TESTQ        CX, CX
	JZ           packdone

packloop:
	VMOVDQU     (SI), X0
	VMOVDQU     (SI)(BX*1), X1
	VMOVDQU     (SI)(BX*2), X2
	VMOVDQU     (SI)(R8*1), X3
	VPUNPCKLBW  X1, X0, X4
	VPUNPCKHBW  X1, X0, X5
	VPUNPCKLBW  X3, X2, X6
	VPUNPCKHBW  X3, X2, X7
	VPUNPCKLWD  X6, X4, X8
	VPUNPCKHWD  X6, X4, X9
	VPUNPCKLWD  X7, X5, X10
	VPUNPCKHWD  X7, X5, X0
	VINSERTI128 $1, X9, Y8, Y8
	VINSERTI128 $1, X0, Y10, Y10
	VPXOR       Y15, Y8, Y8
	VPXOR       Y15, Y10, Y10
	VMOVDQU     Y8, (DI)
	VMOVDQU     Y10, 32(DI)
	VPMADDUBSW  Y8, Y14, Y1
	VPMADDWD    Y13, Y1, Y1
	VPADDD      Y1, Y11, Y11
	VPMADDUBSW  Y10, Y14, Y2
	VPMADDWD    Y13, Y2, Y2
	VPADDD      Y2, Y12, Y12
	ADDQ        $64, DI
	LEAQ        (SI)(BX*4), SI
	DECQ        CX
	JNZ         packloop

packdone:
	VMOVDQU    Y11, (DX)
	VMOVDQU    Y12, 32(DX)
	VZEROUPPER
	RET

// func requantTile16AVX512(src *int32, rows int, colAdj, zb, colBias *int32, dst *byte, ldy int, args *requantTileArgs)
//
// requantRow16AVX512 over the first rows rows of a tile (row stride 16 int32) with one multiplier
// per row (a Conv's weight scales), the rows' za, rowSum, rowBias and mult read from args' arrays
// (offsets 0, 32, 64, 96) and the column terms and the bounds (offsets 128..144) loaded once. Row r
// goes to dst + r·ldy. The caller guarantees finite multipliers. Needs AVX-512 F.
TEXT ·requantTile16AVX512(SB), NOSPLIT, $0-64
	MOVQ         src+0(FP), SI
	MOVQ         rows+8(FP), CX
	MOVQ         colAdj+16(FP), DI
	MOVQ         zb+24(FP), R8
	MOVQ         colBias+32(FP), R10
	MOVQ         dst+40(FP), DX
	MOVQ         ldy+48(FP), BX
	MOVQ         args+56(FP), AX
	VMOVDQU32    (DI), Z10
	VMOVDQU32    (R8), Z11
	VMOVDQU32    (R10), Z12
	VPBROADCASTD 128(AX), Z13
	VPBROADCASTD 132(AX), Z14
	VPBROADCASTD 136(AX), Z15
	VBROADCASTSS 140(AX), Z16
	VBROADCASTSS 144(AX), Z17
	TESTQ        CX, CX
	JZ           tiledone

tileloop:
	VMOVDQU32    (SI), Z0
	VPBROADCASTD 0(AX), Z1
	VPMULLD      Z10, Z1, Z1
	VPSUBD       Z1, Z0, Z0
	VPBROADCASTD 32(AX), Z2
	VPMULLD      Z11, Z2, Z2
	VPSUBD       Z2, Z0, Z0
	VPBROADCASTD 64(AX), Z3
	VPADDD       Z3, Z0, Z0
	VPADDD       Z12, Z0, Z0
	VCVTDQ2PS    Z0, Z0
	VBROADCASTSS 96(AX), Z4
	VMULPS       Z4, Z0, Z0
	VMINPS       Z16, Z0, Z0
	VMAXPS       Z17, Z0, Z0
	VCVTPS2DQ    Z0, Z0
	VPADDD       Z13, Z0, Z0
	VPMAXSD      Z14, Z0, Z0
	VPMINSD      Z15, Z0, Z0
	VPMOVDB      Z0, (DX)
	ADDQ         $64, SI
	ADDQ         $4, AX
	ADDQ         BX, DX
	DECQ         CX
	JNZ          tileloop

tiledone:
	VZEROUPPER
	RET
