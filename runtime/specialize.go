package runtime

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/onnxrun/onnxrun/ops"
)

// specialization is a Plan resolved for one set of concrete input shapes: every value's shape, the kernels
// that still have to run (the rest was folded into constants) and the memory layout. It is immutable and
// shared by the sessions that run inputs of those shapes.
type specialization struct {
	inputShapes []ops.Shape
	infos       []ops.ValueInfo // by slot
	steps       []step
	memory      memoryPlan
	// dynamic is set when some output shape depends on input *values*: such a plan is re-made at every Run
	// from the actual inputs, which then fold the whole graph.
	dynamic bool
	// dynamicReason is the op error that made the plan dynamic, for dumps.
	dynamicReason error
}

// step is one kernel call.
type step struct {
	node   int // index into Plan.nodes
	kernel ops.Kernel
	in     []valueID
	out    []valueID
	// aliasOnly steps produce only views of their inputs (Reshape, Flatten, ...): the planner made the
	// outputs share the input buffers, so Run skips the kernel.
	aliasOnly bool
	flops     int64
}

func shapesKey(infos []ops.ValueInfo) string {
	var b strings.Builder
	for i, in := range infos {
		if i > 0 {
			b.WriteByte('|')
		}
		b.WriteString(strconv.Itoa(int(in.DType)))
		b.WriteByte(':')
		for j, d := range in.Shape {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(d))
		}
	}
	return b.String()
}

const maxCachedSpecializations = 8

