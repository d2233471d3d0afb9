package quant

import (
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

type quantCase struct {
	name string
	node opstest.Node
	want []*ops.Tensor
	err  string
}

func runQuantCases(t *testing.T, cases []quantCase) {
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
				if err := ops.AllClose(got[i], w, 1e-6, 0); err != nil {
					t.Fatalf("output %d: %v", i, err)
				}
			}
		})
	}
}

func u8(shape ops.Shape, v ...uint8) *ops.Tensor { return ops.FromSlice(shape, v) }
func i8(shape ops.Shape, v ...int8) *ops.Tensor  { return ops.FromSlice(shape, v) }
func scalarF32(v float32) *ops.Tensor            { return opstest.F32(ops.Shape{}, v) }

func node(op string, opset int, attrs ops.AttrMap, in ...*ops.Tensor) opstest.Node {
	return opstest.Node{OpType: op, Opset: opset, Attrs: attrs, Inputs: in}
}

func TestQuantizeLinear(t *testing.T) {
	x := opstest.F32(ops.Shape{6}, 1, -2.5, 3.7, -0.4, 300, -300)
	f8 := func(v ...ops.Float8E4M3FNBits) *ops.Tensor { return ops.FromSlice(ops.Shape{len(v)}, v) }
	runQuantCases(t, []quantCase{
		// numpy: clip(rint(x / 2) + 128, 0, 255)
		{name: "uint8 per tensor", node: node("QuantizeLinear", 10, nil, x, scalarF32(2), u8(ops.Shape{}, 128)),
			want: []*ops.Tensor{u8(ops.Shape{6}, 128, 127, 130, 128, 255, 0)}},
		{name: "no zero point is uint8, ties to even", node: node("QuantizeLinear", 13, nil, opstest.F32(ops.Shape{5}, -1, 0.4, 0.6, 1.5, 2.5), scalarF32(1)),
			want: []*ops.Tensor{u8(ops.Shape{5}, 0, 0, 1, 2, 2)}},
		{name: "int8 per axis", node: node("QuantizeLinear", 13, ops.AttrMap{"axis": ops.IntAttr(0)},
			opstest.F32(ops.Shape{3, 2}, 1, 2, 3, 4, -5, 6), opstest.F32(ops.Shape{3}, 1, 2, 0.5), i8(ops.Shape{3}, 0, 1, -2)),
			want: []*ops.Tensor{i8(ops.Shape{3, 2}, 1, 2, 3, 3, -12, 10)}},
		{name: "blocked", node: node("QuantizeLinear", 21, ops.AttrMap{"axis": ops.IntAttr(1), "block_size": ops.IntAttr(2)},
			opstest.F32(ops.Shape{2, 4}, 1, 2, 3, 4, 4, 8, 1, 2), opstest.F32(ops.Shape{2, 2}, 1, 2, 4, 0.5)),
			want: []*ops.Tensor{u8(ops.Shape{2, 4}, 1, 2, 2, 2, 1, 2, 2, 4)}},
		{name: "int4 saturates", node: node("QuantizeLinear", 21, nil, opstest.F32(ops.Shape{3}, -10, -3.5, 7.6), scalarF32(1),
			ops.FromSlice(ops.Shape{}, []ops.Int4Value{0})),
			want: []*ops.Tensor{ops.FromSlice(ops.Shape{3}, []ops.Int4Value{-8, -4, 7})}},
		{name: "output_dtype uint2", node: node("QuantizeLinear", 25, ops.AttrMap{"output_dtype": ops.IntAttr(int64(ops.Uint2))},
			opstest.F32(ops.Shape{3}, -1, 2, 9), scalarF32(1)),
			want: []*ops.Tensor{ops.FromSlice(ops.Shape{3}, []ops.Uint2Value{0, 2, 3})}},
		{name: "float8 saturate", node: node("QuantizeLinear", 19, nil, opstest.F32(ops.Shape{2}, 1, 1000), scalarF32(1), f8(0)),
			want: []*ops.Tensor{f8(0x38, 0x7e)}},
		{name: "float8 no saturate", node: node("QuantizeLinear", 19, ops.AttrMap{"saturate": ops.IntAttr(0)}, opstest.F32(ops.Shape{2}, 1, 1000), scalarF32(1), f8(0)),
			want: []*ops.Tensor{f8(0x38, 0x7f)}},
		{name: "float8 before opset 19", node: node("QuantizeLinear", 13, nil, x, scalarF32(1), f8(0)), err: "float8e4m3fn"},
		{name: "per-axis scale length", node: node("QuantizeLinear", 13, nil, opstest.F32(ops.Shape{2, 3}, 1, 2, 3, 4, 5, 6), opstest.F32(ops.Shape{2}, 1, 1)),
			err: "want a scalar or [3]"},
		{name: "blocked scale shape", node: node("QuantizeLinear", 21, ops.AttrMap{"block_size": ops.IntAttr(2)},
			opstest.F32(ops.Shape{2, 4}, 1, 2, 3, 4, 5, 6, 7, 8), opstest.F32(ops.Shape{2, 3}, 1, 1, 1, 1, 1, 1)), err: "want ceil(4/block_size=2) = 2"},
		{name: "zero point shape", node: node("QuantizeLinear", 13, nil, x, scalarF32(1), u8(ops.Shape{2}, 1, 1)), err: "must match"},
		{name: "output_dtype conflict", node: node("QuantizeLinear", 21, ops.AttrMap{"output_dtype": ops.IntAttr(int64(ops.Int8))}, x, scalarF32(1), u8(ops.Shape{}, 0)),
			err: "differs"},
	})
}

