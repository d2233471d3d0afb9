package tensorconv

import (
	"reflect"
	"testing"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
)

func TestRoundTrip(t *testing.T) {
	for _, x := range []*ops.Tensor{
		ops.FromSlice(ops.Shape{2, 3}, []float32{1, 2, 3, 4, 5, 6}),
		ops.FromSlice(ops.Shape{}, []int64{-7}),
		ops.FromSlice(ops.Shape{2}, []bool{true, false}),
		ops.FromSlice(ops.Shape{2}, []string{"a", "b"}),
		ops.FromSlice(ops.Shape{3}, []ops.Float16Bits{0x3c00, 0x7e00, 0x8000}),
		ops.FromSlice(ops.Shape{1}, []ops.BFloat16Bits{0x3f80}),
		ops.FromSlice(ops.Shape{2}, []ops.Float8E4M3FNBits{0x38, 0x7f}),
		ops.FromSlice(ops.Shape{3}, []ops.Int4Value{-8, 0, 7}),
		ops.FromSlice(ops.Shape{0, 4}, []float64{}),
	} {
		a := ToArray(x)
		if a.DataType != onnxpb.TensorProto_DataType(x.DType()) {
			t.Errorf("%s: array type %v", x.DType(), a.DataType)
		}
		// The onnx package takes 16-bit floats as uint16 and the narrow types as bytes, never ops's types.
		switch x.DType() {
		case ops.Float16, ops.BFloat16:
			if _, ok := a.Data.([]uint16); !ok {
				t.Errorf("%s: array data %T, want []uint16", x.DType(), a.Data)
			}
		case ops.Float8E4M3FN, ops.Int4:
			if _, ok := a.Data.([]uint8); !ok {
				t.Errorf("%s: array data %T, want []uint8", x.DType(), a.Data)
			}
		}
		if _, err := onnx.NewTensorProto("x", a); err != nil {
			t.Errorf("%s: onnx refuses the array: %v", x.DType(), err)
		}
		y, err := FromArray(a)
		if err != nil {
			t.Fatalf("%s%v: %v", x.DType(), x.Shape(), err)
		}
		if y.DType() != x.DType() || !y.Shape().Equal(x.Shape()) || !reflect.DeepEqual(y.Data(), x.Data()) {
			t.Errorf("round trip changed %s%v %v into %s%v %v", x.DType(), x.Shape(), x.Data(), y.DType(), y.Shape(), y.Data())
		}
	}
}

func TestFromArrayRefusesMismatchedData(t *testing.T) {
	for _, a := range []*onnx.Array{
		{DataType: onnxpb.TensorProto_FLOAT, Dims: []int64{3}, Data: []float32{1, 2}},
		{DataType: onnxpb.TensorProto_FLOAT, Dims: []int64{2}, Data: []int32{1, 2}},
	} {
		if x, err := FromArray(a); err == nil {
			t.Errorf("%v %v %T: got %s%v, want an error", a.DataType, a.Dims, a.Data, x.DType(), x.Shape())
		}
	}
}
