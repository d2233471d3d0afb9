//go:build noasm || !amd64

package gemm

import "github.com/onnxrun/onnxrun/ops/internal/isa"

// implVariants are the GEMM variants of this build: the pure-Go one only.
var implVariants = []isa.Variant[*impl]{{Level: isa.PureGo, Name: "pure Go", Fn: genericImpl}}

// packBTrans16 writes dst[p*nr+c] = src[c*lds+p] for c < nr, p < kc: one
// full panel of a transposed B.
func packBTrans16(dst, src []float32, lds, kc int) { packBTrans16Go(dst, src, lds, 0, kc) }
