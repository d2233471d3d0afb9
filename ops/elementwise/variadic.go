package elementwise

import (
	"github.com/onnxrun/onnxrun/ops"
)

// Max, Min, Sum and Mean of 1..N inputs: https://onnx.ai/onnx/operators/onnx__Max.html (onnx__Min,
// onnx__Sum, onnx__Mean). Max and Min: opsets 1, 6, 8, 12, 13; Sum and Mean: opsets 1, 6, 8, 13.
func init() {
	// opset 1: floats, all inputs the same shape (legacy consumed_inputs attribute)
	// opset 6: consumed_inputs removed
	// opset 8: numpy-style broadcasting
	// opset 12: Max and Min take the integer types
	// opset 13: bfloat16
	maxTypes := typeSince{{1, floatsNoBF16}, {12, numericNoBF}, {13, numeric}}
	sumTypes := typeSince{{1, floatsNoBF16}, {13, floats}}
	ops.Register("", "Max", ops.SameBuilder(variadicBuilder(opMax, false, maxTypes), 1, 6, 8, 12, 13)...)
	ops.Register("", "Min", ops.SameBuilder(variadicBuilder(opMin, false, maxTypes), 1, 6, 8, 12, 13)...)
	ops.Register("", "Sum", ops.SameBuilder(variadicBuilder(opAdd, false, sumTypes), 1, 6, 8, 13)...)
	ops.Register("", "Mean", ops.SameBuilder(variadicBuilder(opAdd, true, sumTypes), 1, 6, 8, 13)...)
}

// variadicOp folds its inputs left to right with a binary function: y = f(f(x0, x1), x2)..., then divides
// by the input count for Mean.
type variadicOp struct {
	nodeMeta
	types typeSet
	op    arithOp
	mean  bool
}

func variadicBuilder(op arithOp, mean bool, types typeSince) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		if err := checkArity(n, 1, -1); err != nil {
			return nil, err
		}
		if err := checkOutputs(n, 1); err != nil {
			return nil, err
		}
		return &variadicOp{nodeMeta: metaOf(n), types: types.at(n.Opset), op: op, mean: mean}, nil
	}
}

func (o *variadicOp) outShape(in []ops.ValueInfo) (ops.Shape, error) {
	shapes := make([]ops.Shape, len(in))
	names := make([]string, len(in))
	for i, v := range in {
		shapes[i], names[i] = v.Shape, "data_"+itoa(i)
	}
	if o.opset < 8 {
		for i := range shapes {
			if !shapes[i].Equal(shapes[0]) {
				return nil, ops.Invalidf("%s-%d: inputs %s must have the same shape (broadcasting came in opset 8)",
					o.opType, o.opset, describeShapes(names, shapes))
			}
		}
		return shapes[0], nil
	}
	return broadcastShapes(&o.nodeMeta, names, shapes...)
}

func (o *variadicOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	names := make([]string, len(in))
	for i := range names {
		names[i] = "data_" + itoa(i)
	}
	dt, err := checkInputs(&o.nodeMeta, in, len(in), o.types, names...)
	if err != nil {
		return nil, err
	}
	out, err := o.outShape(in)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: dt, Shape: out.Clone()}}, nil
}

func (o *variadicOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	out, err := o.outShape(in)
	if err != nil {
		return nil, err
	}
	// plans[0] combines inputs 0 and 1; plans[k-1] folds input k into the output.
	var plans []*bcastPlan
	if len(in) > 1 {
		plans = append(plans, newBcastPlan(out, in[0].Shape, in[1].Shape))
		for _, v := range in[2:] {
			plans = append(plans, newBcastPlan(out, out, v.Shape))
		}
	}
	var k ops.Kernel
	switch in[0].DType {
	case ops.Float32:
		k = newFold(o, plans, arith32Fn(o.op), scaleBy[float32](len(in)))
	case ops.Float64:
		k = newFold(o, plans, arithFn[float64](o.op), scaleBy[float64](len(in)))
	case ops.Int8:
		k = newFold(o, plans, arithFn[int8](o.op), nil)
	case ops.Int16:
		k = newFold(o, plans, arithFn[int16](o.op), nil)
	case ops.Int32:
		k = newFold(o, plans, arithFn[int32](o.op), nil)
	case ops.Int64:
		k = newFold(o, plans, arithFn[int64](o.op), nil)
	case ops.Uint8:
		k = newFold(o, plans, arithFn[uint8](o.op), nil)
	case ops.Uint16:
		k = newFold(o, plans, arithFn[uint16](o.op), nil)
	case ops.Uint32:
		k = newFold(o, plans, arithFn[uint32](o.op), nil)
	case ops.Uint64:
		k = newFold(o, plans, arithFn[uint64](o.op), nil)
	case ops.Float16:
		k = newFold(o, plans, halfArithFn[ops.Float16Bits](o.op), scaleBy[ops.Float16Bits](len(in)))
	case ops.BFloat16:
		k = newFold(o, plans, halfArithFn[ops.BFloat16Bits](o.op), scaleBy[ops.BFloat16Bits](len(in)))
	default:
		return nil, ops.Unsupportedf("%s-%d has no kernel for %s", o.opType, o.opset, in[0].DType)
	}
	return k, nil
}

// scaleBy returns x -> x/n for Mean.
func scaleBy[T numElem](n int) func(T) T {
	to, from := toF64[T](), fromF64[T]()
	d := float64(n)
	return func(x T) T { return from(to(x) / d) }
}

type foldKernel[T ops.Elem] struct {
	steps  []*binaryKernel[T, T, T] // one per input after the first, over plans[i-1]
	divide func(T) T                // Mean's final x/n, or nil
}

func newFold[T ops.Elem](o *variadicOp, plans []*bcastPlan, fn *binaryFn[T, T, T], divide func(T) T) ops.Kernel {
	k := &foldKernel[T]{}
	for _, p := range plans {
		k.steps = append(k.steps, newBinaryFn(p, fn).(*binaryKernel[T, T, T]))
	}
	if o.mean {
		k.divide = divide
	}
	return k
}

func (k *foldKernel[T]) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	y := ops.Data[T](out[0])
	if len(y) == 0 {
		return nil
	}
	if len(in) == 1 {
		copy(y, ops.Data[T](in[0]))
	} else {
		k.steps[0].run(ctx, y, ops.Data[T](in[0]), ops.Data[T](in[1]))
		for i := 2; i < len(in); i++ {
			// y is both the destination and the (unbroadcast) first operand; each element is read before
			// it is written.
			k.steps[i-1].run(ctx, y, y, ops.Data[T](in[i]))
		}
	}
	if k.divide != nil {
		for i, v := range y {
			y[i] = k.divide(v)
		}
	}
	return nil
}
