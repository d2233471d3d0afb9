package tensorconv

import (
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
)

// FromArray converts a decoded ONNX tensor (onnx.ReadTensor, onnx.ReadTensorFile, an initializer) to an
// ops.Tensor, sharing its data. The error, from ops.FromData, names the element type and the length that
// do not fit; callers add the file or node it came from.
func FromArray(a *onnx.Array) (*ops.Tensor, error) {
	shape := make(ops.Shape, len(a.Dims))
	for i, d := range a.Dims {
		shape[i] = int(d) // the onnx package checked the dims against the data already
	}
	return ops.FromData(ops.DType(a.DataType), shape, a.Data)
}

// ToArray converts an ops.Tensor to the onnx package's form, for .pb files, initializers and exports;
// Float16 and BFloat16 data become their bit patterns, and the narrow types (float8, float4, 4-bit and 2-bit
// integers) a []uint8 of bit patterns, one element per byte. FromArray maps those back to the ops types.
func ToArray(t *ops.Tensor) *onnx.Array {
	a := &onnx.Array{DataType: onnxpb.TensorProto_DataType(t.DType()), Dims: make([]int64, t.Rank()), Data: t.Data()}
	for i, d := range t.Shape() {
		a.Dims[i] = int64(d)
	}
	switch d := t.Data().(type) {
	case []ops.Float16Bits:
		a.Data = bitPatterns(d)
	case []ops.BFloat16Bits:
		a.Data = bitPatterns(d)
	default:
		if b, ok := ops.NarrowBytes(d); ok { // float8, float4, 4-bit and 2-bit: one pattern per byte
			a.Data = b
		}
	}
	return a
}

func bitPatterns[T ~uint16](s []T) []uint16 {
	out := make([]uint16, len(s))
	for i, v := range s {
		out[i] = uint16(v)
	}
	return out
}
