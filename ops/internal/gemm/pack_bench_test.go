package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkPack measures packing one K block of 1024 rows/columns, the
// per-call overhead that PackA/PackB remove for constant operands.
func BenchmarkPack(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	const size, kc = 1024, kcMax
	src := randSlice(r, size*size)
	dst := make([]float32, roundUp(size, mr*nr)*kc)
	for _, trans := range []bool{false, true} {
		b.Run(fmt.Sprintf("A/trans=%v", trans), func(b *testing.B) {
			b.SetBytes(size * kc * 4)
			for b.Loop() {
				packA(dst, trans, src, size, 0, size, 0, kc)
			}
		})
		b.Run(fmt.Sprintf("B/trans=%v", trans), func(b *testing.B) {
			b.SetBytes(size * kc * 4)
			for b.Loop() {
				packB(dst, trans, src, size, 0, size, 0, kc)
			}
		})
	}
}