// specialize returns the plan for these input dtypes and shapes, from the cache or made now.
func (p *Plan) specialize(inputs []ops.ValueInfo) (*specialization, error) {
	key := shapesKey(inputs)
	p.mu.Lock()
	s, ok := p.cache[key]
	p.mu.Unlock()
	if ok {
		return s, nil
	}
	s, err := p.plan(inputs, false)
	if err != nil {
		return nil, err
	}
	if !s.dynamic {
		s.memory, err = planMemory(p, s)
		if err != nil {
			return nil, err
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if prev, ok := p.cache[key]; ok {
		return prev, nil // another goroutine made it meanwhile
	}
	if len(p.order) >= maxCachedSpecializations {
		delete(p.cache, p.order[0])
		p.order = p.order[1:]
	}
	p.cache[key] = s
	p.order = append(p.order, key)
	return s, nil
}

// plan walks the nodes in order, inferring every value's shape; nodes whose inputs are all constant run now
// (constant folding) and the others become steps. With foldAll (the dynamic path, where inputs carry their
// values) everything folds and the outputs are constants.
func (p *Plan) plan(inputs []ops.ValueInfo, foldAll bool) (*specialization, error) {
	s := &specialization{infos: make([]ops.ValueInfo, p.numValues), inputShapes: make([]ops.Shape, len(inputs))}
	for i, in := range inputs {
		s.inputShapes[i] = in.Shape.Clone()
		s.infos[p.inputs[i]] = in
	}
	for id, c := range p.consts {
		if c != nil {
			s.infos[id] = ops.ValueInfo{DType: c.DType(), Shape: c.Shape(), Const: c}
		}
	}
	foldLimit := p.opts.FoldLimitBytes
	for ni, pn := range p.nodes {
		n := pn.node
		in := make([]ops.ValueInfo, len(pn.in))
		allConst := true
		for j, id := range pn.in {
			if id == noValue {
				continue
			}
			in[j] = s.infos[id]
			if in[j].DType == ops.Undefined {
				return nil, &NodeError{Node: pn.label, OpType: n.OpType, Opset: n.Opset, Stage: "infer shapes",
					Err: fmt.Errorf("input %d (%q) has no known type", j, p.names[id])}
			}
			if in[j].Const == nil {
				allConst = false
			}
		}
		outs, err := n.Op.InferShapes(in)
		if err != nil {
			if errors.Is(err, ops.ErrDynamicShape) && !foldAll {
				s.dynamic = true
				s.dynamicReason = &NodeError{Node: pn.label, OpType: n.OpType, Opset: n.Opset, Stage: "infer shapes", Err: err}
				return s, nil
			}
			return nil, &NodeError{Node: pn.label, OpType: n.OpType, Opset: n.Opset, Stage: "infer shapes", Err: err}
		}
		if len(outs) < len(pn.out) {
			return nil, &NodeError{Node: pn.label, OpType: n.OpType, Opset: n.Opset, Stage: "infer shapes",
				Err: fmt.Errorf("the op gives %d outputs, the node declares %d", len(outs), len(pn.out))}
		}
		outs = outs[:len(pn.out)]
		outBytes := int64(0)
		allOutConst := true
		for j := range outs {
			o := &outs[j]
			if o.DType == ops.Undefined {
				return nil, &NodeError{Node: pn.label, OpType: n.OpType, Opset: n.Opset, Stage: "infer shapes",
					Err: fmt.Errorf("output %d has no dtype", j)}
			}
			elems, err := o.Shape.CheckedSize(p.opts.MaxTensorBytes / int64(max(1, o.DType.Size())))
			if err != nil {
				return nil, &NodeError{Node: pn.label, OpType: n.OpType, Opset: n.Opset, Stage: "infer shapes",
					Err: fmt.Errorf("output %d: %w", j, err)}
			}
			outBytes += int64(elems) * int64(o.DType.Size())
			if o.Const == nil {
				allOutConst = false
			}
		}
		_, nondet := n.Op.(ops.Nondeterministic)
		if nd, ok := n.Op.(ops.Nondeterministic); ok {
			nondet = nd.Nondeterministic()
		}
		switch {
		case allOutConst && !nondet:
			// The op computed its outputs while inferring shapes (Shape, Size): nothing to run.
		case allConst && !nondet && (foldAll || outBytes <= foldLimit):
			folded, err := p.evalNode(pn, in, outs)
			if err != nil {
				return nil, err
			}
			for j := range outs {
				outs[j].Const = folded[j]
			}
		default:
			if foldAll {
				return nil, &NodeError{Node: pn.label, OpType: n.OpType, Opset: n.Opset, Stage: "run",
					Err: errors.New("cannot evaluate a nondeterministic node while planning")}
			}
			for j := range outs {
				outs[j].Const = nil
			}
			k, err := n.Op.Prepare(in, outs)
			if err != nil {
				return nil, &NodeError{Node: pn.label, OpType: n.OpType, Opset: n.Opset, Stage: "prepare", Err: err}
			}
			st := step{node: ni, kernel: k, in: pn.in, out: pn.out}
			if c, ok := k.(ops.Coster); ok {
				st.flops = c.FLOPs()
			}
			s.steps = append(s.steps, st)
		}
		for j, id := range pn.out {
			s.infos[id] = outs[j]
		}
	}
	s.steps = p.dropUnusedSteps(s.steps)
	return s, nil
}

// dropUnusedSteps removes steps none of whose outputs is read by a later step or returned: what is left of
// a node whose only consumers were folded away (a Transpose read only by Shape, say).
func (p *Plan) dropUnusedSteps(steps []step) []step {
	used := make([]bool, p.numValues)
	for _, id := range p.outputs {
		used[id] = true
	}
	keep := make([]bool, len(steps))
	for i := len(steps) - 1; i >= 0; i-- {
		for _, id := range steps[i].out {
			if used[id] {
				keep[i] = true
				break
			}
		}
		if keep[i] {
			for _, id := range steps[i].in {
				if id != noValue {
					used[id] = true
				}
			}
		}
	}
	kept := steps[:0]
	for i, st := range steps {
		if keep[i] {
			kept = append(kept, st)
		}
	}
	return kept
}

// evalNode runs one node on constant inputs, allocating its outputs: constant folding, and the whole of a
// dynamic plan.
func (p *Plan) evalNode(pn planNode, in []ops.ValueInfo, outs []ops.ValueInfo) ([]*ops.Tensor, error) {
	n := pn.node
	k, err := n.Op.Prepare(in, outs)
	if err != nil {
		return nil, &NodeError{Node: pn.label, OpType: n.OpType, Opset: n.Opset, Stage: "prepare", Err: err}
	}
	inT := make([]*ops.Tensor, len(in))
	for j := range in {
		inT[j] = in[j].Const
	}
	outT := make([]*ops.Tensor, len(outs))
	for j, o := range outs {
		outT[j] = ops.New(o.DType, o.Shape)
	}
	ctx := ops.SerialContext()
	if sc, ok := k.(ops.Scratcher); ok {
		ctx.Scratch = make([]float32, sc.ScratchSize())
	}
	if err := k.Run(ctx, inT, outT); err != nil {
		return nil, &NodeError{Node: pn.label, OpType: n.OpType, Opset: n.Opset, Stage: "run", Err: err}
	}
	return outT, nil
}
