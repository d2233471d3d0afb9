package elementwise

import (
	"cmp"

	"github.com/onnxrun/onnxrun/ops"
)

// Comparisons, with bool outputs and numpy broadcasting:
// https://onnx.ai/onnx/operators/onnx__Equal.html (opsets 1, 7, 11, 13, 19),
// onnx__Less.html and onnx__Greater.html (1, 7, 9, 13), onnx__LessOrEqual.html and onnx__GreaterOrEqual.html
// (12, 16).
func init() {
	registerCompare("Equal", cmpEqual, typeSince{
		{1, setOf(ops.Bool, ops.Int32, ops.Int64)}, // opset 1: B broadcast onto A only with broadcast=1
		// opset 7: numpy-style broadcasting
		{11, bools | numericNoBF},                 // opset 11: every integer type, float16, float, double
		{13, bools | numeric},                     // opset 13: bfloat16
		{19, bools | numeric | setOf(ops.String)}, // opset 19: string
	}, 1, 7, 11, 13, 19)
	lessTypes := typeSince{
		{1, floatsNoBF16}, // opset 1: B broadcast onto A only with broadcast=1
		// opset 7: numpy-style broadcasting
		{9, numericNoBF}, // opset 9: integer types
		{13, numeric},    // opset 13: bfloat16
	}
	registerCompare("Less", cmpLess, lessTypes, 1, 7, 9, 13)
	registerCompare("Greater", cmpGreater, lessTypes, 1, 7, 9, 13)
	orEqualTypes := typeSince{{12, numericNoBF}, {16, numeric}} // opset 16: bfloat16
	registerCompare("LessOrEqual", cmpLessOrEqual, orEqualTypes, 12, 16)
	registerCompare("GreaterOrEqual", cmpGreaterOrEqual, orEqualTypes, 12, 16)
}

func registerCompare(name string, op compareOp, types typeSince, versions ...int) {
	ops.Register("", name, ops.SameBuilder(func(n ops.NodeInfo) (ops.Op, error) {
		return newBinaryOp(n, 7, types.at(n.Opset), ops.Bool, func(dt, _ ops.DType, plan *bcastPlan) ops.Kernel {
			return compareKernel(dt, op, plan)
		})
	}, versions...)...)
}

type compareOp int

const (
	cmpEqual compareOp = iota
	cmpLess
	cmpGreater
	cmpLessOrEqual
	cmpGreaterOrEqual
)

// compareFunc returns the comparison; NaN compares false, except that nothing equals it.
func compareFunc[T cmp.Ordered](op compareOp) func(a, b T) bool {
	switch op {
	case cmpEqual:
		return func(a, b T) bool { return a == b }
	case cmpLess:
		return func(a, b T) bool { return a < b }
	case cmpGreater:
		return func(a, b T) bool { return a > b }
	case cmpLessOrEqual:
		return func(a, b T) bool { return a <= b }
	case cmpGreaterOrEqual:
		return func(a, b T) bool { return a >= b }
	}
	panic(errUnknownOp)
}

func compareKernel(dt ops.DType, op compareOp, plan *bcastPlan) ops.Kernel {
	switch dt {
	case ops.Float32:
		return newBinary(plan, compareFunc[float32](op))
	case ops.Float64:
		return newBinary(plan, compareFunc[float64](op))
	case ops.Int8:
		return newBinary(plan, compareFunc[int8](op))
	case ops.Int16:
		return newBinary(plan, compareFunc[int16](op))
	case ops.Int32:
		return newBinary(plan, compareFunc[int32](op))
	case ops.Int64:
		return newBinary(plan, compareFunc[int64](op))
	case ops.Uint8:
		return newBinary(plan, compareFunc[uint8](op))
	case ops.Uint16:
		return newBinary(plan, compareFunc[uint16](op))
	case ops.Uint32:
		return newBinary(plan, compareFunc[uint32](op))
	case ops.Uint64:
		return newBinary(plan, compareFunc[uint64](op))
	case ops.String:
		return newBinary(plan, compareFunc[string](op))
	case ops.Float16:
		return newBinary(plan, halfPredicate[ops.Float16Bits](compareFunc[float32](op)))
	case ops.BFloat16:
		return newBinary(plan, halfPredicate[ops.BFloat16Bits](compareFunc[float32](op)))
	case ops.Bool:
		if op == cmpEqual {
			return newBinary(plan, func(a, b bool) bool { return a == b })
		}
	}
	return nil
}
