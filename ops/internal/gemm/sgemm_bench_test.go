package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

// benchShapes are cubes plus LeNet/VGG-like convolutions lowered to GEMM
// (M = output channels, N = output pixels, K = C*kh*kw) and an FC layer.
var benchShapes = []struct {
	name    string
	m, n, k int
}{
	{"cube64", 64, 64, 64},
	{"cube128", 128, 128, 128},
	{"cube256", 256, 256, 256},
	{"cube512", 512, 512, 512},
	{"cube1024", 1024, 1024, 1024},
	{"lenet_conv1_m6n784k25", 6, 784, 25},
	{"conv_m16n576k54", 16, 576, 54},
	{"lenet_conv2_m16n100k150", 16, 100, 150},
	{"vgg_m64n1024k576", 64, 1024, 576},
	{"fc_m120n64k400", 120, 64, 400},
}

// naiveSgemm is the baseline: the textbook i-p-j loop a straightforward Go
// implementation (or gonum's unblocked fallback) would use, without packing.
func naiveSgemm(m, n, k int, a, b, c []float32) {
	for i := 0; i < m; i++ {
		ci := c[i*n : i*n+n]
		clear(ci)
		for p := 0; p < k; p++ {
			av := a[i*k+p]
			bp := b[p*n : p*n+n]
			for j, bv := range bp {
				ci[j] += av * bv
			}
		}
	}
}

func reportGFLOPS(b *testing.B, m, n, k int) {
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkSgemm(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	pools := map[int]*parallel.Pool{1: nil, 2: parallel.NewPool(2)}
	defer pools[2].Close()
	for _, s := range benchShapes {
		a := randSlice(r, s.m*s.k)
		bm := randSlice(r, s.k*s.n)
		c := make([]float32, s.m*s.n)
		if s.m*s.n*s.k <= 512*512*512 {
			b.Run(fmt.Sprintf("%s/naive", s.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					naiveSgemm(s.m, s.n, s.k, a, bm, c)
				}
				reportGFLOPS(b, s.m, s.n, s.k)
			})
		}
		impls := []*impl{genericImpl}
		impls = append(impls, asmImpls()...)
		for _, im := range impls {
			for _, threads := range []int{1, 2} {
				if im == genericImpl && (threads > 1 || s.m*s.n*s.k > 256*256*256) {
					continue
				}
				p := &Params{M: s.m, N: s.n, K: s.k, Alpha: 1, A: a, LDA: s.k, B: bm, LDB: s.n, C: c, LDC: s.n, Pool: pools[threads]}
				b.Run(fmt.Sprintf("%s/%s/threads=%d", s.name, im.name, threads), func(b *testing.B) {
					b.ReportAllocs()
					im.multiply(p) // warm the buffer pools
					b.ResetTimer()
					for b.Loop() {
						im.multiply(p)
					}
					reportGFLOPS(b, s.m, s.n, s.k)
				})
			}
		}
		// The Conv path: constant weights prepacked, bias+ReLU fused.
		pa := PackA(false, s.m, s.k, a, s.k)
		bias := randSlice(r, s.m)
		for _, threads := range []int{1, 2} {
			p := &Params{M: s.m, N: s.n, K: s.k, Alpha: 1, PackedA: pa, B: bm, LDB: s.n, C: c, LDC: s.n,
				Epilogue: Epilogue{Bias: bias, BiasMode: BiasPerRow, Act: ActReLU}, Pool: pools[threads],
				Workspace: make([]float32, WorkspaceSize(s.m, s.n, s.k, threads))}
			b.Run(fmt.Sprintf("%s/packedA+bias+relu/threads=%d", s.name, threads), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					Multiply(p)
				}
				reportGFLOPS(b, s.m, s.n, s.k)
			})
		}
		// The same with the im2col matrix stored transposed (N×K, TransB), as
		// an im2col that writes one row per output pixel produces it: B is
		// then packed on every call instead of read in place.
		bt := randSlice(r, s.n*s.k)
		pt := &Params{M: s.m, N: s.n, K: s.k, Alpha: 1, PackedA: pa, TransB: true, B: bt, LDB: s.k, C: c, LDC: s.n,
			Epilogue: Epilogue{Bias: bias, BiasMode: BiasPerRow, Act: ActReLU}}
		b.Run(fmt.Sprintf("%s/packedA+bias+relu/transB/threads=1", s.name), func(b *testing.B) {
			b.ReportAllocs()
			Multiply(pt)
			b.ResetTimer()
			for b.Loop() {
				Multiply(pt)
			}
			reportGFLOPS(b, s.m, s.n, s.k)
		})
		// The Gemm/FC path: constant weights as B (stored N×K, transB=1 as
		// ONNX Gemm usually has them) prepacked, per-column bias fused.
		pb := PackB(true, s.k, s.n, bm, s.k)
		colBias := randSlice(r, s.n)
		p := &Params{M: s.m, N: s.n, K: s.k, Alpha: 1, A: a, LDA: s.k, PackedB: pb, C: c, LDC: s.n,
			Epilogue: Epilogue{Bias: colBias, BiasMode: BiasPerCol}}
		b.Run(fmt.Sprintf("%s/packedB+bias/threads=1", s.name), func(b *testing.B) {
			b.ReportAllocs()
			Multiply(p)
			b.ResetTimer()
			for b.Loop() {
				Multiply(p)
			}
			reportGFLOPS(b, s.m, s.n, s.k)
		})
	}
}
