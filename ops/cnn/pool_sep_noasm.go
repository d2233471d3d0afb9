//go:build !amd64 || noasm

package cnn

import "github.com/onnxrun/onnxrun/ops/internal/isa"

// poolSepAsmVariants: none in this build; the separable passes run in Go.
var poolSepAsmVariants []isa.Variant[bool]

// poolColMax is poolColMaxGo in this build.
func poolColMax(dst, x []float32, rowStride, rows int) { poolColMaxGo(dst, x, rowStride, rows) }

// poolRowMax is poolRowMaxGo in this build.
func poolRowMax(y, v, first []float32, stride, k int) { poolRowMaxGo(y, v, first, stride, k) }
