package runtime_test

import (
	"math/rand"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
)

// Torch's nn.MultiheadAttention as BERT and ViT export it at opset 13: one input projection split into
// Q, K and V of [seq, batch·heads, head] (here the input x is that projection), heads moved first by
// Transposes, Q divided by √head before the product, K transposed by perm [1, 2, 0] for it. It becomes
// one FusedAttention reading the three slices through the Transposes.
func TestPassFuseAttentionTorchMHA(t *testing.T) {
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, "N", 7, 3*5)
	qkv := func(i int) string {
		return b.Node("Slice", []string{x, b.Initializer("", i64Array(int64(i*5))), b.Initializer("", i64Array(int64(i*5+5))), b.Initializer("", i64Array(2))}, nil)
	}
	heads := func(v string, perm ...int) string {
		return b.Node("Transpose", []string{v}, exporter.Attrs{"perm": perm})
	}
	q := b.Node("Div", []string{heads(qkv(0), 1, 0, 2), b.Initializer("", scalarF32(2.2))}, nil)
	s := b.Node("MatMul", []string{q, heads(qkv(1), 1, 2, 0)}, nil)
	y := b.Node("MatMul", []string{b.Node("Softmax", []string{s}, exporter.Attrs{"axis": -1}), heads(qkv(2), 1, 0, 2)}, nil)
	b.Output(y, f32, 7, "N", 5)
	checkPass(t, b, 13, []string{"Slice", "Slice", "Slice", "FusedAttention"}, 1, 7, 15)
}

// The Hugging Face form: [batch, heads, seq, head] values, K transposed on its last two axes (folded into
// the kernel), the scores scaled by Mul and given an additive mask of one value per key, Softmax of opset
// 11 over its last axis.
func TestPassFuseAttentionScaledMasked(t *testing.T) {
	rng := rand.New(rand.NewSource(31))
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, "N", 2, 6, 4)
	proj := func() string { return b.Node("MatMul", []string{x, b.Initializer("", randArray(rng, 4, 4))}, nil) }
	q, k, v := proj(), proj(), proj()
	s := b.Node("MatMul", []string{q, b.Node("Transpose", []string{k}, exporter.Attrs{"perm": []int{0, 1, 3, 2}})}, nil)
	s = b.Node("Mul", []string{s, b.Initializer("", scalarF32(0.5))}, nil)
	s = b.Node("Add", []string{b.Initializer("", randArray(rng, 1, 1, 1, 6)), s}, nil)
	y := b.Node("MatMul", []string{b.Node("Softmax", []string{s}, exporter.Attrs{"axis": 3}), v}, nil)
	b.Output(y, f32, "N", 2, 6, 4)
	checkPass(t, b, 11, []string{"MatMul", "MatMul", "MatMul", "FusedAttention"}, 1, 2, 6, 4)
}

// Hugging Face's BERT: the projections [batch, seq, heads·head] reshaped to [batch, seq, heads, head], heads
// moved first by perm [0, 2, 1, 3] (K by [0, 2, 3, 1], already transposed for the product), the output
// moved back and reshaped to [batch, seq, heads·head]. Every Transpose goes into the FusedAttention; the
// Reshapes stay (they are views). A Transpose that moves the rows' last axis (Q's here) stays.
func TestPassFuseAttentionHeadsInPlace(t *testing.T) {
	rng := rand.New(rand.NewSource(33))
	const seq, heads, head = 6, 2, 4
	build := func(qShape []int64, qPerm []int) *exporter.Graph {
		b := exporter.NewGraph("g")
		x := b.Input("x", f32, "N", seq, heads*head)
		split := func(shape []int64, perm ...int) string {
			p := b.Node("MatMul", []string{x, b.Initializer("", randArray(rng, heads*head, heads*head))}, nil)
			p = b.Node("Reshape", []string{p, b.Initializer("", i64Array(shape...))}, nil)
			return b.Node("Transpose", []string{p}, exporter.Attrs{"perm": perm})
		}
		q, k, v := split(qShape, qPerm...), split([]int64{0, seq, heads, head}, 0, 2, 3, 1), split([]int64{0, seq, heads, head}, 0, 2, 1, 3)
		s := b.Node("Div", []string{b.Node("MatMul", []string{q, k}, nil), b.Initializer("", scalarF32(2))}, nil)
		s = b.Node("Add", []string{s, b.Initializer("", randArray(rng, 1, 1, 1, seq))}, nil)
		y := b.Node("MatMul", []string{b.Node("Softmax", []string{s}, exporter.Attrs{"axis": -1}), v}, nil)
		y = b.Node("Transpose", []string{y}, exporter.Attrs{"perm": []int{0, 2, 1, 3}})
		y = b.Node("Reshape", []string{y, b.Initializer("", i64Array(0, seq, heads*head))}, nil)
		b.Output(y, f32, "N", seq, heads*head)
		return b
	}
	checkPass(t, build([]int64{0, seq, heads, head}, []int{0, 2, 1, 3}), 13, []string{"MatMul", "Reshape", "MatMul", "Reshape",
		"MatMul", "Reshape", "FusedAttention", "Reshape"}, 1, seq, heads*head)
	checkPass(t, build([]int64{0, seq, head, heads}, []int{0, 3, 1, 2}), 13, []string{"MatMul", "Reshape", "Transpose", "MatMul",
		"Reshape", "MatMul", "Reshape", "FusedAttention", "Reshape"}, 1, seq, heads*head)
}

// Nothing fuses when the scale comes after the mask (c·(S + M) is not c·S + M), when the Softmax is over
// another axis, or when the probabilities are read elsewhere.
func TestPassFuseAttentionLeavesOthers(t *testing.T) {
	rng := rand.New(rand.NewSource(32))
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, "N", 5, 4)
	kT := b.Node("Transpose", []string{x}, exporter.Attrs{"perm": []int{0, 2, 1}})
	s := b.Node("Add", []string{b.Node("MatMul", []string{x, kT}, nil), b.Initializer("", randArray(rng, 5))}, nil)
	s = b.Node("Mul", []string{s, b.Initializer("", scalarF32(0.5))}, nil)
	y1 := b.Node("MatMul", []string{b.Node("Softmax", []string{s}, exporter.Attrs{"axis": -1}), x}, nil)
	p := b.Node("Softmax", []string{b.Node("MatMul", []string{y1, kT}, nil)}, exporter.Attrs{"axis": 1})
	y2 := b.Node("MatMul", []string{p, x}, nil)
	p3 := b.Node("Softmax", []string{b.Node("MatMul", []string{y2, kT}, nil)}, exporter.Attrs{"axis": -1})
	y3 := b.Node("Add", []string{b.Node("MatMul", []string{p3, x}, nil), b.Node("ReduceSum", []string{p3}, exporter.Attrs{"axes": []int{-1}})}, nil)
	b.Output(y3, f32, "N", 5, 4)
	checkPass(t, b, 13, []string{"Transpose", "MatMul", "Add", "Mul", "Softmax", "MatMul", "MatMul", "Softmax", "MatMul",
		"MatMul", "Softmax", "MatMul", "ReduceSum", "Add"}, 1, 5, 4)
}
