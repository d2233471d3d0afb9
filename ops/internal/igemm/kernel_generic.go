//go:build !amd64 || noasm

package igemm

import "github.com/onnxrun/onnxrun/ops/internal/isa"

// asmKernelVariants is empty where there is no assembly.
func asmKernelVariants() []isa.Variant[microKernel] { return nil }

const haveRequantAsm = false

// asmPackBVariants is empty where there is no assembly.
func asmPackBVariants() []isa.Variant[packBPanel16Func] { return nil }

// requantRow16 has no vector form here: it reports false and the caller runs its Go loop.
func requantRow16(src, colAdj, zb []int32, mult []float32, colBias []int32, dst []byte, args *requantRowArgs) bool {
	return false
}

// requantTile16 has no vector form here: it reports false and the caller runs its Go loop.
func requantTile16(tile *[mr * nr]int32, rows int, colAdj, zb, colBias []int32, dst []byte, ldy int, args *requantTileArgs) bool {
	return false
}

// correctRow16 has no vector form here: it reports false and the caller runs its Go loop.
func correctRow16(src, colAdj, zb, dst []int32, args *requantRowArgs) bool { return false }
