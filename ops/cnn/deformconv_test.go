package cnn

import (
	"math"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

func TestDeformConv(t *testing.T) {
	x := opstest.F32(ops.Shape{1, 1, 3, 3}, 0, 1, 2, 3, 4, 5, 6, 7, 8)
	w := opstest.F32(ops.Shape{1, 1, 2, 2}, 1, 1, 1, 1)
	// offset has shape (N, taps*2, oH, oW); channel 2*tap+axis.
	offset := func(set map[[3]int]float32) *ops.Tensor {
		o := make([]float32, 8*4)
		for k, v := range set {
			o[(k[0]*2+k[1])*4+k[2]] = v
		}
		return opstest.F32(ops.Shape{1, 8, 2, 2}, o...)
	}
	node := func(opset int, attrs ops.AttrMap, in ...*ops.Tensor) opstest.Node {
		return opstest.Node{OpType: "DeformConv", Opset: opset, Attrs: attrs, Inputs: in}
	}
	cases := []struct {
		name string
		node opstest.Node
		want *ops.Tensor
		err  string
	}{
		// Zero offsets: a plain 2x2 box sum over arange(9).reshape(3, 3).
		{name: "zero offsets", node: node(19, nil, x, w, offset(nil)), want: opstest.F32(ops.Shape{1, 1, 2, 2}, 8, 12, 20, 24)},
		// Tap (0,0) at output (0,0) moved down by 0.5 samples 0.5*X[0,0] + 0.5*X[1,0] = 1.5 instead of 0.
		{name: "fractional offset", node: node(19, nil, x, w, offset(map[[3]int]float32{{0, 0, 0}: 0.5})),
			want: opstest.F32(ops.Shape{1, 1, 2, 2}, 9.5, 12, 20, 24)},
		// Tap (1,1) at output (0,0) moved right by 10 leaves the input: it reads 0 instead of X[1,1] = 4.
		{name: "offset outside", node: node(22, nil, x, w, offset(map[[3]int]float32{{3, 1, 0}: 10})),
			want: opstest.F32(ops.Shape{1, 1, 2, 2}, 4, 12, 20, 24)},
		{name: "mask and bias", node: node(22, nil, x, w, offset(nil), opstest.F32(ops.Shape{1}, 1),
			opstest.F32(ops.Shape{1, 4, 2, 2}, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5)),
			want: opstest.F32(ops.Shape{1, 1, 2, 2}, 5, 7, 11, 13)},
		// Padding 1 and stride 2 on the 3x3 input: windows at (-1,-1), (-1,1), (1,-1), (1,1).
		{name: "pads and strides", node: node(19, ops.AttrMap{"pads": ops.IntsAttr(1, 1, 1, 1), "strides": ops.IntsAttr(2, 2)}, x, w, offset(nil)),
			want: opstest.F32(ops.Shape{1, 1, 2, 2}, 0, 1+2, 3+6, 4+5+7+8)},
		{name: "offset shape", node: node(19, nil, x, w, opstest.F32(ops.Shape{1, 2, 2, 2}, make([]float32, 8)...)), err: "offset has shape [1,2,2,2], want [1,8,2,2]"},
		{name: "group mismatch", node: node(19, ops.AttrMap{"group": ops.IntAttr(2)}, x, w, offset(nil)), err: "group=2"},
		{name: "dtype mismatch", node: node(19, nil, x, ops.FromSlice(ops.Shape{1, 1, 2, 2}, []float64{1, 1, 1, 1}), offset(nil)), err: "W has dtype float64"},
		{name: "bfloat16 before opset 22", node: node(19, nil, ops.FromSlice(ops.Shape{1, 1, 1, 1}, []ops.BFloat16Bits{0}),
			ops.FromSlice(ops.Shape{1, 1, 1, 1}, []ops.BFloat16Bits{0}), ops.FromSlice(ops.Shape{1, 2, 1, 1}, []ops.BFloat16Bits{0, 0})), err: "bfloat16"},
	}
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
			opstest.AssertClose(t, got[0], c.want)
		})
	}
}

// An attribute at the edge of int64 is an error like any other (FuzzNode found group = -2^63 sending the
// message's hand-written number formatting into endless recursion: runtime/testdata/fuzz/FuzzNode/d74eaba9f7731a43).
func TestDeformConvExtremeGroup(t *testing.T) {
	build, _, _ := ops.Lookup("", "DeformConv", 19)
	_, err := build(ops.NodeInfo{OpType: "DeformConv", Opset: 19, NumInputs: 3, NumOutputs: 1, Attrs: ops.AttrMap{"group": ops.IntAttr(math.MinInt64)}})
	if err == nil || !strings.Contains(err.Error(), "-9223372036854775808") {
		t.Errorf("group -2^63: got %v", err)
	}
}
