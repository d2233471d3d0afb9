package ops

import (
	"fmt"
	"math"
)

// Tensor is a dense, row-major n-dimensional array. Its data is a Go slice whose element type matches DType
// (see Elem); len(data) == Shape.Size() always holds.
//
// Tensors handed to a Kernel's Run are owned by the runtime: a kernel reads its inputs and writes its outputs
// in place, and keeps no reference to either after Run returns.
//
// A Tensor may instead hold a non-tensor value, a sequence, an optional or a map (see Kind and value.go):
// every runtime slot holds a *Tensor, and what it holds is the value.
type Tensor struct {
	dtype DType
	shape Shape
	data  any
	// typ and elems describe a non-tensor value (typ nil for a plain tensor); see value.go.
	typ   *ValueType
	elems []*Tensor
	// dropped is set once the runtime let go of the elements of a constant that only packed forms are read
	// from (DropData): data is nil, shape and identity stay.
	dropped bool
}

// New allocates a zeroed tensor.
func New(dt DType, shape Shape) *Tensor {
	n := shape.Size()
	return &Tensor{dtype: dt, shape: shape.Clone(), data: makeSlice(dt, n)}
}

// FromSlice wraps data (not copied) as a tensor of the given shape. It panics if the lengths disagree,
// since that is a programming error in the caller, not bad input.
func FromSlice[T Elem](shape Shape, data []T) *Tensor {
	if shape.Size() != len(data) {
		panic(errSliceShapeMismatch)
	}
	return &Tensor{dtype: DTypeOf[T](), shape: shape.Clone(), data: data}
}

// Scalar returns a rank-0 tensor holding v.
func Scalar[T Elem](v T) *Tensor { return FromSlice(Shape{}, []T{v}) }

// FromData wraps an untyped slice (one of the Elem slices) as a tensor of dtype dt, checking that the slice
// type and length agree with dt and shape. Float16 and BFloat16 data may be given as []uint16 bit patterns,
// and the narrow types (float8, float4, 4-bit and 2-bit integers) as []uint8 holding one element's bit
// pattern per byte, in the low bits (the onnx package's Array form); those are copied.
func FromData(dt DType, shape Shape, data any) (*Tensor, error) {
	switch d := data.(type) {
	case []uint16:
		switch dt {
		case Float16:
			data = reinterpretUint16[Float16Bits](d)
		case BFloat16:
			data = reinterpretUint16[BFloat16Bits](d)
		}
	case []uint8:
		if dt != Uint8 {
			data = narrowFromBytes(dt, d)
		}
	}
	if got := sliceDType(data); got != dt {
		return nil, fmt.Errorf("data of type %T does not hold %s elements", data, dt)
	}
	if n := sliceLen(data); n != shape.Size() {
		return nil, fmt.Errorf("%d elements do not fill shape %v (%d elements)", n, shape, shape.Size())
	}
	return &Tensor{dtype: dt, shape: shape.Clone(), data: data}, nil
}

func reinterpretUint16[T ~uint16](s []uint16) []T {
	out := make([]T, len(s))
	for i, v := range s {
		out[i] = T(v)
	}
	return out
}

// DType is the element type.
func (t *Tensor) DType() DType { return t.dtype }

// Shape is the tensor's dimensions. Callers must not modify it.
func (t *Tensor) Shape() Shape { return t.shape }

// Len is the number of elements.
func (t *Tensor) Len() int { return sliceLen(t.data) }

// Rank is the number of dimensions.
func (t *Tensor) Rank() int { return len(t.shape) }

// Data returns the underlying slice (for example a []float32) as an interface value; nil once the data
// was dropped (see Dropped).
func (t *Tensor) Data() any { return t.data }

// DropData lets go of a constant's elements, keeping its dtype, shape and identity: the runtime calls it on
// a weight whose every reader uses only its packed forms (see PackedOnly), so that the collector frees
// the elements, or the mapped file's pages go when trimmed. Afterwards Data is nil, Len is 0, the typed
// accessors panic (a reader of dropped data is a bug, not bad input), and Prepack finds the forms packed
// before but packs no new ones. The caller makes sure that no one reads the data concurrently.
func (t *Tensor) DropData() { t.data, t.dropped = nil, true }

// Dropped reports whether DropData let go of t's elements.
func (t *Tensor) Dropped() bool { return t.dropped }

// Float32s returns the data of a Float32 tensor. Like the other typed accessors it panics on a dtype mismatch,
// which kernels rule out in Prepare.
func (t *Tensor) Float32s() []float32 { return t.data.([]float32) }

// Float64s returns the data of a Float64 tensor.
func (t *Tensor) Float64s() []float64 { return t.data.([]float64) }

// Int64s returns the data of an Int64 tensor.
func (t *Tensor) Int64s() []int64 { return t.data.([]int64) }

