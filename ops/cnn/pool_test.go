package cnn

import (
	"math"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

func poolNode(op string, opset int, attrs ops.AttrMap, in ...*ops.Tensor) opstest.Node {
	return opstest.Node{OpType: op, Opset: opset, Attrs: attrs, Inputs: in}
}

func TestPoolLecture(t *testing.T) {
	// The lecture pools its 6x6 example with 2x2 windows and stride 2 (Keras' default, as in its LeNet).
	k2s2 := ops.AttrMap{"kernel_shape": ints(2, 2), "strides": ints(2, 2)}
	runCases(t, []opCase{
		{name: "max", node: poolNode("MaxPool", 22, k2s2, lectureX),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 3, 3}, 3, 3, 2, 4, 3, 3, 3, 1, 2)}},
		{name: "average", node: poolNode("AveragePool", 22, k2s2, lectureX),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 3, 3}, 1.5, 1.5, 1, 1.25, 2, 1.5, 1.75, 0.5, 1)}},
	})
	// 2x2 stride-2 pooling of an odd size floors: Keras' LeNet pools 11x11 to 5x5.
	out := mustRun(t, poolNode("AveragePool", 22, k2s2, randF32(1, 1, 1, 11, 11)))
	if !out[0].Shape().Equal(ops.Shape{1, 1, 5, 5}) {
		t.Errorf("11x11 pooled to %v, want 5x5", out[0].Shape())
	}
}

