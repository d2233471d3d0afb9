package ops

import "unsafe"

// Helpers for Builders and InferShapes: reading optional inputs and the small constant inputs (axes, pads,
// shapes, scales) that ONNX passes as tensors since opsets 10-18.

// Input returns in[i], or an absent ValueInfo (DType Undefined) when the node has fewer inputs.
func Input(in []ValueInfo, i int) ValueInfo {
	if i < len(in) {
		return in[i]
	}
	return ValueInfo{}
}

// TensorAt returns in[i] at run time, or nil for an absent optional input.
func TensorAt(in []*Tensor, i int) *Tensor {
	if i < len(in) {
		return in[i]
	}
	return nil
}

// CheckInputCount checks that inputs [0, required) are present and that there are at most maxIn.
func CheckInputCount(in []ValueInfo, required, maxIn int) error {
	if len(in) > maxIn {
		return Invalidf("%d inputs, at most %d allowed", len(in), maxIn)
	}
	for i := 0; i < required; i++ {
		if !Input(in, i).Present() {
			return Invalidf("input %d is required but missing", i)
		}
	}
	return nil
}

// ConstInts returns the contents of a shape-like input (int32 or int64, scalar or 1-D) known at plan time.
// When the value is not a constant the error wraps ErrDynamicShape: the runtime then plans with the value.
func ConstInts(v ValueInfo, name string) ([]int64, error) {
	if v.DType != Int64 && v.DType != Int32 {
		return nil, Invalidf("input %q has dtype %s, want int64 or int32", name, v.DType)
	}
	if len(v.Shape) > 1 {
		return nil, Invalidf("input %q has shape %v, want a 1-D tensor", name, v.Shape)
	}
	if v.Const == nil {
		return nil, Dynamicf("input %q is not a constant", name)
	}
	return v.Const.AsInt64s(), nil
}

// ConstFloats returns the contents of a 1-D float input known at plan time (scales), like ConstInts.
func ConstFloats(v ValueInfo, name string) ([]float64, error) {
	if !v.DType.IsFloat() {
		return nil, Invalidf("input %q has dtype %s, want a float type", name, v.DType)
	}
	if len(v.Shape) != 1 {
		return nil, Invalidf("input %q has shape %v, want a 1-D tensor", name, v.Shape)
	}
	if v.Const == nil {
		return nil, Dynamicf("input %q is not a constant", name)
	}
	return v.Const.AsFloat64s(), nil
}

// NormalizeAxes maps possibly negative axes into [0, rank), rejecting out-of-range and repeated ones; what
// names the attribute or input in messages ("axes").
func NormalizeAxes(axes []int64, rank int, what string) ([]int, error) {
	out := make([]int, len(axes))
	seen := make([]bool, rank)
	for i, a := range axes {
		if a < int64(-rank) || a >= int64(rank) {
			return nil, Invalidf("%s[%d] = %d is out of range [%d, %d]", what, i, a, -rank, rank-1)
		}
		ax := int(a)
		if ax < 0 {
			ax += rank
		}
		if seen[ax] {
			return nil, Invalidf("%s %v name axis %d twice", what, axes, ax)
		}
		seen[ax] = true
		out[i] = ax
	}
	return out, nil
}

// WidenToFloat32 converts Float16, BFloat16, bool (0 or 1) or float32 data — a tensor's Data() — to float32
// in dst: how kernels compute the narrow types, in scratch memory.
func WidenToFloat32(dst []float32, src any) {
	switch s := src.(type) {
	case []Float16Bits:
		for i, v := range s {
			dst[i] = v.Float32()
		}
	case []BFloat16Bits:
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
	case []float32:
		copy(dst, s)
	}
}

// NarrowFromFloat32 rounds float32 values into a Float16, BFloat16, bool or float32 slice dst (a tensor's
// Data()). A bool is true for a positive value: what a computation over 0s and 1s gives back, with -Inf (the
// identity of an empty max) false.
func NarrowFromFloat32(dst any, src []float32) {
	switch d := dst.(type) {
	case []bool:
		for i, v := range src {
			d[i] = v > 0
		}
	case []Float16Bits:
		for i, v := range src {
			d[i] = Float16FromFloat32(v)
		}
	case []BFloat16Bits:
		for i, v := range src {
			d[i] = BFloat16FromFloat32(v)
		}
	case []float32:
		copy(d, src)
	}
}

// Float64View lays n float64s over the float32 scratch s, which must hold Float64ScratchLen(n) elements: the
// spare element lets the view start on an 8-byte boundary whatever the alignment of s. Scratch memory holds
// no pointers, so reinterpreting it is safe for the garbage collector.
func Float64View(s []float32, n int) []float64 {
	if n == 0 {
		return nil
	}
	p := unsafe.Pointer(unsafe.SliceData(s))
	if uintptr(p)%unsafe.Alignof(float64(0)) != 0 {
		p = unsafe.Add(p, unsafe.Sizeof(float32(0)))
	}
	return unsafe.Slice((*float64)(p), n)
}

// Float64ScratchLen is the float32 scratch length Float64View needs for n float64s.
func Float64ScratchLen(n int) int {
	if n == 0 {
		return 0
	}
	return 2*n + 1
}
