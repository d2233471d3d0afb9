package runtime_test

import (
	"context"
	"math"
	goruntime "runtime"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/ops"
)

// A weight that several MatMul nodes read (layers sharing one set of weights) is packed once for all of
// them, and once for every input shape the plan is specialised at; the plan's weight bytes count that one
// packed copy (the plain weight, only MatMuls reading it, is dropped).
func TestSharedWeightPackedOnce(t *testing.T) {
	const width, layers = 16, 4
	w := make([]float32, width*width)
	for i := range w {
		w[i] = float32(i%7-3) / 8
	}
	b := exporter.NewGraph("shared")
	x := b.Input("x", f32, "N", width)
	wName := b.Initializer("w", arr([]int64{width, width}, w...))
	h := x
	for range layers {
		h = b.Node("MatMul", []string{h, wName}, nil)
	}
	b.Output(h, f32, "N", width)
	p := mustCompile(t, b, 13)

	for _, batch := range []int{3, 5} { // two specialisations
		in := make([]float32, batch*width)
		for i := range in {
			in[i] = float32(i%5) / 4
		}
		out, err := p.NewSession().Run(context.Background(), []*ops.Tensor{ops.FromSlice(ops.Shape{batch, width}, in)})
		if err != nil {
			t.Fatal(err)
		}
		want := in
		for range layers {
			want = naiveMatMul(want, w, batch, width, width)
		}
		for i, v := range out[0].Float32s() {
			if math.Abs(float64(v-want[i])) > 1e-4*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("batch %d: y[%d] = %g, want %g", batch, i, v, want[i])
			}
		}
	}
	stats := p.PrepackStats()
	if stats.Packs != 1 {
		t.Errorf("%d packs of the shared weight for %d MatMul nodes at 2 batch sizes, want 1", stats.Packs, layers)
	}
	if stats.Bytes < width*width*4 {
		t.Errorf("the packed weight holds %d bytes, less than the %d of the weight itself", stats.Bytes, width*width*4)
	}
	if got, want := p.WeightBytes(), stats.Bytes; got != want {
		t.Errorf("WeightBytes = %d, want %d (one packed copy)", got, want)
	}
}

// naiveMatMul is the reference product of an m×k and a k×n matrix.
func naiveMatMul(a, b []float32, m, k, n int) []float32 {
	c := make([]float32, m*n)
	for i := range m {
		for j := range n {
			var s float32
			for p := range k {
				s += a[i*k+p] * b[p*n+j]
			}
			c[i*n+j] = s
		}
	}
	return c
}

// A weight read through an Identity by each of several nodes (what torch exports for a module applied
// several times) is not copied per Identity while compiling: folding aliases an Identity of a constant.
// Copying held layers × probes copies of the weights at once (a BERT encoder with shared weights, 27 MB of
// weights, peaked at 600 MB while compiling). The allocation is compared with the weight's own size.
func TestIdentityOfSharedWeightIsNotCopied(t *testing.T) {
	const width, layers = 256, 8 // a 256 KiB weight
	w := make([]float32, width*width)
	for i := range w {
		w[i] = float32(i%7-3) / 64
	}
	b := exporter.NewGraph("shared")
	x := b.Input("x", f32, "N", width)
	wName := b.Initializer("w", arr([]int64{width, width}, w...))
	h := x
	for range layers {
		h = b.Node("MatMul", []string{h, b.Node("Identity", []string{wName}, nil)}, nil)
	}
	b.Output(h, f32, "N", width)

	var before, after goruntime.MemStats
	goruntime.ReadMemStats(&before)
	p := mustCompile(t, b, 13)
	goruntime.ReadMemStats(&after)
	weight := uint64(width * width * 4)
	// The model's encoding, its decoded weight and one packed copy make a few weights' worth; one copy
	// per Identity per probe would add 2 × 8 more (21 times the weight before the aliasing).
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("compiling allocated %d bytes, %.1f times the shared weight", alloc, float64(alloc)/float64(weight))
	if alloc > 10*weight {
		t.Errorf("compiling allocated %d bytes, %.1f times the shared weight: the Identities were copied", alloc, float64(alloc)/float64(weight))
	}
	in := make([]float32, 2*width)
	for i := range in {
		in[i] = float32(i%5) / 4
	}
	out, err := p.NewSession().Run(context.Background(), []*ops.Tensor{ops.FromSlice(ops.Shape{2, width}, in)})
	if err != nil {
		t.Fatal(err)
	}
	want := in
	for range layers {
		want = naiveMatMul(want, w, 2, width, width)
	}
	for i, v := range out[0].Float32s() {
		if math.Abs(float64(v-want[i])) > 1e-3*(1+math.Abs(float64(want[i]))) {
			t.Fatalf("y[%d] = %g, want %g", i, v, want[i])
		}
	}
}
