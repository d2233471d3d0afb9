package linalg

// A row vector times a constant matrix (FusedGemm with M = 1: a fully connected layer at batch 1). The
// GEMM's 6x16 tiles would compute five wasted rows for each real one; instead the weights are laid out
// k-major once at Prepare, columns padded to 32, and gemv32 sums 32 columns at a time in registers.

// gemvWeights is op(B) (K x N) stored k-major with a row stride of N rounded up to 32, zero padded.
type gemvWeights struct {
	k, n, ld int
	w        []float32
}

func newGemvWeights(transB bool, k, n int, b []float32) *gemvWeights {
	g := &gemvWeights{k: k, n: n, ld: (n + 31) / 32 * 32}
	g.w = make([]float32, k*g.ld)
	for p := 0; p < k; p++ {
		row := g.w[p*g.ld : p*g.ld+n]
		for j := range row {
			if transB {
				row[j] = b[j*k+p]
			} else {
				row[j] = b[p*n+j]
			}
		}
	}
	return g
}

// gemv32Go is the reference of the assembly: y[j] = Σ_{p<k} x[p] * w[p*ldw+j], j < 32.
func gemv32Go(k int, x, w []float32, ldw int, y *[32]float32) {
	*y = [32]float32{}
	for p := 0; p < k; p++ {
		xv := x[p]
		row := (*[32]float32)(w[p*ldw:])
		for j := range y {
			y[j] += xv * row[j]
		}
	}
}

// PackedBytes is the memory the padded weights hold (ops.PackedSizer).
func (g *gemvWeights) PackedBytes() int64 { return int64(len(g.w)) * 4 }
