//go:build amd64 && !noasm

package qvec

import "github.com/onnxrun/onnxrun/ops/internal/isa"

// quantizeAVX512 is twin.quantize over len(src) elements, a multiple of 16.
//
//go:noescape
func quantizeAVX512(dst []byte, src []float32, scale, lo, hi float32, zp int32)

// dequantizeU8AVX512 is twin.dequantizeU8 over len(src) elements, a multiple of 16.
//
//go:noescape
func dequantizeU8AVX512(dst []float32, src []uint8, scale float32, zp int32)

// dequantizeS8AVX512 is twin.dequantizeS8 over len(src) elements, a multiple of 16.
//
//go:noescape
func dequantizeS8AVX512(dst []float32, src []int8, scale float32, zp int32)

// quantizeAVX2 is twin.quantize over len(src) elements, a multiple of 8.
//
//go:noescape
func quantizeAVX2(dst []byte, src []float32, scale, lo, hi float32, zp int32)

// dequantizeU8AVX2 is twin.dequantizeU8 over len(src) elements, a multiple of 8.
//
//go:noescape
func dequantizeU8AVX2(dst []float32, src []uint8, scale float32, zp int32)

// dequantizeS8AVX2 is twin.dequantizeS8 over len(src) elements, a multiple of 8.
//
//go:noescape
func dequantizeS8AVX2(dst []float32, src []int8, scale float32, zp int32)

var avx2 = &impl{lanes: 8, quantize: quantizeAVX2, dequantizeU8: dequantizeU8AVX2, dequantizeS8: dequantizeS8AVX2}

// addAVX512 is addTwin over len(a) elements, a multiple of 16.
//
//go:noescape
func addAVX512(c, a, b []byte, signed bool, p AddParams, lo, hi float32)

// minMaxAVX512 is impl.minMax: VMINPS/VMAXPS per lane from zeros, VCMPPS (unordered) for the NaNs.
//
//go:noescape
func minMaxAVX512(src []float32) (lo, hi [16]float32, nan bool)

// requantizeF32AVX512 is RequantizeF32's span over len(acc) elements, a multiple of 16.
//
//go:noescape
func requantizeF32AVX512(dst []byte, acc []float32, bias int32, mult, lo, hi float32, yZero int32)

var avx512 = &impl{lanes: 16, quantize: quantizeAVX512, dequantizeU8: dequantizeU8AVX512, dequantizeS8: dequantizeS8AVX512,
	add: addAVX512, minMax: minMaxAVX512, requantizeF32: requantizeF32AVX512}

func variants() []isa.Variant[*impl] {
	return []isa.Variant[*impl]{
		{Level: isa.PureGo, Name: "pure Go", Fn: twin},
		{Level: isa.AVX2, Name: "AVX2 (VCVTPS2DQ, VPACKUSWB)", Fn: avx2},
		{Level: isa.AVX512, Name: "AVX-512 (VCVTPS2DQ, VPMOVDB)", Fn: avx512},
	}
}
