package runtime

import (
	"context"
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
	// releasedFolds is set when values folded on the way to others were let go of
	// (releaseFoldedIntermediates).
	releasedFolds bool
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
		if in.Type != nil {
			b.WriteString(in.Type.String())
		}
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
	s, err := p.plan(inputs, planSteps)
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

// planMode says what planning makes of the nodes that are not folded into constants.
type planMode uint8

const (
	// planSteps prepares a kernel for each: a specialisation that Run can execute.
	planSteps planMode = iota
	// planShapes only infers their outputs' dtypes and shapes: what the graph passes and `onnxrun summary`
	// need, without preparing (and prepacking the weights of) every kernel once per probe.
	planShapes
	// planFoldAll folds every node: the dynamic path, where the inputs carry their values, so that the
	// outputs come out as constants.
	planFoldAll
)

// plan walks the nodes in order, inferring every value's shape; nodes whose inputs are all constant run now
// (constant folding) and the others become steps, as mode says.
func (p *Plan) plan(inputs []ops.ValueInfo, mode planMode) (*specialization, error) {
	return p.planContext(context.Background(), inputs, mode)
}

// planContext is plan with a context that is checked before each node and handed to the kernels
// folded now, so that a dynamic Run (which evaluates the whole graph here) stops when its caller gives up.
func (p *Plan) planContext(ctx context.Context, inputs []ops.ValueInfo, mode planMode) (*specialization, error) {
	// Folding and packing read constants' elements, which planning a specialisation may drop.
	var dropper *plainDropper
	if mode == planSteps {
		p.dataMu.Lock()
		defer p.dataMu.Unlock()
		dropper = newPlainDropper(p)
		defer func() {
			if dropper != nil && dropper.dropped {
				p.lifetime.trim() // the dropped weights' pages in the mapped file, read while packing
			}
		}()
	} else {
		p.dataMu.RLock()
		defer p.dataMu.RUnlock()
	}
	foldAll := mode == planFoldAll
	s := &specialization{infos: make([]ops.ValueInfo, p.numValues), inputShapes: make([]ops.Shape, len(inputs))}
	for i, in := range inputs {
		s.inputShapes[i] = in.Shape.Clone()
		s.infos[p.inputs[i]] = in
	}
	for id, c := range p.consts {
		if c != nil {
			s.infos[id] = ops.ValueInfo{DType: c.DType(), Shape: c.Shape(), Const: c, Packs: p.packs}
		}
	}
	// Values folded here are this specialisation's own: the nodes of this plan that read one share its
	// packed forms, which go when the specialisation does (the plan's cache would keep them for ever).
	foldedPacks := new(ops.PackCache)
	foldLimit := p.opts.FoldLimitBytes
	// folded counts the bytes of the values computed while planning, which the specialisation keeps: all
	// together they stay under MaxPlanBytes, like the arena, so that a chain of nodes each under
	// FoldLimitBytes cannot add up to an out-of-memory kill.
	var folded int64
	for ni, pn := range p.nodes {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := pn.node
		in := make([]ops.ValueInfo, len(pn.in))
		allConst := true
		for j, id := range pn.in {
			if id == noValue {
				continue
			}
			in[j] = s.infos[id]
			if in[j].DType == ops.Undefined {
				return nil, newNodeError(pn.label, n, "infer shapes", fmt.Errorf("input %d (%q) has no known type", j, p.names[id]))
			}
			if in[j].Const == nil {
				allConst = false
			}
		}
		if reason := nonTensorInputs(n.Op, in, p.names, pn.in); reason != nil {
			return nil, newNodeError(pn.label, n, "infer shapes", reason)
		}
		cf, isControlFlow := n.Op.(bodyOwner)
		if isControlFlow && foldAll {
			// A dynamic run evaluates control flow directly: how many iterations a Loop makes, and so the
			// shapes of its scan outputs, is known only by running it.
			values, err := cf.evaluate(ctx, in, len(pn.out))
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				return nil, newNodeError(pn.label, n, "run", err)
			}
			for j, id := range pn.out {
				s.infos[id] = ops.ConstInfo(values[j])
			}
			continue
		}
		if !foldAll && !allConst && hasNonTensor(in) {
			// A sequence or optional known only at Run: its size is not plannable, so the plan is made at
			// each Run with the values (the dynamic path), where every such value is a constant.
			s.dynamic = true
			s.dynamicReason = newNodeError(pn.label, n, "infer shapes", errNonTensorValue)
			return s, nil
		}
		outs, err := ops.InferOutputs(n.Op, in, len(pn.out))
		if err != nil {
			if errors.Is(err, ops.ErrDynamicShape) && !foldAll {
				s.dynamic = true
				s.dynamicReason = newNodeError(pn.label, n, "infer shapes", err)
				return s, nil
			}
			return nil, newNodeError(pn.label, n, "infer shapes", err)
		}
		var stepKernel ops.Kernel // the node's step, if it becomes one
		outBytes := int64(0)
		allOutConst := true
		for j := range outs {
			o := &outs[j]
			elems := o.Shape.Size() // InferOutputs checked it fits an int
			if elemSize := int64(max(1, o.DType.Size())); int64(elems) > p.opts.MaxTensorBytes/elemSize {
				// A valid shape that is only too big for this engine's budget: unsupported, like a plan over
				// MaxPlanBytes and an initializer over the decoder's limit.
				return nil, newNodeError(pn.label, n, "infer shapes", fmt.Errorf("%w: output %d: %s%v needs %d elements of %d bytes, over the limit of %d bytes (Options.MaxTensorBytes)",
					ops.ErrUnsupported, j, o.DType, o.Shape, elems, elemSize, p.opts.MaxTensorBytes))
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
		if !allOutConst || nondet { // else the op computed its outputs while inferring shapes (Shape, Size)
			// Control flow is never folded at plan time: a Loop over constants may run for as long as its
			// iteration limit allows, which is the caller's to stop at Run, not Compile's.
			fold := allConst && !nondet && !isControlFlow && (foldAll || outBytes <= foldLimit)
			if fold && anyDropped(in) {
				if foldAll {
					return nil, p.checkDropped(pn, in, nil)
				}
				fold = false // a step, whose kernel reads the packed forms
			}
			if !fold && foldAll {
				return nil, newNodeError(pn.label, n, "run", fmt.Errorf("%w: a nondeterministic node in a plan whose shapes depend on input values (it would have to be evaluated while planning)", ops.ErrUnsupported))
			}
			for j := range outs {
				outs[j].Const = nil
			}
			if !fold && !foldAll && hasNonTensor(outs) {
				s.dynamic = true
				s.dynamicReason = newNodeError(pn.label, n, "infer shapes", errNonTensorValue)
				return s, nil
			}
			if !fold && mode == planShapes {
				for j, id := range pn.out {
					s.infos[id] = outs[j]
				}
				continue
			}
			k, err := n.Op.Prepare(in, outs)
			if err != nil {
				return nil, newNodeError(pn.label, n, "prepare", err)
			}
			if err := p.checkDropped(pn, in, k); err != nil {
				return nil, err
			}
			var flops int64
			if c, ok := k.(ops.Coster); ok {
				flops = c.FLOPs()
			}
			if fold && !foldAll && (flops > foldMaxMACs || folded+outBytes > p.opts.MaxPlanBytes) {
				// Too much work for plan time (a constant convolution with a huge kernel would hang Compile),
				// or too much memory kept: it runs at Run instead, where the caller's context can stop it and
				// the arena's bound applies.
				fold = false
			}
			if fold && folded+outBytes > p.opts.MaxPlanBytes {
				return nil, newNodeError(pn.label, n, "run", fmt.Errorf("%w: the values evaluated while planning for input shapes %v would hold %d bytes, over the limit of %d bytes (Options.MaxPlanBytes)",
					ops.ErrUnsupported, s.inputShapes, folded+outBytes, p.opts.MaxPlanBytes))
			}
			if fold {
				stage := "fold" // constants of the model
				if foldAll {
					stage = "run" // a dynamic plan evaluating the caller's inputs
				}
				if !foldAll && isConstantIdentity(n, in, outs) {
					// An Identity of a constant is that constant: no copy. Exporters put one in front of every
					// use of a shared weight (a torch module applied N times), and copying each at every probe
					// and specialisation held N copies of the weights at once while compiling.
					outs[0].Const, outs[0].Packs = in[0].Const, in[0].Packs
				} else {
					values, err := p.evalKernel(ctx, pn, k, in, outs, stage)
					if err != nil {
						return nil, err
					}
					for j := range outs {
						outs[j].Const, outs[j].Packs = values[j], foldedPacks
					}
					folded += outBytes
				}
			} else {
				s.steps = append(s.steps, step{node: ni, kernel: k, in: pn.in, out: pn.out, flops: flops})
				stepKernel = k
			}
		}
		for j, id := range pn.out {
			s.infos[id] = outs[j]
		}
		dropper.planned(pn, stepKernel)
	}
	s.steps = p.dropUnusedSteps(s.steps)
	if mode == planSteps {
		p.releaseFoldedIntermediates(s)
	}
	return s, nil
}

// releaseFoldedIntermediates lets go of the values constant folding computed on the way to others and
// that nothing reads at Run: no step and no graph output (the Shape → Gather → Concat chains before a
// Reshape, a weight transposed then scaled). A specialisation kept them beside their results for as long
// as it is cached; their dtypes and shapes stay (Describe, the memory planner). RunWithObserver, which
// reports them, folds them again (observeHook.begin).
func (p *Plan) releaseFoldedIntermediates(s *specialization) {
	read := make([]bool, p.numValues)
	for _, id := range p.outputs {
		read[id] = true
	}
	for _, st := range s.steps {
		for _, id := range st.in {
			if id != noValue {
				read[id] = true
			}
		}
	}
	for id := range s.infos {
		if c := s.infos[id].Const; c != nil && !read[id] && p.consts[id] == nil && !s.isInput(p, valueID(id)) {
			s.infos[id].Const, s.infos[id].Packs = nil, nil
			s.releasedFolds = true
		}
	}
}

// isInput reports whether id is one of the graph's inputs (whose info a body's plan may hold as a
// constant: a captured initializer).
func (s *specialization) isInput(p *Plan, id valueID) bool {
	for _, in := range p.inputs {
		if in == id {
			return true
		}
	}
	return false
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

// foldMaxMACs bounds the work one node may do while being folded at plan time (seconds at most), so that a
// small hostile model cannot hang Compile. Nodes whose kernels report no cost (ops.Coster) do work in
// proportion to their output, which FoldLimitBytes bounds.
const foldMaxMACs = 1 << 30

// evalKernel runs one node's prepared kernel on constant inputs, allocating its outputs: constant folding,
// and the whole of a dynamic plan.
func (p *Plan) evalKernel(ctx context.Context, pn planNode, k ops.Kernel, in []ops.ValueInfo, outs []ops.ValueInfo, stage string) ([]*ops.Tensor, error) {
	n := pn.node
	inT := make([]*ops.Tensor, len(in))
	for j := range in {
		inT[j] = in[j].Const
	}
	outT := make([]*ops.Tensor, len(outs))
	for j, o := range outs {
		outT[j] = ops.NewValue(o) // a zeroed tensor, or an empty sequence or optional the kernel fills
	}
	exec := ops.SerialContext()
	exec.Context = ctx
	if sc, ok := k.(ops.Scratcher); ok {
		if size := int64(sc.ScratchSize()); size < 0 || size > p.opts.MaxPlanBytes/4 {
			return nil, newNodeError(pn.label, n, "prepare", fmt.Errorf("%w: the kernel asks for %d float32 of scratch memory, over the limit of %d bytes (Options.MaxPlanBytes)", ops.ErrUnsupported, size, p.opts.MaxPlanBytes))
		}
		exec.Scratch = make([]float32, sc.ScratchSize())
	}
	if err := k.Run(exec, inT, outT); err != nil {
		return nil, newNodeError(pn.label, n, stage, err)
	}
	return outT, nil
}

// isConstantIdentity reports whether n is an ONNX Identity whose input is a constant tensor of the same
// dtype and shape as its output, which folding may then alias instead of copying (constants are never
// written, and no graph output aliases one: see the outputs' copies in the session).
func isConstantIdentity(n *Node, in, outs []ops.ValueInfo) bool {
	if n.OpType != "Identity" || n.Domain != "" || len(in) != 1 || len(outs) != 1 {
		return false
	}
	c := in[0].Const
	return c != nil && in[0].Kind() == ops.KindTensor && outs[0].Kind() == ops.KindTensor &&
		c.DType() == outs[0].DType && c.Shape().Equal(outs[0].Shape)
}

// errNonTensorValue is why a plan holding a sequence or an optional that is not a constant is dynamic.
var errNonTensorValue = fmt.Errorf("%w: a sequence, optional or map value is known only at Run", ops.ErrDynamicShape)

// hasNonTensor reports whether any of the values is a sequence, an optional or a map.
func hasNonTensor(values []ops.ValueInfo) bool {
	for _, v := range values {
		if v.Kind() != ops.KindTensor {
			return true
		}
	}
	return false
}

// nonTensorInputs refuses a sequence, optional or map input to an op that reads only tensors, whose
// kernel would take it for a tensor with no data.
func nonTensorInputs(op ops.Op, in []ops.ValueInfo, names []string, ids []valueID) error {
	if a, ok := op.(ops.AcceptsNonTensors); ok && a.AcceptsNonTensors() {
		return nil
	}
	for j, v := range in {
		if v.Kind() != ops.KindTensor {
			return fmt.Errorf("%w: input %d (%q) is a %s, and the op takes tensors only", ops.ErrInvalid, j, names[ids[j]], *v.Type)
		}
	}
	return nil
}
