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

// func quantizeAVX2(dst []byte, src []float32, scale, lo, hi float32, zp int32)
// 8 lanes a step, as quantizeAVX512: NaN lanes are cleared with the ordered-compare mask, and the int32
// results (in range after the clamp) are narrowed by keeping each one's low byte (mask to 0x00FF words,
// then an unsigned pack that cannot saturate).
TEXT ·quantizeAVX2(SB), NOSPLIT, $0-64
	MOVQ         dst_base+0(FP), DI
	MOVQ         src_base+24(FP), SI
	MOVQ         src_len+32(FP), CX
	VBROADCASTSS scale+48(FP), Y1
	VBROADCASTSS lo+52(FP), Y2
	VBROADCASTSS hi+56(FP), Y3
	MOVL         zp+60(FP), AX
	VMOVD        AX, X4
	VPBROADCASTD X4, Y4
	VPCMPEQW     X7, X7, X7
	VPSRLW       $8, X7, X7
	SHRQ         $3, CX
	JZ           q2done

q2loop:
	VMOVUPS       (SI), Y0
	VDIVPS        Y1, Y0, Y0
	VCMPPS        $0, Y0, Y0, Y5
	VANDPS        Y5, Y0, Y0
	VMAXPS        Y2, Y0, Y0
	VMINPS        Y3, Y0, Y0
	VCVTPS2DQ     Y0, Y0
	VPADDD        Y4, Y0, Y0
	VEXTRACTI128  $1, Y0, X6
	VPACKSSDW     X6, X0, X0
	VPAND         X7, X0, X0
	VPACKUSWB     X0, X0, X0
	VMOVQ         X0, (DI)
	ADDQ          $32, SI
	ADDQ          $8, DI
	DECQ          CX
	JNZ           q2loop

q2done:
	VZEROUPPER
	RET

// func dequantizeU8AVX2(dst []float32, src []uint8, scale float32, zp int32)
TEXT ·dequantizeU8AVX2(SB), NOSPLIT, $0-56
	MOVQ         dst_base+0(FP), DI
	MOVQ         src_base+24(FP), SI
	MOVQ         src_len+32(FP), CX
	VBROADCASTSS scale+48(FP), Y1
	MOVL         zp+52(FP), AX
	VMOVD        AX, X4
	VPBROADCASTD X4, Y4
	SHRQ         $3, CX
	JZ           u2done

u2loop:
	VPMOVZXBD (SI), Y0
	VPSUBD    Y4, Y0, Y0
	VCVTDQ2PS Y0, Y0
	VMULPS    Y1, Y0, Y0
	VMOVUPS   Y0, (DI)
	ADDQ      $8, SI
	ADDQ      $32, DI
	DECQ      CX
	JNZ       u2loop

u2done:
	VZEROUPPER
	RET

// func dequantizeS8AVX2(dst []float32, src []int8, scale float32, zp int32)
TEXT ·dequantizeS8AVX2(SB), NOSPLIT, $0-56
	MOVQ         dst_base+0(FP), DI
	MOVQ         src_base+24(FP), SI
	MOVQ         src_len+32(FP), CX
	VBROADCASTSS scale+48(FP), Y1
	MOVL         zp+52(FP), AX
	VMOVD        AX, X4
	VPBROADCASTD X4, Y4
	SHRQ         $3, CX
	JZ           s2done

s2loop:
	VPMOVSXBD (SI), Y0
	VPSUBD    Y4, Y0, Y0
	VCVTDQ2PS Y0, Y0
	VMULPS    Y1, Y0, Y0
	VMOVUPS   Y0, (DI)
	ADDQ      $8, SI
	ADDQ      $32, DI
	DECQ      CX
	JNZ       s2loop

s2done:
	VZEROUPPER
	RET

// func addAVX512(c, a, b []byte, signed bool, p AddParams, lo, hi float32)
// 16 lanes a step: each input widened to int32 (zero- or sign-extended) and converted; B's multiply-add
// with Offset, then A's (VFMADD231PS, one rounding each); clamped to [lo, hi] (VMAXPS gives lo for a NaN
// lane, its second source), rounded half to even by VCVTPS2DQ and truncated to bytes.
TEXT ·addAVX512(SB), NOSPLIT, $0-96
	MOVQ         c_base+0(FP), DI
	MOVQ         a_base+24(FP), SI
	MOVQ         a_len+32(FP), CX
	MOVQ         b_base+48(FP), DX
	MOVBLZX      signed+72(FP), BX
	VBROADCASTSS p_RatioA+76(FP), Z12
	VBROADCASTSS p_RatioB+80(FP), Z13
	VBROADCASTSS p_Offset+84(FP), Z14
	VBROADCASTSS lo+88(FP), Z15
	VBROADCASTSS hi+92(FP), Z16
	SHRQ         $4, CX
	JZ           adone