func TestMaxPool(t *testing.T) {
	x := f32(ops.Shape{1, 2, 2, 3},
		1, 2, 8,
		4, 3, 0,
		-1, -2, -8,
		-4, -3, -9)
	k22 := ops.AttrMap{"kernel_shape": ints(2, 2)}
	runCases(t, []opCase{
		{
			// Indices flatten over N, C and the spatial axes: plane 1 starts at 6.
			name: "indices row major",
			node: opstest.Node{OpType: "MaxPool", Opset: 22, Attrs: k22, Inputs: []*ops.Tensor{x}, NumOutputs: 2},
			want: []*ops.Tensor{f32(ops.Shape{1, 2, 1, 2}, 4, 8, -1, -2), i64(ops.Shape{1, 2, 1, 2}, 3, 2, 6, 7)},
		},
		{
			// Column major: cell (h, w) of a 2x3 plane is h + w*2.
			name: "indices column major",
			node: opstest.Node{OpType: "MaxPool", Opset: 22, Attrs: ops.AttrMap{"kernel_shape": ints(2, 2), "storage_order": ops.IntAttr(1)},
				Inputs: []*ops.Tensor{x}, NumOutputs: 2},
			want: []*ops.Tensor{f32(ops.Shape{1, 2, 1, 2}, 4, 8, -1, -2), i64(ops.Shape{1, 2, 1, 2}, 1, 4, 6, 8)},
		},
		{
			name: "padding never wins",
			node: poolNode("MaxPool", 22, ops.AttrMap{"kernel_shape": ints(2, 2), "pads": ints(1, 1, 1, 1)}, f32(ops.Shape{1, 1, 1, 2}, -5, -7)),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 2, 3}, -5, -5, -7, -5, -5, -7)},
		},
		{
			name: "int8",
			node: poolNode("MaxPool", 12, ops.AttrMap{"kernel_shape": ints(2)}, ops.FromSlice(ops.Shape{1, 1, 4}, []int8{-128, -100, 5, -3})),
			want: []*ops.Tensor{ops.FromSlice(ops.Shape{1, 1, 3}, []int8{-100, 5, 5})},
		},
		{
			name: "uint8 with pads",
			node: poolNode("MaxPool", 22, ops.AttrMap{"kernel_shape": ints(3), "pads": ints(1, 1)}, ops.FromSlice(ops.Shape{1, 1, 3}, []uint8{0, 200, 3})),
			want: []*ops.Tensor{ops.FromSlice(ops.Shape{1, 1, 3}, []uint8{200, 200, 200})},
		},
		{
			name: "dilation",
			node: poolNode("MaxPool", 10, ops.AttrMap{"kernel_shape": ints(2), "dilations": ints(2)}, f32(ops.Shape{1, 1, 5}, 1, 9, 2, 0, 3)),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 3}, 2, 9, 3)},
		},
		{
			name: "ceil adds a partial window",
			node: poolNode("MaxPool", 10, ops.AttrMap{"kernel_shape": ints(2), "strides": ints(2), "ceil_mode": ops.IntAttr(1)}, f32(ops.Shape{1, 1, 5}, 1, 2, 3, 4, 5)),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 3}, 2, 4, 5)},
		},
		{
			name: "ceil_mode ignored before opset 10",
			node: poolNode("MaxPool", 8, ops.AttrMap{"kernel_shape": ints(2), "strides": ints(2), "ceil_mode": ops.IntAttr(1)}, f32(ops.Shape{1, 1, 5}, 1, 2, 3, 4, 5)),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 2}, 2, 4)},
		},
		{
			name: "float16",
			node: poolNode("MaxPool", 22, ops.AttrMap{"kernel_shape": ints(2)}, toHalf(f32(ops.Shape{1, 1, 3}, 0.5, -1, 2))),
			want: []*ops.Tensor{toHalf(f32(ops.Shape{1, 1, 2}, 0.5, 2))},
		},
		{
			name: "3-D",
			node: poolNode("MaxPool", 22, ops.AttrMap{"kernel_shape": ints(2, 2, 2)}, f32(ops.Shape{1, 1, 2, 2, 2}, 1, 2, 3, 4, 5, 9, 7, 8)),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 1, 1, 1}, 9)},
		},
		{name: "int8 before opset 12", node: poolNode("MaxPool", 11, ops.AttrMap{"kernel_shape": ints(2)}, ops.FromSlice(ops.Shape{1, 1, 2}, []int8{1, 2})),
			wantErr: "input X has dtype int8"},
		{name: "no kernel_shape", node: poolNode("MaxPool", 22, nil, x), wantErr: `"kernel_shape" is required`},
		{name: "storage_order", node: poolNode("MaxPool", 22, ops.AttrMap{"kernel_shape": ints(2, 2), "storage_order": ops.IntAttr(2)}, x), wantErr: `"storage_order" is 2`},
		{name: "indices before opset 8", node: opstest.Node{OpType: "MaxPool", Opset: 7, Attrs: k22, Inputs: []*ops.Tensor{x}, NumOutputs: 2},
			wantErr: "at most 1 outputs"},
		{name: "pad as large as kernel", node: poolNode("MaxPool", 22, ops.AttrMap{"kernel_shape": ints(2, 2), "pads": ints(2, 0, 0, 0)}, x),
			wantErr: "pads 2+0 must each be smaller than the dilated kernel 2"},
		{name: "rank 2", node: poolNode("MaxPool", 22, ops.AttrMap{"kernel_shape": ints(2)}, randF32(1, 2, 3)), wantErr: "want rank >= 3"},
		{name: "kernel rank", node: poolNode("MaxPool", 22, ops.AttrMap{"kernel_shape": ints(2)}, x), wantErr: "kernel_shape [2] has 1 axes, the input has 2 spatial axes"},
	})
}

