package reduce

import (
	"math"
	"strings"
	"unsafe"

	"github.com/onnxrun/onnxrun/ops"
)

// dtypeSet is the list of element types an operator accepts at one opset, as the spec's type constraint says.
type dtypeSet []ops.DType

func (s dtypeSet) has(d ops.DType) bool {
	for _, e := range s {
		if e == d {
			return true
		}
	}
	return false
}

func (s dtypeSet) String() string {
	names := make([]string, len(s))
	for i, d := range s {
		names[i] = d.String()
	}
	return strings.Join(names, ", ")
}

// with returns s extended by more types (the opset that widened a type constraint).
func (s dtypeSet) with(more ...ops.DType) dtypeSet {
	return append(append(dtypeSet{}, s...), more...)
}

// check returns an error naming the input, its dtype and the allowed ones when d is not in s.
func (s dtypeSet) check(opType string, opset int, input string, d ops.DType) error {
	if s.has(d) {
		return nil
	}
	return ops.Invalidf("%s input %s has dtype %s, opset %d allows %s", opType, input, d, opset, s)
}

var (
	floatTypes = dtypeSet{ops.Float16, ops.Float32, ops.Float64}
	// allNumbers is the "all numeric types" constraint of ArgMax, TopK and friends (before bfloat16).
	allNumbers = dtypeSet{ops.Uint8, ops.Uint16, ops.Uint32, ops.Uint64, ops.Int8, ops.Int16, ops.Int32, ops.Int64,
		ops.Float16, ops.Float32, ops.Float64}
)

// widensToFloat32 reports whether kernels compute d in float32 scratch: the 16-bit floats, and bool.
func widensToFloat32(d ops.DType) bool {
	return d == ops.Float16 || d == ops.BFloat16 || d == ops.Bool
}

// widen converts Float16, BFloat16 or bool data (a tensor's Data()) to float32 in dst; bools become 0 or 1.
func widen(dst []float32, src any) {
	switch s := src.(type) {
	case []ops.Float16Bits:
		for i, v := range s {
			dst[i] = v.Float32()
		}
	case []ops.BFloat16Bits:
		for i, v := range s {
			dst[i] = v.Float32()
		}
	case []bool:
		for i, v := range s {
			dst[i] = 0
			if v {
				dst[i] = 1
			}
		}
	}
}

// narrow rounds float32 values into a Float16, BFloat16 or bool slice (a tensor's Data()); a value is true
// when it is above 0, so the identities -inf and +inf of max and min map to false and true.
func narrow(dst any, src []float32) {
	switch d := dst.(type) {
	case []ops.Float16Bits:
		for i, v := range src {
			d[i] = ops.Float16FromFloat32(v)
		}
	case []ops.BFloat16Bits:
		for i, v := range src {
			d[i] = ops.BFloat16FromFloat32(v)
		}
	case []bool:
		for i, v := range src {
			d[i] = v > 0
		}
	}
}

// float64View lays n float64s over the float32 scratch s, which must hold float64ScratchLen(n) elements:
// the spare element lets the view start on an 8-byte boundary whatever the alignment of s. Scratch memory
// holds no pointers, so reinterpreting it is safe for the garbage collector.
func float64View(s []float32, n int) []float64 {
	if n == 0 {
		return nil
	}
	p := unsafe.Pointer(unsafe.SliceData(s))
	if uintptr(p)%unsafe.Alignof(float64(0)) != 0 {
		p = unsafe.Add(p, unsafe.Sizeof(float32(0)))
	}
	return unsafe.Slice((*float64)(p), n)
}

// float64ScratchLen is the float32 scratch length float64View needs for n float64s.
func float64ScratchLen(n int) int {
	if n == 0 {
		return 0
	}
	return 2*n + 1
}

// int32View lays n int32s over the float32 scratch s (same size and alignment).
func int32View(s []float32, n int) []int32 {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(s))), n)
}

// isNaN works for every number type (integers are never NaN).
func isNaN[T ops.Number](v T) bool { return v != v }

// lowest and highest are the identities of max and min: the infinities for floats, the type's range
// otherwise.
func lowest[T ops.Number]() T {
	var z T
	switch any(z).(type) {
	case float32, float64:
		inf := math.Inf(-1)
		return T(inf)
	case int8:
		v := int64(math.MinInt8)
		return T(v)
	case int16:
		v := int64(math.MinInt16)
		return T(v)
	case int32:
		v := int64(math.MinInt32)
		return T(v)
	case int64:
		v := int64(math.MinInt64)
		return T(v)
	}
	return 0 // unsigned
}

func highest[T ops.Number]() T {
	var z T
	switch any(z).(type) {
	case float32, float64:
		inf := math.Inf(1)
		return T(inf)
	case int8:
		v := int64(math.MaxInt8)
		return T(v)
	case int16:
		v := int64(math.MaxInt16)
		return T(v)
	case int32:
		v := int64(math.MaxInt32)
		return T(v)
	case int64:
		v := int64(math.MaxInt64)
		return T(v)
	case uint8:
		v := uint64(math.MaxUint8)
		return T(v)
	case uint16:
		v := uint64(math.MaxUint16)
		return T(v)
	case uint32:
		v := uint64(math.MaxUint32)
		return T(v)
	}
	v := uint64(math.MaxUint64)
	return T(v)
}

// axisExtents splits shape around axis into outer (the product of the dimensions before it), n (its size)
// and inner (the product of those after it): the layout every single-axis operator walks.
func axisExtents(shape ops.Shape, axis int) (outer, n, inner int) {
	return shape[:axis].Size(), shape[axis], shape[axis+1:].Size()
}
