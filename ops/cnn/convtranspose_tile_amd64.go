//go:build !noasm

package cnn

import "github.com/onnxrun/onnxrun/ops/internal/isa"

// tileInterleaveAsmVariants: the interleaving store of convtranspose_tile_amd64.s needs AVX2.
var tileInterleaveAsmVariants = []isa.Variant[bool]{{Level: isa.AVX2, Name: "AVX2", Fn: true}}

//go:noescape
func tileInterleave2AVX2(y, c0, c1 *float32, blocks, tail int, bias float32)

// tileInterleave2 stores y[2j] = c0[j] + bias and y[2j+1] = c1[j] + bias (see tileInterleave2Go, which
// the assembly matches bit for bit).
func tileInterleave2(y, c0, c1 []float32, bias float32) {
	n := len(c0)
	if !tileInterleaveAsm || n == 0 {
		tileInterleave2Go(y, c0, c1, bias)
		return
	}
	_, _ = c1[n-1], y[2*n-1]
	tileInterleave2AVX2(&y[0], &c0[0], &c1[0], n/8, n%8, bias)
}
