package runtime

import (
	"strconv"

	"github.com/onnxrun/onnxrun/ops"
)

// foldConstantIf replaces an If whose condition is known at compile time (an initializer, or a value
// folded from constants, such as a test on a static shape) by the nodes of the branch it takes. The
// branch's values are renamed into the outer graph (NODE/VALUE, made unique), its captures become the
// outer values the If read, its initializers become constants, and an Identity per output gives the If's
// outputs their names (eliminate-identity then removes those it can). Nodes with bodies of their own move
// as they are: they bind their captures by position, so renaming their inputs is enough.
func foldConstantIf(r *rewriter, shapes map[string]ops.ValueInfo) (bool, error) {
	changed := false
	for _, n := range r.nodes() {
		op, ok := n.Op.(*ifOp)
		if !ok || n.Domain != "" || len(n.Inputs) == 0 {
			continue
		}
		cond := r.g.Constants[n.Inputs[0]]
		if cond == nil {
			cond = shapes[n.Inputs[0]].Const
		}
		if cond == nil || cond.DType() != ops.Bool || cond.Len() != 1 {
			continue
		}
		label := n.label(r.pos[n])
		r.inline(n, inlineBranch(r, op.branches[condIndex(cond)], n, label))
		changed = true
	}
	return changed, nil
}

// inlineBranch returns the nodes that compute n's outputs from branch b, in the outer graph's names.
func inlineBranch(r *rewriter, b *body, n *Node, label string) []*Node {
	names := map[string]string{}
	for j, c := range b.graph.Captures {
		names[c] = n.Inputs[b.capture[j]]
	}
	fresh := func(name string) string {
		base := label + "/" + name
		out := base
		for i := 1; r.g.Constants[out] != nil || r.producer[out] != nil || r.inputs[out] || len(r.users[out]) > 0 || r.outputs[out]; i++ {
			out = base + "_" + strconv.Itoa(i)
		}
		return out
	}
	for name, t := range b.graph.Constants {
		names[name] = r.addConstant(label+"/"+name, t)
	}
	var nodes []*Node
	for _, bn := range b.graph.Nodes {
		moved := *bn
		moved.Inputs = make([]string, len(bn.Inputs))
		moved.Outputs = make([]string, len(bn.Outputs))
		for j, o := range bn.Outputs {
			if o != "" {
				names[o] = fresh(o)
				// Reserve the name so that the next fresh one differs.
				r.producer[names[o]] = &moved
				moved.Outputs[j] = names[o]
			}
		}
		nodes = append(nodes, &moved)
	}
	for i, bn := range b.graph.Nodes {
		for j, in := range bn.Inputs {
			nodes[i].Inputs[j] = names[in] // "" stays ""
		}
		if nodes[i].Name != "" {
			nodes[i].Name = label + "/" + nodes[i].Name
		}
	}
	for j, out := range b.graph.Outputs {
		if n.Outputs[j] == "" {
			continue
		}
		nodes = append(nodes, &Node{Name: label + "/output" + strconv.Itoa(j), OpType: "Identity", Opset: max(n.Opset, 1),
			Inputs: []string{names[out.Name]}, Outputs: []string{n.Outputs[j]}, Attrs: ops.AttrMap{}})
	}
	return nodes
}
