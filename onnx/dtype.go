package onnx

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/onnxrun/onnxrun/onnx/onnxpb"
)

// field names a TensorProto field that can carry elements.
type field int

const (
	noField field = iota
	floatData
	doubleData
	int32Data
	int64Data
	uint64Data
	stringData
)

func (f field) String() string {
	return [...]string{"none", "float_data", "double_data", "int32_data", "int64_data", "uint64_data", "string_data"}[f]
}

// dtypeInfo is what the decoder needs to know about one element type: its storage width in raw_data,
// which typed field carries it and how densely, and whether Array can hold it (the narrow types one element
// per byte, see Array).
type dtypeInfo struct {
	bits      int64 // bits per element in raw_data (complex: both halves); 0 for STRING
	field     field // the typed field that carries it
	entryBits int64 // bits of an element carried by one entry of that field (see entries)
	goSize    int64 // bytes per element in Array.Data; 0 when Array cannot hold the type
}

// dtypes is indexed by TensorProto.DataType. The typed-field layout follows the comments of onnx.proto:
// int32_data holds one element per entry for 8- and 16-bit types and packs two 4-bit or four 2-bit
// elements into the low byte of each entry; complex types interleave (real, imaginary) in float_data or
// double_data.
var dtypes = map[onnxpb.TensorProto_DataType]dtypeInfo{
	onnxpb.TensorProto_FLOAT:          {bits: 32, field: floatData, entryBits: 32, goSize: 4},
	onnxpb.TensorProto_UINT8:          {bits: 8, field: int32Data, entryBits: 8, goSize: 1},
	onnxpb.TensorProto_INT8:           {bits: 8, field: int32Data, entryBits: 8, goSize: 1},
	onnxpb.TensorProto_UINT16:         {bits: 16, field: int32Data, entryBits: 16, goSize: 2},
	onnxpb.TensorProto_INT16:          {bits: 16, field: int32Data, entryBits: 16, goSize: 2},
	onnxpb.TensorProto_INT32:          {bits: 32, field: int32Data, entryBits: 32, goSize: 4},
	onnxpb.TensorProto_INT64:          {bits: 64, field: int64Data, entryBits: 64, goSize: 8},
	onnxpb.TensorProto_STRING:         {bits: 0, field: stringData, entryBits: 0, goSize: 16},
	onnxpb.TensorProto_BOOL:           {bits: 8, field: int32Data, entryBits: 8, goSize: 1},
	onnxpb.TensorProto_FLOAT16:        {bits: 16, field: int32Data, entryBits: 16, goSize: 2},
	onnxpb.TensorProto_DOUBLE:         {bits: 64, field: doubleData, entryBits: 64, goSize: 8},
	onnxpb.TensorProto_UINT32:         {bits: 32, field: uint64Data, entryBits: 32, goSize: 4},
	onnxpb.TensorProto_UINT64:         {bits: 64, field: uint64Data, entryBits: 64, goSize: 8},
	onnxpb.TensorProto_COMPLEX64:      {bits: 64, field: floatData, entryBits: 32, goSize: 8},
	onnxpb.TensorProto_COMPLEX128:     {bits: 128, field: doubleData, entryBits: 64, goSize: 16},
	onnxpb.TensorProto_BFLOAT16:       {bits: 16, field: int32Data, entryBits: 16, goSize: 2},
	onnxpb.TensorProto_FLOAT8E4M3FN:   {bits: 8, field: int32Data, entryBits: 8, goSize: 1},
	onnxpb.TensorProto_FLOAT8E4M3FNUZ: {bits: 8, field: int32Data, entryBits: 8, goSize: 1},
	onnxpb.TensorProto_FLOAT8E5M2:     {bits: 8, field: int32Data, entryBits: 8, goSize: 1},
	onnxpb.TensorProto_FLOAT8E5M2FNUZ: {bits: 8, field: int32Data, entryBits: 8, goSize: 1},
	onnxpb.TensorProto_UINT4:          {bits: 4, field: int32Data, entryBits: 8, goSize: 1},
	onnxpb.TensorProto_INT4:           {bits: 4, field: int32Data, entryBits: 8, goSize: 1},
	onnxpb.TensorProto_FLOAT4E2M1:     {bits: 4, field: int32Data, entryBits: 8, goSize: 1},
	onnxpb.TensorProto_FLOAT8E8M0:     {bits: 8, field: int32Data, entryBits: 8, goSize: 1},
	onnxpb.TensorProto_UINT2:          {bits: 2, field: int32Data, entryBits: 8, goSize: 1},
	onnxpb.TensorProto_INT2:           {bits: 2, field: int32Data, entryBits: 8, goSize: 1},
}

// dtypeName prints a data type number as ONNX names it, with the number for values we do not know.
func dtypeName(dt onnxpb.TensorProto_DataType) string {
	if _, ok := dtypes[dt]; ok {
		return dt.String()
	}
	return fmt.Sprintf("data type %d", int32(dt))
}

// rawBytes is the length of raw_data (or of the external data) for n elements: ceil(n*bits/8).
func (d dtypeInfo) rawBytes(n int64) (int64, bool) {
	return mulCeilDiv(n, d.bits, 8)
}

// entries is the number of typed-field entries for n elements: ceil(n*bits/entryBits).
func (d dtypeInfo) entries(n int64) (int64, bool) {
	if d.field == stringData {
		return n, true
	}
	return mulCeilDiv(n, d.bits, d.entryBits)
}

// mulCeilDiv returns ceil(a*b/c) for non-negative a, b and positive c, and false if a*b overflows int64.
func mulCeilDiv(a, b, c int64) (int64, bool) {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	p := int64(lo)
	return p/c + min(p%c, 1), true
}

// numElements multiplies dims, rejecting negative dims and overflow. where names the tensor.
func numElements(where string, dims []int64) (int64, error) {
	n := int64(1)
	for i, d := range dims {
		if d < 0 {
			return 0, formatErr(where, fmt.Sprintf("dims %v: dim %d is negative (%d)", dims, i, d))
		}
		if d != 0 && n > math.MaxInt64/d {
			return 0, formatErr(where, fmt.Sprintf("dims %v: element count overflows int64", dims))
		}
		n *= d
	}
	return n, nil
}
