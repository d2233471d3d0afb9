package reduce

import (
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

func TestCumProd(t *testing.T) {
	x := []float64{1, 2, 3, 4, 5, 6}
	node := func(x, axis *ops.Tensor, exclusive, reverse int64) opstest.Node {
		return opstest.Node{OpType: "CumProd", Opset: 26, Inputs: []*ops.Tensor{x, axis},
			Attrs: ops.AttrMap{"exclusive": ops.IntAttr(exclusive), "reverse": ops.IntAttr(reverse)}}
	}
	cases := []struct {
		name     string
		node     opstest.Node
		nonConst bool
		want     *ops.Tensor
		err      string
	}{
		// numpy: np.cumprod(x.reshape(2, 3), axis=1)
		{name: "axis 1", node: node(ops.FromSlice(ops.Shape{2, 3}, x), opstest.I64(ops.Shape{}, 1), 0, 0),
			want: ops.FromSlice(ops.Shape{2, 3}, []float64{1, 2, 6, 4, 20, 120})},
		// numpy: flip(concat(ones, cumprod(flip(x, 0), 0)[:-1]), 0)
		{name: "axis 0 reverse exclusive", node: node(ops.FromSlice(ops.Shape{2, 3}, x), opstest.I64(ops.Shape{}, 0), 1, 1),
			want: ops.FromSlice(ops.Shape{2, 3}, []float64{4, 5, 6, 1, 1, 1})},
		{name: "1-D exclusive int32", node: node(ops.FromSlice(ops.Shape{4}, []int32{2, 3, 4, 5}), ops.FromSlice(ops.Shape{1}, []int32{0}), 1, 0),
			want: ops.FromSlice(ops.Shape{4}, []int32{1, 2, 6, 24})},
		{name: "1-D reverse uint64", node: node(ops.FromSlice(ops.Shape{3}, []uint64{1, 2, 3}), opstest.I64(ops.Shape{}, -1), 0, 1),
			want: ops.FromSlice(ops.Shape{3}, []uint64{6, 6, 3})},
		{name: "axis at run time", nonConst: true, node: node(opstest.F32(ops.Shape{2, 2}, 1, 2, 3, 4), opstest.I64(ops.Shape{}, -2), 0, 0),
			want: opstest.F32(ops.Shape{2, 2}, 1, 2, 3, 8)},
		{name: "float16", node: node(ops.FromSlice(ops.Shape{3}, []ops.Float16Bits{ops.Float16FromFloat32(0.5), ops.Float16FromFloat32(3), ops.Float16FromFloat32(-2)}), opstest.I64(ops.Shape{}, 0), 0, 0),
			want: ops.FromSlice(ops.Shape{3}, []ops.Float16Bits{ops.Float16FromFloat32(0.5), ops.Float16FromFloat32(1.5), ops.Float16FromFloat32(-3)})},
		{name: "axis out of range", node: node(opstest.F32(ops.Shape{2}, 1, 2), opstest.I64(ops.Shape{}, 1), 0, 0), err: "axis 1 is out of range [-1, 0]"},
		{name: "axis not integer", node: node(opstest.F32(ops.Shape{2}, 1, 2), opstest.F32(ops.Shape{}, 0), 0, 0), err: "axis has dtype float32"},
		{name: "int8 rejected", node: node(ops.FromSlice(ops.Shape{1}, []int8{1}), opstest.I64(ops.Shape{}, 0), 0, 0), err: "int8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.nonConst {
				c.node.NonConstInputs = []int{1}
			}
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
			if err := ops.AllClose(got[0], c.want, 1e-6, 0); err != nil {
				t.Fatal(err)
			}
		})
	}
}
