package elementwise

import (
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// newOpCase is one node run through opstest with the outputs (or an error substring) expected.
type newOpCase struct {
	name string
	node opstest.Node
	want []*ops.Tensor
	err  string
}

func runNewOpCases(t *testing.T, cases []newOpCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := opstest.Run(c.node)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range c.want {
				if err := ops.AllClose(got[i], w, 1e-5, 1e-6); err != nil {
					t.Fatalf("output %d: %v", i, err)
				}
			}
		})
	}
}

func TestSwishSwiGLU(t *testing.T) {
	x := []float32{-3, -1, 0, 0.5, 2, 10}
	// numpy: x * 1/(1+exp(-alpha*x))
	swish1 := []float32{-0.14227763, -0.26894140, 0, 0.31122968, 1.7615941, 9.999546}
	swish05 := []float32{-0.54727662, -0.37754068, 0, 0.28108826, 1.4621172, 9.933072}
	half := make([]ops.Float16Bits, len(x))
	wantHalf := make([]ops.Float16Bits, len(x))
	for i := range x {
		half[i] = ops.Float16FromFloat32(x[i])
		wantHalf[i] = ops.Float16FromFloat32(swish1[i])
	}
	x64 := []float64{-3, -1, 0, 0.5, 2, 10}
	want64 := make([]float64, len(x))
	for i := range want64 {
		want64[i] = float64(swish1[i])
	}
	runNewOpCases(t, []newOpCase{
		{name: "swish default alpha", node: opstest.Node{OpType: "Swish", Opset: 24, Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{2, 3}, x)}},
			want: []*ops.Tensor{ops.FromSlice(ops.Shape{2, 3}, swish1)}},
		{name: "swish alpha 0.5", node: opstest.Node{OpType: "Swish", Opset: 28, Attrs: ops.AttrMap{"alpha": ops.FloatAttr(0.5)},
			Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{6}, x)}}, want: []*ops.Tensor{ops.FromSlice(ops.Shape{6}, swish05)}},
		{name: "swish float16", node: opstest.Node{OpType: "Swish", Opset: 24, Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{6}, half)}},
			want: []*ops.Tensor{ops.FromSlice(ops.Shape{6}, wantHalf)}},
		{name: "swish float64", node: opstest.Node{OpType: "Swish", Opset: 24, Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{6}, x64)}},
			want: []*ops.Tensor{ops.FromSlice(ops.Shape{6}, want64)}},
		{name: "swish int rejected", node: opstest.Node{OpType: "Swish", Opset: 24, Inputs: []*ops.Tensor{opstest.I64(ops.Shape{1}, 1)}},
			err: "int64"},
		{name: "swiglu alpha 2", node: opstest.Node{OpType: "SwiGLU", Opset: 28, Attrs: ops.AttrMap{"alpha": ops.FloatAttr(2)},
			Inputs: []*ops.Tensor{opstest.F32(ops.Shape{2, 2}, -1, 0.5, 2, 3), opstest.F32(ops.Shape{2, 2}, 2, -1, 0.5, 4)}},
			// numpy: a * sigmoid(2a) * b
			want: []*ops.Tensor{opstest.F32(ops.Shape{2, 2}, -0.23840587, -0.3655293, 0.98201376, 11.970329)}},
		{name: "swiglu shapes differ", node: opstest.Node{OpType: "SwiGLU", Opset: 28,
			Inputs: []*ops.Tensor{opstest.F32(ops.Shape{2}, 1, 2), opstest.F32(ops.Shape{1}, 1)}}, err: "A=[2] and B=[1]"},
		{name: "swiglu dtypes differ", node: opstest.Node{OpType: "SwiGLU", Opset: 28,
			Inputs: []*ops.Tensor{opstest.F32(ops.Shape{1}, 1), ops.FromSlice(ops.Shape{1}, []float64{1})}}, err: "B=float64"},
		{name: "swiglu before opset 28", node: opstest.Node{OpType: "SwiGLU", Opset: 27,
			Inputs: []*ops.Tensor{opstest.F32(ops.Shape{1}, 1), opstest.F32(ops.Shape{1}, 1)}}, err: "not registered"},
	})
}
