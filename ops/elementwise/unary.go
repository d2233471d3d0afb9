package elementwise

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/vecmath"
)

// Unary math, one registration per opset range. Float functions are evaluated in float64 and rounded once
// to the element type. Spec pages: https://onnx.ai/onnx/operators/onnx__<Op>.html for each Op below.
//
// Unless noted, opset 6 only dropped the legacy consumed_inputs attribute (which is ignored anyway) and
// opset 13 added bfloat16; opset 22 of the trigonometric functions also added bfloat16.
var floatUnaries = []struct {
	op       string
	versions []int
	types    typeSince
	f        func(float64) float64
	vec      vecmath.Kernel // the float32 kernel, where vecmath has one
}{
	{"Exp", []int{1, 6, 13}, typeSince{{1, floatsNoBF16}, {13, floats}}, math.Exp, vecmath.Exp},
	{"Log", []int{1, 6, 13}, typeSince{{1, floatsNoBF16}, {13, floats}}, math.Log, vecmath.Log},
	{"Sqrt", []int{1, 6, 13}, typeSince{{1, floatsNoBF16}, {13, floats}}, math.Sqrt, nil},
	{"Reciprocal", []int{1, 6, 13}, typeSince{{1, floatsNoBF16}, {13, floats}}, func(x float64) float64 { return 1 / x }, nil},
	{"Floor", []int{1, 6, 13}, typeSince{{1, floatsNoBF16}, {13, floats}}, math.Floor, nil},
	{"Ceil", []int{1, 6, 13}, typeSince{{1, floatsNoBF16}, {13, floats}}, math.Ceil, nil},
	// Round rounds halves to even (Round-11); opset 22 added bfloat16.
	{"Round", []int{11, 22}, typeSince{{11, floatsNoBF16}, {22, floats}}, math.RoundToEven, nil},
	// Erf-9 also accepted integer tensors (computed in float64 and truncated); opset 13 kept only floats.
	{"Erf", []int{9, 13}, typeSince{{9, numericNoBF}, {13, floats}}, math.Erf, vecmath.Erf},
	{"Sin", []int{7, 22}, typeSince{{7, floatsNoBF16}, {22, floats}}, math.Sin, nil},
	{"Cos", []int{7, 22}, typeSince{{7, floatsNoBF16}, {22, floats}}, math.Cos, nil},
	{"Tan", []int{7, 22}, typeSince{{7, floatsNoBF16}, {22, floats}}, math.Tan, nil},
	{"Asin", []int{7, 22}, typeSince{{7, floatsNoBF16}, {22, floats}}, math.Asin, nil},
	{"Acos", []int{7, 22}, typeSince{{7, floatsNoBF16}, {22, floats}}, math.Acos, nil},
	{"Atan", []int{7, 22}, typeSince{{7, floatsNoBF16}, {22, floats}}, math.Atan, nil},
	{"Sinh", []int{9, 22}, typeSince{{9, floatsNoBF16}, {22, floats}}, math.Sinh, nil},
	{"Cosh", []int{9, 22}, typeSince{{9, floatsNoBF16}, {22, floats}}, math.Cosh, nil},
	{"Asinh", []int{9, 22}, typeSince{{9, floatsNoBF16}, {22, floats}}, math.Asinh, nil},
	{"Acosh", []int{9, 22}, typeSince{{9, floatsNoBF16}, {22, floats}}, math.Acosh, nil},
	{"Atanh", []int{9, 22}, typeSince{{9, floatsNoBF16}, {22, floats}}, math.Atanh, nil},
}

// Unary operators that also take integers, implemented by intUnaryFunc for integer tensors.
var numberUnaries = []struct {
	op       string
	versions []int
	types    typeSince
	intOp    intUnary
	f        func(float64) float64
}{
	// Abs-6 added the integer types, Abs-13 bfloat16.
	{"Abs", []int{1, 6, 13}, typeSince{{1, floatsNoBF16}, {6, numericNoBF}, {13, numeric}}, intAbs, math.Abs},
	// Neg-6 added the signed integer types, Neg-13 bfloat16.
	{"Neg", []int{1, 6, 13}, typeSince{{1, floatsNoBF16}, {6, signedInts | floatsNoBF16}, {13, signedInts | floats}},
		intNeg, func(x float64) float64 { return -x }},
	// Sign-13 added bfloat16.
	{"Sign", []int{9, 13}, typeSince{{9, numericNoBF}, {13, numeric}}, intSign, floatSign},
	// BitwiseNot-18 is integer only.
	{"BitwiseNot", []int{18}, typeSince{{18, allInts}}, intNot, nil},
}

