package gemm

import (
	"math"
	"testing"

	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

// Params.Done: an open channel changes nothing; a closed one makes Multiply return before writing C (the
// first poll comes before the first macro-tile), with one thread and with a pool.
func TestMultiplyStopsWhenDone(t *testing.T) {
	const m, n, k = 70, 300, 260
	a, b := make([]float32, m*k), make([]float32, k*n)
	for i := range a {
		a[i] = float32(i%7) - 3
	}
	for i := range b {
		b[i] = float32(i%5) - 2
	}
	want := make([]float32, m*n)
	MultiplyReference(&Params{M: m, N: n, K: k, Alpha: 1, A: a, LDA: k, B: b, LDB: n, C: want, LDC: n})
	closed := make(chan struct{})
	close(closed)
	pool := parallel.NewPool(2)
	defer pool.Close()
	for _, tc := range []struct {
		name string
		pool *parallel.Pool
	}{{"one thread", nil}, {"pool", pool}} {
		open := make(chan struct{})
		got := make([]float32, m*n)
		Multiply(&Params{M: m, N: n, K: k, Alpha: 1, A: a, LDA: k, B: b, LDB: n, C: got, LDC: n, Pool: tc.pool, Done: open})
		for i := range want {
			if math.Abs(float64(got[i]-want[i])) > 1e-3 {
				t.Fatalf("%s, open Done: C[%d] = %v, want %v", tc.name, i, got[i], want[i])
			}
		}
		for i := range got {
			got[i] = -7
		}
		Multiply(&Params{M: m, N: n, K: k, Alpha: 1, A: a, LDA: k, B: b, LDB: n, C: got, LDC: n, Pool: tc.pool, Done: closed})
		for i, v := range got {
			if v != -7 {
				t.Fatalf("%s, closed Done: C[%d] was written (%v)", tc.name, i, v)
			}
		}
	}
}
