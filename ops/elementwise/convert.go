package elementwise

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// half is the set of 16-bit float types, which the kernels compute in float32.
type half interface {
	ops.Float16Bits | ops.BFloat16Bits
}

// halfCodec returns the exact widening of H to float32 and the round-to-nearest-even narrowing back.
func halfCodec[H half]() (toF32 func(H) float32, fromF32 func(float32) H) {
	var zero H
	if _, ok := any(zero).(ops.Float16Bits); ok {
		return func(h H) float32 { return ops.Float16Bits(h).Float32() },
			func(f float32) H { return H(ops.Float16FromFloat32(f)) }
	}
	return func(h H) float32 { return ops.BFloat16Bits(h).Float32() },
		func(f float32) H { return H(ops.BFloat16FromFloat32(f)) }
}

// halfFromF64 returns the correctly rounded narrowing of a float64 to H. Going through float32 with
// round-to-nearest would round twice; rounding to float32 "to odd" first keeps a sticky bit, and since float32
// has more than two extra mantissa bits over H the final round-to-nearest-even is then exact.
func halfFromF64[H half]() func(float64) H {
	_, fromF32 := halfCodec[H]()
	return func(d float64) H { return fromF32(roundToOddF32(d)) }
}

// roundToOddF32 narrows d to float32, truncating towards zero and setting the last mantissa bit when the
// result is inexact ("round to odd").
func roundToOddF32(d float64) float32 {
	f := float32(d)
	if float64(f) == d || d != d || math.IsInf(float64(f), 0) {
		return f
	}
	bits := math.Float32bits(f)
	if bits&1 == 1 {
		return f // already odd: it is the round-to-odd result
	}
	// f is even and was rounded to nearest; the odd neighbour on d's side is the answer.
	if math.Abs(float64(f)) > math.Abs(d) {
		bits-- // towards zero (sign-magnitude: decrementing the magnitude)
	} else {
		bits++
	}
	return math.Float32frombits(bits)
}

// floatLift turns a float64 function into one over any float element type: widening is exact and the result
// is rounded once to the element type.
func floatLift[T floatElem](f func(float64) float64) func(T) T {
	var zero T
	switch any(zero).(type) {
	case float32:
		return any(func(x float32) float32 { return float32(f(float64(x))) }).(func(T) T)
	case float64:
		return any(f).(func(T) T)
	}
	to, from := toF64[T](), fromF64[T]()
	return func(x T) T { return from(f(to(x))) }
}

// floatElem is every float element type.
type floatElem interface {
	float32 | float64 | ops.Float16Bits | ops.BFloat16Bits
}

// halfArith lifts a float32 arithmetic function to H: float32 carries more than twice H's precision, so
// computing +, -, *, / in float32 and rounding back gives the correctly rounded H result.
func halfArith[H half](f func(a, b float32) float32) func(a, b H) H {
	toF32, fromF32 := halfCodec[H]()
	return func(a, b H) H { return fromF32(f(toF32(a), toF32(b))) }
}

// halfPredicate lifts a float32 comparison to H.
func halfPredicate[H half](f func(a, b float32) bool) func(a, b H) bool {
	toF32, _ := halfCodec[H]()
	return func(a, b H) bool { return f(toF32(a), toF32(b)) }
}

// numElem is every numeric element type: the Go numbers and the 16-bit floats.
type numElem interface {
	ops.Number | half
}

func isHalf[T numElem]() bool {
	dt := ops.DTypeOf[T]()
	return dt == ops.Float16 || dt == ops.BFloat16
}

// toF64 widens a numeric element to float64 (exactly, except int64 and uint64 beyond 2^53).
func toF64[T numElem]() func(T) float64 {
	var zero T
	switch any(zero).(type) {
	case ops.Float16Bits:
		return any(func(h ops.Float16Bits) float64 { return float64(h.Float32()) }).(func(T) float64)
	case ops.BFloat16Bits:
		return any(func(h ops.BFloat16Bits) float64 { return float64(h.Float32()) }).(func(T) float64)
	}
	return func(x T) float64 { return float64(x) }
}

// fromF64 narrows a float64 to a numeric element: correctly rounded for floats, truncated towards zero for
// integers (out-of-range values are undefined in C; Go gives an implementation-specific value, never a trap).
func fromF64[T numElem]() func(float64) T {
	var zero T
	switch any(zero).(type) {
	case ops.Float16Bits:
		return any(halfFromF64[ops.Float16Bits]()).(func(float64) T)
	case ops.BFloat16Bits:
		return any(halfFromF64[ops.BFloat16Bits]()).(func(float64) T)
	}
	return func(x float64) T { return T(x) }
}

// convertNum converts between numeric element types as a C cast does: Go's own conversion between Go
// numbers (integers wrap, floats round to nearest, floats truncate to integers), and through float64 for
// float16 and bfloat16 (exact widening, one correct rounding when narrowing).
func convertNum[S, D numElem]() func(S) D {
	if isHalf[S]() || isHalf[D]() {
		to, from := toF64[S](), fromF64[D]()
		return func(s S) D { return from(to(s)) }
	}
	return func(s S) D { return D(s) }
}

// floatBinaryFunc lifts a float64 function of two arguments to a float element type, rounding once.
func floatBinaryFunc[T numElem](f func(a, b float64) float64) func(a, b T) T {
	to, from := toF64[T](), fromF64[T]()
	return func(a, b T) T { return from(f(to(a), to(b))) }
}
