package runtime

import (
	"context"
	"fmt"

	"github.com/onnxrun/onnxrun/ops"
)

// Observing a plan: every intermediate value of one run, and every value's inferred type and shape. These
// are debugging paths (`onnxrun run --dump-intermediate`, `onnxrun summary`); they share no code with
// Session.Run, which stays free of hooks, so the normal path costs nothing for their existence.

// Observer receives one value computed by Session.RunWithObserver: the name of a node output and its
// tensor. The tensor is the observer's to keep; nothing reuses its memory.
type Observer func(name string, t *ops.Tensor)

// RunWithObserver computes the same outputs as Run, and calls observe with every node output as soon as
// it is known, in the plan's node order: values that constant folding computed at plan time first
// appear when their node comes up, the others right after their kernel runs. Unlike Run it gives each
// value its own freshly allocated tensor instead of the memory planner's shared buffers, so an observer
// may keep every tensor (to write them all to files, or compare them with another runtime's), and the
// outputs returned are the caller's too.
//
// Values are named as in the plan's graph, which is the model's after the graph passes: compile with
// Options.NoOptimize to see the output of every node of the file under its own name. Outputs of nodes
// that nothing reads (and that are not graph outputs) are not computed and so not observed. Graph inputs
// and initializers are not node outputs and are not observed either.
//
// It allocates on every call; it is meant for debugging, not serving.
func (s *Session) RunWithObserver(ctx context.Context, inputs []*ops.Tensor, observe Observer) ([]*ops.Tensor, error) {
	p := s.plan
	if observe == nil {
		observe = func(string, *ops.Tensor) {}
	}
	if len(inputs) != len(p.inputs) {
		return nil, &InputError{Msg: fmt.Sprintf("the model takes %d inputs %s, got %d", len(p.inputs), inputNames(p), len(inputs))}
	}
	for i, t := range inputs {
		if err := p.checkInput(i, t, inputs); err != nil {
			return nil, err
		}
	}
	infos := make([]ops.ValueInfo, len(inputs))
	for i, t := range inputs {
		infos[i] = ops.ValueInfo{DType: t.DType(), Shape: t.Shape()}
	}
	spec, err := p.specialize(infos)
	if err != nil {
		return nil, err
	}
	if spec.dynamic {
		return p.observeDynamic(inputs, observe)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	values := make([]*ops.Tensor, p.numValues)
	for i, id := range p.inputs {
		values[id] = inputs[i]
	}
	for id, info := range spec.infos {
		if info.Const != nil {
			values[id] = info.Const
		}
	}
	exec := s.exec
	exec.Context = ctx
	exec.Scratch = make([]float32, spec.memory.scratch)
	reported := make([]bool, p.numValues)
	// report gives observe the node's outputs that are known: each once, and a copy of constants, which
	// are shared with the plan and every session.
	report := func(ni int) {
		for _, id := range p.nodes[ni].out {
			t := values[id]
			if t == nil || reported[id] || p.names[id] == "" {
				continue
			}
			reported[id] = true
			if spec.infos[id].Const != nil {
				t = t.Clone()
			}
			observe(p.names[id], t)
		}
	}
	next := 0 // the next node to report
	for si := range spec.steps {
		st := &spec.steps[si]
		for ; next < st.node; next++ {
			report(next) // folded at plan time, or dropped (then nothing is reported)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		in := make([]*ops.Tensor, len(st.in))
		for j, id := range st.in {
			if id != noValue {
				in[j] = values[id]
			}
		}
		out := make([]*ops.Tensor, len(st.out))
		for j, id := range st.out {
			info := spec.infos[id]
			out[j] = ops.New(info.DType, info.Shape)
			values[id] = out[j]
		}
		// Alias-only steps run their kernel too: it copies, which is what fresh buffers need.
		if err := st.kernel.Run(&exec, in, out); err != nil {
			pn := p.nodes[st.node]
			return nil, &NodeError{Node: pn.label, OpType: pn.node.OpType, Opset: pn.node.Opset, Stage: "run", Err: err}
		}
		report(st.node)
		next = st.node + 1
	}
	for ; next < len(p.nodes); next++ {
		report(next)
	}
	outs := make([]*ops.Tensor, len(p.outputs))
	for i, id := range p.outputs {
		outs[i] = values[id]
		if c := spec.infos[id].Const; c != nil {
			outs[i] = c.Clone() // the caller's to keep, like every other tensor here
		}
	}
	return outs, nil
}

// observeDynamic evaluates a dynamic plan (shapes depend on input values) node by node, as Run does, and
// reports every node output it computed.
func (p *Plan) observeDynamic(inputs []*ops.Tensor, observe Observer) ([]*ops.Tensor, error) {
	infos := make([]ops.ValueInfo, len(inputs))
	for i, t := range inputs {
		infos[i] = ops.ValueInfo{DType: t.DType(), Shape: t.Shape(), Const: t}
	}
	s, err := p.plan(infos, true)
	if err != nil {
		return nil, err
	}
	for _, pn := range p.nodes {
		for _, id := range pn.out {
			if c := s.infos[id].Const; c != nil && p.names[id] != "" {
				observe(p.names[id], c)
			}
		}
	}
	outs := make([]*ops.Tensor, len(p.outputs))
	for i, id := range p.outputs {
		outs[i] = s.infos[id].Const
	}
	return outs, nil
}

// ValueInfos infers the dtype and shape of every named value of the plan's graph for the given input
// shapes (inputs in order, dtypes as declared), running nothing but constant folding; for constants
// (initializers and folded values) the entry's Const holds the value. It is what `onnxrun summary` reads
// its layer shapes from. When some shape depends on input values not known before running (a dynamic
// plan), the values from that node on are missing from the map.
func (p *Plan) ValueInfos(shapes ...ops.Shape) (map[string]ops.ValueInfo, error) {
	if len(shapes) != len(p.graph.Inputs) {
		return nil, &InputError{Msg: fmt.Sprintf("ValueInfos needs one shape per model input %s, got %d", inputNames(p), len(shapes))}
	}
	infos := make([]ops.ValueInfo, len(shapes))
	for i, in := range p.graph.Inputs {
		infos[i] = ops.ValueInfo{DType: in.DType, Shape: shapes[i].Clone()}
	}
	s, err := p.plan(infos, false)
	if err != nil {
		return nil, err
	}
	values := map[string]ops.ValueInfo{}
	for id, info := range s.infos {
		if info.DType != ops.Undefined && p.names[id] != "" {
			values[p.names[id]] = info
		}
	}
	return values, nil
}
