package quant

import (
	"math/rand"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/gemm"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// Benchmarks of the GEMM-shaped contrib operators beside the float32 GEMM on the same shapes. The pool has
// GOMAXPROCS threads; run with -cpu 1 for one thread.

func benchPool(b *testing.B) *ops.Pool {
	pool := ops.NewPool(0)
	b.Cleanup(pool.Close)
	return pool
}

func reportOps(b *testing.B, flops int64) {
	b.ReportMetric(2*float64(flops)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
}

// BenchmarkQGemm is QGemm 1024³ (u8 A, s8 B constant and transposed as ORT's quantizer writes it,
// per-column scales, int32 bias, u8 output requantised in the GEMM's epilogue).
func BenchmarkQGemm(b *testing.B) {
	const m, k, n = 1024, 1024, 1024
	r := rand.New(rand.NewSource(1))
	node := msNode("QGemm", ops.AttrMap{"transB": ops.IntAttr(1)},
		randInt8s(r, ops.Uint8, m, k), scalarF32(0.02), u8(ops.Shape{}, 128),
		randInt8s(r, ops.Int8, n, k), randScales(r, n), ops.FromSlice(ops.Shape{n}, make([]int8, n)),
		ops.FromSlice(ops.Shape{n}, make([]int32, n)), scalarF32(0.5), u8(ops.Shape{}, 128))
	node.NonConstInputs = []int{0}
	runNodeBench(b, node, m*n*k)
}

// runNodeBench prepares node with a pool of GOMAXPROCS threads and times its Run.
func runNodeBench(b *testing.B, node opstest.Node, flops int64) {
	p := opstest.MustPrepare(b, node)
	p.Ctx.Pool = benchPool(b)
	p.Ctx.Threads = p.Ctx.Pool.Threads()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := p.Kernel.Run(p.Ctx, p.In, p.Out); err != nil {
			b.Fatal(err)
		}
	}
	reportOps(b, flops)
}

// BenchmarkFloatGemm1024 is the float32 GEMM on QGemm's shape (B prepacked, bias epilogue): the baseline
// the integer GEMM is measured against.
func BenchmarkFloatGemm1024(b *testing.B) {
	const m, k, n = 1024, 1024, 1024
	a, w := opstest.RandF32(1, m, k).Float32s(), opstest.RandF32(2, n, k).Float32s()
	bias, c := make([]float32, n), make([]float32, m*n)
	packed := gemm.PackB(true, k, n, w, k)
	pool := benchPool(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		gemm.Multiply(&gemm.Params{M: m, N: n, K: k, Alpha: 1, A: a, LDA: k, PackedB: packed, C: c, LDC: n,
			Epilogue: gemm.Epilogue{Bias: bias, BiasMode: gemm.BiasPerCol}, Pool: pool})
	}
	reportOps(b, m*n*k)
}

// BenchmarkMatMulNBits is one token through a 4096×4096 4-bit layer (block 32, packed zero points), and
// eight tokens, which take the dequantised-panel path.
func BenchmarkMatMulNBits(b *testing.B) {
	for _, rows := range []int{1, 8} {
		b.Run(map[int]string{1: "M=1", 8: "M=8"}[rows], func(b *testing.B) {
			runNodeBench(b, newNBitsBenchNode(rows, 4096, 4096, 32), int64(rows)*4096*4096)
		})
	}
}

// newNBitsBenchNode is a 4-bit MatMulNBits node with random codes (no reference output: too slow to make).
func newNBitsBenchNode(rows, k, n, blockSize int) opstest.Node {
	r := rand.New(rand.NewSource(1))
	kBlocks := (k + blockSize - 1) / blockSize
	codes := make([]uint8, n*kBlocks*blockSize/2)
	r.Read(codes)
	zp := make([]uint8, n*((kBlocks+1)/2))
	r.Read(zp)
	attrs := ops.AttrMap{"K": ops.IntAttr(int64(k)), "N": ops.IntAttr(int64(n)), "bits": ops.IntAttr(4),
		"block_size": ops.IntAttr(int64(blockSize))}
	node := msNode("MatMulNBits", attrs, opstest.RandF32(2, rows, k), ops.FromSlice(ops.Shape{n, kBlocks, blockSize / 2}, codes),
		randScales(r, n*kBlocks), ops.FromSlice(ops.Shape{len(zp)}, zp))
	node.NonConstInputs = []int{0}
	return node
}
