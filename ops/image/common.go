package image

import (
	"math"
	"strconv"

	"github.com/onnxrun/onnxrun/ops"
)

// input returns in[i], or an absent ValueInfo when the node has fewer inputs.
func input(in []ops.ValueInfo, i int) ops.ValueInfo {
	if i < len(in) {
		return in[i]
	}
	return ops.ValueInfo{}
}

// checkInputs checks that inputs [0, required) are present and that there are at most maxIn.
func checkInputs(in []ops.ValueInfo, required, maxIn int) error {
	if len(in) > maxIn {
		return ops.Invalidf("%d inputs, at most %d allowed", len(in), maxIn)
	}
	for i := 0; i < required; i++ {
		if !input(in, i).Present() {
			return ops.Invalidf("input %d is required but missing", i)
		}
	}
	return nil
}

// constFloats returns the contents of a 1-D float input known at plan time; when it is not a constant
// the error wraps ops.ErrDynamicShape so the runtime plans with the value.
func constFloats(v ops.ValueInfo, name string) ([]float64, error) {
	if !v.DType.IsFloat() {
		return nil, ops.Invalidf("input %q has dtype %s, want a float type", name, v.DType)
	}
	if len(v.Shape) != 1 {
		return nil, ops.Invalidf("input %q has shape %v, want a 1-D tensor", name, v.Shape)
	}
	if v.Const == nil {
		return nil, ops.Dynamicf("input %q is not a constant", name)
	}
	return v.Const.AsFloat64s(), nil
}

// constInts returns the contents of a 1-D integer input known at plan time.
func constInts(v ops.ValueInfo, name string) ([]int64, error) {
	if v.DType != ops.Int64 && v.DType != ops.Int32 {
		return nil, ops.Invalidf("input %q has dtype %s, want int64", name, v.DType)
	}
	if len(v.Shape) != 1 {
		return nil, ops.Invalidf("input %q has shape %v, want a 1-D tensor", name, v.Shape)
	}
	if v.Const == nil {
		return nil, ops.Dynamicf("input %q is not a constant", name)
	}
	return v.Const.AsInt64s(), nil
}

// normalizeAxes maps possibly negative axes into [0, rank) and rejects repeated ones.
func normalizeAxes(axes []int64, rank int, what string) ([]int, error) {
	out := make([]int, len(axes))
	seen := make([]bool, rank)
	for i, a := range axes {
		if a < int64(-rank) || a >= int64(rank) {
			return nil, ops.Invalidf("%s[%d] = %d is out of range [%d, %d]", what, i, a, -rank, rank-1)
		}
		ax := int(a)
		if ax < 0 {
			ax += rank
		}
		if seen[ax] {
			return nil, ops.Invalidf("%s %v name axis %d twice", what, axes, ax)
		}
		seen[ax] = true
		out[i] = ax
	}
	return out, nil
}

// isFinite reports whether v is neither infinite nor NaN.
func isFinite(v float64) bool { return !math.IsInf(v, 0) && !math.IsNaN(v) }

func quote(s string) string { return strconv.Quote(s) }

// codec converts one float dtype's elements to and from float64, for kernels that compute in float64.
type codec[T any] struct {
	load  func(T) float64
	store func(float64) T
}

var (
	codecFloat32 = codec[float32]{
		load:  func(v float32) float64 { return float64(v) },
		store: func(v float64) float32 { return float32(v) },
	}
	codecFloat64 = codec[float64]{
		load:  func(v float64) float64 { return v },
		store: func(v float64) float64 { return v },
	}
	codecFloat16 = codec[ops.Float16Bits]{
		load:  func(v ops.Float16Bits) float64 { return float64(v.Float32()) },
		store: func(v float64) ops.Float16Bits { return ops.Float16FromFloat32(float32(v)) },
	}
	codecBFloat16 = codec[ops.BFloat16Bits]{
		load:  func(v ops.BFloat16Bits) float64 { return float64(v.Float32()) },
		store: func(v float64) ops.BFloat16Bits { return ops.BFloat16FromFloat32(float32(v)) },
	}
)