func TestDequantizeLinear(t *testing.T) {
	runQuantCases(t, []quantCase{
		{name: "uint8", node: node("DequantizeLinear", 10, nil, u8(ops.Shape{4}, 0, 3, 128, 255), scalarF32(2), u8(ops.Shape{}, 128)),
			want: []*ops.Tensor{opstest.F32(ops.Shape{4}, -256, -250, 0, 254)}},
		{name: "int32 without zero point", node: node("DequantizeLinear", 13, nil, ops.FromSlice(ops.Shape{2}, []int32{-3, 5}), scalarF32(0.5)),
			want: []*ops.Tensor{opstest.F32(ops.Shape{2}, -1.5, 2.5)}},
		{name: "int8 per axis", node: node("DequantizeLinear", 13, ops.AttrMap{"axis": ops.IntAttr(0)},
			i8(ops.Shape{2, 2}, 1, 2, 3, 4), opstest.F32(ops.Shape{2}, 1, 0.5), i8(ops.Shape{2}, 1, -2)),
			want: []*ops.Tensor{opstest.F32(ops.Shape{2, 2}, 0, 1, 2.5, 3)}},
		{name: "float8 to float16", node: node("DequantizeLinear", 19, nil, ops.FromSlice(ops.Shape{2}, []ops.Float8E4M3FNBits{0x38, 0x40}),
			ops.FromSlice(ops.Shape{}, []ops.Float16Bits{ops.Float16FromFloat32(3)})),
			want: []*ops.Tensor{ops.FromSlice(ops.Shape{2}, []ops.Float16Bits{ops.Float16FromFloat32(3), ops.Float16FromFloat32(6)})}},
		{name: "int4 blocked", node: node("DequantizeLinear", 21, ops.AttrMap{"axis": ops.IntAttr(0), "block_size": ops.IntAttr(2)},
			ops.FromSlice(ops.Shape{3}, []ops.Int4Value{-8, 7, 1}), opstest.F32(ops.Shape{2}, 1, 10)),
			want: []*ops.Tensor{opstest.F32(ops.Shape{3}, -8, 7, 10)}},
		{name: "output_dtype bfloat16", node: node("DequantizeLinear", 25, ops.AttrMap{"output_dtype": ops.IntAttr(int64(ops.BFloat16))},
			ops.FromSlice(ops.Shape{1}, []ops.Uint2Value{3}), scalarF32(0.5)),
			want: []*ops.Tensor{ops.FromSlice(ops.Shape{1}, []ops.BFloat16Bits{ops.BFloat16FromFloat32(1.5)})}},
		{name: "zero point dtype", node: node("DequantizeLinear", 13, nil, u8(ops.Shape{1}, 1), scalarF32(1), i8(ops.Shape{}, 0)), err: "must match"},
		{name: "int16 before opset 21", node: node("DequantizeLinear", 19, nil, ops.FromSlice(ops.Shape{1}, []int16{1}), scalarF32(1)), err: "int16"},
	})
}

func TestDynamicQuantizeLinear(t *testing.T) {
	runQuantCases(t, []quantCase{
		// numpy: scale = (max(0,max x) - min(0,min x)) / 255, zp = rint(clip(-min/scale, 0, 255)).
		{name: "mixed signs", node: opstest.Node{OpType: "DynamicQuantizeLinear", Opset: 11, NumOutputs: 3,
			Inputs: []*ops.Tensor{opstest.F32(ops.Shape{5}, 0, 2, -3, -1, 4)}},
			want: []*ops.Tensor{u8(ops.Shape{5}, 109, 182, 0, 73, 255), scalarF32(0.02745098), u8(ops.Shape{}, 109)}},
		{name: "all zero", node: opstest.Node{OpType: "DynamicQuantizeLinear", Opset: 11, NumOutputs: 3,
			Inputs: []*ops.Tensor{opstest.F32(ops.Shape{2}, 0, 0)}},
			want: []*ops.Tensor{u8(ops.Shape{2}, 0, 0), scalarF32(0), u8(ops.Shape{}, 0)}},
		{name: "float64 rejected", node: opstest.Node{OpType: "DynamicQuantizeLinear", Opset: 11, NumOutputs: 3,
			Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{1}, []float64{1})}}, err: "float64"},
	})
}

