package igemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/onnxrun/onnxrun/ops/internal/isa"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

// BenchmarkIgemm is u8×s8 → int32 at 1024³ (and a few model shapes) on one thread, for each runnable
// kernel, and with the default kernel on two threads; compare its ops/s with ops/internal/gemm's
// BenchmarkSgemm 1024³ (the target: 1.6x). MB/s reads as millions of operations a second.
func BenchmarkIgemm(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, s := range [][3]int{{1024, 1024, 1024}, {1, 1024, 1024}, {196, 256, 2304}} {
		m, n, k := s[0], s[1], s[2]
		for _, packed := range []bool{false, true} {
			p := &Params{M: m, N: n, K: k, A: randBytes(r, m*k), LDA: k, B: randBytes(r, k*n), LDB: n, BSigned: true,
				AZero: []byte{128}, C: make([]int32, m*n), LDC: n}
			if packed {
				p.PackedB = PackB(true, false, k, n, p.B, n)
			}
			b.Run(fmt.Sprintf("%dx%dx%d/packedB=%v/threads=2", m, n, k, packed), func(b *testing.B) {
				pool := parallel.NewPool(2)
				defer pool.Close()
				q := *p
				q.Pool = pool
				b.SetBytes(int64(2 * m * n * k))
				for b.Loop() {
					Multiply(&q)
				}
			})
			for _, v := range isa.Runnable(kernelVariants...) {
				b.Run(fmt.Sprintf("%dx%dx%d/packedB=%v/%s", m, n, k, packed, v.Name), func(b *testing.B) {
					b.SetBytes(int64(2 * m * n * k)) // "bytes" are operations: MB/s reads as Mop/s
					for b.Loop() {
						multiply(p, v.Fn)
					}
				})
			}
		}
	}
}
