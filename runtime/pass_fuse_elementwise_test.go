package runtime_test

import (
	"math"
	"math/rand"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
)

// Each element-wise pattern becomes one FusedElementwise node that computes what the unfused graph does
// (checkPass: random inputs at two batch sizes, rtol 1e-4, atol 1e-5). Inputs are first scaled by 4 so
// that the clamps and saturations are reached; that Mul joins the pattern too.
func TestPassFuseElementwisePatterns(t *testing.T) {
	rng := rand.New(rand.NewSource(21))
	cases := []struct {
		name  string
		build func(b *exporter.Graph, x string) string
	}{
		{"SiLU", func(b *exporter.Graph, x string) string {
			return b.Node("Mul", []string{x, b.Node("Sigmoid", []string{x}, nil)}, nil)
		}},
		{"HardSwish as HardSigmoid", func(b *exporter.Graph, x string) string {
			return b.Node("Mul", []string{b.Node("HardSigmoid", []string{x}, exporter.Attrs{"alpha": float32(1.0 / 6)}), x}, nil)
		}},
		{"HardSwish as Relu6", func(b *exporter.Graph, x string) string {
			relu6 := b.Node("Clip", []string{b.Node("Add", []string{x, b.Initializer("", scalarF32(3))}, nil),
				b.Initializer("", scalarF32(0)), b.Initializer("", scalarF32(6))}, nil)
			return b.Node("Div", []string{b.Node("Mul", []string{x, relu6}, nil), b.Initializer("", scalarF32(6))}, nil)
		}},
		{"Mish", func(b *exporter.Graph, x string) string {
			return b.Node("Mul", []string{x, b.Node("Tanh", []string{b.Node("Softplus", []string{x}, nil)}, nil)}, nil)
		}},
		{"GELU tanh", func(b *exporter.Graph, x string) string {
			cube := b.Node("Pow", []string{x, b.Initializer("", scalarF32(3))}, nil)
			inner := b.Node("Add", []string{x, b.Node("Mul", []string{cube, b.Initializer("", scalarF32(0.044715))}, nil)}, nil)
			th := b.Node("Tanh", []string{b.Node("Mul", []string{inner, b.Initializer("", scalarF32(float32(math.Sqrt(2/math.Pi))))}, nil)}, nil)
			half := b.Node("Mul", []string{x, b.Initializer("", scalarF32(0.5))}, nil)
			return b.Node("Mul", []string{half, b.Node("Add", []string{th, b.Initializer("", scalarF32(1))}, nil)}, nil)
		}},
		{"scale and shift per channel, then clip", func(b *exporter.Graph, x string) string {
			s := b.Node("Mul", []string{x, b.Initializer("", randArray(rng, 3, 1, 1))}, nil)
			s = b.Node("Add", []string{b.Initializer("", randArray(rng, 1, 3, 1, 1)), s}, nil)
			return b.Node("Clip", []string{b.Node("Relu", []string{s}, nil), b.Initializer("", scalarF32(-1)), b.Initializer("", scalarF32(2))}, nil)
		}},
		{"general chain", func(b *exporter.Graph, x string) string {
			d := b.Node("Reciprocal", []string{b.Node("Add", []string{b.Node("Exp", []string{b.Node("Neg", []string{x}, nil)}, nil), b.Initializer("", scalarF32(1))}, nil)}, nil)
			l := b.Node("LeakyRelu", []string{b.Node("Sub", []string{d, x}, nil)}, exporter.Attrs{"alpha": float32(0.2)})
			return b.Node("Max", []string{b.Node("Abs", []string{l}, nil), b.Node("Min", []string{x, b.Initializer("", scalarF32(0.3))}, nil)}, nil)
		}},
	}
	// GELU's erf forms become a Gelu node (recognise-gelu), which joins the Mul as one of its steps.
	cases = append(cases, geluErfForms...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := exporter.NewGraph("g")
			x := b.Node("Mul", []string{b.Input("x", f32, "N", 3, 5, 7), b.Initializer("", scalarF32(4))}, nil)
			b.Output(c.build(b, x), f32, "N", 3, 5, 7)
			checkPass(t, b, 13, []string{"FusedElementwise"}, 1, 3, 5, 7)
		})
	}
}

// A pattern whose intermediate is also read elsewhere stays as it is: the Sigmoid feeds a pool, and the
// Add's other operand is per batch and channel (not one of the shapes FusedElementwise broadcasts), so
// every element-wise node is alone.
func TestPassFuseElementwiseLeavesShared(t *testing.T) {
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, "N", 3, 5, 7)
	s := b.Node("Sigmoid", []string{x}, nil)
	m := b.Node("Mul", []string{x, s}, nil)
	y := b.Node("Add", []string{m, b.Node("GlobalAveragePool", []string{s}, nil)}, nil)
	b.Output(y, f32, "N", 3, 5, 7)
	checkPass(t, b, 13, []string{"Sigmoid", "Mul", "GlobalAveragePool", "Add"}, 1, 3, 5, 7)
}

// A value the graph returns is not swallowed: Sigmoid → Mul with the Sigmoid also an output stays.
func TestPassFuseElementwiseKeepsOutputs(t *testing.T) {
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, "N", 3, 5, 7)
	s := b.Node("Sigmoid", []string{x}, nil)
	y := b.Node("Relu", []string{b.Node("Mul", []string{x, s}, nil)}, nil)
	b.Output(y, f32, "N", 3, 5, 7)
	b.Output(s, f32, "N", 3, 5, 7)
	checkPass(t, b, 13, []string{"Sigmoid", "FusedElementwise"}, 1, 3, 5, 7)
}
