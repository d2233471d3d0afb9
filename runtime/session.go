package runtime

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/onnxrun/onnxrun/ops"
)

// Session runs a Plan. It owns the memory the plan's values live in, so it belongs to one goroutine at a
// time; run several Sessions of one Plan to serve concurrent requests. A Session re-plans (and allocates)
// only when the input shapes change; runs at the same shapes allocate nothing.
type Session struct {
	plan  *Plan
	bound *boundPlan
	exec  ops.ExecContext
	pool  *ops.Pool
}

// boundPlan is a specialisation with this session's memory attached.
type boundPlan struct {
	spec    *specialization
	tensors []*ops.Tensor // by slot
	stepIn  [][]*ops.Tensor
	stepOut [][]*ops.Tensor
	outputs []*ops.Tensor
	scratch []float32
	arena   []any
}

// NewSession makes a session with its own buffers and worker threads (Options.Threads).
func (p *Plan) NewSession() *Session {
	s := &Session{plan: p, pool: ops.NewPool(p.opts.Threads)}
	s.exec = ops.ExecContext{Context: context.Background(), Parallel: s.pool.For, Threads: s.pool.Threads(), Pool: s.pool}
	return s
}

// Close stops the session's worker threads. A closed session must not be used again.
func (s *Session) Close() { s.pool.Close() }

// Run computes the model's outputs for inputs given in the order of Plan.Inputs. The returned tensors
// belong to the session and stay valid until the next Run; Clone them to keep them longer. A cancelled
// context stops the run between two operators, or inside a long one (the GEMM-based kernels poll it
// between tiles), and Run returns the context's error.
func (s *Session) Run(ctx context.Context, inputs []*ops.Tensor) ([]*ops.Tensor, error) {
	p := s.plan
	if len(inputs) != len(p.inputs) {
		return nil, &InputError{Input: "", Msg: fmt.Sprintf("the model takes %d inputs %s, got %d", len(p.inputs), inputNames(p), len(inputs))}
	}
	for i, t := range inputs {
		if err := p.checkInput(i, t, inputs); err != nil {
			return nil, err
		}
	}
	if s.bound == nil || !sameShapes(s.bound.spec, inputs) {
		infos := make([]ops.ValueInfo, len(inputs))
		for i, t := range inputs {
			infos[i] = ops.ValueInfo{DType: t.DType(), Shape: t.Shape()}
		}
		spec, err := p.specialize(infos)
		if err != nil {
			return nil, err
		}
		if spec.dynamic {
			if ctx == nil {
				ctx = context.Background()
			}
			return p.runDynamicContext(ctx, inputs)
		}
		s.bound = bind(p, spec)
	}
	b := s.bound
	for i, id := range p.inputs {
		b.tensors[id].Wrap(inputs[i].DType(), inputs[i].Shape(), inputs[i].Data())
	}
	for _, id := range b.spec.memory.inputAlias {
		r := b.tensors[b.spec.memory.place[id].aliasOf]
		t := b.tensors[id]
		t.Wrap(t.DType(), t.Shape(), r.Data())
	}
	if ctx == nil {
		ctx = context.Background()
	}
	s.exec.Context = ctx
	s.exec.Scratch = b.scratch
	done := ctx.Done()
	for si := range b.spec.steps {
		st := &b.spec.steps[si]
		if st.aliasOnly {
			continue
		}
		if done != nil {
			select {
			case <-done:
				return nil, ctx.Err()
			default:
			}
		}
		if err := st.kernel.Run(&s.exec, b.stepIn[si], b.stepOut[si]); err != nil {
			if done != nil && ctx.Err() != nil {
				return nil, ctx.Err()
			}
			pn := p.nodes[st.node]
			return nil, &NodeError{Node: pn.label, OpType: pn.node.OpType, Opset: pn.node.Opset, Stage: "run", Err: err}
		}
	}
	// Long kernels (the GEMMs behind Conv, ConvTranspose, Gemm and MatMul) poll the context between tiles
	// and return early, their outputs unfinished, once it is done: such outputs must not reach the caller.
	if done != nil {
		select {
		case <-done:
			return nil, ctx.Err()
		default:
		}
	}
	return b.outputs, nil
}

func sameShapes(spec *specialization, inputs []*ops.Tensor) bool {
	for i, t := range inputs {
		if !spec.inputShapes[i].Equal(t.Shape()) {
			return false
		}
	}
	return true
}

// runDynamic plans with the actual input values, which folds the whole graph: the slow path for models whose
// shapes depend on data.
func (p *Plan) runDynamic(inputs []*ops.Tensor) ([]*ops.Tensor, error) {
	return p.runDynamicContext(context.Background(), inputs)
}

