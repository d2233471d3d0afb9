package runtime

import (
	"context"
	"fmt"

	"github.com/onnxrun/onnxrun/ops"
)

// loopOp is Loop (https://onnx.ai/onnx/operators/onnx__Loop.html): inputs M (trip count, optional), cond
// (optional) and the initial loop-carried values; the body takes (iteration_num, cond, carried...) and
// returns (cond, carried..., scan elements...); the node returns the final carried values and each scan
// output stacked along a new axis 0. With neither M nor cond the loop runs until the body's condition
// turns false, and at most Options.MaxLoopIterations iterations.
type loopOp struct {
	body     *body
	label    string
	carried  int
	scans    int
	maxIters int64
}

func buildLoop(n ops.NodeInfo) (ops.Op, error) {
	k := explicitInputs(n)
	if k < 2 {
		return nil, ops.Invalidf("Loop takes M, cond and the loop-carried values, got %d inputs", k)
	}
	b, err := newBody(n, "body")
	if err != nil {
		return nil, err
	}
	o := &loopOp{body: b, carried: k - 2, scans: n.NumOutputs - (k - 2)}
	if o.scans < 0 {
		return nil, ops.Invalidf("Loop has %d loop-carried inputs but only %d outputs", o.carried, n.NumOutputs)
	}
	if b.formal != 2+o.carried {
		return nil, ops.Invalidf("the body takes %d inputs; with %d loop-carried values it must take %d (iteration_num, cond, carried...)", b.formal, o.carried, 2+o.carried)
	}
	if len(b.graph.Outputs) != 1+n.NumOutputs {
		return nil, ops.Invalidf("the body returns %d outputs; the node has %d, so it must return %d (cond, carried..., scan...)", len(b.graph.Outputs), n.NumOutputs, 1+n.NumOutputs)
	}
	return o, nil
}

// AcceptsNonTensors: the loop-carried values and the body's captures may be sequences and optionals
// (M and cond are checked to be tensors).
func (o *loopOp) AcceptsNonTensors() bool { return true }

func (o *loopOp) compileBodies(label string, opts Options, opsets map[string]int) error {
	o.label, o.maxIters = label, opts.MaxLoopIterations
	return o.body.compile(opts, opsets)
}

// bodyInputs describes the body's inputs for the node's: iteration_num and cond scalars, the carried
// values (never constant inside: they change), then the captures.
func (o *loopOp) bodyInputs(in []ops.ValueInfo) []ops.ValueInfo {
	formal := []ops.ValueInfo{{DType: ops.Int64, Shape: ops.Shape{}}, {DType: ops.Bool, Shape: ops.Shape{}}}
	for j, v := range in[2 : 2+o.carried] {
		info := ops.ValueInfo{DType: v.DType, Shape: v.Shape, Type: v.Type}
		if o.wrapsCarried(j, typeOfInfo(v)) {
			info = ops.InfoOf(ops.OptionalOf(typeOfInfo(v)))
		}
		formal = append(formal, info)
	}
	return o.body.inputInfos(formal, in)
}

// wrapsCarried reports whether carried value j, of type t, enters the body as an optional holding it:
// the body declares an optional input and the value is not one (test_loop16_seq_none carries an
// optional(seq) that its body returns as a seq, which enters the next iteration as an optional again).
func (o *loopOp) wrapsCarried(j int, t ops.ValueType) bool {
	want := o.body.declaredIn[2+j]
	return want != nil && want.Kind == ops.KindOptional && t.Kind != ops.KindOptional
}

// carriedInput is the value the body receives for carried value j: v itself, or v in an optional when the
// body declares one. The optional holds a copy of a tensor (v's buffer is reused by later iterations) and
// shares a sequence, which is immutable.
func (o *loopOp) carriedInput(j int, v *ops.Tensor) *ops.Tensor {
	if !o.wrapsCarried(j, v.Type()) {
		return v
	}
	if v.Kind() == ops.KindTensor {
		v = v.Clone()
	}
	return ops.NewOptional(v.Type(), v)
}

func (o *loopOp) checkInputs(in []ops.ValueInfo) error {
	if in[0].Present() {
		if err := scalarOf(in[0], ops.Int64, "M"); err != nil {
			return err
		}
	}
	if in[1].Present() {
		if err := scalarOf(in[1], ops.Bool, "cond"); err != nil {
			return err
		}
	}
	for j, v := range in[2 : 2+o.carried] {
		if !v.Present() {
			return ops.Invalidf("loop-carried input %d is absent", j)
		}
	}
	return nil
}

