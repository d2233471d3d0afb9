//go:build !amd64 || noasm

package cnn

import "github.com/onnxrun/onnxrun/ops/internal/isa"

// maxShiftedAsmVariants: none in this build; maxShifted runs in Go.
var maxShiftedAsmVariants []isa.Variant[bool]

// maxShifted is maxShiftedGo in this build.
func maxShifted(dst, src []byte, step, count int, signed bool) {
	maxShiftedGo(dst, src, step, count, signed)
}

// evenBytes is evenBytesGo in this build.
func evenBytes(dst, src []byte) { evenBytesGo(dst, src) }
