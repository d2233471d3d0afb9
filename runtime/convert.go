package runtime

import (
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
)

// TensorFromArray converts a decoded ONNX tensor (onnx.ReadTensor, onnx.ReadTensorFile) to an ops.Tensor,
// sharing its data where the element types agree.
func TensorFromArray(a *onnx.Array) (*ops.Tensor, error) { return arrayToTensor(a) }

// ArrayFromTensor converts an ops.Tensor to the onnx package's form, for writing .pb files and
// initializers. Float16 and BFloat16 data become their bit patterns.
func ArrayFromTensor(t *ops.Tensor) *onnx.Array {
	a := &onnx.Array{DataType: onnxpb.TensorProto_DataType(t.DType()), Dims: make([]int64, t.Rank())}
	for i, d := range t.Shape() {
		a.Dims[i] = int64(d)
	}
	switch d := t.Data().(type) {
	case []ops.Float16Bits:
		bits := make([]uint16, len(d))
		for i, v := range d {
			bits[i] = uint16(v)
		}
		a.Data = bits
	case []ops.BFloat16Bits:
		bits := make([]uint16, len(d))
		for i, v := range d {
			bits[i] = uint16(v)
		}
		a.Data = bits
	default:
		a.Data = d
	}
	return a
}