func (o *loopOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := o.checkInputs(in); err != nil {
		return nil, err
	}
	bodyOut, err := o.body.infer(o.bodyInputs(in))
	if err != nil {
		return nil, err
	}
	if err := scalarOf(bodyOut[0], ops.Bool, "the body's condition output"); err != nil {
		return nil, err
	}
	outs := make([]ops.ValueInfo, 0, o.carried+o.scans)
	for j := 0; j < o.carried; j++ {
		v, init := bodyOut[1+j], in[2+j]
		if v.DType != init.DType {
			return nil, ops.Invalidf("loop-carried value %d enters as %s and leaves the body as %s", j, init.DType, v.DType)
		}
		if vt, it := typeOfInfo(v), typeOfInfo(init); !vt.Equal(it) {
			if fitsDeclared(&it, vt) {
				// An optional that the body returns bare: the node's output is the one or the other,
				// as the number of iterations decides.
				return nil, ops.Dynamicf("loop-carried value %d enters as a %s and leaves the body as a %s", j, it, vt)
			}
			return nil, ops.Invalidf("loop-carried value %d enters as a %s and leaves the body as a %s", j, it, vt)
		}
		if !v.Shape.Equal(init.Shape) {
			return nil, ops.Dynamicf("loop-carried value %d enters as %v and leaves the body as %v", j, init.Shape, v.Shape)
		}
		outs = append(outs, v)
	}
	if o.scans == 0 {
		return outs, nil
	}
	// Scan outputs have one row per iteration: their shape is known now only when the trip count is a
	// constant and nothing can end the loop sooner.
	iters := int64(-1)
	switch {
	case in[1].Const != nil && !in[1].Const.Bools()[0]:
		iters = 0
	case in[0].Const != nil && (in[1].Const != nil || !in[1].Present()) && bodyOut[0].Const != nil && bodyOut[0].Const.Bools()[0]:
		iters = max(0, in[0].Const.Int64s()[0])
	case in[0].Const != nil && in[0].Const.Int64s()[0] <= 0:
		iters = 0
	}
	if iters < 0 || iters > o.maxIters {
		return nil, ops.Dynamicf("the number of iterations, and so the scan outputs' length, is known only at run time")
	}
	for k, v := range bodyOut[1+o.carried:] {
		if v.Kind() != ops.KindTensor {
			return nil, ops.Invalidf("scan output %d is a %s; scan outputs are tensors", k, *v.Type)
		}
		outs = append(outs, ops.ValueInfo{DType: v.DType, Shape: append(ops.Shape{int(iters)}, v.Shape...)})
	}
	return outs, nil
}

func (o *loopOp) Prepare(in []ops.ValueInfo, out []ops.ValueInfo) (ops.Kernel, error) {
	infos := o.bodyInputs(in)
	spec, err := o.body.prepare(infos)
	if err != nil {
		return nil, err
	}
	return &loopKernel{op: o, spec: spec, infos: infos}, nil
}

type loopKernel struct {
	op    *loopOp
	spec  *specialization
	infos []ops.ValueInfo
}

func (k *loopKernel) forSession() ops.Kernel { return k.op.newInstance(k.spec, k.infos) }

func (k *loopKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	return k.forSession().Run(ctx, in, out)
}

// loopInstance is a Loop's state in one session: the body's runner, the iteration_num and cond tensors
// fed to the body, and two sets of carried buffers.
type loopInstance struct {
	op          *loopOp
	runner      *bodyRunner
	iter, cond  *ops.Tensor
	carry, next []*ops.Tensor
	out         []*ops.Tensor // the node's outputs during Run
}

func (o *loopOp) newInstance(spec *specialization, infos []ops.ValueInfo) *loopInstance {
	li := &loopInstance{op: o, runner: newBodyRunner(o.body, spec, infos),
		iter: ops.Scalar(int64(0)), cond: ops.Scalar(true),
		carry: make([]*ops.Tensor, o.carried), next: make([]*ops.Tensor, o.carried)}
	li.runner.in[0], li.runner.in[1] = li.iter, li.cond
	return li
}

// Run runs the loop into outputs planned with their shapes (the static path).
func (li *loopInstance) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	o := li.op
	li.out = out
	_, err := li.iterate(ctx, in, li)
	li.out = nil
	if err != nil {
		return err
	}
	li.runner.flush()
	for j := 0; j < o.carried; j++ {
		if err := copyOut(out[j], li.carry[j], "loop-carried values", j); err != nil {
			return err
		}
	}
	return nil
}

// rowSink receives each iteration's scan elements.
type rowSink interface {
	emit(k int, it int64, v *ops.Tensor) error
}

// emit writes a scan element into its row of the planned output (the static path).
func (li *loopInstance) emit(k int, it int64, v *ops.Tensor) error {
	dst := li.out[li.op.carried+k]
	n := v.Len()
	if v.DType() != dst.DType() || !dst.Shape()[1:].Equal(v.Shape()) || int(it) >= dst.Shape()[0] {
		return ops.Invalidf("scan output %d of iteration %d is %s%v, planned as rows of %s%v", k, it, v.DType(), v.Shape(), dst.DType(), dst.Shape())
	}
	ops.CopyElements(dst, int(it)*n, v, 0, n)
	return nil
}