func TestMatMulInteger(t *testing.T) {
	a := u8(ops.Shape{2, 3}, 11, 7, 3, 10, 6, 2)
	b := u8(ops.Shape{3, 2}, 1, 4, 2, 5, 3, 6)
	runQuantCases(t, []quantCase{
		// numpy: matmul(A - 12, B - 1)
		{name: "scalar zero points", node: node("MatMulInteger", 10, nil, a, b, u8(ops.Shape{}, 12), u8(ops.Shape{}, 1)),
			want: []*ops.Tensor{ops.FromSlice(ops.Shape{2, 2}, []int32{-23, -68, -26, -80})}},
		{name: "per-row and per-column zero points", node: node("MatMulInteger", 10, nil, a, b, u8(ops.Shape{2}, 12, 12), u8(ops.Shape{2}, 1, 1)),
			want: []*ops.Tensor{ops.FromSlice(ops.Shape{2, 2}, []int32{-23, -68, -26, -80})}},
		{name: "no zero points, 1-D A, int8", node: node("MatMulInteger", 10, nil, i8(ops.Shape{2}, -1, 2), i8(ops.Shape{2, 2}, 3, 4, 5, -6)),
			want: []*ops.Tensor{ops.FromSlice(ops.Shape{2}, []int32{7, -16})}},
		{name: "K mismatch", node: node("MatMulInteger", 10, nil, a, a), err: "K=3 != B's K=2"},
		{name: "zero point dtype", node: node("MatMulInteger", 10, nil, a, b, i8(ops.Shape{}, 1)), err: "must match"},
	})
}

func TestQLinearMatMul(t *testing.T) {
	f16 := func(v float32) *ops.Tensor {
		return ops.FromSlice(ops.Shape{}, []ops.Float16Bits{ops.Float16FromFloat32(v)})
	}
	runQuantCases(t, []quantCase{
		// The spec's example: numpy rint(matmul(a-113, b-114) * (0.0066*0.00705/0.0107)) + 118.
		{name: "uint8 2-D", node: node("QLinearMatMul", 10, nil,
			u8(ops.Shape{2, 2}, 208, 236, 0, 238), scalarF32(0.0066), u8(ops.Shape{}, 113),
			u8(ops.Shape{2, 2}, 152, 51, 244, 60), scalarF32(0.00705), u8(ops.Shape{}, 114),
			scalarF32(0.0107), u8(ops.Shape{}, 118)),
			want: []*ops.Tensor{u8(ops.Shape{2, 2}, 203, 63, 170, 120)}},
		// numpy: rint(matmul(a-1, b+1) * 1.25) - 3, a batched [2,2,2], b broadcast.
		{name: "int8 batched", node: node("QLinearMatMul", 21, nil,
			i8(ops.Shape{2, 2, 2}, 1, -2, 3, 4, 0, 5, -6, 7), scalarF32(0.5), i8(ops.Shape{}, 1),
			i8(ops.Shape{2, 2}, 2, -1, 1, 3), scalarF32(0.25), i8(ops.Shape{}, -1),
			scalarF32(0.1), i8(ops.Shape{}, -3)),
			want: []*ops.Tensor{i8(ops.Shape{2, 2, 2}, -11, -18, 12, 12, 3, 17, -14, 27)}},
		{name: "float16 scales", node: node("QLinearMatMul", 21, nil,
			u8(ops.Shape{1, 1}, 3), f16(0.5), u8(ops.Shape{}, 1), u8(ops.Shape{1, 1}, 5), f16(2), u8(ops.Shape{}, 0), f16(1), u8(ops.Shape{}, 10)),
			want: []*ops.Tensor{u8(ops.Shape{1, 1}, 20)}}, // (3-1)*(5-0)*0.5*2/1 + 10
		{name: "float16 scales before opset 21", node: node("QLinearMatMul", 10, nil,
			u8(ops.Shape{1, 1}, 3), f16(0.5), u8(ops.Shape{}, 1), u8(ops.Shape{1, 1}, 5), f16(2), u8(ops.Shape{}, 0), f16(1), u8(ops.Shape{}, 10)),
			err: "float16"},
		{name: "y scale not scalar", node: node("QLinearMatMul", 10, nil,
			u8(ops.Shape{1, 1}, 3), scalarF32(1), u8(ops.Shape{}, 1), u8(ops.Shape{1, 1}, 5), scalarF32(1), u8(ops.Shape{}, 0),
			opstest.F32(ops.Shape{2}, 1, 1), u8(ops.Shape{}, 10)), err: "single values"},
	})
}
