package runtime_test

import (
	"math"
	"math/rand"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
)

// geluErfForms are the ways exporters write GELU's erf form of x.
var geluErfForms = []struct {
	name  string
	build func(b *exporter.Graph, x string) string
}{
	{"torch: Div, Erf, Add, Mul, Mul by half last", func(b *exporter.Graph, x string) string {
		e := b.Node("Erf", []string{b.Node("Div", []string{x, b.Initializer("", scalarF32(math.Sqrt2))}, nil)}, nil)
		h := b.Node("Mul", []string{x, b.Node("Add", []string{e, b.Initializer("", scalarF32(1))}, nil)}, nil)
		return b.Node("Mul", []string{h, b.Initializer("", scalarF32(0.5))}, nil)
	}},
	{"half first, times 1/√2, 1 + erf", func(b *exporter.Graph, x string) string {
		half := b.Node("Mul", []string{b.Initializer("", scalarF32(0.5)), x}, nil)
		e := b.Node("Erf", []string{b.Node("Mul", []string{b.Initializer("", scalarF32(1/math.Sqrt2)), x}, nil)}, nil)
		return b.Node("Mul", []string{half, b.Node("Add", []string{b.Initializer("", scalarF32(1)), e}, nil)}, nil)
	}},
	{"half with the sum", func(b *exporter.Graph, x string) string {
		e := b.Node("Erf", []string{b.Node("Mul", []string{x, b.Initializer("", scalarF32(1/math.Sqrt2))}, nil)}, nil)
		s := b.Node("Mul", []string{b.Node("Add", []string{e, b.Initializer("", scalarF32(1))}, nil), b.Initializer("", scalarF32(0.5))}, nil)
		return b.Node("Mul", []string{s, x}, nil)
	}},
}

// Each form of GELU after a product ends in the FusedGemm's epilogue (recognise-gelu, then fuse-activation),
// and on a graph input it is one Gelu node; both match the decomposed graph (checkPass).
func TestPassRecogniseGelu(t *testing.T) {
	for _, form := range geluErfForms {
		t.Run(form.name+" after MatMul", func(t *testing.T) {
			rng := rand.New(rand.NewSource(31))
			b := exporter.NewGraph("g")
			x := b.Input("x", f32, "N", 12)
			h := b.Node("MatMul", []string{x, b.Initializer("w", randArray(rng, 12, 9))}, nil)
			b.Output(form.build(b, h), f32, "N", 9)
			checkPass(t, b, 13, []string{"FusedGemm"}, 1, 12)
		})
		t.Run(form.name+" alone", func(t *testing.T) {
			b := exporter.NewGraph("g")
			x := b.Input("x", f32, "N", 3, 5, 7)
			b.Output(form.build(b, x), f32, "N", 3, 5, 7)
			checkPass(t, b, 13, []string{"Gelu"}, 1, 3, 5, 7)
		})
	}
}

// What is not GELU stays a FusedElementwise program: a factor of 0.4 instead of 0.5, a scale of 1/2
// instead of 1/√2, the erf of another value than the one multiplied, and an intermediate also read elsewhere.
func TestPassRecogniseGeluLeavesLookalikes(t *testing.T) {
	erfTerm := func(b *exporter.Graph, x string, scale float32) string {
		e := b.Node("Erf", []string{b.Node("Mul", []string{x, b.Initializer("", scalarF32(scale))}, nil)}, nil)
		return b.Node("Add", []string{e, b.Initializer("", scalarF32(1))}, nil)
	}
	cases := []struct {
		name  string
		build func(b *exporter.Graph, x string) string
		want  []string
	}{
		{"0.4 x (1 + erf(x/√2))", func(b *exporter.Graph, x string) string {
			return b.Node("Mul", []string{b.Node("Mul", []string{x, erfTerm(b, x, 1/math.Sqrt2)}, nil), b.Initializer("", scalarF32(0.4))}, nil)
		}, []string{"FusedElementwise"}},
		{"0.5 x (1 + erf(x/2))", func(b *exporter.Graph, x string) string {
			return b.Node("Mul", []string{b.Node("Mul", []string{x, erfTerm(b, x, 0.5)}, nil), b.Initializer("", scalarF32(0.5))}, nil)
		}, []string{"FusedElementwise"}},
		{"0.5 x (1 + erf(2x/√2))", func(b *exporter.Graph, x string) string {
			x2 := b.Node("Add", []string{x, x}, nil)
			return b.Node("Mul", []string{b.Node("Mul", []string{x, erfTerm(b, x2, 1/math.Sqrt2)}, nil), b.Initializer("", scalarF32(0.5))}, nil)
		}, []string{"FusedElementwise"}},
		{"erf also read by a Relu", func(b *exporter.Graph, x string) string {
			s := erfTerm(b, x, 1/math.Sqrt2)
			g := b.Node("Mul", []string{b.Node("Mul", []string{x, s}, nil), b.Initializer("", scalarF32(0.5))}, nil)
			return b.Node("Add", []string{g, b.Node("Relu", []string{s}, nil)}, nil)
		}, []string{"FusedElementwise"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := exporter.NewGraph("g")
			x := b.Input("x", f32, "N", 3, 5, 7)
			b.Output(c.build(b, x), f32, "N", 3, 5, 7)
			checkPass(t, b, 13, c.want, 1, 3, 5, 7)
		})
	}
}

// A transformer's MLP as torch exports it, MatMul of [N, tokens, K] by a constant, the bias Add, then GELU,
// becomes one FusedGemm (fuse-matmul-add-into-gemm takes the 3-D A and the bias, fuse-activation the Gelu);
// the Linear layer after it, without an activation, a second one.
func TestPassFuseTransformerMLP(t *testing.T) {
	rng := rand.New(rand.NewSource(32))
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, "N", 5, 12)
	h := b.Node("Add", []string{b.Initializer("b1", randArray(rng, 16)), b.Node("MatMul", []string{x, b.Initializer("w1", randArray(rng, 12, 16))}, nil)}, nil)
	h = geluErfForms[0].build(b, h)
	y := b.Node("Add", []string{b.Node("MatMul", []string{h, b.Initializer("w2", randArray(rng, 16, 12))}, nil), b.Initializer("b2", randArray(rng, 12))}, nil)
	b.Output(y, f32, "N", 5, 12)
	checkPass(t, b, 13, []string{"FusedGemm", "FusedGemm"}, 1, 5, 12)
}