// Int32s returns the data of an Int32 tensor.
func (t *Tensor) Int32s() []int32 { return t.data.([]int32) }

// Bools returns the data of a Bool tensor.
func (t *Tensor) Bools() []bool { return t.data.([]bool) }

// Data returns t's elements as a []T; it panics when T does not match t's dtype.
func Data[T Elem](t *Tensor) []T { return t.data.([]T) }

// View returns a tensor sharing t's data with another shape of the same size (Reshape, Flatten, Squeeze).
func (t *Tensor) View(shape Shape) *Tensor {
	if shape.Size() != t.Len() {
		panic(errViewSizeMismatch)
	}
	return &Tensor{dtype: t.dtype, shape: shape.Clone(), data: t.data}
}

// Clone returns a deep copy (of every element, for a sequence, an optional or a map).
func (t *Tensor) Clone() *Tensor {
	if t.typ != nil {
		return t.cloneValue()
	}
	if t.dropped {
		panic(errDroppedData)
	}
	c := New(t.dtype, t.shape)
	CopyData(c, t)
	return c
}

// CopyData copies src's elements into dst; both must have the same dtype and length.
func CopyData(dst, src *Tensor) { CopyElements(dst, 0, src, 0, min(dst.Len(), src.Len())) }

// CopyElements copies n elements of src from index srcOff into dst from index dstOff; both must have the
// same dtype. It allocates nothing, so that control flow can move loop-carried values and scan slices
// through preallocated tensors at every iteration.
func CopyElements(dst *Tensor, dstOff int, src *Tensor, srcOff, n int) {
	switch dst.data.(type) {
	case []float32:
		copyElements[float32](dst.data, dstOff, src.data, srcOff, n)
	case []float64:
		copyElements[float64](dst.data, dstOff, src.data, srcOff, n)
	case []int64:
		copyElements[int64](dst.data, dstOff, src.data, srcOff, n)
	case []int32:
		copyElements[int32](dst.data, dstOff, src.data, srcOff, n)
	case []int16:
		copyElements[int16](dst.data, dstOff, src.data, srcOff, n)
	case []int8:
		copyElements[int8](dst.data, dstOff, src.data, srcOff, n)
	case []uint8:
		copyElements[uint8](dst.data, dstOff, src.data, srcOff, n)
	case []uint16:
		copyElements[uint16](dst.data, dstOff, src.data, srcOff, n)
	case []uint32:
		copyElements[uint32](dst.data, dstOff, src.data, srcOff, n)
	case []uint64:
		copyElements[uint64](dst.data, dstOff, src.data, srcOff, n)
	case []bool:
		copyElements[bool](dst.data, dstOff, src.data, srcOff, n)
	case []string:
		copyElements[string](dst.data, dstOff, src.data, srcOff, n)
	case []Float16Bits:
		copyElements[Float16Bits](dst.data, dstOff, src.data, srcOff, n)
	case []BFloat16Bits:
		copyElements[BFloat16Bits](dst.data, dstOff, src.data, srcOff, n)
	case []complex64:
		copyElements[complex64](dst.data, dstOff, src.data, srcOff, n)
	case []complex128:
		copyElements[complex128](dst.data, dstOff, src.data, srcOff, n)
	case []Float8E4M3FNBits:
		copyElements[Float8E4M3FNBits](dst.data, dstOff, src.data, srcOff, n)
	case []Float8E4M3FNUZBits:
		copyElements[Float8E4M3FNUZBits](dst.data, dstOff, src.data, srcOff, n)
	case []Float8E5M2Bits:
		copyElements[Float8E5M2Bits](dst.data, dstOff, src.data, srcOff, n)
	case []Float8E5M2FNUZBits:
		copyElements[Float8E5M2FNUZBits](dst.data, dstOff, src.data, srcOff, n)
	case []Uint4Value:
		copyElements[Uint4Value](dst.data, dstOff, src.data, srcOff, n)
	case []Int4Value:
		copyElements[Int4Value](dst.data, dstOff, src.data, srcOff, n)
	case []Float4E2M1Bits:
		copyElements[Float4E2M1Bits](dst.data, dstOff, src.data, srcOff, n)
	case []Float8E8M0Bits:
		copyElements[Float8E8M0Bits](dst.data, dstOff, src.data, srcOff, n)
	case []Uint2Value:
		copyElements[Uint2Value](dst.data, dstOff, src.data, srcOff, n)
	case []Int2Value:
		copyElements[Int2Value](dst.data, dstOff, src.data, srcOff, n)
	default:
		panic(errUnknownDType)
	}
}

func copyElements[T any](dst any, dstOff int, src any, srcOff, n int) {
	copy(dst.([]T)[dstOff:dstOff+n], src.([]T)[srcOff:srcOff+n])
}

