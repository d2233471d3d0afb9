package runtime

import "github.com/onnxrun/onnxrun/ops"

// eliminateDeadNodes drops nodes none of whose outputs reach a graph output, and unread constants.
func eliminateDeadNodes(r *rewriter, _ map[string]ops.ValueInfo) (bool, error) {
	g := r.g
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
	changed := false
	for i, n := range g.Nodes {
		if !keep[i] {
			r.remove(n)
			changed = true
		}
	}
	// Constants nobody reads any more (weights a pass replaced) would only hold memory.
	for name := range g.Constants {
		if !live[name] {
			delete(g.Constants, name)
			changed = true
		}
	}
	return changed, nil
}
