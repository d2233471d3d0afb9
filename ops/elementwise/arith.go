package elementwise

import (
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/vecarith"
)

// Add, Sub, Mul and Div: https://onnx.ai/onnx/operators/onnx__Add.html (and onnx__Sub, onnx__Mul, onnx__Div),
// opsets 1, 6, 7, 13, 14.
func init() {
	for _, op := range []struct {
		name string
		op   arithOp
	}{{"Add", opAdd}, {"Sub", opSub}, {"Mul", opMul}, {"Div", opDiv}} {
		build := func(n ops.NodeInfo) (ops.Op, error) {
			types := typeSince{
				{1, floatsNoBF16},           // opset 1: floats; B broadcast onto A only with broadcast=1
				{6, floatsNoBF16 | i32to64}, // opset 6: int32, int64, uint32, uint64 added
				// opset 7: numpy-style multidirectional broadcasting replaced broadcast/axis
				{13, floats | i32to64}, // opset 13: bfloat16 added
				{14, numeric},          // opset 14: int8, int16, uint8, uint16 added
			}.at(n.Opset)
			return newBinaryOp(n, 7, types, ops.Undefined, func(dt, _ ops.DType, plan *bcastPlan) ops.Kernel {
				return arithKernel(dt, op.op, plan)
			})
		}
		ops.Register("", op.name, ops.SameBuilder(build, 1, 6, 7, 13, 14)...)
	}
	ops.RegisterKernelVariant("elementwise", vecarith.HasAsm(), vecarith.VariantName())
}

// arithOp names the same-type binary functions that every numeric type has.
type arithOp int

const (
	opAdd arithOp = iota
	opSub
	opMul
	opDiv   // integers truncate towards zero, as C does; x/0 is 0 for integers
	opMax   // NaN wins, as numpy.maximum
	opMin   // NaN wins, as numpy.minimum
	opPRelu // a < 0 ? a*b : a
)

func arithFunc[T ops.Number](op arithOp) func(a, b T) T {
	switch op {
	case opAdd:
		return func(a, b T) T { return a + b }
	case opSub:
		return func(a, b T) T { return a - b }
	case opMul:
		return func(a, b T) T { return a * b }
	case opDiv:
		if ops.DTypeOf[T]().IsFloat() {
			return func(a, b T) T { return a / b }
		}
		return func(a, b T) T {
			if b == 0 {
				return 0 // C leaves it undefined and Go would trap; a kernel must not panic on data
			}
			return a / b
		}
	case opMax:
		return func(a, b T) T {
			if a > b || a != a {
				return a
			}
			return b
		}
	case opMin:
		return func(a, b T) T {
			if a < b || a != a {
				return a
			}
			return b
		}
	case opPRelu:
		return func(x, slope T) T {
			if x < 0 {
				return x * slope
			}
			return x
		}
	}
	panic(errUnknownOp)
}

// arithFn is arithFunc with plain loops over spans for the four arithmetic operations (division by an
// integer zero excepted), which run a few times faster than a call per element.
func arithFn[T ops.Number](op arithOp) *binaryFn[T, T, T] {
	fn := &binaryFn[T, T, T]{f: arithFunc[T](op)}
	switch op {
	case opAdd:
		fn.vv = func(o, a, b []T) {
			for i := range o {
				o[i] = a[i] + b[i]
			}
		}
		fn.vs = func(o, a []T, b T) {
			for i := range o {
				o[i] = a[i] + b
			}
		}
		fn.sv = func(o []T, a T, b []T) {
			for i := range o {
				o[i] = a + b[i]
			}
		}
	case opSub:
		fn.vv = func(o, a, b []T) {
			for i := range o {
				o[i] = a[i] - b[i]
			}
		}
		fn.vs = func(o, a []T, b T) {
			for i := range o {
				o[i] = a[i] - b
			}
		}
		fn.sv = func(o []T, a T, b []T) {
			for i := range o {
				o[i] = a - b[i]
			}
		}
	case opMul:
		fn.vv = func(o, a, b []T) {
			for i := range o {
				o[i] = a[i] * b[i]
			}
		}
		fn.vs = func(o, a []T, b T) {
			for i := range o {
				o[i] = a[i] * b
			}
		}
		fn.sv = func(o []T, a T, b []T) {
			for i := range o {
				o[i] = a * b[i]
			}
		}
	case opDiv:
		if !ops.DTypeOf[T]().IsFloat() {
			break
		}
		fn.vv = func(o, a, b []T) {
			for i := range o {
				o[i] = a[i] / b[i]
			}
		}
		fn.vs = func(o, a []T, b T) {
			for i := range o {
				o[i] = a[i] / b
			}
		}
		fn.sv = func(o []T, a T, b []T) {
			for i := range o {
				o[i] = a / b[i]
			}
		}
	}
	return fn
}

// vecOps maps the arithOps to vecarith's operations, which compute the same float32 values.
var vecOps = [...]vecarith.BinOp{opAdd: vecarith.Add, opSub: vecarith.Sub, opMul: vecarith.Mul, opDiv: vecarith.Div,
	opMax: vecarith.Max, opMin: vecarith.Min, opPRelu: vecarith.PRelu}

// arith32Fn is arithFn for float32, with the vectorised span loops of ops/internal/vecarith: the plan
// merges same-shape inputs into one span, a scalar into one span against it, a per-channel operand
// ([N,C,H,W] with [C,1,1]) into spans of H*W against one value, and a trailing vector ([..., K] with
// [K]) into rows of K, so each of those layouts is a few long vectorised loops.
func arith32Fn(op arithOp) *binaryFn[float32, float32, float32] {
	v := vecOps[op]
	return &binaryFn[float32, float32, float32]{
		f:  arithFunc[float32](op),
		vv: func(o, a, b []float32) { vecarith.VV(v, o, a, b) },
		vs: func(o, a []float32, b float32) { vecarith.VS(v, o, a, b) },
		sv: func(o []float32, a float32, b []float32) { vecarith.SV(v, o, a, b) },
	}
}

// halfArithFn lifts a float32 arithmetic function to H (see halfArith).
func halfArithFn[H half](op arithOp) *binaryFn[H, H, H] {
	return &binaryFn[H, H, H]{f: halfArith[H](arithFunc[float32](op))}
}

// arithKernel is the broadcasting kernel of op for dtype dt, or nil when dt is not numeric.
func arithKernel(dt ops.DType, op arithOp, plan *bcastPlan) ops.Kernel {
	switch dt {
	case ops.Float32:
		return newBinaryFn(plan, arith32Fn(op))
	case ops.Float64:
		return newBinaryFn(plan, arithFn[float64](op))
	case ops.Int8:
		return newBinaryFn(plan, arithFn[int8](op))
	case ops.Int16:
		return newBinaryFn(plan, arithFn[int16](op))
	case ops.Int32:
		return newBinaryFn(plan, arithFn[int32](op))
	case ops.Int64:
		return newBinaryFn(plan, arithFn[int64](op))
	case ops.Uint8:
		return newBinaryFn(plan, arithFn[uint8](op))
	case ops.Uint16:
		return newBinaryFn(plan, arithFn[uint16](op))
	case ops.Uint32:
		return newBinaryFn(plan, arithFn[uint32](op))
	case ops.Uint64:
		return newBinaryFn(plan, arithFn[uint64](op))
	case ops.Float16:
		return newBinaryFn(plan, halfArithFn[ops.Float16Bits](op))
	case ops.BFloat16:
		return newBinaryFn(plan, halfArithFn[ops.BFloat16Bits](op))
	}
	return nil
}
