package linalg

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// randF32 returns a float32 tensor of uniform values in [-1, 1) from r.
func randF32(r *rand.Rand, shape ...int) *ops.Tensor {
	v := make([]float32, ops.Shape(shape).Size())
	for i := range v {
		v[i] = r.Float32()*2 - 1
	}
	return ops.FromSlice(shape, v)
}

// naiveGemm is Y = alpha*op(A)*op(B) + beta*C in float64 loops, C given per element by c(i, j).
func naiveGemm(transA, transB bool, m, n, k int, alpha float64, a, b []float32, beta float64, c func(i, j int) float64) []float32 {
	y := make([]float32, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			sum := 0.0
			for p := 0; p < k; p++ {
				av, bv := a[i*k+p], b[p*n+j]
				if transA {
					av = a[p*m+i]
				}
				if transB {
					bv = b[j*k+p]
				}
				sum += float64(av) * float64(bv)
			}
			y[i*n+j] = float32(alpha*sum + beta*c(i, j))
		}
	}
	return y
}

// TestGemmRandom compares Gemm with a float64 loop on shapes around the GEMM's 6×16 tiles and 256-deep K
// blocks, for every C layout, with B constant (prepacked) and not.
func TestGemmRandom(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for _, dims := range [][3]int{{1, 1, 1}, {5, 17, 2}, {7, 15, 13}, {13, 33, 300}, {6, 16, 256}} {
		m, n, k := dims[0], dims[1], dims[2]
		for _, cShape := range []ops.Shape{nil, {}, {n}, {1, n}, {m, 1}, {m, n}} {
			for _, tr := range [][2]bool{{false, false}, {true, true}} {
				for _, beta := range []float32{1, 0.5} {
					for _, constB := range []bool{true, false} {
						name := fmt.Sprintf("%dx%dx%d/C%v/trans%v/beta%v/constB%v", m, n, k, cShape, tr[0], beta, constB)
						t.Run(name, func(t *testing.T) {
							aShape, bShape := ops.Shape{m, k}, ops.Shape{k, n}
							if tr[0] {
								aShape = ops.Shape{k, m}
							}
							if tr[1] {
								bShape = ops.Shape{n, k}
							}
							a, b := randF32(r, aShape...), randF32(r, bShape...)
							in := []*ops.Tensor{a, b}
							cf := func(i, j int) float64 { return 0 }
							if cShape != nil {
								c := randF32(r, cShape...)
								in = append(in, c)
								cv := c.Float32s()
								cf = func(i, j int) float64 {
									switch len(cShape) {
									case 0:
										return float64(cv[0])
									case 1:
										return float64(cv[j])
									}
									ci, cj := i, j
									if cShape[0] == 1 {
										ci = 0
									}
									if cShape[1] == 1 {
										cj = 0
									}
									return float64(cv[ci*cShape[1]+cj])
								}
							}
							attrs := ops.AttrMap{"alpha": ops.FloatAttr(0.75), "beta": ops.FloatAttr(beta),
								"transA": ops.IntAttr(b2i(tr[0])), "transB": ops.IntAttr(b2i(tr[1]))}
							var nonConst []int
							if !constB {
								nonConst = []int{1}
							}
							got, err := opstest.Run(opstest.Node{OpType: "Gemm", Opset: 13, Attrs: attrs, Inputs: in, NonConstInputs: nonConst})
							if err != nil {
								t.Fatal(err)
							}
							want := naiveGemm(tr[0], tr[1], m, n, k, 0.75, a.Float32s(), b.Float32s(), float64(beta), cf)
							if err := opstest.Close(got[0], ops.FromSlice(ops.Shape{m, n}, want), 1e-4, 1e-5); err != nil {
								t.Fatal(err)
							}
						})
					}
				}
			}
		}
	}
}

// TestMatMulRandom compares batched MatMul with per-batch float64 loops, with B constant and not.
func TestMatMulRandom(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for _, c := range []struct{ a, b ops.Shape }{
		{ops.Shape{3, 7, 300}, ops.Shape{300, 17}}, // folded batch, prepacked B
		{ops.Shape{2, 1, 5, 13}, ops.Shape{3, 13, 16}},
		{ops.Shape{4, 6, 9}, ops.Shape{4, 9, 33}},
	} {
		for _, constB := range []bool{true, false} {
			t.Run(fmt.Sprintf("%v@%v/constB%v", c.a, c.b, constB), func(t *testing.T) {
				a, b := randF32(r, c.a...), randF32(r, c.b...)
				var nonConst []int
				if !constB {
					nonConst = []int{1}
				}
				got, err := opstest.Run(opstest.Node{OpType: "MatMul", Opset: 13, Inputs: []*ops.Tensor{a, b}, NonConstInputs: nonConst})
				if err != nil {
					t.Fatal(err)
				}
				m, n, k := c.a[len(c.a)-2], c.b[len(c.b)-1], c.a[len(c.a)-1]
				want := make([]float32, 0, got[0].Len())
				// Recompute the batch offsets without folding: walk the broadcast batch directly.
				batch, _ := ops.BroadcastShapes(c.a[:len(c.a)-2], c.b[:len(c.b)-2])
				aSt := batchStrides(c.a[:len(c.a)-2], batch, m*k)
				bSt := batchStrides(c.b[:len(c.b)-2], batch, k*n)
				idx := make([]int, len(batch))
				for bi := 0; bi < batch.Size(); bi++ {
					ao, bo := 0, 0
					rem := bi
					for d := len(batch) - 1; d >= 0; d-- {
						idx[d] = rem % batch[d]
						rem /= batch[d]
						ao += idx[d] * aSt[d]
						bo += idx[d] * bSt[d]
					}
					want = append(want, naiveGemm(false, false, m, n, k, 1, a.Float32s()[ao:], b.Float32s()[bo:], 0,
						func(i, j int) float64 { return 0 })...)
				}
				if err := opstest.Close(got[0], ops.FromSlice(got[0].Shape(), want), 1e-4, 1e-5); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