// SetShape changes the tensor's dimensions in place, keeping its data; the runtime uses it when a buffer is
// re-used for a value of another shape. The new shape must have as many elements as the data slice.
func (t *Tensor) SetShape(shape Shape) {
	if shape.Size() != t.Len() {
		panic(errViewSizeMismatch)
	}
	t.shape = append(t.shape[:0], shape...)
}

// Wrap points t at a new dtype, shape and backing slice without allocating a new Tensor; the memory planner
// uses it to place values in arena buffers.
func (t *Tensor) Wrap(dt DType, shape Shape, data any) {
	t.dtype, t.data = dt, data
	t.typ, t.elems = nil, nil
	t.shape = append(t.shape[:0], shape...)
}

func (t *Tensor) String() string {
	if t.typ != nil {
		return t.valueString()
	}
	return fmt.Sprintf("Tensor(%s%v)", t.dtype, t.shape)
}

// AsFloat64s returns the elements converted to float64, whatever the numeric dtype: for tests, printing and
// shape-carrying inputs. It allocates.
func (t *Tensor) AsFloat64s() []float64 {
	out := make([]float64, t.Len())
	switch d := t.data.(type) {
	case []float32:
		for i, v := range d {
			out[i] = float64(v)
		}
	case []float64:
		copy(out, d)
	case []int64:
		convertTo(out, d)
	case []int32:
		convertTo(out, d)
	case []int16:
		convertTo(out, d)
	case []int8:
		convertTo(out, d)
	case []uint8:
		convertTo(out, d)
	case []uint16:
		convertTo(out, d)
	case []uint32:
		convertTo(out, d)
	case []uint64:
		convertTo(out, d)
	case []bool:
		for i, v := range d {
			if v {
				out[i] = 1
			}
		}
	case []Float16Bits:
		for i, v := range d {
			out[i] = float64(v.Float32())
		}
	case []BFloat16Bits:
		for i, v := range d {
			out[i] = float64(v.Float32())
		}
	case []Float8E4M3FNBits:
		narrowTo(out, d)
	case []Float8E4M3FNUZBits:
		narrowTo(out, d)
	case []Float8E5M2Bits:
		narrowTo(out, d)
	case []Float8E5M2FNUZBits:
		narrowTo(out, d)
	case []Uint4Value:
		narrowTo(out, d)
	case []Int4Value:
		narrowTo(out, d)
	case []Float4E2M1Bits:
		narrowTo(out, d)
	case []Float8E8M0Bits:
		narrowTo(out, d)
	case []Uint2Value:
		narrowTo(out, d)
	case []Int2Value:
		narrowTo(out, d)
	default:
		for i := range out {
			out[i] = math.NaN()
		}
	}
	return out
}

// AsInt64s returns integer (or bool) elements widened to int64: how kernels read shape, axes, pads and
// index inputs that ONNX allows as int32 or int64. Floats are truncated. It allocates.
func (t *Tensor) AsInt64s() []int64 {
	if d, ok := t.data.([]int64); ok {
		return append([]int64(nil), d...)
	}
	f := t.AsFloat64s()
	out := make([]int64, len(f))
	for i, v := range f {
		out[i] = int64(v)
	}
	return out
}

// narrowTo widens the narrow element types to float64, exactly.
func narrowTo[T NarrowElem](dst []float64, src []T) {
	f := NarrowToFloat64[T]()
	for i, v := range src {
		dst[i] = f(v)
	}
}

func convertTo[T Number](dst []float64, src []T) {
	for i, v := range src {
		dst[i] = float64(v)
	}
}

func makeSlice(dt DType, n int) any {
	switch dt {
	case Float32:
		return make([]float32, n)
	case Float64:
		return make([]float64, n)
	case Int8:
		return make([]int8, n)
	case Int16:
		return make([]int16, n)
	case Int32:
		return make([]int32, n)
	case Int64:
		return make([]int64, n)
	case Uint8:
		return make([]uint8, n)
	case Uint16:
		return make([]uint16, n)
	case Uint32:
		return make([]uint32, n)
	case Uint64:
		return make([]uint64, n)
	case Bool:
		return make([]bool, n)
	case String:
		return make([]string, n)
	case Float16:
		return make([]Float16Bits, n)
	case BFloat16:
		return make([]BFloat16Bits, n)
	case Complex64:
		return make([]complex64, n)
	case Complex128:
		return make([]complex128, n)
	case Float8E4M3FN:
		return make([]Float8E4M3FNBits, n)
	case Float8E4M3FNUZ:
		return make([]Float8E4M3FNUZBits, n)
	case Float8E5M2:
		return make([]Float8E5M2Bits, n)
	case Float8E5M2FNUZ:
		return make([]Float8E5M2FNUZBits, n)
	case Uint4:
		return make([]Uint4Value, n)
	case Int4:
		return make([]Int4Value, n)
	case Float4E2M1:
		return make([]Float4E2M1Bits, n)
	case Float8E8M0:
		return make([]Float8E8M0Bits, n)
	case Uint2:
		return make([]Uint2Value, n)
	case Int2:
		return make([]Int2Value, n)
	}
	panic(errUnknownDType)
}

