package runtime

import (
	"fmt"

	"github.com/onnxrun/onnxrun/ops"
)

// The graph passes run inside the bodies of control-flow nodes too, after the enclosing graph reached
// its fixpoint (so that a constant If the outer passes inline is optimised with the outer graph, and the
// bodies left are probed at the outer graph's final shapes). Each body has its own probes: the inputs its
// node gives it at each of the enclosing graph's probes (A, and B when a dimension is symbolic), captured
// initializers included as constants, merged as probeShapes merges the outer ones. A body whose inputs
// are not known at some probe, or whose loop-carried values change shape from one iteration to the next
// (what holds at the first iteration would not hold at the others), is optimised without shapes: only
// the passes that need none (identity and dead-node elimination, and what reads constants of the body
// itself) change it. Nested bodies are optimised in turn, at the probes of the body around them.

// bodyProber is a control-flow operator whose bodies the graph passes optimise.
type bodyProber interface {
	bodies() []*body
	// bodyInputsAt gives the inputs b runs at, for node inputs as a probe saw them (Const set where the
	// probe folded them); ok is false when they do not hold for every run of the body.
	bodyInputsAt(b *body, in []ops.ValueInfo) (inputs []ops.ValueInfo, ok bool)
}

// probeMaps plans g (shapes only) at probe A and, when a dimension is symbolic, at probe B, and returns
// what each learnt by value name, unmerged: probeShapes merges them, optimizeBodies probes bodies at each.
func probeMaps(g *Graph, opts Options, opsets map[string]int) []map[string]ops.ValueInfo {
	probeA, symbolic, ok := probeInputs(g, false)
	if !ok {
		return nil
	}
	p, err := newPlan(g, opts, opsets)
	if err != nil {
		return nil
	}
	maps := []map[string]ops.ValueInfo{p.probeAt(probeA)}
	if symbolic {
		probeB, _, _ := probeInputs(g, true)
		maps = append(maps, p.probeAt(probeB))
	}
	return maps
}

// mergeAll merges what every probe learnt (mergeProbes); no probe at all knows nothing.
func mergeAll(maps []map[string]ops.ValueInfo) map[string]ops.ValueInfo {
	if len(maps) == 0 {
		return map[string]ops.ValueInfo{}
	}
	merged := maps[0]
	for _, m := range maps[1:] {
		merged = mergeProbes(merged, m)
	}
	return merged
}

// optimizeBodies runs the graph passes in the bodies of g's control-flow nodes, recursively; probes are
// what g's probes learnt (probeMaps), one map per probe.
func optimizeBodies(g *Graph, probes []map[string]ops.ValueInfo, opts Options, opsets map[string]int, logf func(string, ...any)) error {
	for i, n := range g.Nodes {
		owner, ok := n.Op.(bodyProber)
		if !ok {
			continue
		}
		label := n.label(i)
		for _, b := range owner.bodies() {
			at := bodyProbeInputs(n, owner, b, probes)
			var bodyLogf func(string, ...any)
			if logf != nil {
				prefix := fmt.Sprintf("node %q body %q: ", label, b.attr)
				bodyLogf = func(format string, args ...any) { logf(prefix+format, args...) }
			}
			if err := b.optimize(at, opts, opsets, bodyLogf); err != nil {
				return newNodeError(label, n, "optimize body", err)
			}
		}
	}
	return nil
}

// bodyProbeInputs gives b's inputs at each of the probes, or nil when some probe does not know them.
func bodyProbeInputs(n *Node, owner bodyProber, b *body, probes []map[string]ops.ValueInfo) [][]ops.ValueInfo {
	var at [][]ops.ValueInfo
	for _, known := range probes {
		in := make([]ops.ValueInfo, len(n.Inputs))
		for j, name := range n.Inputs {
			if name == "" {
				continue // absent optional input
			}
			info, ok := known[name]
			if !ok {
				return nil
			}
			in[j] = info
		}
		inputs, ok := owner.bodyInputsAt(b, in)
		if !ok {
			return nil
		}
		at = append(at, inputs)
	}
	return at
}

// optimize runs the passes on the body's graph, probed at the inputs at (none: without shapes), plans
// the body again, and optimises its own bodies.
func (b *body) optimize(at [][]ops.ValueInfo, opts Options, opsets map[string]int, logf func(string, ...any)) error {
	probeEach := func(g *Graph) []map[string]ops.ValueInfo {
		if len(at) == 0 {
			return nil
		}
		p, err := newPlan(g, opts, opsets)
		if err != nil {
			return nil
		}
		maps := make([]map[string]ops.ValueInfo, len(at))
		for i, in := range at {
			maps[i] = p.probeAt(in)
		}
		return maps
	}
	probe := func(g *Graph) map[string]ops.ValueInfo { return mergeAll(probeEach(g)) }
	if err := runPasses(b.graph, probe, logf); err != nil {
		return fmt.Errorf("body %q: %w", b.attr, err)
	}
	if err := bindGraph(b.graph, opts, opsets); err != nil { // the nodes passes created
		return fmt.Errorf("body %q: %w", b.attr, err)
	}
	p, err := newPlan(b.graph, opts, opsets)
	if err != nil {
		return fmt.Errorf("body %q: %w", b.attr, err)
	}
	b.plan = p
	return optimizeBodies(b.graph, probeEach(b.graph), opts, opsets, logf)
}

// carriedInvariant reports whether the body, run at inputs, returns each carried value (body input
// firstIn+i, body output firstOut+i) with the dtype and shape it got: then the inputs hold for every
// iteration, not only the first.
func (b *body) carriedInvariant(inputs []ops.ValueInfo, firstIn, firstOut, carried int) bool {
	outs, err := b.infer(inputs)
	if err != nil {
		return false
	}
	for i := 0; i < carried; i++ {
		in, out := inputs[firstIn+i], outs[firstOut+i]
		if in.DType != out.DType || !in.Shape.Equal(out.Shape) {
			return false
		}
	}
	return true
}

func (o *ifOp) bodies() []*body { return o.branches[:] }

func (o *ifOp) bodyInputsAt(b *body, in []ops.ValueInfo) ([]ops.ValueInfo, bool) {
	return b.inputInfos(nil, in), true
}

func (o *loopOp) bodies() []*body { return []*body{o.body} }

func (o *loopOp) bodyInputsAt(b *body, in []ops.ValueInfo) ([]ops.ValueInfo, bool) {
	if len(in) < 2+o.carried {
		return nil, false
	}
	inputs := o.bodyInputs(in)
	// Body inputs: iteration_num, cond, carried...; outputs: cond, carried..., scan outputs.
	return inputs, b.carriedInvariant(inputs, 2, 1, o.carried)
}

func (o *scanOp) bodies() []*body { return []*body{o.body} }

func (o *scanOp) bodyInputsAt(b *body, in []ops.ValueInfo) ([]ops.ValueInfo, bool) {
	g, err := o.geometry(in)
	if err != nil {
		return nil, false
	}
	inputs := o.bodyInputs(in, g)
	// Body inputs: states..., scan slices...; outputs: states..., scan outputs.
	return inputs, b.carriedInvariant(inputs, 0, 0, o.states)
}
