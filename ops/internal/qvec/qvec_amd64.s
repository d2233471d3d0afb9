//go:build amd64 && !noasm

#include "textflag.h"

// func quantizeAVX512(dst []byte, src []float32, scale, lo, hi float32, zp int32)
// 16 lanes a step: q = clamp(x / scale, lo, hi) with NaN lanes zeroed, rounded half to even by
// VCVTPS2DQ (MXCSR's default mode), plus zp, truncated to bytes (in range after the clamp).
TEXT ·quantizeAVX512(SB), NOSPLIT, $0-64
	MOVQ         dst_base+0(FP), DI
	MOVQ         src_base+24(FP), SI
	MOVQ         src_len+32(FP), CX
	VBROADCASTSS scale+48(FP), Z1
	VBROADCASTSS lo+52(FP), Z2
	VBROADCASTSS hi+56(FP), Z3
	MOVL         zp+60(FP), AX
	VPBROADCASTD AX, Z4
	SHRQ         $4, CX
	JZ           qdone

qloop:
	VMOVUPS   (SI), Z0
	VDIVPS    Z1, Z0, Z0
	VCMPPS    $0, Z0, Z0, K1
	VMAXPS.Z  Z2, Z0, K1, Z0
	VMINPS    Z3, Z0, Z0
	VCVTPS2DQ Z0, Z0
	VPADDD    Z4, Z0, Z0
	VPMOVDB   Z0, (DI)
	ADDQ      $64, SI
	ADDQ      $16, DI
	DECQ      CX
	JNZ       qloop

qdone:
	VZEROUPPER
	RET

// func dequantizeU8AVX512(dst []float32, src []uint8, scale float32, zp int32)
TEXT ·dequantizeU8AVX512(SB), NOSPLIT, $0-56
	MOVQ         dst_base+0(FP), DI
	MOVQ         src_base+24(FP), SI
	MOVQ         src_len+32(FP), CX
	VBROADCASTSS scale+48(FP), Z1
	MOVL         zp+52(FP), AX
	VPBROADCASTD AX, Z4
	SHRQ         $4, CX
	JZ           udone

uloop:
	VPMOVZXBD (SI), Z0
	VPSUBD    Z4, Z0, Z0
	VCVTDQ2PS Z0, Z0
	VMULPS    Z1, Z0, Z0
	VMOVUPS   Z0, (DI)
	ADDQ      $16, SI
	ADDQ      $64, DI
	DECQ      CX
	JNZ       uloop

udone:
	VZEROUPPER
	RET

// func dequantizeS8AVX512(dst []float32, src []int8, scale float32, zp int32)
TEXT ·dequantizeS8AVX512(SB), NOSPLIT, $0-56
	MOVQ         dst_base+0(FP), DI
	MOVQ         src_base+24(FP), SI
	MOVQ         src_len+32(FP), CX
	VBROADCASTSS scale+48(FP), Z1
	MOVL         zp+52(FP), AX
	VPBROADCASTD AX, Z4
	SHRQ         $4, CX
	JZ           sdone

sloop:
	VPMOVSXBD (SI), Z0
	VPSUBD    Z4, Z0, Z0
	VCVTDQ2PS Z0, Z0
	VMULPS    Z1, Z0, Z0
	VMOVUPS   Z0, (DI)
	ADDQ      $16, SI
	ADDQ      $64, DI
	DECQ      CX
	JNZ       sloop

sdone:
	VZEROUPPER
	RET