// MakeSlice allocates a zeroed slice of n elements of dtype dt (the memory planner's buffers).
func MakeSlice(dt DType, n int) any { return makeSlice(dt, n) }

// Slice returns data[lo:hi] for any Elem slice held in an interface.
func Slice(data any, lo, hi int) any {
	switch d := data.(type) {
	case []float32:
		return d[lo:hi]
	case []float64:
		return d[lo:hi]
	case []int8:
		return d[lo:hi]
	case []int16:
		return d[lo:hi]
	case []int32:
		return d[lo:hi]
	case []int64:
		return d[lo:hi]
	case []uint8:
		return d[lo:hi]
	case []uint16:
		return d[lo:hi]
	case []uint32:
		return d[lo:hi]
	case []uint64:
		return d[lo:hi]
	case []bool:
		return d[lo:hi]
	case []string:
		return d[lo:hi]
	case []Float16Bits:
		return d[lo:hi]
	case []BFloat16Bits:
		return d[lo:hi]
	case []complex64:
		return d[lo:hi]
	case []complex128:
		return d[lo:hi]
	case []Float8E4M3FNBits:
		return d[lo:hi]
	case []Float8E4M3FNUZBits:
		return d[lo:hi]
	case []Float8E5M2Bits:
		return d[lo:hi]
	case []Float8E5M2FNUZBits:
		return d[lo:hi]
	case []Uint4Value:
		return d[lo:hi]
	case []Int4Value:
		return d[lo:hi]
	case []Float4E2M1Bits:
		return d[lo:hi]
	case []Float8E8M0Bits:
		return d[lo:hi]
	case []Uint2Value:
		return d[lo:hi]
	case []Int2Value:
		return d[lo:hi]
	}
	panic(errUnknownDType)
}

func sliceLen(data any) int {
	switch d := data.(type) {
	case nil:
		return 0 // a dropped constant's
	case []float32:
		return len(d)
	case []float64:
		return len(d)
	case []int8:
		return len(d)
	case []int16:
		return len(d)
	case []int32:
		return len(d)
	case []int64:
		return len(d)
	case []uint8:
		return len(d)
	case []uint16:
		return len(d)
	case []uint32:
		return len(d)
	case []uint64:
		return len(d)
	case []bool:
		return len(d)
	case []string:
		return len(d)
	case []Float16Bits:
		return len(d)
	case []BFloat16Bits:
		return len(d)
	case []complex64:
		return len(d)
	case []complex128:
		return len(d)
	case []Float8E4M3FNBits:
		return len(d)
	case []Float8E4M3FNUZBits:
		return len(d)
	case []Float8E5M2Bits:
		return len(d)
	case []Float8E5M2FNUZBits:
		return len(d)
	case []Uint4Value:
		return len(d)
	case []Int4Value:
		return len(d)
	case []Float4E2M1Bits:
		return len(d)
	case []Float8E8M0Bits:
		return len(d)
	case []Uint2Value:
		return len(d)
	case []Int2Value:
		return len(d)
	}
	return -1
}

func sliceDType(data any) DType {
	switch data.(type) {
	case []float32:
		return Float32
	case []float64:
		return Float64
	case []int8:
		return Int8
	case []int16:
		return Int16
	case []int32:
		return Int32
	case []int64:
		return Int64
	case []uint8:
		return Uint8
	case []uint16:
		return Uint16
	case []uint32:
		return Uint32
	case []uint64:
		return Uint64
	case []bool:
		return Bool
	case []string:
		return String
	case []Float16Bits:
		return Float16
	case []BFloat16Bits:
		return BFloat16
	case []complex64:
		return Complex64
	case []complex128:
		return Complex128
	case []Float8E4M3FNBits:
		return Float8E4M3FN
	case []Float8E4M3FNUZBits:
		return Float8E4M3FNUZ
	case []Float8E5M2Bits:
		return Float8E5M2
	case []Float8E5M2FNUZBits:
		return Float8E5M2FNUZ
	case []Uint4Value:
		return Uint4
	case []Int4Value:
		return Int4
	case []Float4E2M1Bits:
		return Float4E2M1
	case []Float8E8M0Bits:
		return Float8E8M0
	case []Uint2Value:
		return Uint2
	case []Int2Value:
		return Int2
	}
	return Undefined
}