// runDynamicContext is runDynamic stopping between nodes when ctx is done.
func (p *Plan) runDynamicContext(ctx context.Context, inputs []*ops.Tensor) ([]*ops.Tensor, error) {
	infos := make([]ops.ValueInfo, len(inputs))
	for i, t := range inputs {
		infos[i] = ops.ValueInfo{DType: t.DType(), Shape: t.Shape(), Const: t}
	}
	s, err := p.planContext(ctx, infos, true)
	if err != nil {
		// Shapes that depend on values were never planned before this Run: what fails now fails on the
		// caller's values (a depth, a shape, an index fed as input), so it is a run-time error.
		var ne *NodeError
		if errors.As(err, &ne) && !strings.HasPrefix(ne.Stage, "run") {
			ne.Stage = "run: " + ne.Stage
		}
		return nil, err
	}
	outs := make([]*ops.Tensor, len(p.outputs))
	for i, id := range p.outputs {
		outs[i] = s.infos[id].Const
	}
	return outs, nil
}

// bind attaches fresh memory to a specialisation.
func bind(p *Plan, spec *specialization) *boundPlan {
	mp := &spec.memory
	b := &boundPlan{spec: spec, tensors: make([]*ops.Tensor, p.numValues), scratch: make([]float32, mp.scratch)}
	b.arena = make([]any, len(mp.buffers))
	for i, bs := range mp.buffers {
		b.arena[i] = ops.MakeSlice(bs.dtype, bs.elems)
	}
	for id := range b.tensors {
		info := spec.infos[id]
		pl := mp.place[id]
		switch pl.kind {
		case placeConst:
			b.tensors[id] = info.Const
		case placeInput:
			b.tensors[id] = new(ops.Tensor)
		case placeBuffer:
			t := new(ops.Tensor)
			t.Wrap(info.DType, info.Shape, ops.Slice(b.arena[pl.buffer], 0, info.Shape.Size()))
			b.tensors[id] = t
		}
	}
	for id := range b.tensors {
		pl := mp.place[id]
		if pl.kind != placeAlias {
			continue
		}
		info := spec.infos[id]
		t := new(ops.Tensor)
		if r := b.tensors[pl.aliasOf]; mp.place[pl.aliasOf].kind == placeBuffer {
			t.Wrap(info.DType, info.Shape, r.Data())
		} else {
			// Rooted at a graph input: Run points it at the caller's data each time. Until then hold a slice of the
			// right length so the tensor is well-formed.
			t.Wrap(info.DType, info.Shape, ops.MakeSlice(info.DType, info.Shape.Size()))
		}
		b.tensors[id] = t
	}
	b.stepIn = make([][]*ops.Tensor, len(spec.steps))
	b.stepOut = make([][]*ops.Tensor, len(spec.steps))
	for si, st := range spec.steps {
		b.stepIn[si] = make([]*ops.Tensor, len(st.in))
		for j, id := range st.in {
			if id != noValue {
				b.stepIn[si][j] = b.tensors[id]
			}
		}
		b.stepOut[si] = make([]*ops.Tensor, len(st.out))
		for j, id := range st.out {
			b.stepOut[si][j] = b.tensors[id]
		}
	}
	b.outputs = make([]*ops.Tensor, len(p.outputs))
	for i, id := range p.outputs {
		b.outputs[i] = b.tensors[id]
	}
	return b
}

func inputNames(p *Plan) string {
	s := "("
	for i, in := range p.graph.Inputs {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s %s%s", in.Name, in.DType, in.ShapeString())
	}
	return s + ")"
}

// checkInput compares a caller's tensor with the model's declaration: dtype, rank and every fixed dimension.
func (p *Plan) checkInput(i int, t *ops.Tensor, inputs []*ops.Tensor) error {
	spec := p.graph.Inputs[i]
	if t == nil {
		return &InputError{Input: spec.Name, Msg: "is nil"}
	}
	if t.DType() != spec.DType {
		return &InputError{Input: spec.Name, Msg: fmt.Sprintf("expected dtype %s, got %s", spec.DType, t.DType())}
	}
	if msg := checkTensorData(t); msg != "" {
		return &InputError{Input: spec.Name, Msg: msg}
	}
	if !spec.HasShape {
		return nil
	}
	shape := t.Shape()
	if len(shape) != len(spec.Dims) {
		return &InputError{Input: spec.Name, Msg: fmt.Sprintf("expected shape %s (rank %d), got %v (rank %d)", spec.ShapeString(), len(spec.Dims), shape, len(shape))}
	}
	for j, d := range spec.Dims {
		if !d.Symbolic() && int64(shape[j]) != d.Value {
			return &InputError{Input: spec.Name, Msg: fmt.Sprintf("expected shape %s, got %v: dimension %d must be %d", spec.ShapeString(), shape, j, d.Value)}
		}
	}
	// A symbol shared between inputs (two inputs both [N,...]) must have one size.
	for j, d := range spec.Dims {
		if d.Param == "" {
			continue
		}
		for k := 0; k < i; k++ {
			for jj, od := range p.graph.Inputs[k].Dims {
				if od.Param == d.Param && inputs[k] != nil && jj < inputs[k].Rank() && inputs[k].Shape()[jj] != shape[j] {
					return &InputError{Input: spec.Name, Msg: fmt.Sprintf("dimension %d (%s) is %d, but %s is %d in input %q", j, d.Param, shape[j], d.Param, inputs[k].Shape()[jj], p.graph.Inputs[k].Name)}
				}
			}
		}
	}
	return nil
}
