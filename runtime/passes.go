package runtime

import (
	"github.com/onnxrun/onnxrun/ops"
)

// A pass rewrites the graph in place and reports whether it changed anything. Passes run in order, the
// whole list repeated until none changes the graph (a fixpoint), each change logged by name.
type pass struct {
	name string
	run  func(g *Graph) (changed bool, err error)
}

// passes is the optimisation pipeline. Constant folding is not here: it happens while planning shapes,
// where every value's shape is known (see specialize.go).
var passes = []pass{
	{"eliminate-identity", eliminateIdentity},
	{"eliminate-dead-nodes", eliminateDeadNodes},
}

func runPasses(g *Graph, logf func(string, ...any)) error {
	for round := 0; round < 16; round++ {
		any := false
		for _, p := range passes {
			changed, err := p.run(g)
			if err != nil {
				return err
			}
			if changed {
				any = true
				if logf != nil {
					logf("pass %s changed the graph (%d nodes)", p.name, len(g.Nodes))
				}
			}
		}
		if !any {
			return nil
		}
	}
	return nil
}

func isGraphOutput(g *Graph, name string) bool {
	for _, o := range g.Outputs {
		if o.Name == name {
			return true
		}
	}
	return false
}

// eliminateIdentity removes Identity nodes and inference-mode Dropout (no training_mode input, or a constant
// false one, and no mask anyone reads) by pointing their consumers at their input. A node whose output is a
// graph output stays: the output must keep its name.
func eliminateIdentity(g *Graph) (bool, error) {
	changed := false
	kept := g.Nodes[:0]
	for _, n := range g.Nodes {
		if !isPassThrough(g, n) || len(n.Inputs) == 0 || n.Inputs[0] == "" || isGraphOutput(g, n.Outputs[0]) {
			kept = append(kept, n)
			continue
		}
		from, to := n.Outputs[0], n.Inputs[0]
		for _, m := range g.Nodes {
			for j, in := range m.Inputs {
				if in == from {
					m.Inputs[j] = to
				}
			}
		}
		changed = true
	}
	g.Nodes = kept
	return changed, nil
}

func isPassThrough(g *Graph, n *Node) bool {
	switch n.OpType {
	case "Identity":
		return n.Domain == "" && len(n.Outputs) == 1
	case "Dropout":
		if n.Domain != "" {
			return false
		}
		for j, o := range n.Outputs {
			if j > 0 && o != "" && isUsed(g, o) {
				return false // the mask is read
			}
		}
		if n.Opset < 12 {
			// Before opset 12 the is_test attribute (opset < 7) or nothing selects training; ONNX runtimes run
			// these as inference.
			return true
		}
		if len(n.Inputs) < 3 || n.Inputs[2] == "" {
			return true
		}
		t, ok := g.Constants[n.Inputs[2]]
		return ok && t.DType() == ops.Bool && t.Len() == 1 && !t.Bools()[0]
	}
	return false
}

func isUsed(g *Graph, name string) bool {
	if isGraphOutput(g, name) {
		return true
	}
	for _, m := range g.Nodes {
		for _, in := range m.Inputs {
			if in == name {
				return true
			}
		}
	}
	return false
}

// eliminateDeadNodes drops nodes none of whose outputs reach a graph output.
func eliminateDeadNodes(g *Graph) (bool, error) {
	live := map[string]bool{}
	for _, o := range g.Outputs {
		live[o.Name] = true
	}
	keep := make([]bool, len(g.Nodes))
	for i := len(g.Nodes) - 1; i >= 0; i-- {
		n := g.Nodes[i]
		for _, o := range n.Outputs {
			if o != "" && live[o] {
				keep[i] = true
				break
			}
		}
		if keep[i] {
			for _, in := range n.Inputs {
				live[in] = true
			}
		}
	}
	kept := g.Nodes[:0]
	for i, n := range g.Nodes {
		if keep[i] {
			kept = append(kept, n)
		}
	}
	changed := len(kept) != len(g.Nodes)
	g.Nodes = kept
	return changed, nil
}
