package runtime_test

import (
	"math/rand"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
)

// decomposedLayerNorm writes LayerNormalization over x's last axis (of size c) the way torch exports it
// before opset 17; withAxesInput gives ReduceMean its axes as an input (opset 18), mulSquare squares with
// Mul(d, d), reciprocal divides through Reciprocal and Mul, and gamma and beta are left out when nil.
type decomposedLayerNorm struct {
	withAxesInput, mulSquare, reciprocal, noGamma, noBeta bool
}

func (p decomposedLayerNorm) build(b *exporter.Graph, rng *rand.Rand, x string, c int64) string {
	mean := func(in string) string {
		if p.withAxesInput {
			return b.Node("ReduceMean", []string{in, b.Initializer("", i64Array(-1))}, nil)
		}
		return b.Node("ReduceMean", []string{in}, exporter.Attrs{"axes": []int{-1}})
	}
	d := b.Node("Sub", []string{x, mean(x)}, nil)
	sq := b.Node("Mul", []string{d, d}, nil)
	if !p.mulSquare {
		sq = b.Node("Pow", []string{d, b.Initializer("", scalarF32(2))}, nil)
	}
	std := b.Node("Sqrt", []string{b.Node("Add", []string{mean(sq), b.Initializer("", scalarF32(1e-5))}, nil)}, nil)
	var y string
	if p.reciprocal {
		y = b.Node("Mul", []string{b.Node("Reciprocal", []string{std}, nil), d}, nil)
	} else {
		y = b.Node("Div", []string{d, std}, nil)
	}
	if !p.noGamma {
		y = b.Node("Mul", []string{y, b.Initializer("", randArray(rng, c))}, nil)
	}
	if !p.noBeta {
		y = b.Node("Add", []string{b.Initializer("", randArray(rng, c)), y}, nil)
	}
	return y
}

// Torch's opset-13 export of nn.LayerNorm (BERT's and ViT's), its opset-18 form (axes as an input), and
// the variants other exporters write (Mul(d, d), Reciprocal, no affine part) each become one
// LayerNormalization, which computes what the pattern did.
func TestPassFuseLayerNorm(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opset   int64
		pattern decomposedLayerNorm
		want    []string
	}{
		{"torch opset 13", 13, decomposedLayerNorm{}, []string{"LayerNormalization"}},
		{"opset 18 axes input", 18, decomposedLayerNorm{withAxesInput: true}, []string{"LayerNormalization"}},
		{"Mul square and Reciprocal", 13, decomposedLayerNorm{mulSquare: true, reciprocal: true}, []string{"LayerNormalization"}},
		{"no gamma", 13, decomposedLayerNorm{noGamma: true}, []string{"LayerNormalization"}},
		{"no beta", 13, decomposedLayerNorm{noBeta: true}, []string{"LayerNormalization"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(21))
			b := exporter.NewGraph("g")
			x := b.Input("x", f32, "N", 5, 24)
			// A residual Add before the norm, as in a transformer block, so X is computed, not an input.
			h := b.Node("Add", []string{x, b.Initializer("", randArray(rng, 24))}, nil)
			b.Output(tc.pattern.build(b, rng, h, 24), f32, "N", 5, 24)
			checkPass(t, b, tc.opset, append([]string{"Add"}, tc.want...), 1, 5, 24)
		})
	}
}

// The pattern stays when one of its intermediate values is read elsewhere (here the centred d), or when
// it normalises over another axis than the last.
func TestPassFuseLayerNormLeavesOthers(t *testing.T) {
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, "N", 4, 6)
	d := b.Node("Sub", []string{x, b.Node("ReduceMean", []string{x}, exporter.Attrs{"axes": []int{-1}})}, nil)
	v := b.Node("ReduceMean", []string{b.Node("Pow", []string{d, b.Initializer("", scalarF32(2))}, nil)}, exporter.Attrs{"axes": []int{-1}})
	n := b.Node("Div", []string{d, b.Node("Sqrt", []string{b.Node("Add", []string{v, b.Initializer("", scalarF32(1e-5))}, nil)}, nil)}, nil)
	y := b.Node("Add", []string{n, d}, nil)
	x1 := b.Node("ReduceMean", []string{y}, exporter.Attrs{"axes": []int{1}})
	d1 := b.Node("Sub", []string{y, x1}, nil)
	v1 := b.Node("ReduceMean", []string{b.Node("Mul", []string{d1, d1}, nil)}, exporter.Attrs{"axes": []int{1}})
	z := b.Node("Div", []string{d1, b.Node("Sqrt", []string{b.Node("Add", []string{v1, b.Initializer("", scalarF32(1e-5))}, nil)}, nil)}, nil)
	b.Output(z, f32, "N", 4, 6)
	// No LayerNormalization; fuse-elementwise takes each Add(eps)→Sqrt pair.
	checkPass(t, b, 13, []string{"ReduceMean", "Sub", "Pow", "ReduceMean", "FusedElementwise", "Div", "Add",
		"ReduceMean", "Sub", "Mul", "ReduceMean", "FusedElementwise", "Div"}, 1, 4, 6)
}
