package kernelutil

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// IsFloat reports whether dt is one of the floating-point types the layer kernels take.
func IsFloat(dt ops.DType) bool {
	return dt == ops.Float32 || dt == ops.Float64 || dt == ops.Float16 || dt == ops.BFloat16
}

// IsHalf reports whether dt is a 16-bit float, which kernels compute in float32 through scratch memory.
func IsHalf(dt ops.DType) bool { return dt == ops.Float16 || dt == ops.BFloat16 }

// CheckFloat returns an error naming the input when dt is not a float type.
func CheckFloat(name string, dt ops.DType) error {
	if !IsFloat(dt) {
		return ops.Invalidf("input %s has dtype %s, want float32, float64, float16 or bfloat16", name, dt)
	}
	return nil
}

// ValueAt reads element i of a float tensor as float64. Kernels use it for per-channel parameters (scale,
// mean, a ratio), where one type switch per channel costs nothing; element loops are typed instead.
func ValueAt(t *ops.Tensor, i int) float64 {
	switch d := t.Data().(type) {
	case []float32:
		return float64(d[i])
	case []float64:
		return d[i]
	case []ops.Float16Bits:
		return float64(d[i].Float32())
	case []ops.BFloat16Bits:
		return float64(d[i].Float32())
	}
	return math.NaN()
}

// SetValue writes v into element i of a float tensor, rounding to its dtype.
func SetValue(t *ops.Tensor, i int, v float64) {
	switch d := t.Data().(type) {
	case []float32:
		d[i] = float32(v)
	case []float64:
		d[i] = v
	case []ops.Float16Bits:
		d[i] = ops.Float16FromFloat32(float32(v))
	case []ops.BFloat16Bits:
		d[i] = ops.BFloat16FromFloat32(float32(v))
	}
}

// Widen64 copies a float tensor of any float dtype into dst as float64 (len(dst) >= t.Len()).
func Widen64(dst []float64, t *ops.Tensor) {
	switch d := t.Data().(type) {
	case []float64:
		copy(dst, d)
	case []float32:
		for i, v := range d {
			dst[i] = float64(v)
		}
	case []ops.Float16Bits:
		for i, v := range d {
			dst[i] = float64(v.Float32())
		}
	case []ops.BFloat16Bits:
		for i, v := range d {
			dst[i] = float64(v.Float32())
		}
	}
}

// Narrow64 writes src into a float tensor, rounding to its dtype; Widen64 undoes it.
func Narrow64(t *ops.Tensor, src []float64) {
	switch d := t.Data().(type) {
	case []float64:
		copy(d, src)
	case []float32:
		for i, v := range src {
			d[i] = float32(v)
		}
	case []ops.Float16Bits:
		for i, v := range src {
			d[i] = ops.Float16FromFloat32(float32(v))
		}
	case []ops.BFloat16Bits:
		for i, v := range src {
			d[i] = ops.BFloat16FromFloat32(float32(v))
		}
	}
}

// PowAbs is |v|^p, exact for the common p = 1 and p = 2.
func PowAbs(v, p float64) float64 {
	switch p {
	case 1:
		return math.Abs(v)
	case 2:
		return v * v
	}
	return math.Pow(math.Abs(v), p)
}

// RootP is sum^(1/p).
func RootP(sum, p float64) float64 {
	switch p {
	case 1:
		return sum
	case 2:
		return math.Sqrt(sum)
	}
	return math.Pow(sum, 1/p)
}
