package elementwise

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

func TestBitCast(t *testing.T) {
	node := func(to ops.DType, x *ops.Tensor) opstest.Node {
		return opstest.Node{OpType: "BitCast", Opset: 26, Attrs: ops.AttrMap{"to": ops.IntAttr(int64(to))}, Inputs: []*ops.Tensor{x}}
	}
	runNewOpCases(t, []newOpCase{
		// numpy: np.array([1.5, -2], np.float32).view(np.int32)
		{name: "float32 to int32", node: node(ops.Int32, opstest.F32(ops.Shape{2}, 1.5, -2)),
			want: []*ops.Tensor{ops.FromSlice(ops.Shape{2}, []int32{1069547520, -1073741824})}},
		{name: "float64 to int64", node: node(ops.Int64, ops.FromSlice(ops.Shape{}, []float64{1})),
			want: []*ops.Tensor{ops.FromSlice(ops.Shape{}, []int64{4607182418800017408})}},
		{name: "int16 to uint16", node: node(ops.Uint16, ops.FromSlice(ops.Shape{2}, []int16{-1, 255})),
			want: []*ops.Tensor{ops.FromSlice(ops.Shape{2}, []uint16{65535, 255})}},
		{name: "uint16 to float16", node: node(ops.Float16, ops.FromSlice(ops.Shape{1}, []uint16{0x3c00})),
			want: []*ops.Tensor{ops.FromSlice(ops.Shape{1}, []ops.Float16Bits{0x3c00})}},
		{name: "bool to uint8", node: node(ops.Uint8, ops.FromSlice(ops.Shape{2}, []bool{true, false})),
			want: []*ops.Tensor{ops.FromSlice(ops.Shape{2}, []uint8{1, 0})}},
		{name: "uint8 to bool", node: node(ops.Bool, ops.FromSlice(ops.Shape{3}, []uint8{0, 1, 7})),
			want: []*ops.Tensor{ops.FromSlice(ops.Shape{3}, []bool{false, true, true})}},
		{name: "int4 to uint4", node: node(ops.Uint4, ops.FromSlice(ops.Shape{3}, []ops.Int4Value{-1, -8, 7})),
			want: []*ops.Tensor{ops.FromSlice(ops.Shape{3}, []ops.Uint4Value{15, 8, 7})}},
		{name: "uint4 to int4", node: node(ops.Int4, ops.FromSlice(ops.Shape{2}, []ops.Uint4Value{15, 3})),
			want: []*ops.Tensor{ops.FromSlice(ops.Shape{2}, []ops.Int4Value{-1, 3})}},
		{name: "uint8 to float8e4m3fn", node: node(ops.Float8E4M3FN, ops.FromSlice(ops.Shape{1}, []uint8{0x38})),
			want: []*ops.Tensor{ops.FromSlice(ops.Shape{1}, []ops.Float8E4M3FNBits{0x38})}},
		{name: "width mismatch", node: node(ops.Int64, opstest.F32(ops.Shape{1}, 1)), err: "float32 (32 bits) to int64 (64 bits)"},
		{name: "string target", node: node(ops.String, opstest.F32(ops.Shape{1}, 1)), err: `"to"`},
		{name: "string input", node: node(ops.Int64, ops.FromSlice(ops.Shape{1}, []string{"a"})), err: "string"},
	})
	if _, err := opstest.Run(opstest.Node{OpType: "BitCast", Opset: 26, Inputs: []*ops.Tensor{opstest.F32(ops.Shape{1}, 1)}}); err == nil {
		t.Fatal("BitCast without 'to' built")
	}
}
