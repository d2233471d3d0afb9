//go:build !amd64 || noasm

package cnn

import "github.com/onnxrun/onnxrun/ops/internal/isa"

// tileInterleaveAsmVariants: none in this build.
var tileInterleaveAsmVariants []isa.Variant[bool]

// tileInterleave2 is tileInterleave2Go in this build.
func tileInterleave2(y, c0, c1 []float32, bias float32) { tileInterleave2Go(y, c0, c1, bias) }
