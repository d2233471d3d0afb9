//go:build amd64 && !noasm

package vecmath

import "github.com/onnxrun/onnxrun/ops/internal/isa"

//go:generate go run ./asm/gen.go

// asmVariants lists the assembly variants of each family by family name (vecmath_amd64.s, generated).
var asmVariants = map[string][]isa.Variant[Kernel]{
	"exp":       variantsOf(expAVX2, expAVX512, exp32),
	"log":       variantsOf(logAVX2, logAVX512, log32),
	"sigmoid":   variantsOf(sigmoidAVX2, sigmoidAVX512, sigmoid32),
	"tanh":      variantsOf(tanhAVX2, tanhAVX512, tanh32),
	"erf":       variantsOf(erfAVX2, erfAVX512, erf32),
	"gelu_erf":  variantsOf(geluErfAVX2, geluErfAVX512, geluErf32),
	"gelu_tanh": variantsOf(geluTanhAVX2, geluTanhAVX512, geluTanh32),
	"silu":      variantsOf(siluAVX2, siluAVX512, silu32),
}

// variantsOf gives the AVX2 kernel (which stops at the last whole 8-lane vector; the twin finishes the
// tail) and the AVX-512 one (masked tail) as variants.
func variantsOf(avx2, avx512 Kernel, twin func(float32) float32) []isa.Variant[Kernel] {
	return []isa.Variant[Kernel]{
		{Level: isa.AVX2, Name: "AVX2+FMA", Fn: func(dst, src []float32) {
			whole := len(src) &^ 7
			dst = dst[:len(src)]
			avx2(dst[:whole], src[:whole])
			for i := whole; i < len(src); i++ {
				dst[i] = twin(src[i])
			}
		}},
		{Level: isa.AVX512, Name: "AVX-512", Fn: func(dst, src []float32) { avx512(dst[:len(src)], src) }},
	}
}

// expShiftStoreVariants are Softmax's middle pass at each level.
var expShiftStoreVariants = []isa.Variant[func(dst, src []float32, shift float32) float32]{
	{Level: isa.PureGo, Name: "pure Go", Fn: expShiftStoreGo},
	{Level: isa.AVX2, Name: "AVX2+FMA", Fn: func(dst, src []float32, shift float32) float32 {
		whole := len(src) &^ 7
		sum := expShiftStoreAVX2(dst[:whole], src[:whole], shift)
		return sum + expShiftStoreGo(dst[whole:len(src)], src[whole:], shift)
	}},
	{Level: isa.AVX512, Name: "AVX-512", Fn: func(dst, src []float32, shift float32) float32 {
		return expShiftStoreAVX512(dst[:len(src)], src, shift)
	}},
}

var expShiftStore = isa.Pick(expShiftStoreVariants...).Fn
