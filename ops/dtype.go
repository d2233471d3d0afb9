package ops

import "fmt"

// DType is a tensor element type. The numeric values are those of ONNX's TensorProto.DataType, so converting a
// model's type is a cast, and a DType prints as ONNX names it.
type DType uint8

// The element types onnxrun can hold. Float16 and BFloat16 are stored as their bit patterns (see Float16).
const (
	Undefined  DType = 0
	Float32    DType = 1
	Uint8      DType = 2
	Int8       DType = 3
	Uint16     DType = 4
	Int16      DType = 5
	Int32      DType = 6
	Int64      DType = 7
	String     DType = 8
	Bool       DType = 9
	Float16    DType = 10
	Float64    DType = 11
	Uint32     DType = 12
	Uint64     DType = 13
	Complex64  DType = 14
	Complex128 DType = 15
	BFloat16   DType = 16
	// The narrow types of opsets 19 to 25, held one element per byte (see Float8E4M3FNBits, Int4Value, ...).
	Float8E4M3FN   DType = 17
	Float8E4M3FNUZ DType = 18
	Float8E5M2     DType = 19
	Float8E5M2FNUZ DType = 20
	Uint4          DType = 21
	Int4           DType = 22
	Float4E2M1     DType = 23
	Float8E8M0     DType = 24
	Uint2          DType = 25
	Int2           DType = 26
)

var dtypeNames = [...]string{
	Undefined: "undefined", Float32: "float32", Uint8: "uint8", Int8: "int8", Uint16: "uint16", Int16: "int16",
	Int32: "int32", Int64: "int64", String: "string", Bool: "bool", Float16: "float16", Float64: "float64",
	Uint32: "uint32", Uint64: "uint64", Complex64: "complex64", Complex128: "complex128", BFloat16: "bfloat16",
	Float8E4M3FN: "float8e4m3fn", Float8E4M3FNUZ: "float8e4m3fnuz", Float8E5M2: "float8e5m2",
	Float8E5M2FNUZ: "float8e5m2fnuz", Uint4: "uint4", Int4: "int4", Float4E2M1: "float4e2m1",
	Float8E8M0: "float8e8m0", Uint2: "uint2", Int2: "int2",
}

func (d DType) String() string {
	if int(d) < len(dtypeNames) && dtypeNames[d] != "" {
		return dtypeNames[d]
	}
	return fmt.Sprintf("dtype(%d)", uint8(d))
}

// Size is the number of bytes one element occupies in memory (strings count as 16, a Go string header). The
// 4-bit and 2-bit types take a whole byte each in memory; only files pack them.
func (d DType) Size() int {
	switch d {
	case Uint8, Int8, Bool, Float8E4M3FN, Float8E4M3FNUZ, Float8E5M2, Float8E5M2FNUZ, Uint4, Int4, Float4E2M1,
		Float8E8M0, Uint2, Int2:
		return 1
	case Uint16, Int16, Float16, BFloat16:
		return 2
	case Float32, Int32, Uint32:
		return 4
	case Float64, Int64, Uint64, Complex64:
		return 8
	case String, Complex128:
		return 16
	}
	return 0
}

// IsFloat reports whether d is a floating-point type with arithmetic kernels: float16, bfloat16, float32 and
// float64. The float8 and float4 types are storage types (Cast, QuantizeLinear) and are not included; nor are
// the 4-bit and 2-bit integers in IsInteger and IsSigned.
func (d DType) IsFloat() bool {
	return d == Float32 || d == Float64 || d == Float16 || d == BFloat16
}

// IsInteger reports whether d is a signed or unsigned integer type.
func (d DType) IsInteger() bool {
	switch d {
	case Uint8, Int8, Uint16, Int16, Int32, Int64, Uint32, Uint64:
		return true
	}
	return false
}

// IsSigned reports whether d can hold negative values.
func (d DType) IsSigned() bool {
	switch d {
	case Int8, Int16, Int32, Int64, Float32, Float64, Float16, BFloat16:
		return true
	}
	return false
}

// Float16Bits is an IEEE 754 half-precision number held as its bit pattern.
type Float16Bits uint16

// BFloat16Bits is a bfloat16 (the top half of a float32) held as its bit pattern.
type BFloat16Bits uint16

// Elem is the set of Go types a Tensor's data can be a slice of, one per DType.
type Elem interface {
	float32 | float64 | int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | bool | string |
		Float16Bits | BFloat16Bits | complex64 | complex128 | NarrowElem
}

// NarrowElem is the set of Go types of the float8, float4, 4-bit and 2-bit integer dtypes, one byte per element.
type NarrowElem interface {
	Float8E4M3FNBits | Float8E4M3FNUZBits | Float8E5M2Bits | Float8E5M2FNUZBits | Float4E2M1Bits |
		Float8E8M0Bits | Uint4Value | Int4Value | Uint2Value | Int2Value
}

// Number is the subset of Elem with arithmetic: what most math kernels are generic over.
type Number interface {
	float32 | float64 | int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64
}

// Float is the set of native Go floating-point types.
type Float interface{ float32 | float64 }

// Integer is the set of native Go integer types.
type Integer interface {
	int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64
}

// DTypeOf returns the DType whose elements are Go values of type T.
func DTypeOf[T Elem]() DType {
	var zero T
	switch any(zero).(type) {
	case float32:
		return Float32
	case float64:
		return Float64
	case int8:
		return Int8
	case int16:
		return Int16
	case int32:
		return Int32
	case int64:
		return Int64
	case uint8:
		return Uint8
	case uint16:
		return Uint16
	case uint32:
		return Uint32
	case uint64:
		return Uint64
	case bool:
		return Bool
	case string:
		return String
	case Float16Bits:
		return Float16
	case BFloat16Bits:
		return BFloat16
	case complex64:
		return Complex64
	case complex128:
		return Complex128
	case Float8E4M3FNBits:
		return Float8E4M3FN
	case Float8E4M3FNUZBits:
		return Float8E4M3FNUZ
	case Float8E5M2Bits:
		return Float8E5M2
	case Float8E5M2FNUZBits:
		return Float8E5M2FNUZ
	case Float4E2M1Bits:
		return Float4E2M1
	case Float8E8M0Bits:
		return Float8E8M0
	case Uint4Value:
		return Uint4
	case Int4Value:
		return Int4
	case Uint2Value:
		return Uint2
	case Int2Value:
		return Int2
	}
	return Undefined
}
