package elementwise

import (
	"strconv"

	"github.com/onnxrun/onnxrun/ops"
)

// Logical operators on bool tensors with broadcasting: https://onnx.ai/onnx/operators/onnx__And.html
// (onnx__Or, onnx__Xor), opsets 1 (broadcast and axis attributes) and 7 (numpy-style broadcasting).
// Bitwise operators on integer tensors: onnx__BitwiseAnd.html (onnx__BitwiseOr, onnx__BitwiseXor), opset 18,
// and onnx__BitShift.html, opset 11.
func init() {
	for _, l := range []struct {
		name string
		f    func(a, b bool) bool
	}{
		{"And", func(a, b bool) bool { return a && b }},
		{"Or", func(a, b bool) bool { return a || b }},
		{"Xor", func(a, b bool) bool { return a != b }},
	} {
		ops.Register("", l.name, ops.SameBuilder(func(n ops.NodeInfo) (ops.Op, error) {
			return newBinaryOp(n, 7, bools, ops.Undefined, func(_, _ ops.DType, plan *bcastPlan) ops.Kernel {
				return newBinary(plan, l.f)
			})
		}, 1, 7)...)
	}
	for _, b := range []struct {
		name string
		op   bitOp
	}{{"BitwiseAnd", bitAnd}, {"BitwiseOr", bitOr}, {"BitwiseXor", bitXor}} {
		ops.Register("", b.name, ops.SameBuilder(func(n ops.NodeInfo) (ops.Op, error) {
			return newBinaryOp(n, 0, allInts, ops.Undefined, func(dt, _ ops.DType, plan *bcastPlan) ops.Kernel {
				return bitKernel(dt, b.op, plan)
			})
		}, 18)...)
	}
	ops.Register("", "BitShift", ops.SameBuilder(buildBitShift, 11)...)
}

type bitOp int

const (
	bitAnd bitOp = iota
	bitOr
	bitXor
	bitShiftLeft  // shifting by the type's width or more gives 0
	bitShiftRight // likewise
)

func bitFunc[T ops.Integer](op bitOp) func(a, b T) T {
	switch op {
	case bitAnd:
		return func(a, b T) T { return a & b }
	case bitOr:
		return func(a, b T) T { return a | b }
	case bitXor:
		return func(a, b T) T { return a ^ b }
	case bitShiftLeft:
		return func(a, b T) T { return a << b }
	case bitShiftRight:
		return func(a, b T) T { return a >> b }
	}
	panic(errUnknownOp)
}

func bitKernel(dt ops.DType, op bitOp, plan *bcastPlan) ops.Kernel {
	switch dt {
	case ops.Int8:
		return newBinary(plan, bitFunc[int8](op))
	case ops.Int16:
		return newBinary(plan, bitFunc[int16](op))
	case ops.Int32:
		return newBinary(plan, bitFunc[int32](op))
	case ops.Int64:
		return newBinary(plan, bitFunc[int64](op))
	case ops.Uint8:
		return newBinary(plan, bitFunc[uint8](op))
	case ops.Uint16:
		return newBinary(plan, bitFunc[uint16](op))
	case ops.Uint32:
		return newBinary(plan, bitFunc[uint32](op))
	case ops.Uint64:
		return newBinary(plan, bitFunc[uint64](op))
	}
	return nil
}

func buildBitShift(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	dir := r.String("direction", "")
	if err := r.Err(); err != nil {
		return nil, err
	}
	var op bitOp
	switch dir {
	case "LEFT":
		op = bitShiftLeft
	case "RIGHT":
		op = bitShiftRight
	case "":
		return nil, &ops.AttrError{Name: "direction", Msg: `is required ("LEFT" or "RIGHT")`}
	default:
		return nil, &ops.AttrError{Name: "direction", Msg: "is " + strconv.Quote(dir) + `, want "LEFT" or "RIGHT"`}
	}
	o, err := newBinaryOp(n, 0, unsignedInts, ops.Undefined, func(dt, _ ops.DType, plan *bcastPlan) ops.Kernel {
		return bitKernel(dt, op, plan)
	})
	if err != nil {
		return nil, err
	}
	o.names = [2]string{"X", "Y"}
	return o, nil
}
