//go:build !amd64 || noasm

package vecmath

import "github.com/onnxrun/onnxrun/ops/internal/isa"

// asmVariants has no assembly variants on this build.
var asmVariants = map[string][]isa.Variant[Kernel]{}

// expShiftStoreVariants are Softmax's middle pass: the twin only.
var expShiftStoreVariants = []isa.Variant[func(dst, src []float32, shift float32) float32]{
	{Level: isa.PureGo, Name: "pure Go", Fn: expShiftStoreGo},
}

// expShiftSumVariants are LogSoftmax's middle pass: the twin only.
var expShiftSumVariants = []isa.Variant[func(src []float32, shift float32) float32]{
	{Level: isa.PureGo, Name: "pure Go", Fn: expShiftSumGo},
}

// rowMaxVariants and scaleVariants are Softmax's first and last passes: the twins only.
var (
	rowMaxVariants = []isa.Variant[func(src []float32) float32]{{Level: isa.PureGo, Name: "pure Go", Fn: rowMaxGo}}
	scaleVariants  = []isa.Variant[func(dst []float32, s float32)]{{Level: isa.PureGo, Name: "pure Go", Fn: scaleGo}}
)

var (
	expShiftStore = expShiftStoreGo
	expShiftSum   = expShiftSumGo
	rowMax        = rowMaxGo
	scaleInPlace  = scaleGo
)