func init() {
	for _, u := range floatUnaries {
		ops.Register("", u.op, ops.SameBuilder(func(n ops.NodeInfo) (ops.Op, error) {
			return newUnary(n, u.types.at(n.Opset), ops.Undefined, withVec(u.vec, func(dt ops.DType) ops.Kernel {
				if fast, ok := fastUnaries[u.op]; ok && dt == ops.Float32 {
					return newSpanKernel(fast)
				}
				return floatOrIntMap(dt, u.f)
			}))
		}, u.versions...)...)
	}
	for _, u := range numberUnaries {
		ops.Register("", u.op, ops.SameBuilder(func(n ops.NodeInfo) (ops.Op, error) {
			return newUnary(n, u.types.at(n.Opset), ops.Undefined, func(dt ops.DType) ops.Kernel {
				if fast, ok := fastUnaries[u.op]; ok && dt == ops.Float32 {
					return newSpanKernel(fast)
				}
				if dt.IsFloat() {
					return floatMap(dt, u.f)
				}
				return intMap(dt, u.intOp)
			})
		}, u.versions...)...)
	}
	// IsNaN-13 added bfloat16; IsNaN-20 added the float8 types, which onnxrun has no tensors for.
	ops.Register("", "IsNaN", ops.SameBuilder(buildIsNaN, 9, 13, 20)...)
	// IsInf-10 took float and double; IsInf-20 added float16, bfloat16 and the float8 types.
	ops.Register("", "IsInf", ops.SameBuilder(buildIsInf, 10, 20)...)
	ops.Register("", "Not", ops.SameBuilder(buildNot, 1)...)
}

func floatSign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return x // 0, -0 and NaN are their own sign
}

// floatMap is the kernel applying f to a float tensor of dtype dt, or nil when dt is not a float type.
func floatMap(dt ops.DType, f func(float64) float64) ops.Kernel {
	switch dt {
	case ops.Float32:
		return mapKernel[float32, float32]{floatLift[float32](f)}
	case ops.Float64:
		return mapKernel[float64, float64]{f}
	case ops.Float16:
		return mapKernel[ops.Float16Bits, ops.Float16Bits]{floatLift[ops.Float16Bits](f)}
	case ops.BFloat16:
		return mapKernel[ops.BFloat16Bits, ops.BFloat16Bits]{floatLift[ops.BFloat16Bits](f)}
	}
	return nil
}

// floatOrIntMap is floatMap, extended to integer tensors by computing in float64 and converting back
// (truncating towards zero, as C's cast does).
func floatOrIntMap(dt ops.DType, f func(float64) float64) ops.Kernel {
	if dt.IsFloat() {
		return floatMap(dt, f)
	}
	switch dt {
	case ops.Int8:
		return mapKernel[int8, int8]{intViaFloat[int8](f)}
	case ops.Int16:
		return mapKernel[int16, int16]{intViaFloat[int16](f)}
	case ops.Int32:
		return mapKernel[int32, int32]{intViaFloat[int32](f)}
	case ops.Int64:
		return mapKernel[int64, int64]{intViaFloat[int64](f)}
	case ops.Uint8:
		return mapKernel[uint8, uint8]{intViaFloat[uint8](f)}
	case ops.Uint16:
		return mapKernel[uint16, uint16]{intViaFloat[uint16](f)}
	case ops.Uint32:
		return mapKernel[uint32, uint32]{intViaFloat[uint32](f)}
	case ops.Uint64:
		return mapKernel[uint64, uint64]{intViaFloat[uint64](f)}
	}
	return nil
}

