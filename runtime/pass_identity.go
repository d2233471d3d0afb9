package runtime

import "github.com/onnxrun/onnxrun/ops"

// eliminateIdentity removes Identity nodes and inference-mode Dropout (no training_mode input, or a constant
// false one, and no mask anyone reads) by pointing their consumers at their input. A node whose output is a
// graph output stays: the output must keep its name.
func eliminateIdentity(r *rewriter, _ map[string]ops.ValueInfo) (bool, error) {
	changed := false
	for _, n := range r.nodes() {
		if !isPassThrough(r, n) || len(n.Inputs) == 0 || n.Inputs[0] == "" || len(n.Outputs) == 0 || r.isOutput(n.Outputs[0]) {
			continue
		}
		r.redirect(n.Outputs[0], n.Inputs[0])
		r.remove(n)
		changed = true
	}
	return changed, nil
}

func isPassThrough(r *rewriter, n *Node) bool {
	switch n.OpType {
	case "Identity":
		return n.Domain == "" && len(n.Outputs) == 1
	case "Dropout":
		if n.Domain != "" {
			return false
		}
		for j, o := range n.Outputs {
			if j > 0 && o != "" && r.isUsed(o) {
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
		t, ok := r.g.Constants[n.Inputs[2]]
		return ok && t.DType() == ops.Bool && t.Len() == 1 && !t.Bools()[0]
	}
	return false
}
