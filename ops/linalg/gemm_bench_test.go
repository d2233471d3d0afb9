package linalg

import (
	"math/rand"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// LeNet's first fully connected layer (800 -> 500) on a batch of 64, as Gemm with transB=1 and a bias.
const benchM, benchK, benchN = 64, 800, 500

func benchGemm(b *testing.B, nonConst []int) {
	r := rand.New(rand.NewSource(1))
	a, w, c := randF32(r, benchM, benchK), randF32(r, benchN, benchK), randF32(r, benchN)
	k, out, ctx := prepareNode(b, "Gemm", 13, ops.AttrMap{"transB": ops.IntAttr(1)}, nonConst, a, w, c)
	in := []*ops.Tensor{a, w, c}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		_ = k.Run(ctx, in, out)
	}
	b.ReportMetric(2*benchM*benchN*benchK*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkGemmPrepacked has a constant weight matrix, packed once in Prepare.
func BenchmarkGemmPrepacked(b *testing.B) { benchGemm(b, nil) }

// BenchmarkGemmRuntimeB packs B at every run.
func BenchmarkGemmRuntimeB(b *testing.B) { benchGemm(b, []int{1}) }

// BenchmarkGemmNaive is the plain loop (gemmLoop) on the same shape: the baseline.
func BenchmarkGemmNaive(b *testing.B) {
	r := rand.New(rand.NewSource(1))
	a, w := randF32(r, benchM, benchK).Float32s(), randF32(r, benchN, benchK).Float32s()
	y := make([]float32, benchM*benchN)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		gemmLoop(false, true, benchM, benchN, benchK, a, benchK, w, benchK, y, benchN)
	}
	b.ReportMetric(2*benchM*benchN*benchK*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
