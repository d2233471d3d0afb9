package runtime

import (
	"context"
	"fmt"

	"github.com/onnxrun/onnxrun/ops"
)

// Observing a plan: every intermediate value of one run, and every value's inferred type and shape. These
// are debugging paths (`onnxrun run --dump-intermediate`, `onnxrun summary`). A run observed goes through
// Session.Run's own path with an observing hook, which Run does not install, so the normal path costs
// nothing for their existence and what is observed is what Run computes.

// Observer receives one value computed by Session.RunWithObserver: the name of a node output and its
// tensor. The tensor is the observer's to keep; nothing reuses its memory.
type Observer func(name string, t *ops.Tensor)

// RunWithObserver computes the same outputs as Run, and calls observe with every node output as soon as
// it is known, in the plan's node order: values that constant folding computed at plan time first
// appear when their node comes up, the others right after their kernel runs. It gives the observer a copy
// of each value, not the memory planner's shared buffers, so an observer may keep every tensor (to write
// them all to files, or compare them with another runtime's), and the outputs returned are copies too,
// the caller's to keep.
//
// The values computed inside the bodies of control-flow nodes are observed too, named NODE/ATTR/VALUE
// ("loop/body/sum", "choose/then_branch/y", nested bodies under their node's name in turn), once the node
// is done: those of the branch an If took, and of the last iteration of a Loop or Scan (or of the last
// batch entry's last iteration, for Scan-8).
//
// Values are named as in the plan's graph, which is the model's after the graph passes: compile with
// Options.NoOptimize to see the output of every node of the file under its own name. Outputs of nodes
// that nothing reads (and that are not graph outputs) are not computed and so not observed. Graph inputs
// and initializers are not node outputs and are not observed either.
//
// It allocates on every call; it is meant for debugging, not serving.
func (s *Session) RunWithObserver(ctx context.Context, inputs []*ops.Tensor, observe Observer) ([]*ops.Tensor, error) {
	if observe == nil {
		observe = func(string, *ops.Tensor) {}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	// The bodies of control-flow nodes find the observer in the context (their kernels see nothing else).
	outs, err := s.run(withObserver(ctx, observe), inputs, &observeHook{plan: s.plan, observe: observe})
	if err != nil {
		return nil, err
	}
	return cloneAll(outs), nil
}

// cloneAll returns deep copies of ts, the caller's to keep.
func cloneAll(ts []*ops.Tensor) []*ops.Tensor {
	kept := make([]*ops.Tensor, len(ts))
	for i, t := range ts {
		kept[i] = t.Clone()
	}
	return kept
}

// observeHook reports every node output of a run to an Observer, in node order.
type observeHook struct {
	cancelHook
	plan    *Plan
	observe Observer
	spec    *specialization
	bound   *boundPlan
	// folded holds the values folded at plan time when spec let go of some (nil otherwise).
	folded *specialization
	// computed marks the values a step wrote in this run; reported those already given to the observer.
	computed []bool
	reported []bool
	next     int // the next node to report
}

func (h *observeHook) begin(ctx context.Context, spec *specialization, b *boundPlan) {
	h.cancelHook.begin(ctx, spec, b)
	h.spec, h.bound = spec, b
	h.folded = nil
	if spec.releasedFolds {
		// The values folded on the way to others are not kept in the specialisation: fold them again,
		// as planning did, to report them.
		inputs := make([]ops.ValueInfo, len(h.plan.inputs))
		for i, id := range h.plan.inputs {
			inputs[i] = spec.infos[id]
		}
		if s, err := h.plan.plan(inputs, planShapes); err == nil {
			h.folded = s
		}
	}
	h.computed = make([]bool, h.plan.numValues)
	h.reported = make([]bool, h.plan.numValues)
	h.next = 0
}

func (h *observeHook) afterStep(st *step) {
	for _, id := range st.out {
		h.computed[id] = true
	}
	h.reportUpTo(st.node + 1)
}

// end reports the nodes after the last step, or, for a dynamic run, every value it evaluated.
func (h *observeHook) end(evaluated *specialization) {
	if evaluated != nil {
		h.spec = evaluated
	}
	h.reportUpTo(len(h.plan.nodes))
}

// reportUpTo reports the outputs of the nodes before node end that are known: folded at plan time, or
// computed by a step. A node dropped from the plan reports nothing.
func (h *observeHook) reportUpTo(end int) {
	p := h.plan
	for ; h.next < end; h.next++ {
		for _, id := range p.nodes[h.next].out {
			if h.reported[id] || p.names[id] == "" {
				continue
			}
			var t *ops.Tensor
			switch {
			case h.spec.infos[id].Const != nil:
				t = h.spec.infos[id].Const
			case h.folded != nil && h.folded.infos[id].Const != nil && !h.computed[id]:
				t = h.folded.infos[id].Const
			case h.computed[id]:
				t = h.bound.tensors[id]
			default:
				continue
			}
			h.reported[id] = true
			h.observe(p.names[id], t.Clone())
		}
	}
}

// ValueInfos infers the dtype and shape of every named value of the plan's graph for the given input
// shapes (inputs in order, dtypes as declared), running nothing but constant folding; for constants
// (initializers and folded values) the entry's Const holds the value (with no elements for a weight the
// plan dropped once packed: ops.Tensor.Dropped). It is what `onnxrun summary` reads
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
	s, err := p.plan(infos, planShapes)
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
