package runtime_test

import (
	"context"
	"fmt"
	"math/rand"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

func scalarF32(v float32) *onnx.Array {
	return &onnx.Array{DataType: onnxpb.TensorProto_FLOAT, Dims: []int64{}, Data: []float32{v}}
}

// Conv → Relu becomes one FusedConv.
func TestPassFuseConvRelu(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, "N", 3, 9, 8)
	c := b.Node("Conv", []string{x, b.Initializer("w", randArray(rng, 5, 3, 3, 3)), b.Initializer("b", randArray(rng, 5))}, exporter.Attrs{"pads": []int{1, 1, 1, 1}})
	y := b.Node("Relu", []string{c}, nil)
	b.Output(y, f32, "N", 5, 9, 8)
	checkPass(t, b, 13, []string{"FusedConv"}, 1, 3, 9, 8)
}

// A ResNet basic block: Conv → BN → Relu → Conv → BN → Add(shortcut) → Relu, where the shortcut is a 1x1
// Conv computed after the main branch. It ends as two FusedConvs and the shortcut Conv, the second FusedConv
// after the shortcut.
func TestPassFuseResidualBlock(t *testing.T) {
	rng := rand.New(rand.NewSource(12))
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, "N", 4, 8, 8)
	bn := func(in string, c int64) string {
		return b.Node("BatchNormalization", []string{in, b.Initializer("", randArray(rng, c)), b.Initializer("", randArray(rng, c)),
			b.Initializer("", randArray(rng, c)), b.Initializer("", positiveArray(rng, c))}, nil)
	}
	pad := exporter.Attrs{"pads": []int{1, 1, 1, 1}}
	c1 := b.Node("Relu", []string{bn(b.Node("Conv", []string{x, b.Initializer("w1", randArray(rng, 6, 4, 3, 3))}, pad), 6)}, nil)
	c2 := bn(b.Node("Conv", []string{c1, b.Initializer("w2", randArray(rng, 6, 6, 3, 3))}, pad), 6)
	sc := b.Node("Conv", []string{x, b.Initializer("w3", randArray(rng, 6, 4, 1, 1))}, nil)
	y := b.Node("Relu", []string{b.Node("Add", []string{c2, sc}, nil)}, nil)
	b.Output(y, f32, "N", 6, 8, 8)
	checkPass(t, b, 13, []string{"FusedConv", "Conv", "FusedConv"}, 1, 4, 8, 8)
}

// Gemm → Relu and MatMul → Clip (bounds as constant inputs) become FusedGemm; a Clip with a computed bound
// and a Relu whose input is also a graph output stay.
func TestPassFuseGemmActivation(t *testing.T) {
	rng := rand.New(rand.NewSource(13))
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, "N", 12)
	h := b.Node("Relu", []string{b.Node("Gemm", []string{x, b.Initializer("w1", randArray(rng, 7, 12)), b.Initializer("c1", randArray(rng, 7))}, exporter.Attrs{"transB": 1})}, nil)
	h = b.Node("Clip", []string{b.Node("MatMul", []string{h, b.Initializer("w2", randArray(rng, 7, 5))}, nil), b.Initializer("lo", scalarF32(-0.2)), b.Initializer("hi", scalarF32(0.3))}, nil)
	y := b.Node("Relu", []string{b.Node("MatMul", []string{h, b.Initializer("w3", randArray(rng, 5, 4))}, nil)}, nil)
	b.Output(y, f32, "N", 4)
	checkPass(t, b, 13, []string{"FusedGemm", "FusedGemm", "FusedGemm"}, 1, 12)
}

// Nothing fuses into a Conv when the intermediate value is needed elsewhere or Clip's bounds are reversed
// (the Relu and the Add that both read the Conv's output become one FusedElementwise: fuse-elementwise).
func TestPassFuseActivationLeavesShared(t *testing.T) {
	rng := rand.New(rand.NewSource(14))
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, "N", 2, 5, 5)
	c := b.Node("Conv", []string{x, b.Initializer("w", randArray(rng, 2, 2, 3, 3))}, nil)
	r := b.Node("Relu", []string{c}, nil)
	s := b.Node("Add", []string{r, c}, nil)
	c2 := b.Node("Conv", []string{s, b.Initializer("w2", randArray(rng, 2, 2, 1, 1))}, nil)
	y := b.Node("Clip", []string{c2}, exporter.Attrs{"min": float32(1), "max": float32(-1)})
	b.Output(y, f32, "N", 2, 3, 3)
	checkPass(t, b, 9, []string{"Conv", "FusedElementwise", "Conv", "Clip"}, 1, 2, 5, 5)
}

