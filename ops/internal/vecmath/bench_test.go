package vecmath

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkFunctions measures ns/element of each variant of each function on 16K elements (L1/L2) and
// 4M elements (memory), in place as the kernels run them.
func BenchmarkFunctions(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{16 << 10, 4 << 20} {
		src := make([]float32, n)
		for i := range src {
			src[i] = float32(rng.NormFloat64() * 4)
		}
		dst := make([]float32, n)
		for _, f := range families {
			for _, v := range runnable(f) {
				b.Run(fmt.Sprintf("%s/%s/n=%d", f.name, v.Name, n), func(b *testing.B) {
					b.SetBytes(int64(8 * n))
					for i := 0; i < b.N; i++ {
						v.Fn(dst, src)
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/elem")
				})
			}
		}
		b.Run(fmt.Sprintf("softmax/rows_of_1000/n=%d", n), func(b *testing.B) {
			b.SetBytes(int64(8 * n))
			for i := 0; i < b.N; i++ {
				for r := 0; r+1000 <= n; r += 1000 {
					Softmax(dst[r:r+1000], src[r:r+1000])
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/elem")
		})
	}
}