func TestAveragePool(t *testing.T) {
	x := f32(ops.Shape{1, 1, 3, 3}, 1, 2, 3, 4, 5, 6, 7, 8, 9)
	padded := ops.AttrMap{"kernel_shape": ints(2, 2), "pads": ints(1, 1, 1, 1), "strides": ints(2, 2)}
	include := ops.AttrMap{"kernel_shape": ints(2, 2), "pads": ints(1, 1, 1, 1), "strides": ints(2, 2), "count_include_pad": ops.IntAttr(1)}
	row := f32(ops.Shape{1, 1, 1, 5}, 1, 2, 3, 4, 5)
	runCases(t, []opCase{
		// Window (0,0) holds only x[0,0]=1; (0,1) holds 2, 3; (1,0) holds 4, 7; (1,1) holds 5, 6, 8, 9.
		{name: "exclude pad", node: poolNode("AveragePool", 22, padded, x), want: []*ops.Tensor{f32(ops.Shape{1, 1, 2, 2}, 1, 2.5, 5.5, 7)}},
		{name: "include pad", node: poolNode("AveragePool", 22, include, x), want: []*ops.Tensor{f32(ops.Shape{1, 1, 2, 2}, 0.25, 1.25, 2.75, 7)}},
		{name: "count_include_pad ignored at opset 1", node: poolNode("AveragePool", 1, include, x), want: []*ops.Tensor{f32(ops.Shape{1, 1, 2, 2}, 1, 2.5, 5.5, 7)}},
		{name: "ceil: the extra cells are not padding",
			node: poolNode("AveragePool", 10, ops.AttrMap{"kernel_shape": ints(1, 2), "strides": ints(1, 2), "ceil_mode": ops.IntAttr(1), "count_include_pad": ops.IntAttr(1)}, row),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 1, 3}, 1.5, 3.5, 5)}},
		{name: "ceil with end pad counted",
			node: poolNode("AveragePool", 10, ops.AttrMap{"kernel_shape": ints(1, 2), "strides": ints(1, 2), "ceil_mode": ops.IntAttr(1), "count_include_pad": ops.IntAttr(1), "pads": ints(0, 0, 0, 1)}, row),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 1, 3}, 1.5, 3.5, 2.5)}},
		{name: "ceil never starts a window in the end padding",
			node: poolNode("AveragePool", 10, ops.AttrMap{"kernel_shape": ints(2), "strides": ints(2), "ceil_mode": ops.IntAttr(1), "pads": ints(0, 1)}, f32(ops.Shape{1, 1, 4}, 1, 2, 3, 4)),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 2}, 1.5, 3.5)}},
		{name: "same_lower", node: poolNode("AveragePool", 22, ops.AttrMap{"kernel_shape": ints(2), "auto_pad": ops.StringAttr("SAME_LOWER")}, f32(ops.Shape{1, 1, 3}, 2, 4, 6)),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 3}, 2, 3, 5)}},
		{name: "same_upper", node: poolNode("AveragePool", 22, ops.AttrMap{"kernel_shape": ints(2), "auto_pad": ops.StringAttr("SAME_UPPER")}, f32(ops.Shape{1, 1, 3}, 2, 4, 6)),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 3}, 3, 5, 6)}},
		{name: "dilations", node: poolNode("AveragePool", 19, ops.AttrMap{"kernel_shape": ints(2), "dilations": ints(3)}, f32(ops.Shape{1, 1, 5}, 1, 2, 3, 4, 5)),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 2}, 2.5, 3.5)}},
		{name: "float64", node: poolNode("AveragePool", 22, padded, toF64(x)), want: []*ops.Tensor{f64(ops.Shape{1, 1, 2, 2}, 1, 2.5, 5.5, 7)}},
		{name: "bfloat16", node: poolNode("AveragePool", 22, padded, toBF16(x)), want: []*ops.Tensor{toBF16(f32(ops.Shape{1, 1, 2, 2}, 1, 2.5, 5.5, 7))}},
		{name: "uint8", node: poolNode("AveragePool", 22, padded, ops.FromSlice(ops.Shape{1, 1, 1, 1}, []uint8{1})), wantErr: "input X has dtype uint8"},
	})
}

func TestLpPool(t *testing.T) {
	x := f32(ops.Shape{1, 1, 2}, 3, -4)
	k2 := func(p ops.Attr) ops.AttrMap { return ops.AttrMap{"kernel_shape": ints(2), "p": p} }
	runCases(t, []opCase{
		{name: "p2", node: poolNode("LpPool", 22, k2(ops.IntAttr(2)), x), want: []*ops.Tensor{f32(ops.Shape{1, 1, 1}, 5)}},
		{name: "p1", node: poolNode("LpPool", 22, k2(ops.IntAttr(1)), x), want: []*ops.Tensor{f32(ops.Shape{1, 1, 1}, 7)}},
		{name: "p3", node: poolNode("LpPool", 22, k2(ops.IntAttr(3)), x), want: []*ops.Tensor{f32(ops.Shape{1, 1, 1}, float32(math.Cbrt(91)))}},
		{name: "float p at opset 1", node: poolNode("LpPool", 1, k2(ops.FloatAttr(2)), x), want: []*ops.Tensor{f32(ops.Shape{1, 1, 1}, 5)}},
		{name: "default p", node: poolNode("LpPool", 22, ops.AttrMap{"kernel_shape": ints(2)}, x), want: []*ops.Tensor{f32(ops.Shape{1, 1, 1}, 5)}},
		{name: "padding adds nothing", node: poolNode("LpPool", 22, ops.AttrMap{"kernel_shape": ints(2), "pads": ints(1, 1)}, x),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 3}, 3, 5, 4)}},
		{name: "p 0", node: poolNode("LpPool", 22, k2(ops.IntAttr(0)), x), wantErr: `"p" is 0, want a positive exponent`},
	})
}

