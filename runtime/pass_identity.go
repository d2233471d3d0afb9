package runtime

import "github.com/onnxrun/onnxrun/ops"

// eliminateIdentity removes Identity nodes and inference-mode Dropout (no training_mode input, or a constant
// false one, and no mask anyone reads) by pointing their consumers at their input. A node whose output is a
// graph output stays: the output must keep its name.
func eliminateIdentity(g *Graph, _ map[string]ops.ValueInfo) (bool, error) {
	changed := false
	kept := g.Nodes[:0]
	for _, n := range g.Nodes {
		if !isPassThrough(g, n) || len(n.Inputs) == 0 || n.Inputs[0] == "" || len(n.Outputs) == 0 || isGraphOutput(g, n.Outputs[0]) {
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
