package runtime_test

import (
	"context"
	"math/rand"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/ops"
)

// TestArenaReusedAcrossLayersReadThroughViews: a stack of layers shaped like a transformer's, where each
// layer's values are read only through views (Reshape), as attention's heads and the output projection
// are. A buffer read only through a view dies at its view's last reader; if the planner waited for a step
// that names the buffer itself, it would never give it back and the arena would grow by a layer's values
// per layer. The arena must stay under what two layers' values take, whatever the depth.
func TestArenaReusedAcrossLayersReadThroughViews(t *testing.T) {
	const rows, width, layers = 16, 32, 8
	b := exporter.NewGraph("layers")
	x := b.Input("x", f32, rows, width)
	rng := rand.New(rand.NewSource(1))
	weight := make([]float32, width*width)
	for i := range weight {
		weight[i] = rng.Float32() - 0.5
	}
	w := b.Float32Initializer("w", []int{width, width}, weight)
	flat, square := b.Initializer("flat", i64s(-1)), b.Initializer("square", i64s(-1, width))
	h := x
	for range layers {
		// MatMul's output is read only by the flattening view; the Sigmoid's only by the view back to rows.
		y := b.Node("MatMul", []string{h, w}, nil)
		v := b.Node("Reshape", []string{y, flat}, nil)
		s := b.Node("Sigmoid", []string{v}, nil)
		h = b.Node("Reshape", []string{s, square}, nil)
	}
	b.Output(b.Node("Neg", []string{h}, nil), f32, rows, width)
	p := compileModel(t, b)

	in := ops.New(ops.Float32, ops.Shape{rows, width})
	for i := range in.Float32s() {
		in.Float32s()[i] = rng.Float32()*2 - 1
	}
	sess := p.NewSession()
	if _, err := sess.Run(context.Background(), []*ops.Tensor{in}); err != nil {
		t.Fatal(err)
	}
	arena, _ := sess.MemoryBytes()
	// At any step at most two values of one layer are live (the view being read and the value being
	// written), plus the graph's output: three values of rows×width float32.
	const valueBytes = rows * width * 4
	if bound := int64(3 * valueBytes); arena > bound {
		t.Errorf("arena %d bytes for %d layers, want at most %d (three %d-byte values): buffers read through views are not reused\n%s",
			arena, layers, bound, valueBytes, p.Describe(ops.Shape{rows, width}))
	}
}