func TestGlobalPools(t *testing.T) {
	x := f32(ops.Shape{1, 2, 2, 2}, 1, 2, 3, 4, -3, 0, 0, -4)
	runCases(t, []opCase{
		{name: "average", node: poolNode("GlobalAveragePool", 22, nil, x), want: []*ops.Tensor{f32(ops.Shape{1, 2, 1, 1}, 2.5, -1.75)}},
		{name: "max", node: poolNode("GlobalMaxPool", 22, nil, x), want: []*ops.Tensor{f32(ops.Shape{1, 2, 1, 1}, 4, 0)}},
		{name: "lp", node: poolNode("GlobalLpPool", 22, nil, x), want: []*ops.Tensor{f32(ops.Shape{1, 2, 1, 1}, float32(math.Sqrt(30)), 5)}},
		{name: "lp p1 float attr", node: poolNode("GlobalLpPool", 1, ops.AttrMap{"p": ops.FloatAttr(1)}, x), want: []*ops.Tensor{f32(ops.Shape{1, 2, 1, 1}, 10, 7)}},
		{name: "3-D average", node: poolNode("GlobalAveragePool", 1, nil, f64(ops.Shape{1, 1, 1, 2, 2}, 1, 2, 3, 6)), want: []*ops.Tensor{f64(ops.Shape{1, 1, 1, 1, 1}, 3)}},
		{name: "float16", node: poolNode("GlobalMaxPool", 22, nil, toHalf(x)), want: []*ops.Tensor{toHalf(f32(ops.Shape{1, 2, 1, 1}, 4, 0))}},
		{name: "rank 1", node: poolNode("GlobalMaxPool", 22, nil, f32(ops.Shape{2}, 1, 2)), wantErr: "want rank >= 2"},
	})
}

func TestMaxUnpool(t *testing.T) {
	x := f32(ops.Shape{1, 1, 2, 2}, 5, 6, 7, 8)
	idx := i64(ops.Shape{1, 1, 2, 2}, 5, 7, 13, 15)
	k22 := ops.AttrMap{"kernel_shape": ints(2, 2), "strides": ints(2, 2)}
	runCases(t, []opCase{
		{name: "inferred 4x4", node: node("MaxUnpool", 22, k22, x, idx),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 4, 4}, 0, 0, 0, 0, 0, 5, 0, 6, 0, 0, 0, 0, 0, 7, 0, 8)}},
		// With output_shape 5x5 the 4x4 result keeps its coordinates and zeros fill the new last row and column.
		{name: "output_shape", node: node("MaxUnpool", 11, k22, x, idx, i64(ops.Shape{4}, 1, 1, 5, 5)),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 5, 5}, 0, 0, 0, 0, 0, 0, 5, 0, 6, 0, 0, 0, 0, 0, 0, 0, 7, 0, 8, 0, 0, 0, 0, 0, 0)}},
		{name: "pads shrink", node: node("MaxUnpool", 9, ops.AttrMap{"kernel_shape": ints(2), "strides": ints(2), "pads": ints(1, 1)}, f32(ops.Shape{1, 1, 2}, 1, 2), i64(ops.Shape{1, 1, 2}, 0, 1)),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 2}, 1, 2)}},
		{name: "index out of range", node: node("MaxUnpool", 22, k22, x, i64(ops.Shape{1, 1, 2, 2}, 5, 7, 13, 16)),
			wantErr: "MaxUnpool index 16 (position 3 of I) is outside the unpooled shape [1,1,4,4]"},
		{name: "output_shape too small", node: node("MaxUnpool", 22, k22, x, idx, i64(ops.Shape{4}, 1, 1, 3, 4)),
			wantErr: "must keep N and C and be at least the unpooled shape [1,1,4,4]"},
		{name: "I shape", node: node("MaxUnpool", 22, k22, x, i64(ops.Shape{1, 1, 4}, 0, 1, 2, 3)), wantErr: "I has shape [1,1,4], X has [1,1,2,2]"},
		{name: "kernel required", node: node("MaxUnpool", 22, nil, x, idx), wantErr: `"kernel_shape" is required`},
	})
}
