package runtime_test

import (
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

func i64s(v ...int64) *onnx.Array {
	return &onnx.Array{DataType: onnxpb.TensorProto_INT64, Dims: []int64{int64(len(v))}, Data: v}
}

// viewsModel: x [N,6,4,5] → Relu → Split on axis 1 into [2,4] → a Slice of the second part on axis 1 (a
// view of a view) → Reshape; beside them a Slice with step 2, which is never one block.
func viewsModel(t *testing.T) *runtime.Plan {
	t.Helper()
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, "N", 6, 4, 5)
	r := b.Node("Relu", []string{x}, nil)
	parts := b.NodeN("Split", "", []string{r, b.Initializer("split", i64s(2, 4))}, 2, exporter.Attrs{"axis": 1})
	c := b.Node("Slice", []string{parts[1], b.Initializer("s0", i64s(1)), b.Initializer("e0", i64s(3)), b.Initializer("a0", i64s(1))}, nil)
	d := b.Node("Reshape", []string{c, b.Initializer("shape", i64s(0, -1))}, nil)
	stepped := b.Node("Slice", []string{r, b.Initializer("s1", i64s(0)), b.Initializer("e1", i64s(5)), b.Initializer("a1", i64s(3)), b.Initializer("st1", i64s(2))}, nil)
	b.Output(b.Node("Sigmoid", []string{parts[0]}, nil), f32, "N", 2, 4, 5)
	b.Output(b.Node("Neg", []string{d}, nil), f32, "N", 40)
	b.Output(b.Node("Abs", []string{stepped}, nil), f32, "N", 6, 4, 3)
	return compileModel(t, b)
}

func compileModel(t *testing.T, b *exporter.Graph) *runtime.Plan {
	t.Helper()
	m, err := b.Model(exporter.ModelOptions{Opset: 13})
	if err != nil {
		t.Fatal(err)
	}
	p, err := runtime.Compile(m, runtime.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// At batch 1 the Split's two outputs, the Slice of the second (offset 20 into it: 60 into the Relu's
// output) and the Reshape of that Slice are views of the Relu's output, and the graph computes what the
// copying kernels compute; at batch 2 the blocks are strided and nothing but the Reshape is a view.
func TestSliceAndSplitViews(t *testing.T) {
	p := viewsModel(t)
	desc := p.Describe(ops.Shape{1, 6, 4, 5})
	for _, want := range []string{"float32[1,2,4,5]=view(Relu_out@0)", "float32[1,4,4,5]=view(Relu_out@40)",
		"float32[1,2,4,5]=view(Relu_out@60)", "float32[1,40]=view(Relu_out@60)"} {
		if !strings.Contains(desc, want) {
			t.Errorf("plan has no %s:\n%s", want, desc)
		}
	}
	if n := strings.Count(desc, "=view(Relu_out@"); n != 4 {
		t.Errorf("%d views of the Relu's output, want 4 (not the stepped Slice):\n%s", n, desc)
	}
	if desc2 := p.Describe(ops.Shape{2, 6, 4, 5}); strings.Contains(desc2, "=view(Relu_out") {
		t.Errorf("at batch 2 a Split or Slice on axis 1 is strided and must copy:\n%s", desc2)
	}
	for _, n := range []int{1, 2} {
		have := runTwice(t, p, ops.Shape{n, 6, 4, 5})
		*runtime.BlockViews = false
		want := runTwice(t, viewsModel(t), ops.Shape{n, 6, 4, 5})
		*runtime.BlockViews = true
		for i := range want {
			if err := ops.AllClose(have[i], want[i], 0, 0); err != nil {
				t.Fatalf("batch %d, output %d: views differ from copies: %v", n, i, err)
			}
		}
	}
}

// A Split of a graph input (which the caller may reuse after Run) and a Slice that is itself a graph
// output are copied.
func TestSliceAndSplitViewsNotOfInputsOrOutputs(t *testing.T) {
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, "N", 6, 4, 5)
	parts := b.NodeN("Split", "", []string{x, b.Initializer("split", i64s(2, 4))}, 2, exporter.Attrs{"axis": 1})
	s := b.Node("Slice", []string{b.Node("Relu", []string{x}, nil), b.Initializer("s0", i64s(1)), b.Initializer("e0", i64s(3)), b.Initializer("a0", i64s(1))}, nil)
	b.Output(b.Node("Neg", []string{parts[0]}, nil), f32, "N", 2, 4, 5)
	b.Output(b.Node("Neg", []string{parts[1]}, nil), f32, "N", 4, 4, 5)
	b.Output(s, f32, "N", 2, 4, 5)
	p := compileModel(t, b)
	if desc := p.Describe(ops.Shape{1, 6, 4, 5}); strings.Contains(desc, "=view(") {
		t.Errorf("a block of a graph input, or a graph output, was planned as a view:\n%s", desc)
	}
}
