//go:build !amd64 || noasm

package vecmath

import "github.com/onnxrun/onnxrun/ops/internal/isa"

// asmVariants has no assembly variants on this build.
var asmVariants = map[string][]isa.Variant[Kernel]{}

// expShiftStoreVariants are Softmax's middle pass: the twin only.
var expShiftStoreVariants = []isa.Variant[func(dst, src []float32, shift float32) float32]{
	{Level: isa.PureGo, Name: "pure Go", Fn: expShiftStoreGo},
}

var expShiftStore = expShiftStoreGo
