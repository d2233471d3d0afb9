package reduce

import (
	"math"
	"unsafe"

	"github.com/onnxrun/onnxrun/ops"
)

var (
	floatTypes = ops.DTypes(ops.Float16, ops.Float32, ops.Float64)
	// allNumbers is the "all numeric types" constraint of ArgMax, TopK and friends (before bfloat16).
	allNumbers = ops.DTypes(ops.Uint8, ops.Uint16, ops.Uint32, ops.Uint64, ops.Int8, ops.Int16, ops.Int32, ops.Int64,
		ops.Float16, ops.Float32, ops.Float64)
)

// widensToFloat32 reports whether kernels compute d in float32 scratch: the 16-bit floats, and bool.
func widensToFloat32(d ops.DType) bool {
	return d == ops.Float16 || d == ops.BFloat16 || d == ops.Bool
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
