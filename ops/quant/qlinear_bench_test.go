package quant

import (
	"math/rand"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// benchNode times node n's kernel on threads threads, reporting bytes as the elements of the first input.
func benchNode(b *testing.B, n opstest.Node, threads int) {
	p := opstest.MustPrepare(b, n)
	if threads > 1 {
		pool := ops.NewPool(threads)
		defer pool.Close()
		p.Ctx.Pool, p.Ctx.Threads = pool, threads
	}
	b.SetBytes(int64(n.Inputs[0].Len()))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := p.Kernel.Run(p.Ctx, n.Inputs, p.Out); err != nil {
			b.Fatal(err)
		}
	}
}

// The shapes are a MobileNetV2 block's: 1×96×56×56 activations, a residual Add of two, a per-channel
// broadcast, the classifier's softmax over 1000 classes.
func benchInputs() (a, c *ops.Tensor, s, zp *ops.Tensor, x *ops.Tensor) {
	rng := rand.New(rand.NewSource(9))
	a = randQ8(rng, ops.Uint8, ops.Shape{1, 96, 56, 56})
	c = randQ8(rng, ops.Uint8, ops.Shape{1, 96, 1, 1})
	x = ops.FromSlice(ops.Shape{1, 96, 56, 56}, floatsWithSpecials(rng, 96*56*56))
	return a, c, scalarF32(0.02), u8(ops.Shape{}, 128), x
}

func BenchmarkQLinearAdd(b *testing.B) {
	a, _, s, zp, _ := benchInputs()
	for _, threads := range []int{1, 2} {
		b.Run(threadsName(threads), func(b *testing.B) {
			benchNode(b, msNode("QLinearAdd", nil, a, s, zp, a, scalarF32(0.03), zp, scalarF32(0.04), zp), threads)
		})
	}
}

func BenchmarkQLinearMulBroadcast(b *testing.B) {
	a, c, s, zp, _ := benchInputs()
	benchNode(b, msNode("QLinearMul", nil, a, s, zp, c, scalarF32(0.03), zp, scalarF32(0.04), zp), 1)
}

func BenchmarkQLinearSigmoid(b *testing.B) {
	a, _, s, zp, _ := benchInputs()
	benchNode(b, msNode("QLinearSigmoid", nil, a, s, zp, scalarF32(1.0/256), zp), 1)
}

func BenchmarkQLinearAveragePool3x3(b *testing.B) {
	a, _, s, zp, _ := benchInputs()
	benchNode(b, msNode("QLinearAveragePool", ops.AttrMap{"kernel_shape": opstest.Ints(3, 3), "pads": opstest.Ints(1, 1, 1, 1)}, a, s, zp, s, zp), 1)
}

func BenchmarkQLinearSoftmax1000(b *testing.B) {
	x := randQ8(rand.New(rand.NewSource(10)), ops.Uint8, ops.Shape{1, 1000})
	benchNode(b, msNode("QLinearSoftmax", ops.AttrMap{"opset": ops.IntAttr(13)}, x, scalarF32(0.1), u8(ops.Shape{}, 128), scalarF32(1.0/256), u8(ops.Shape{}, 0)), 1)
}

// BenchmarkQuantizeLinear compares the vectorised float32 → uint8 path with the reference loop.
func BenchmarkQuantizeLinear(b *testing.B) {
	_, _, s, zp, x := benchInputs()
	n := opstest.NewNode("QuantizeLinear", 19, nil, x, s, zp)
	b.Run("fast", func(b *testing.B) { benchNode(b, n, 1) })
	b.Run("fast-2threads", func(b *testing.B) { benchNode(b, n, 2) })
	b.Run("reference", func(b *testing.B) {
		p := opstest.MustPrepare(b, n)
		ref := &quantizeKernel{g: p.Kernel.(*convert8Kernel).g, precision: ops.Float32, saturate: true}
		b.SetBytes(int64(x.Len()))
		for i := 0; i < b.N; i++ {
			if err := ref.Run(p.Ctx, n.Inputs, p.Out); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDequantizeLinear compares the vectorised uint8 → float32 path with the reference loop.
func BenchmarkDequantizeLinear(b *testing.B) {
	a, _, s, zp, _ := benchInputs()
	n := opstest.NewNode("DequantizeLinear", 19, nil, a, s, zp)
	b.Run("fast", func(b *testing.B) { benchNode(b, n, 1) })
	b.Run("reference", func(b *testing.B) {
		p := opstest.MustPrepare(b, n)
		ref := &dequantizeKernel{g: p.Kernel.(*convert8Kernel).g}
		b.SetBytes(int64(a.Len()))
		for i := 0; i < b.N; i++ {
			if err := ref.Run(p.Ctx, n.Inputs, p.Out); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDynamicQuantizeLinear(b *testing.B) {
	_, _, _, _, x := benchInputs()
	benchNode(b, opstest.Node{OpType: "DynamicQuantizeLinear", Opset: 11, NumOutputs: 3, Inputs: []*ops.Tensor{x}}, 1)
}

func threadsName(n int) string { return "threads=" + itoa(int64(n)) }

// BenchmarkQLinearGlobalAveragePool times the global pool on the block's 1×96×56×56 activations and on
// MobileNetV2's 1×1280×7×7, on its plane sums and on the window loop it replaces.
func BenchmarkQLinearGlobalAveragePool(b *testing.B) {
	block, _, _, _, _ := benchInputs()
	for _, x := range []*ops.Tensor{block, randQ8(rand.New(rand.NewSource(3)), ops.Uint8, ops.Shape{1, 1280, 7, 7})} {
		n := msNode("QLinearGlobalAveragePool", nil, x, scalarF32(0.02), u8(ops.Shape{}, 3), scalarF32(0.01), u8(ops.Shape{}, 7))
		name := x.Shape().String()
		b.Run(name+"/plane sums", func(b *testing.B) { benchNode(b, n, 1) })
		b.Run(name+"/window loop", func(b *testing.B) {
			p := opstest.MustPrepare(b, n)
			k := p.Kernel.(*qlinearPoolKernel[uint8])
			y := make([]uint8, x.Shape()[1])
			b.SetBytes(int64(x.Len()))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				k.runWindows(x.Data().([]uint8), y, 0.02, 3, 0.01, 7)
			}
		})
	}
}