aloop:
	TESTQ     BX, BX
	JNZ       asigned
	VPMOVZXBD (SI), Z0
	VPMOVZXBD (DX), Z1
	JMP       aterms

asigned:
	VPMOVSXBD (SI), Z0
	VPMOVSXBD (DX), Z1

aterms:
	VCVTDQ2PS   Z0, Z0
	VCVTDQ2PS   Z1, Z1
	VMOVAPS     Z14, Z2
	VFMADD231PS Z13, Z1, Z2
	VFMADD231PS Z12, Z0, Z2
	VMAXPS      Z15, Z2, Z2
	VMINPS      Z16, Z2, Z2
	VCVTPS2DQ   Z2, Z2
	VPMOVDB     Z2, (DI)
	ADDQ        $16, SI
	ADDQ        $16, DX
	ADDQ        $16, DI
	DECQ        CX
	JNZ         aloop

adone:
	VZEROUPPER
	RET

// func minMaxAVX512(src []float32) (lo, hi [16]float32, nan bool)
// 16 lanes a step: Z1 and Z2 hold each lane's least and greatest so far (from zeros, the range holding 0);
// a NaN element is seen by the unordered compare (VMINPS/VMAXPS would drop it or not by operand order)
// and ORed into AX.
TEXT ·minMaxAVX512(SB), NOSPLIT, $0-153
	MOVQ   src_base+0(FP), SI
	MOVQ   src_len+8(FP), CX
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	XORL   AX, AX
	SHRQ   $4, CX
	JZ     mdone

mloop:
	VMOVUPS (SI), Z0
	VMINPS  Z0, Z1, Z1
	VMAXPS  Z0, Z2, Z2
	VCMPPS  $3, Z0, Z0, K1
	KMOVW   K1, BX
	ORL     BX, AX
	ADDQ    $64, SI
	DECQ    CX
	JNZ     mloop

mdone:
	VMOVUPS Z1, lo+24(FP)
	VMOVUPS Z2, hi+88(FP)
	TESTL   AX, AX
	SETNE   nan+152(FP)
	VZEROUPPER
	RET

// func requantizeF32AVX512(dst []byte, acc []float32, bias int32, mult, lo, hi float32, yZero int32)
// 16 lanes a step: the accumulators (integers held exactly in float32) convert to int32, take the
// bias, convert back to float32 and scale by mult; clamped to [lo, hi] with NaN lanes zeroed (as in
// quantizeAVX512), rounded half to even by VCVTPS2DQ, plus yZero, truncated to bytes.
TEXT ·requantizeF32AVX512(SB), NOSPLIT, $0-68
	MOVQ         dst_base+0(FP), DI
	MOVQ         acc_base+24(FP), SI
	MOVQ         acc_len+32(FP), CX
	MOVL         bias+48(FP), AX
	VPBROADCASTD AX, Z1
	VBROADCASTSS mult+52(FP), Z2
	VBROADCASTSS lo+56(FP), Z3
	VBROADCASTSS hi+60(FP), Z4
	MOVL         yZero+64(FP), AX
	VPBROADCASTD AX, Z5
	SHRQ         $4, CX
	JZ           rqdone

rqloop:
	VCVTTPS2DQ (SI), Z0
	VPADDD     Z1, Z0, Z0
	VCVTDQ2PS  Z0, Z0
	VMULPS     Z2, Z0, Z0
	VCMPPS     $0, Z0, Z0, K1
	VMAXPS.Z   Z3, Z0, K1, Z0
	VMINPS     Z4, Z0, Z0
	VCVTPS2DQ  Z0, Z0
	VPADDD     Z5, Z0, Z0
	VPMOVDB    Z0, (DI)
	ADDQ       $64, SI
	ADDQ       $16, DI
	DECQ       CX
	JNZ        rqloop

rqdone:
	VZEROUPPER
	RET
