package elementwise

import (
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

// mapKernel computes out[i] = f(in[i]) for a one-input operator.
type mapKernel[I, O ops.Elem] struct{ f func(I) O }

func (k mapKernel[I, O]) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	x, y := ops.Data[I](in[0]), ops.Data[O](out[0])
	y = y[:len(x)]
	for i, v := range x {
		y[i] = k.f(v)
	}
	return nil
}

// binaryKernel computes out = f(a, b) with numpy broadcasting as planned in Prepare, split across the
// session's threads when the output is big.
type binaryKernel[A, B, O ops.Elem] struct {
	plan  *bcastPlan
	fn    *binaryFn[A, B, O]
	tasks parallel.TaskSlot[binaryTask[A, B, O]]
}

func newBinary[A, B, O ops.Elem](plan *bcastPlan, f func(A, B) O) ops.Kernel {
	return newBinaryFn(plan, &binaryFn[A, B, O]{f: f})
}

// newBinaryFn is newBinary for an element function that comes with span loops.
func newBinaryFn[A, B, O ops.Elem](plan *bcastPlan, fn *binaryFn[A, B, O]) ops.Kernel {
	return &binaryKernel[A, B, O]{plan: plan, fn: fn}
}

func (k *binaryKernel[A, B, O]) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	if k.plan.size == 0 {
		return nil
	}
	k.run(ctx, ops.Data[O](out[0]), ops.Data[A](in[0]), ops.Data[B](in[1]))
	return nil
}

// run computes o = f(a, b) over the plan, on ctx's threads when it is big.
func (k *binaryKernel[A, B, O]) run(ctx *ops.ExecContext, o []O, a []A, b []B) {
	if n := k.plan.planParts(ctx); n > 1 {
		t := k.tasks.Get()
		*t = binaryTask[A, B, O]{k: k, out: o, a: a, b: b, parts: n}
		ctx.Pool.ForTask(n, t)
		k.tasks.Put(t)
		return
	}
	walk2(k.plan, 0, o, a, b, k.fn)
}

// unaryOp is an Op with one input and one output of the same shape: the unary math functions and the
// activations. kernel returns nil for a dtype it has no kernel for (the type check rules that out first).
type unaryOp struct {
	nodeMeta
	types   typeSet
	outType ops.DType // Undefined: same as the input
	kernel  func(dt ops.DType) ops.Kernel
}

// newUnary checks the node's arity and returns a unaryOp.
func newUnary(n ops.NodeInfo, types typeSet, outType ops.DType, kernel func(ops.DType) ops.Kernel) (ops.Op, error) {
	if err := checkArity(n, 1, 1); err != nil {
		return nil, err
	}
	if err := checkOutputs(n, 1); err != nil {
		return nil, err
	}
	return &unaryOp{nodeMeta: metaOf(n), types: types, outType: outType, kernel: kernel}, nil
}

func checkOutputs(n ops.NodeInfo, count int) error {
	if n.NumOutputs != count {
		return ops.Invalidf("%s-%d has %s, node declares %d", n.OpType, n.Opset, plural(count, "output"), n.NumOutputs)
	}
	return nil
}

func (o *unaryOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	dt, err := checkInputs(&o.nodeMeta, in, 1, o.types, "X")
	if err != nil {
		return nil, err
	}
	if o.outType != ops.Undefined {
		dt = o.outType
	}
	return []ops.ValueInfo{{DType: dt, Shape: in[0].Shape.Clone()}}, nil
}

func (o *unaryOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	if k := o.kernel(in[0].DType); k != nil {
		return k, nil
	}
	return nil, ops.Unsupportedf("%s-%d has no kernel for %s", o.opType, o.opset, in[0].DType)
}

// binaryOp is an Op with two broadcasting inputs A and B and one output.
type binaryOp struct {
	nodeMeta
	names          [2]string // the inputs' names in the spec, for messages
	typesA, typesB typeSet
	sameType       bool      // A and B must have the same dtype
	outType        ops.DType // Undefined: A's dtype
	kernel         func(a, b ops.DType, plan *bcastPlan) ops.Kernel

	// How B broadcasts: numpy-style in both directions by default; onto A only (PRelu's unidirectional
	// broadcasting); or, before opset 7, as the legacy broadcast and axis attributes say.
	unidirectional      bool
	legacy              bool
	broadcast, hasAxis  bool
	axis                int
	legacyChannelSlopes bool // PRelu before opset 7: a 1-D slope of length X.shape[1] is per channel
}

// newBinaryOp checks the node and reads the legacy broadcast attributes when the opset has them.
func newBinaryOp(n ops.NodeInfo, legacyBefore int, types typeSet, outType ops.DType,
	kernel func(a, b ops.DType, plan *bcastPlan) ops.Kernel) (*binaryOp, error) {
	if err := checkArity(n, 2, 2); err != nil {
		return nil, err
	}
	if err := checkOutputs(n, 1); err != nil {
		return nil, err
	}
	o := &binaryOp{nodeMeta: metaOf(n), typesA: types, typesB: types, sameType: true, outType: outType,
		names: [2]string{"A", "B"}, kernel: kernel}
	if n.Opset < legacyBefore {
		r := ops.NewAttrReader(n.Attrs)
		o.legacy = true
		o.broadcast = r.Int("broadcast", 0) != 0
		o.hasAxis = r.Has("axis")
		o.axis = int(r.Int("axis", 0))
		if err := r.Err(); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// shapes returns the output shape and B's shape as the plan should see it.
func (o *binaryOp) shapes(in []ops.ValueInfo) (out, b ops.Shape, err error) {
	a, b := in[0].Shape, in[1].Shape
	switch {
	case o.legacy && o.legacyChannelSlopes:
		b, err = legacySlopeShape(&o.nodeMeta, a, b)
		return a, b, err
	case o.legacy:
		b, err = legacyBroadcast(&o.nodeMeta, a, b, o.broadcast, o.axis, o.hasAxis)
		return a, b, err
	case o.unidirectional:
		return a, b, unidirectionalShape(&o.nodeMeta, o.names[:], a, b)
	}
	out, err = broadcastShapes(&o.nodeMeta, o.names[:], a, b)
	return out, b, err
}

func (o *binaryOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := o.checkTypes(in); err != nil {
		return nil, err
	}
	out, _, err := o.shapes(in)
	if err != nil {
		return nil, err
	}
	dt := o.outType
	if dt == ops.Undefined {
		dt = in[0].DType
	}
	return []ops.ValueInfo{{DType: dt, Shape: out.Clone()}}, nil
}

func (o *binaryOp) checkTypes(in []ops.ValueInfo) error {
	if o.sameType {
		_, err := checkInputs(&o.nodeMeta, in, 2, o.typesA, o.names[:]...)
		return err
	}
	for i, ts := range []typeSet{o.typesA, o.typesB} {
		if i >= len(in) || !in[i].Present() {
			return ops.Invalidf("%s-%d: input %s is missing", o.opType, o.opset, o.names[i])
		}
		if err := checkType(&o.nodeMeta, o.names[i], in[i].DType, ts); err != nil {
			return err
		}
	}
	return nil
}

func (o *binaryOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	out, b, err := o.shapes(in)
	if err != nil {
		return nil, err
	}
	if k := o.kernel(in[0].DType, in[1].DType, newBcastPlan(out, in[0].Shape, b)); k != nil {
		return k, nil
	}
	return nil, ops.Unsupportedf("%s-%d has no kernel for %s and %s", o.opType, o.opset, in[0].DType, in[1].DType)
}
