package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// naiveGemm is Reference's doc loop written out, the definition Reference's faster row order must give
// bit for bit.
func naiveGemm[T Number](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var sum T
			for p := 0; p < k; p++ {
				sum += opAt(a, lda, transA, i, p) * opAt(b, ldb, !transB, j, p)
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * sum
			} else {
				c[i*ldc+j] = alpha*sum + beta*c[i*ldc+j]
			}
		}
	}
}

func checkReference[T Number](t *testing.T, name string, gen func(r *rand.Rand) T, same func(x, y T) bool) {
	r := rand.New(rand.NewPCG(7, 8))
	const m, n, k, ld = 5, 7, 9, 11
	for _, transA := range []bool{false, true} {
		for _, transB := range []bool{false, true} {
			for _, ab := range [][2]T{{1, 0}, {3, 0}, {1, 2}} {
				alpha, beta := ab[0], ab[1]
				a, b, c := make([]T, ld*ld), make([]T, ld*ld), make([]T, m*ld)
				for i := range a {
					a[i], b[i] = gen(r), gen(r)
				}
				for i := range c {
					c[i] = gen(r)
				}
				want := append([]T(nil), c...)
				Reference(transA, transB, m, n, k, alpha, a, ld, b, ld, beta, c, ld)
				naiveGemm(transA, transB, m, n, k, alpha, a, ld, b, ld, beta, want, ld)
				for i := range c {
					if !same(c[i], want[i]) {
						t.Fatalf("%s transA=%v transB=%v alpha=%v beta=%v: c[%d] = %v, want %v", name, transA, transB, alpha, beta, i, c[i], want[i])
					}
				}
			}
		}
	}
}

func TestReferenceMatchesItsDefinitionBitForBit(t *testing.T) {
	checkReference(t, "float64", func(r *rand.Rand) float64 { return r.NormFloat64() * 1e3 },
		func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
	checkReference(t, "float32", func(r *rand.Rand) float32 { return float32(r.NormFloat64()) },
		func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
	checkReference(t, "int8 (wrapping)", func(r *rand.Rand) int8 { return int8(r.IntN(256) - 128) },
		func(x, y int8) bool { return x == y })
	checkReference(t, "uint64", func(r *rand.Rand) uint64 { return r.Uint64() },
		func(x, y uint64) bool { return x == y })
}
