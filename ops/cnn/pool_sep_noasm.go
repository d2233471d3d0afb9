//go:build !amd64 || noasm

package cnn

import "github.com/onnxrun/onnxrun/ops/internal/isa"

// poolSepAsmVariants: none in this build; the separable passes run in Go.
var poolSepAsmVariants []isa.Variant[bool]

// poolColPass is poolColPassGo in this build.
func poolColPass(dst, x []float32, rowStride, rows int, sum bool) {
	poolColPassGo(dst, x, rowStride, rows, sum)
}

// poolRowPass is poolRowPassGo in this build.
func poolRowPass(y, v, first []float32, stride, k int, sum bool) {
	poolRowPassGo(y, v, first, stride, k, sum)
}
