package runtime_test

import (
	"math/rand"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
)

// seBlock builds a squeeze-and-excitation block over x (c channels, r hidden) the way torchvision exports
// it: GlobalAveragePool → Conv 1x1 → act → Conv 1x1 → gate → Mul(gate, x).
func seBlock(b *exporter.Graph, rng *rand.Rand, x string, c, r int64, act func(string) string, gate string) string {
	p := b.Node("GlobalAveragePool", []string{x}, nil)
	h := act(b.Node("Conv", []string{p, b.Initializer("", randArray(rng, r, c, 1, 1)), b.Initializer("", randArray(rng, r))}, nil))
	g := b.Node("Conv", []string{h, b.Initializer("", randArray(rng, c, r, 1, 1)), b.Initializer("", randArray(rng, c))}, nil)
	var attrs exporter.Attrs
	if gate == "HardSigmoid" {
		attrs = exporter.Attrs{"alpha": float32(1.0 / 6)}
	}
	return b.Node("Mul", []string{b.Node(gate, []string{g}, attrs), x}, nil)
}

// EfficientNet-B0's block (SiLU between the Convs, Sigmoid gate) and MobileNetV3's (Relu, HardSigmoid)
// become one SqueezeExcite that computes what the block does.
func TestPassFuseSqueezeExcite(t *testing.T) {
	rng := rand.New(rand.NewSource(51))
	silu := func(b *exporter.Graph) func(string) string {
		return func(h string) string { return b.Node("Mul", []string{h, b.Node("Sigmoid", []string{h}, nil)}, nil) }
	}
	relu := func(b *exporter.Graph) func(string) string {
		return func(h string) string { return b.Node("Relu", []string{h}, nil) }
	}
	for _, c := range []struct {
		name string
		act  func(*exporter.Graph) func(string) string
		gate string
	}{{"EfficientNet", silu, "Sigmoid"}, {"MobileNetV3", relu, "HardSigmoid"}} {
		t.Run(c.name, func(t *testing.T) {
			b := exporter.NewGraph("g")
			x := b.Input("x", f32, "N", 8, 6, 5)
			b.Output(seBlock(b, rng, x, 8, 3, c.act(b), c.gate), f32, "N", 8, 6, 5)
			checkPass(t, b, 13, []string{"SqueezeExcite"}, 1, 8, 6, 5)
		})
	}
}

// A block whose first product is also a graph output is left to the other passes.
func TestPassFuseSqueezeExciteLeavesShared(t *testing.T) {
	rng := rand.New(rand.NewSource(52))
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, "N", 8, 6, 5)
	var hidden string
	y := seBlock(b, rng, x, 8, 3, func(h string) string { hidden = h; return b.Node("Relu", []string{h}, nil) }, "Sigmoid")
	b.Output(y, f32, "N", 8, 6, 5)
	b.Output(hidden, f32, "N", 3, 1, 1)
	// No SqueezeExcite; fuse-activation takes the gate into the second conv.
	checkPass(t, b, 13, []string{"GlobalAveragePool", "Conv", "Relu", "FusedConv", "Mul"}, 1, 8, 6, 5)
}