// BenchmarkLeNet times Session.Run on the reference LeNet at batch 1 and 64, on 1 and 2 threads, with the
// graph passes (fused kernels) and without them.
func BenchmarkLeNet(b *testing.B) {
	path := sharedModel(b, "lenet_torch_opset13")
	for _, noOpt := range []bool{false, true} {
		for _, batch := range []int{1, 64} {
			for _, threads := range []int{1, 2} {
				name := fmt.Sprintf("batch%d/threads%d", batch, threads)
				if noOpt {
					name += "/unfused"
				}
				b.Run(name, func(b *testing.B) {
					p, err := runtime.Load(path, runtime.Options{Threads: threads, NoOptimize: noOpt})
					if err != nil {
						b.Fatal(err)
					}
					s := p.NewSession()
					defer s.Close()
					in := []*ops.Tensor{ops.New(ops.Float32, ops.Shape{batch, 1, 28, 28})}
					for i := range in[0].Float32s() {
						in[0].Float32s()[i] = float32(i%255) / 255
					}
					ctx := context.Background()
					if _, err := s.Run(ctx, in); err != nil {
						b.Fatal(err)
					}
					b.ReportAllocs()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						if _, err := s.Run(ctx, in); err != nil {
							b.Fatal(err)
						}
					}
					// LeNet's multiply-adds per image: conv1 6*26*26*9, conv2 16*11*11*54, fc 400*120 + 120*84 + 84*10.
					macs := float64(batch) * (6*26*26*9 + 16*11*11*54 + 400*120 + 120*84 + 84*10)
					b.ReportMetric(2*macs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}

// Conv → Mul(c, Sigmoid(c)) (SiLU, both operand orders; a depthwise conv as EfficientNet has) and
// Conv → Mul(HardSigmoid(c), c) (HardSwish) become FusedConvs.
func TestPassFuseGatedActivations(t *testing.T) {
	rng := rand.New(rand.NewSource(15))
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, "N", 4, 9, 8)
	c := b.Node("Conv", []string{x, b.Initializer("w1", randArray(rng, 6, 4, 1, 1)), b.Initializer("b1", randArray(rng, 6))}, nil)
	h := b.Node("Mul", []string{c, b.Node("Sigmoid", []string{c}, nil)}, nil)
	dw := b.Node("Conv", []string{h, b.Initializer("w2", randArray(rng, 6, 1, 3, 3))}, exporter.Attrs{"group": 6, "pads": []int{1, 1, 1, 1}})
	h = b.Node("Mul", []string{b.Node("Sigmoid", []string{dw}, nil), dw}, nil)
	c3 := b.Node("Conv", []string{h, b.Initializer("w3", randArray(rng, 5, 6, 3, 3))}, exporter.Attrs{"strides": []int{2, 2}})
	y := b.Node("Mul", []string{b.Node("HardSigmoid", []string{c3}, exporter.Attrs{"alpha": float32(0.25)}), c3}, nil)
	b.Output(y, f32, "N", 5, 4, 3)
	checkPass(t, b, 13, []string{"FusedConv", "FusedConv", "FusedConv"}, 1, 4, 9, 8)
}

// Each single-input activation fuses into the Conv, Gemm or MatMul before it: LeakyRelu, HardSwish and
// Tanh after convolutions, Gelu (erf and tanh forms) and Sigmoid after matrix products.
func TestPassFuseMoreActivations(t *testing.T) {
	rng := rand.New(rand.NewSource(16))
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, "N", 3, 6, 6)
	pad := exporter.Attrs{"pads": []int{1, 1, 1, 1}}
	h := b.Node("LeakyRelu", []string{b.Node("Conv", []string{x, b.Initializer("w1", randArray(rng, 4, 3, 3, 3))}, pad)}, exporter.Attrs{"alpha": float32(0.2)})
	h = b.Node("HardSwish", []string{b.Node("Conv", []string{h, b.Initializer("w2", randArray(rng, 4, 4, 3, 3))}, pad)}, nil)
	h = b.Node("Tanh", []string{b.Node("Conv", []string{h, b.Initializer("w3", randArray(rng, 2, 4, 3, 3))}, nil)}, nil)
	f := b.Node("Flatten", []string{h}, nil)
	h = b.Node("Gelu", []string{b.Node("MatMul", []string{f, b.Initializer("w4", randArray(rng, 32, 7))}, nil)}, nil)
	h = b.Node("Gelu", []string{b.Node("Gemm", []string{h, b.Initializer("w5", randArray(rng, 7, 5))}, nil)}, exporter.Attrs{"approximate": "tanh"})
	y := b.Node("Sigmoid", []string{b.Node("MatMul", []string{h, b.Initializer("w6", randArray(rng, 5, 3))}, nil)}, nil)
	b.Output(y, f32, "N", 3)
	checkPass(t, b, 20, []string{"FusedConv", "FusedConv", "FusedConv", "Flatten", "FusedGemm", "FusedGemm", "FusedGemm"}, 1, 3, 6, 6)
}

// A gate whose input is read by a third node, or whose Sigmoid is a graph output, stays unfused.
func TestPassFuseGatedLeavesShared(t *testing.T) {
	rng := rand.New(rand.NewSource(17))
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, "N", 2, 5, 5)
	c := b.Node("Conv", []string{x, b.Initializer("w", randArray(rng, 2, 2, 1, 1))}, nil)
	s := b.Node("Mul", []string{c, b.Node("Sigmoid", []string{c}, nil)}, nil)
	y := b.Node("Add", []string{s, c}, nil)
	b.Output(y, f32, "N", 2, 5, 5)
	// The conv keeps no activation; fuse-elementwise takes the gate and the Add as one loop.
	checkPass(t, b, 13, []string{"Conv", "FusedElementwise"}, 1, 2, 5, 5)
}

// torch exports ReLU6 as Clip whose bounds are Constant nodes (MobileNetV2): it fuses like initializer
// bounds, and the Constants go with it.
func TestPassFuseClipWithConstantNodeBounds(t *testing.T) {
	rng := rand.New(rand.NewSource(18))
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, "N", 3, 7, 7)
	c := b.Node("Conv", []string{x, b.Initializer("w", randArray(rng, 4, 3, 3, 3))}, exporter.Attrs{"pads": []int{1, 1, 1, 1}})
	lo := b.Node("Constant", nil, exporter.Attrs{"value": scalarF32(-0.1)})
	hi := b.Node("Constant", nil, exporter.Attrs{"value": scalarF32(0.4)})
	y := b.Node("Clip", []string{c, lo, hi}, nil)
	b.Output(y, f32, "N", 4, 7, 7)
	checkPass(t, b, 13, []string{"FusedConv"}, 1, 3, 7, 7)
}
