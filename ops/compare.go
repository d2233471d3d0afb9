package ops

import (
	"fmt"
	"math"
)

// AllClose reports whether got matches want within |got-want| <= atol + rtol*|want|, with equal dtypes and
// shapes, NaN matching NaN and infinities matching exactly. Integer, bool and string tensors must be equal.
func AllClose(got, want *Tensor, rtol, atol float64) error {
	if got.DType() != want.DType() {
		return fmt.Errorf("dtype %s, want %s", got.DType(), want.DType())
	}
	if !got.Shape().Equal(want.Shape()) {
		return fmt.Errorf("shape %v, want %v", got.Shape(), want.Shape())
	}
	switch w := want.Data().(type) {
	case []complex64:
		g := got.Data().([]complex64)
		for i := range w {
			if !closeFloat(float64(real(g[i])), float64(real(w[i])), rtol, atol) || !closeFloat(float64(imag(g[i])), float64(imag(w[i])), rtol, atol) {
				return fmt.Errorf("element %d is %v, want %v", i, g[i], w[i])
			}
		}
		return nil
	case []complex128:
		g := got.Data().([]complex128)
		for i := range w {
			if !closeFloat(real(g[i]), real(w[i]), rtol, atol) || !closeFloat(imag(g[i]), imag(w[i]), rtol, atol) {
				return fmt.Errorf("element %d is %v, want %v", i, g[i], w[i])
			}
		}
		return nil
	}
	if s, ok := want.Data().([]string); ok {
		g := got.Data().([]string)
		for i := range s {
			if g[i] != s[i] {
				return fmt.Errorf("element %d is %q, want %q", i, g[i], s[i])
			}
		}
		return nil
	}
	exact := !want.DType().IsFloat()
	g, w := got.AsFloat64s(), want.AsFloat64s()
	for i := range w {
		a, b := g[i], w[i]
		switch {
		case math.IsNaN(b):
			if !math.IsNaN(a) {
				return fmt.Errorf("element %d is %v, want NaN", i, a)
			}
		case math.IsInf(b, 0) || exact:
			if a != b {
				return fmt.Errorf("element %d is %v, want %v", i, a, b)
			}
		default:
			if math.IsNaN(a) || math.Abs(a-b) > atol+rtol*math.Abs(b) {
				return fmt.Errorf("element %d is %v, want %v (|diff| %.3g > %.3g)", i, a, b, math.Abs(a-b), atol+rtol*math.Abs(b))
			}
		}
	}
	return nil
}

func closeFloat(a, b, rtol, atol float64) bool {
	switch {
	case math.IsNaN(b):
		return math.IsNaN(a)
	case math.IsInf(b, 0):
		return a == b
	}
	return !math.IsNaN(a) && math.Abs(a-b) <= atol+rtol*math.Abs(b)
}
