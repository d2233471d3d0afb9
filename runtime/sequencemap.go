package runtime

import (
	"context"
	"fmt"

	"github.com/onnxrun/onnxrun/ops"
)

func init() {
	// SequenceMap is new in opset 17 and has not changed since.
	ops.Register("", "SequenceMap", ops.Since(17, buildSequenceMap))
}

// sequenceMapOp is SequenceMap (https://onnx.ai/onnx/operators/onnx__SequenceMap.html): the body runs
// once per element of input_sequence; each additional input that is a sequence gives the body its
// element at the same position (all sequences have input_sequence's length), each that is a tensor is
// given whole every time. Body output k of every run is appended to output sequence k. It lives beside
// If, Loop and Scan because its body is a graph, and runs through the same body runner.
type sequenceMapOp struct {
	body   *body
	label  string
	inputs int // input_sequence and the additional inputs: the body's formal inputs
}

func buildSequenceMap(n ops.NodeInfo) (ops.Op, error) {
	k := explicitInputs(n)
	if k < 1 {
		return nil, ops.Invalidf("SequenceMap takes input_sequence and additional inputs, got no input")
	}
	b, err := newBody(n, "body")
	if err != nil {
		return nil, err
	}
	if b.formal != k {
		return nil, ops.Invalidf("the body takes %d inputs; the node gives it %d (one per input)", b.formal, k)
	}
	if n.NumOutputs < 1 || len(b.graph.Outputs) != n.NumOutputs {
		return nil, ops.Invalidf("the body returns %d outputs, the node has %d; they must be as many, at least 1", len(b.graph.Outputs), n.NumOutputs)
	}
	return &sequenceMapOp{body: b, inputs: k}, nil
}

// AcceptsNonTensors: input_sequence is a sequence, and the additional inputs and captures may be.
func (o *sequenceMapOp) AcceptsNonTensors() bool { return true }

func (o *sequenceMapOp) compileBodies(label string, opts Options, opsets map[string]int) error {
	o.label = label
	return o.body.compile(opts, opsets)
}

// checkInputs checks that input_sequence is a sequence and each additional input a sequence or a tensor.
func (o *sequenceMapOp) checkInputs(in []ops.ValueInfo) error {
	if k := in[0].Kind(); k != ops.KindSequence {
		return ops.Invalidf("input 0 (input_sequence) is a %s, must be a sequence", typeOfInfo(in[0]))
	}
	for j, v := range in[1:o.inputs] {
		if !v.Present() {
			return ops.Invalidf("additional input %d is absent", j+1)
		}
		if k := v.Kind(); k != ops.KindSequence && k != ops.KindTensor {
			return ops.Invalidf("input %d is a %s; SequenceMap's additional inputs are sequences or tensors", j+1, typeOfInfo(v))
		}
	}
	return nil
}

// InferShapes gives each output the type seq(T), T being the tensor type the body declares for it. The
// lengths, and so the plan, are data: a plan holding a SequenceMap is dynamic, and a body that declares no
// dtype makes it so here already.
func (o *sequenceMapOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := o.checkInputs(in); err != nil {
		return nil, err
	}
	outs := make([]ops.ValueInfo, len(o.body.declaredOut))
	for k, want := range o.body.declaredOut {
		if want == nil {
			return nil, ops.Dynamicf("body output %d declares no type: the element type of output %d is known by running the body", k, k)
		}
		if want.Kind != ops.KindTensor {
			return nil, ops.Invalidf("body output %d is declared %s; SequenceMap's body returns tensors", k, *want)
		}
		outs[k] = ops.InfoOf(ops.SequenceOf(*want))
	}
	return outs, nil
}

// preparedInfos describes the body's inputs for a runner: the formal ones vary from run to run (nothing
// constant), the captures are what the node's inputs are.
func (o *sequenceMapOp) preparedInfos(in []ops.ValueInfo) []ops.ValueInfo {
	return o.body.inputInfos(make([]ops.ValueInfo, o.inputs), in)
}

func (o *sequenceMapOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	return &sequenceMapKernel{op: o, infos: o.preparedInfos(in)}, nil
}

func (o *sequenceMapOp) evaluate(ctx context.Context, in []ops.ValueInfo, _ int) ([]*ops.Tensor, error) {
	if err := o.checkInputs(in); err != nil {
		return nil, err
	}
	r := newBodyRunner(o.body, nil, o.preparedInfos(in))
	exec := ops.SerialContext()
	exec.Context = ctx
	return o.apply(exec, r, constInputs(in))
}

type sequenceMapKernel struct {
	op    *sequenceMapOp
	infos []ops.ValueInfo
}

func (k *sequenceMapKernel) forSession() ops.Kernel {
	return &sequenceMapInstance{op: k.op, runner: newBodyRunner(k.op.body, nil, k.infos)}
}

func (k *sequenceMapKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	return k.forSession().Run(ctx, in, out)
}

// sequenceMapInstance is a SequenceMap's runner in one session.
type sequenceMapInstance struct {
	op     *sequenceMapOp
	runner *bodyRunner
}

func (inst *sequenceMapInstance) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	seqs, err := inst.op.apply(ctx, inst.runner, in)
	if err != nil {
		return err
	}
	for k, s := range seqs {
		out[k].SetValue(s)
	}
	return nil
}

// apply runs the body once per element and returns the output sequences. Each body output is cloned
// into its sequence (the body's buffers are overwritten by its next run; a sequence owns its elements).
func (o *sequenceMapOp) apply(exec *ops.ExecContext, r *bodyRunner, in []*ops.Tensor) ([]*ops.Tensor, error) {
	ctx := exec.Context
	if ctx == nil {
		ctx = context.Background()
	}
	length := len(in[0].Elements())
	for j := 1; j < o.inputs; j++ {
		if in[j].Kind() == ops.KindSequence && len(in[j].Elements()) != length {
			return nil, fmt.Errorf("%w: input %d is a sequence of %d elements and input_sequence one of %d: SequenceMap's sequences must have one length",
				ErrBadInput, j, len(in[j].Elements()), length)
		}
	}
	r.start(exec, in, o.label)
	elems := make([][]*ops.Tensor, len(o.body.declaredOut))
	for i := 0; i < length; i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for j := 0; j < o.inputs; j++ {
			r.in[j] = in[j]
			if in[j].Kind() == ops.KindSequence {
				r.in[j] = in[j].Elements()[i]
			}
		}
		outs, err := r.run(ctx)
		if err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
		for k, t := range outs {
			if t.Kind() != ops.KindTensor {
				return nil, ops.Invalidf("element %d: body output %d is a %s; SequenceMap's body returns tensors", i, k, t.Type())
			}
			if i > 0 && t.DType() != elems[k][0].DType() {
				return nil, ops.Invalidf("element %d: body output %d is %s, for element 0 it was %s: a sequence holds one dtype", i, k, t.DType(), elems[k][0].DType())
			}
			elems[k] = append(elems[k], t.Clone())
		}
	}
	r.flush()
	seqs := make([]*ops.Tensor, len(elems))
	for k, e := range elems {
		var elemType ops.ValueType
		switch want := o.body.declaredOut[k]; {
		case len(e) > 0:
			elemType = e[0].Type()
		case want != nil && want.Kind == ops.KindTensor:
			elemType = *want
		default:
			return nil, ops.Invalidf("output %d: input_sequence is empty and the body declares no tensor type for output %d, so the element type of the empty sequence is unknown", k, k)
		}
		seqs[k] = ops.NewSequence(elemType, e)
	}
	return seqs, nil
}