// stackedRows collects scan elements whatever their count (the dynamic path).
type stackedRows [][]*ops.Tensor

func (rows stackedRows) emit(k int, it int64, v *ops.Tensor) error {
	if len(rows[k]) > 0 && (rows[k][0].DType() != v.DType() || !rows[k][0].Shape().Equal(v.Shape())) {
		return ops.Invalidf("scan output %d is %s%v at iteration %d and %s%v at iteration 0", k, v.DType(), v.Shape(), it, rows[k][0].DType(), rows[k][0].Shape())
	}
	rows[k] = append(rows[k], v.Clone())
	return nil
}

// iterate runs the loop, handing each iteration's scan elements to sink, and leaves the final carried
// values in li.carry. It returns the number of iterations run.
func (li *loopInstance) iterate(exec *ops.ExecContext, in []*ops.Tensor, sink rowSink) (int64, error) {
	o := li.op
	ctx := exec.Context
	r := li.runner
	r.start(exec, in, o.label)
	tripCount, bounded := int64(0), in[0] != nil
	if bounded {
		tripCount = in[0].Int64s()[0] // negative: no iteration, as in the spec's reference loop
	}
	running := true
	if in[1] != nil {
		running = in[1].Bools()[0]
	}
	for j := 0; j < o.carried; j++ {
		carryValue(&li.carry[j], in[2+j])
		r.in[2+j] = o.carriedInput(j, li.carry[j])
	}
	done := ctx.Done()
	var it int64
	for ; running && (!bounded || it < tripCount); it++ {
		if it >= o.maxIters {
			return it, &IterationLimitError{Node: o.label, Limit: o.maxIters}
		}
		if done != nil {
			select {
			case <-done:
				return it, ctx.Err()
			default:
			}
		}
		li.iter.Int64s()[0] = it
		li.cond.Bools()[0] = running
		outs, err := r.run(ctx)
		if err != nil {
			return it, fmt.Errorf("iteration %d: %w", it, err)
		}
		if c := outs[0]; c.Kind() != ops.KindTensor || c.DType() != ops.Bool || c.Len() != 1 {
			return it, ops.Invalidf("iteration %d: the body's condition output is %s%v, not one bool", it, c.DType(), c.Shape())
		}
		running = outs[0].Bools()[0]
		for j := 0; j < o.carried; j++ {
			carryValue(&li.next[j], outs[1+j])
		}
		li.carry, li.next = li.next, li.carry
		for j := 0; j < o.carried; j++ {
			r.in[2+j] = o.carriedInput(j, li.carry[j])
		}
		for k := 0; k < o.scans; k++ {
			v := outs[1+o.carried+k]
			if v.Kind() != ops.KindTensor {
				return it, ops.Invalidf("iteration %d: scan output %d is a %s; scan outputs are tensors", it, k, v.Type())
			}
			if err := sink.emit(k, it, v); err != nil {
				return it, err
			}
		}
	}
	return it, nil
}

// evaluate runs the loop on known values, stacking the scan outputs whatever their count: the dynamic path.
func (o *loopOp) evaluate(ctx context.Context, in []ops.ValueInfo, _ int) ([]*ops.Tensor, error) {
	if err := o.checkInputs(in); err != nil {
		return nil, err
	}
	li := o.newInstance(nil, o.bodyInputs(in))
	rows := make(stackedRows, o.scans)
	exec := ops.SerialContext()
	exec.Context = ctx
	iters, err := li.iterate(exec, constInputs(in), rows)
	if err != nil {
		return nil, err
	}
	li.runner.flush()
	outs := make([]*ops.Tensor, 0, o.carried+o.scans)
	for j := 0; j < o.carried; j++ {
		outs = append(outs, li.carry[j].Clone())
	}
	for k := 0; k < o.scans; k++ {
		outs = append(outs, o.stack(rows[k], iters, in, k))
	}
	return outs, nil
}

// stack puts a scan output's rows together along a new axis 0. With no rows, the row shape is what the
// body would give (when it can be planned), else none.
func (o *loopOp) stack(rows []*ops.Tensor, iters int64, in []ops.ValueInfo, k int) *ops.Tensor {
	if len(rows) == 0 {
		if bodyOut, err := o.body.infer(o.bodyInputs(in)); err == nil {
			v := bodyOut[1+o.carried+k]
			return ops.New(v.DType, append(ops.Shape{0}, v.Shape...))
		}
		return ops.New(ops.Float32, ops.Shape{0})
	}
	first := rows[0]
	t := ops.New(first.DType(), append(ops.Shape{int(iters)}, first.Shape()...))
	n := first.Len()
	for i, row := range rows {
		ops.CopyElements(t, i*n, row, 0, n)
	}
	return t
}
