package runtime

import (
	"fmt"
	"slices"

	"github.com/onnxrun/onnxrun/ops"
)

// Dropping the plain copy of packed weights. A weight matrix that a GEMM packs into its panel layout is
// held twice: the initializer and its packed form (ops.Prepack). When every node that reads a constant is
// a kernel that reads only its packed forms (ops.PackedOnly), the plain elements serve no one, so the plan
// drops them (ops.Tensor.DropData) once a specialisation has packed them: the collector frees a heap
// array, and a mapped one's pages leave the resident set at the next trim and are not read again. The
// tensor itself stays, with its dtype, shape and identity, which is the packed forms' key in the cache.
//
// What decides, per constant (dropPackedOnly): it is not a graph output, and every node of the plan that
// lists it as an input is a step of the specialisation just made (not folded, not dropped as unused),
// whose kernel lists that input among its PackedInputs. A kernel lists an input only when the packed
// layout does not depend on the shapes of the node's other inputs (a GEMM's B packing depends on K and N,
// not on M), so the specialisations made later at other input shapes find the forms in the cache.
//
// What guards, should a later specialisation need the data all the same (planContext): a node with a
// dropped input is never folded, but made a step; its kernel must list the input, else planning fails
// with a *DroppedConstantError naming the node and the constant (ops.Prepack never packs dropped data, so
// a kernel that would have needed a new form has none and does not list it); the dynamic path, which
// evaluates every node while planning, fails the same way. Readers outside planning (Plan.Constant,
// Graph().Constants) see Dropped; Plan.Constant returns the error, the tensor's typed accessors panic.
//
// Concurrency: planning reads constants' elements (folding, packing) under Plan.dataMu's read lock, and
// dropping takes the write lock, so that no specialisation being made concurrently packs from data that
// goes away; a kernel that lists an input never reads it at Run, so sessions running meanwhile do not
// either.

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

// dropPackedOnly drops the elements of the constants that only packed forms are read from, as decided
// with the steps of s (see above), then gives the mapped model file's pages back if it dropped any.
func (p *Plan) dropPackedOnly(s *specialization) {
	if p.opts.KeepPlainWeights || s.dynamic {
		return
	}
	stepOf := make(map[int]*step, len(s.steps))
	for i := range s.steps {
		stepOf[s.steps[i].node] = &s.steps[i]
	}
	// A tensor may be the constant of several names (a pass that made two initializers one): every
	// reader of each of them must qualify.
	keep := map[*ops.Tensor]bool{}
	for _, id := range p.outputs {
		if c := p.consts[id]; c != nil {
			keep[c] = true
		}
	}
	for ni, pn := range p.nodes {
		var packed []int
		if st := stepOf[ni]; st != nil {
			if po, ok := st.kernel.(ops.PackedOnly); ok {
				packed = po.PackedInputs()
			}
		}
		for j, id := range pn.in {
			if id == noValue || p.consts[id] == nil {
				continue
			}
			if !slices.Contains(packed, j) {
				keep[p.consts[id]] = true
			}
		}
	}
	var drop []*ops.Tensor
	for _, c := range p.consts {
		if c != nil && !keep[c] && !c.Dropped() && c.Kind() == ops.KindTensor {
			drop = append(drop, c)
			keep[c] = true // once, for a tensor that several names share
		}
	}
	if len(drop) == 0 {
		return
	}
	p.dataMu.Lock()
	for _, c := range drop {
		c.DropData()
	}
	p.dataMu.Unlock()
	p.lifetime.trim()
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
