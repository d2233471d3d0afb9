//go:build !noasm

#include "textflag.h"

// maxShifted's blocks (pool_bytes.go): each 32-byte block of dst is the maximum of count loads of src,
// step bytes apart, folded with VPMAXUB (uint8) or VPMAXSB (int8). Two blocks a loop while there are two,
// so that two independent chains hide the loads' latency.
//
// func maxShiftedU8AVX2(dst, src *byte, blocks, step, count int)
#define MAX_SHIFTED(NAME, VPMAX) \
TEXT NAME(SB), NOSPLIT, $0-40 \
	MOVQ dst+0(FP), DI \
	MOVQ src+8(FP), SI \
	MOVQ blocks+16(FP), CX \
	MOVQ step+24(FP), DX \
	MOVQ count+32(FP), BX \
	DECQ BX \
pair: \
	CMPQ CX, $2 \
	JLT single \
	VMOVDQU (SI), Y0 \
	VMOVDQU 32(SI), Y1 \
	LEAQ (SI)(DX*1), R8 \
	MOVQ BX, R9 \
pairTap: \
	TESTQ R9, R9 \
	JZ pairStore \
	VPMAX (R8), Y0, Y0 \
	VPMAX 32(R8), Y1, Y1 \
	ADDQ DX, R8 \
	DECQ R9 \
	JMP pairTap \
pairStore: \
	VMOVDQU Y0, (DI) \
	VMOVDQU Y1, 32(DI) \
	ADDQ $64, SI \
	ADDQ $64, DI \
	SUBQ $2, CX \
	JMP pair \
single: \
	TESTQ CX, CX \
	JZ done \
	VMOVDQU (SI), Y0 \
	LEAQ (SI)(DX*1), R8 \
	MOVQ BX, R9 \
singleTap: \
	TESTQ R9, R9 \
	JZ singleStore \
	VPMAX (R8), Y0, Y0 \
	ADDQ DX, R8 \
	DECQ R9 \
	JMP singleTap \
singleStore: \
	VMOVDQU Y0, (DI) \
done: \
	VZEROUPPER \
	RET

MAX_SHIFTED(·maxShiftedU8AVX2, VPMAXUB)

// func maxShiftedS8AVX2(dst, src *byte, blocks, step, count int)
MAX_SHIFTED(·maxShiftedS8AVX2, VPMAXSB)

// evenBytesAVX2 takes each 64-byte block of src to the 32 bytes at its even offsets: VPAND keeps each word's
// low byte, VPACKUSWB packs two registers of such words (no value saturates), lane by lane, and VPERMQ puts
// the four quarters back in order.
//
// func evenBytesAVX2(dst, src *byte, blocks int)
TEXT ·evenBytesAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ blocks+16(FP), CX
	VPCMPEQW Y15, Y15, Y15
	VPSRLW $8, Y15, Y15 // 0x00ff in every word
evenLoop:
	VPAND (SI), Y15, Y0
	VPAND 32(SI), Y15, Y1
	VPACKUSWB Y1, Y0, Y0
	VPERMQ $0xd8, Y0, Y0
	VMOVDQU Y0, (DI)
	ADDQ $64, SI
	ADDQ $32, DI
	DECQ CX
	JNZ evenLoop
	VZEROUPPER
	RET