func intViaFloat[T ops.Integer](f func(float64) float64) func(T) T {
	return func(x T) T { return T(f(float64(x))) }
}

// intUnary names the integer unary functions.
type intUnary int

const (
	intAbs intUnary = iota
	intNeg
	intSign
	intNot // bitwise complement
)

func intUnaryFunc[T ops.Integer](op intUnary) func(T) T {
	switch op {
	case intAbs:
		return func(x T) T {
			if x < 0 {
				return -x
			}
			return x
		}
	case intNeg:
		return func(x T) T { return -x }
	case intSign:
		return func(x T) T {
			switch {
			case x > 0:
				return 1
			case x < 0:
				return ^T(0) // -1; unsigned types never get here
			}
			return 0
		}
	}
	return func(x T) T { return ^x }
}

// intMap is the kernel applying an integer unary function to a tensor of dtype dt, or nil when dt is not
// an integer type.
func intMap(dt ops.DType, op intUnary) ops.Kernel {
	switch dt {
	case ops.Int8:
		return mapKernel[int8, int8]{intUnaryFunc[int8](op)}
	case ops.Int16:
		return mapKernel[int16, int16]{intUnaryFunc[int16](op)}
	case ops.Int32:
		return mapKernel[int32, int32]{intUnaryFunc[int32](op)}
	case ops.Int64:
		return mapKernel[int64, int64]{intUnaryFunc[int64](op)}
	case ops.Uint8:
		return mapKernel[uint8, uint8]{intUnaryFunc[uint8](op)}
	case ops.Uint16:
		return mapKernel[uint16, uint16]{intUnaryFunc[uint16](op)}
	case ops.Uint32:
		return mapKernel[uint32, uint32]{intUnaryFunc[uint32](op)}
	case ops.Uint64:
		return mapKernel[uint64, uint64]{intUnaryFunc[uint64](op)}
	}
	return nil
}

// floatPredicate is the kernel mapping a float tensor to bools, or nil when dt is not a float type.
func floatPredicate(dt ops.DType, pred func(float64) bool) ops.Kernel {
	switch dt {
	case ops.Float32:
		return predicateKernel[float32](pred)
	case ops.Float64:
		return predicateKernel[float64](pred)
	case ops.Float16:
		return predicateKernel[ops.Float16Bits](pred)
	case ops.BFloat16:
		return predicateKernel[ops.BFloat16Bits](pred)
	}
	return nil
}

func predicateKernel[T floatElem](pred func(float64) bool) ops.Kernel {
	widen := toF64[T]()
	return mapKernel[T, bool]{func(x T) bool { return pred(widen(x)) }}
}

// buildIsNaN: https://onnx.ai/onnx/operators/onnx__IsNaN.html (opsets 9, 13, 20).
func buildIsNaN(n ops.NodeInfo) (ops.Op, error) {
	types := typeSince{{9, floatsNoBF16}, {13, floats}}.at(n.Opset)
	return newUnary(n, types, ops.Bool, func(dt ops.DType) ops.Kernel {
		return floatPredicate(dt, math.IsNaN)
	})
}

// buildIsInf: https://onnx.ai/onnx/operators/onnx__IsInf.html (opsets 10, 20).
func buildIsInf(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	pos := r.Int("detect_positive", 1) != 0
	neg := r.Int("detect_negative", 1) != 0
	if err := r.Err(); err != nil {
		return nil, err
	}
	types := typeSince{{10, setOf(ops.Float32, ops.Float64)}, {20, floats}}.at(n.Opset)
	return newUnary(n, types, ops.Bool, func(dt ops.DType) ops.Kernel {
		return floatPredicate(dt, func(x float64) bool { return (pos && math.IsInf(x, 1)) || (neg && math.IsInf(x, -1)) })
	})
}

// buildNot: https://onnx.ai/onnx/operators/onnx__Not.html (opset 1).
func buildNot(n ops.NodeInfo) (ops.Op, error) {
	return newUnary(n, bools, ops.Undefined, func(dt ops.DType) ops.Kernel {
		return mapKernel[bool, bool]{func(x bool) bool { return !x }}
	})
}
