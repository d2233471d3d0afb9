package runtime_test

import (
	"context"
	"math/rand"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// concatModel builds x → three branches (one of two steps, so buffers are freed and reused while the
// Concat's output is already live) → Concat on axis 1 → Mul by 2. extra adds a use of the first branch after
// the Concat (outputs: y, and the Add); asOutput makes the first branch a graph output too.
func concatModel(t *testing.T, extra, asOutput bool) *runtime.Plan {
	t.Helper()
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, "N", 3, 5, 4)
	a := b.Node("Relu", []string{x}, nil)
	s := b.Node("Neg", []string{b.Node("Sigmoid", []string{x}, nil)}, nil)
	e := b.Node("Abs", []string{x}, nil)
	c := b.Node("Concat", []string{a, s, e}, exporter.Attrs{"axis": 1})
	y := b.Node("Mul", []string{c, b.Initializer("two", scalarF32(2))}, nil)
	b.Output(y, f32, "N", 9, 5, 4)
	if extra {
		b.Output(b.Node("Add", []string{a, x}, nil), f32, "N", 3, 5, 4)
	}
	if asOutput {
		b.Output(a, f32, "N", 3, 5, 4)
	}
	return compileModel(t, b)
}

// runTwice runs the plan twice (the second run reuses the arena) on random input of the given shape.
func runTwice(t *testing.T, p *runtime.Plan, shape ops.Shape) []*ops.Tensor {
	t.Helper()
	rng := rand.New(rand.NewSource(int64(shape[0])))
	in := ops.New(ops.Float32, shape)
	for i := range in.Float32s() {
		in.Float32s()[i] = rng.Float32()*2 - 1
	}
	sess := p.NewSession()
	var out []*ops.Tensor
	for range 2 {
		o, err := sess.Run(context.Background(), []*ops.Tensor{in})
		if err != nil {
			t.Fatal(err)
		}
		out = out[:0]
		for _, v := range o {
			out = append(out, v.Clone())
		}
	}
	return out
}

func countConcatBlocks(desc string) int {
	return strings.Count(desc, "@0)") + strings.Count(desc, "@60)") + strings.Count(desc, "@120)")
}

// At batch 1 the Concat's three inputs are written by their producers into the Concat's output (views at
// element offsets 0, 60 and 120) and the result equals the copying Concat's; at batch 2 the blocks are
// strided, so the Concat copies.
func TestConcatInputsWrittenInPlace(t *testing.T) {
	p := concatModel(t, false, false)
	desc := p.Describe(ops.Shape{1, 3, 5, 4})
	if got := countConcatBlocks(desc); got != 3 {
		t.Fatalf("%d Concat inputs planned as blocks of its output, want 3:\n%s", got, desc)
	}
	if desc2 := p.Describe(ops.Shape{2, 3, 5, 4}); countConcatBlocks(desc2) != 0 {
		t.Fatalf("at batch 2 a Concat on axis 1 has strided blocks and must copy:\n%s", desc2)
	}
	for _, n := range []int{1, 2} {
		have := runTwice(t, p, ops.Shape{n, 3, 5, 4})
		*runtime.ConcatBlocks = false
		want := runTwice(t, concatModel(t, false, false), ops.Shape{n, 3, 5, 4})
		*runtime.ConcatBlocks = true
		if err := ops.AllClose(have[0], want[0], 0, 0); err != nil {
			t.Fatalf("batch %d: Concat with in-place inputs differs from the copying Concat: %v", n, err)
		}
	}
}

// An input also read after the Concat, or also a graph output, keeps its own buffer and the Concat's kernel
// copies it, while the other two inputs are still written in place.
func TestConcatInputsSharedAreCopied(t *testing.T) {
	for _, c := range []struct {
		name            string
		extra, asOutput bool
	}{{"read after", true, false}, {"graph output", false, true}} {
		t.Run(c.name, func(t *testing.T) {
			p := concatModel(t, c.extra, c.asOutput)
			desc := p.Describe(ops.Shape{1, 3, 5, 4})
			if strings.Contains(desc, "=view(Concat_out@0)") || countConcatBlocks(desc) != 2 {
				t.Fatalf("want the Relu (used elsewhere) in its own buffer and the other two inputs as blocks:\n%s", desc)
			}
			have := runTwice(t, p, ops.Shape{1, 3, 5, 4})
			*runtime.ConcatBlocks = false
			want := runTwice(t, concatModel(t, c.extra, c.asOutput), ops.Shape{1, 3, 5, 4})
			*runtime.ConcatBlocks = true
			for i := range want {
				if err := ops.AllClose(have[i], want[i], 0, 0); err != nil {
					t.Fatalf("output %d differs: %v", i, err)
				}
			}
		})
	}
}
