package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

// storedB is a BPacker over a stored row-major B: what the driver packs itself, given through the
// interface instead.
type storedB struct {
	b     []float32
	ldb   int
	calls int
}

func (s *storedB) PackB(dst []float32, p0, kc, j0, cols int) {
	s.calls++
	packB(dst, false, s.b, s.ldb, j0, cols, p0, kc)
}

// TestBPackerMatchesStoredB: a B given through a BPacker gives what the same B given as a matrix gives,
// bit for bit, on one and two threads, with several K and N blocks and partial panels; and
// MultiplyReference agrees with it.
func TestBPackerMatchesStoredB(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	pool := parallel.NewPool(2)
	defer pool.Close()
	for _, sz := range [][3]int{{7, 13, 5}, {30, 33, 300}, {150, 3100, 17}, {6, 16, 1}} {
		m, n, k := sz[0], sz[1], sz[2]
		a, b, bias := randSlice(r, m*k), randSlice(r, k*n), randSlice(r, m)
		for _, pl := range []*parallel.Pool{nil, pool} {
			t.Run(fmt.Sprintf("%dx%dx%d/threads=%d", m, n, k, pl.Threads()), func(t *testing.T) {
				base := Params{M: m, N: n, K: k, Alpha: 1, A: a, LDA: k, LDC: n, Pool: pl,
					Epilogue: Epilogue{Bias: bias, BiasMode: BiasPerRow, Act: ActReLU}}
				want, got, ref := base, base, base
				want.B, want.LDB, want.C = b, n, make([]float32, m*n)
				packer := &storedB{b: b, ldb: n}
				got.BPacker, got.C = packer, make([]float32, m*n)
				if err := got.Validate(); err != nil {
					t.Fatalf("Validate: %v", err)
				}
				Multiply(&want)
				Multiply(&got)
				if packer.calls == 0 {
					t.Fatal("the BPacker was never called")
				}
				for i := range want.C {
					if got.C[i] != want.C[i] {
						t.Fatalf("C[%d] = %v through the BPacker, %v with B stored", i, got.C[i], want.C[i])
					}
				}
				ref.BPacker, ref.C, ref.Pool = packer, make([]float32, m*n), nil
				MultiplyReference(&ref)
				for i := range ref.C {
					if d := ref.C[i] - got.C[i]; d > 1e-4 || d < -1e-4 {
						t.Fatalf("C[%d] = %v, reference %v", i, got.C[i], ref.C[i])
					}
				}
			})
		}
	}
}
