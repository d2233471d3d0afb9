package runtime

import (
	"fmt"
	"slices"

	"github.com/onnxrun/onnxrun/ops"
)

// Dropping the plain copy of packed weights. A weight matrix that a GEMM packs into its panel layout is
// held twice: the initializer and its packed form (ops.Prepack). When every node that reads a constant is
// a kernel that reads only its packed forms (ops.PackedOnly), the plain elements serve no one, so the plan
// drops them (ops.Tensor.DropData) as soon as a specialisation has packed them: the collector frees a
// heap array, and a mapped one's pages leave the resident set at the trim that follows and are not read
// again. The tensor itself stays, with its dtype, shape and identity, which is the packed forms' key in
// the cache.
//
// What decides, per constant (plainDropper, while a specialisation is planned): it is not a graph output,
// and every node of the plan that lists it as an input is made a step (not folded), whose kernel lists
// that input among its PackedInputs; it is dropped once the last of them is planned. A kernel lists an
// input only when the packed layout does not depend on the shapes of the node's other inputs (a GEMM's B
// packing depends on K and N, not on M), or it can make another layout from the packed one (FusedGemm's
// GEMV layout, ops.PrepackFromPacked), so the specialisations made later at other input shapes find or
// make their forms without the elements. A convolution's packing depends on the spatial size (its
// strategy, the taps it trims) and is made at its first Run: Conv lists nothing, and keeps its weights.
//
// What guards, should a later specialisation need the data all the same (planContext): a node with a
// dropped input is never folded, but made a step; its kernel must list the input, else planning fails
// with a *DroppedConstantError naming the node and the constant (ops.Prepack never packs dropped data, so
// a kernel that would have needed a new form has none and does not list it); the dynamic path, which
// evaluates every node while planning, fails the same way. Readers outside planning (Plan.Constant,
// Graph().Constants) see Dropped; Plan.Constant returns the error, the tensor's typed accessors panic.
//
// Concurrency: planning a specialisation (which may drop) holds Plan.dataMu's write lock, the other
// readers of constants' elements (the dynamic path, shape probes, Plan.Constant) its read lock, so that
// no one reads data that goes away; a kernel that lists an input never reads it at Run, so sessions
// running meanwhile do not either.

// DroppedConstantError is a node (or a caller) that needs the elements of a constant the plan dropped
// because, when it was dropped, only packed forms of it were read. It matches ErrUnsupported.
type DroppedConstantError struct {
	Constant string // the initializer's name
	Reason   string // what needed it
}

func (e *DroppedConstantError) Error() string {
	return fmt.Sprintf("constant %q: %s, but the plan dropped its elements, having packed it for every node that reads it (set Options.KeepPlainWeights to keep them)", e.Constant, e.Reason)
}

// Unwrap makes a DroppedConstantError match ErrUnsupported.
func (e *DroppedConstantError) Unwrap() error { return ErrUnsupported }

// Constant returns the initializer (after the graph passes) of that name, or an error: no such constant,
// or a *DroppedConstantError when only its packed forms are left (see Options.KeepPlainWeights).
func (p *Plan) Constant(name string) (*ops.Tensor, error) {
	p.dataMu.RLock()
	defer p.dataMu.RUnlock()
	t, ok := p.graph.Constants[name]
	if !ok {
		return nil, fmt.Errorf("%w: the plan has no constant %q", ErrBadInput, name)
	}
	if t.Dropped() {
		return nil, &DroppedConstantError{Constant: name, Reason: "its elements were asked for"}
	}
	return t, nil
}

// plainDropper decides, while a specialisation is planned (planSteps), which constants to drop: each is
// dropped as soon as the last node reading it has been planned, all of them steps whose kernels list it
// among their PackedInputs, so that a heap-held weight is garbage before the next ones are packed and the
// load-time peak holds the plain form of few weights at once. Planning holds Plan.dataMu exclusively.
type plainDropper struct {
	p         *Plan
	remaining map[*ops.Tensor]int // readers not yet planned, by tensor (several names may share one)
	kept      map[*ops.Tensor]bool
	dropped   bool // some constant was dropped: the mapping is trimmed after planning
}

// newPlainDropper counts the readers of every constant; nil when the plan keeps its weights.
func newPlainDropper(p *Plan) *plainDropper {
	if p.opts.KeepPlainWeights {
		return nil
	}
	d := &plainDropper{p: p, remaining: map[*ops.Tensor]int{}, kept: map[*ops.Tensor]bool{}}
	for _, id := range p.outputs {
		if c := p.consts[id]; c != nil {
			d.kept[c] = true
		}
	}
	for _, pn := range p.nodes {
		for _, id := range pn.in {
			if id != noValue && p.consts[id] != nil {
				d.remaining[p.consts[id]]++
			}
		}
	}
	return d
}

// planned accounts for node pn, made the step k (nil: folded, or its outputs inferred from its inputs'
// values), and drops the constants it was the last reader of.
func (d *plainDropper) planned(pn planNode, k ops.Kernel) {
	if d == nil {
		return
	}
	var packed []int
	if po, ok := k.(ops.PackedOnly); ok {
		packed = po.PackedInputs()
	}
	for j, id := range pn.in {
		if id == noValue || d.p.consts[id] == nil {
			continue
		}
		c := d.p.consts[id]
		if !slices.Contains(packed, j) {
			d.kept[c] = true
		}
		d.remaining[c]--
		if d.remaining[c] == 0 && !d.kept[c] && !c.Dropped() && c.Kind() == ops.KindTensor {
			c.DropData()
			d.dropped = true
		}
	}
}

// checkDropped is planning's guard for a node some of whose constant inputs were dropped: k (nil for a
// node about to be folded, or evaluated by the dynamic path) must list each of them among its
// PackedInputs.
func (p *Plan) checkDropped(pn planNode, in []ops.ValueInfo, k ops.Kernel) error {
	var packed []int
	if po, ok := k.(ops.PackedOnly); ok {
		packed = po.PackedInputs()
	}
	for j, info := range in {
		if info.Const == nil || !info.Const.Dropped() || slices.Contains(packed, j) {
			continue
		}
		reason := fmt.Sprintf("input %d of node %q (%s) needs its elements at these input shapes", j, pn.label, pn.node.OpType)
		if k == nil {
			reason = fmt.Sprintf("input %d of node %q (%s), evaluated while planning, needs its elements", j, pn.label, pn.node.OpType)
		}
		return newNodeError(pn.label, pn.node, "prepare", &DroppedConstantError{Constant: p.names[pn.in[j]], Reason: reason})
	}
	return nil
}

// anyDropped reports whether one of the values is a constant whose elements were dropped.
func anyDropped(in []ops.ValueInfo) bool {
	for _, info := range in {
		if info.Const != nil && info.Const.Dropped() {
			return true
		}
	}
	return false
}
