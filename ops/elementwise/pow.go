package elementwise

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// Pow: https://onnx.ai/onnx/operators/onnx__Pow.html, opsets 1, 7, 12, 13, 15. z = x^y; z has x's type.
func init() {
	// opset 1: floats; Y broadcast onto X only with broadcast=1
	// opset 7: numpy-style broadcasting
	// opset 12: X may be int32 or int64, and Y any numeric type (T1) independently of X
	// opset 13: bfloat16 X
	// opset 15: bfloat16 Y
	ops.Register("", "Pow", ops.SameBuilder(buildPow, 1, 7, 12, 13, 15)...)
}

func buildPow(n ops.NodeInfo) (ops.Op, error) {
	base := typeSince{{1, floatsNoBF16}, {12, floatsNoBF16 | setOf(ops.Int32, ops.Int64)},
		{13, floats | setOf(ops.Int32, ops.Int64)}}.at(n.Opset)
	o, err := newBinaryOp(n, 7, base, ops.Undefined, powKernel)
	if err != nil {
		return nil, err
	}
	o.names = [2]string{"X", "Y"}
	if n.Opset >= 12 {
		o.sameType = false
		o.typesB = typeSince{{12, numericNoBF}, {15, numeric}}.at(n.Opset)
	}
	return powOp{o}, nil
}

// powOp is Pow with a fast path for a float32 X raised to a constant exponent.
type powOp struct{ *binaryOp }

func (o powOp) Prepare(in []ops.ValueInfo, out []ops.ValueInfo) (ops.Kernel, error) {
	if s, ok := constantExponentSpan(in); ok {
		return newSpanKernel(s), nil
	}
	return o.binaryOp.Prepare(in, out)
}

// constantExponentSpan is the vectorised kernel for a float32 X and a one-element constant Y of rank at
// most X's (so that Z has X's shape) that is 2, 3, 0.5, 1 or -1 (LayerNorm's x², RMSNorm's, GELU's x³,
// square roots): products, a square root or a division instead of a float64 pow per element. Only x³
// rounds twice, which can move the result by an ulp.
func constantExponentSpan(in []ops.ValueInfo) (span32, bool) {
	if len(in) < 2 || in[0].DType != ops.Float32 || in[1].Const == nil || in[1].Shape.Size() != 1 ||
		len(in[1].Shape) > len(in[0].Shape) {
		return span32{}, false
	}
	switch in[1].Const.AsFloat64s()[0] {
	case 2:
		return squareSpan, true
	case 3:
		return cubeSpan, true
	case 0.5:
		return powHalfSpan, true
	case 1:
		return copySpan, true
	case -1:
		return reciprocalSpan, true
	}
	return span32{}, false
}

func powKernel(x, y ops.DType, plan *bcastPlan) ops.Kernel {
	switch x {
	case ops.Float32:
		return powBase[float32](y, plan)
	case ops.Float64:
		return powBase[float64](y, plan)
	case ops.Int32:
		return powBase[int32](y, plan)
	case ops.Int64:
		return powBase[int64](y, plan)
	case ops.Float16:
		return powBase[ops.Float16Bits](y, plan)
	case ops.BFloat16:
		return powBase[ops.BFloat16Bits](y, plan)
	}
	return nil
}

func powBase[X numElem](y ops.DType, plan *bcastPlan) ops.Kernel {
	switch y {
	case ops.Float32:
		return newBinary(plan, powFunc[X, float32]())
	case ops.Float64:
		return newBinary(plan, powFunc[X, float64]())
	case ops.Int8:
		return newBinary(plan, powFunc[X, int8]())
	case ops.Int16:
		return newBinary(plan, powFunc[X, int16]())
	case ops.Int32:
		return newBinary(plan, powFunc[X, int32]())
	case ops.Int64:
		return newBinary(plan, powFunc[X, int64]())
	case ops.Uint8:
		return newBinary(plan, powFunc[X, uint8]())
	case ops.Uint16:
		return newBinary(plan, powFunc[X, uint16]())
	case ops.Uint32:
		return newBinary(plan, powFunc[X, uint32]())
	case ops.Uint64:
		return newBinary(plan, powFunc[X, uint64]())
	case ops.Float16:
		return newBinary(plan, powFunc[X, ops.Float16Bits]())
	case ops.BFloat16:
		return newBinary(plan, powFunc[X, ops.BFloat16Bits]())
	}
	return nil
}

// powFunc computes x^y in float64, rounded (or, for an integer x, truncated) to x's type. An integer x with
// an integer y is raised exactly, wrapping on overflow as C's integer arithmetic would.
func powFunc[X, Y numElem]() func(X, Y) X {
	if ops.DTypeOf[X]().IsInteger() && ops.DTypeOf[Y]().IsInteger() {
		return func(x X, y Y) X { return X(intPow(int64(x), int64(y))) }
	}
	xf, yf, back := toF64[X](), toF64[Y](), fromF64[X]()
	return func(x X, y Y) X { return back(math.Pow(xf(x), yf(y))) }
}

// intPow is base^exp by repeated squaring. A negative exponent gives the truncated 1/base^-exp: ±1 for
// base ±1 and 0 otherwise (0 for base 0 too, where C's pow would give an infinity to cast).
func intPow(base, exp int64) int64 {
	if exp < 0 {
		switch {
		case base == 1:
			return 1
		case base == -1 && exp%2 != 0:
			return -1
		case base == -1:
			return 1
		}
		return 0
	}
	result := int64(1)
	for exp > 0 {
		if exp&1 == 1 {
			result *= base
		}
		base *= base
		exp >>= 1
	}
	return result
}
