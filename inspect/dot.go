package inspect

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// WriteDot writes m's main graph in Graphviz's DOT language, drawn top to bottom as Netron draws it:
// inputs and outputs as ellipses, one box per node with its op type, name and the constant tensors it
// reads (initializers and Constant outputs, with their shapes), edges labelled with the shapes flowing
// along them where shape inference knows them. Render it with `dot -Tsvg graph.dot -o graph.svg`. pins
// fix input shapes for that inference, as runtime.Options.InputShapes does (nil: as declared); a pin that
// does not fit the model is an error.
func WriteDot(w io.Writer, m *onnx.Model, pins map[string]ops.Shape) error {
	g := m.Proto.GetGraph()
	if g == nil {
		return fmt.Errorf("the model has no graph")
	}
	v := newGraphView(g)
	shapes, err := inferShapes(m, pins)
	if len(pins) > 0 && errors.Is(err, runtime.ErrBadInput) {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %s {\n", dotQuote(g.GetName()))
	b.WriteString("  rankdir=TB;\n  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n")
	source := map[string]string{} // value → the DOT node that produces it
	for i, in := range g.GetInput() {
		if !v.isInput[in.GetName()] {
			continue
		}
		id := "input" + strconv.Itoa(i)
		val := describeValue(in)
		fmt.Fprintf(&b, "  %s [shape=ellipse, style=filled, fillcolor=\"#e8eaf6\", label=%s];\n", id,
			dotQuote(val.Name+"\n"+val.DType+val.ShapeString()))
		source[in.GetName()] = id
	}
	drawn := make([]bool, len(v.nodes))
	for i, n := range v.nodes {
		if n.GetOpType() == "Constant" {
			continue // shown inside the boxes of the nodes that read it
		}
		drawn[i] = true
		id := "node" + strconv.Itoa(i)
		lines := []string{qualified(n.GetDomain(), n.GetOpType())}
		if n.GetName() != "" {
			lines = append(lines, n.GetName())
		}
		for _, in := range n.GetInput() {
			if t, ok := v.tensors[in]; ok && in != "" {
				lines = append(lines, fmt.Sprintf("%s ⟨%s⟩", shortName(in), constShape(g, in, t)))
			}
		}
		fmt.Fprintf(&b, "  %s [shape=box, style=\"rounded,filled\", fillcolor=%q, label=%s];\n", id, nodeColor(n.GetOpType()),
			dotQuote(strings.Join(lines, "\n")))
		for _, out := range n.GetOutput() {
			if out != "" {
				source[out] = id
			}
		}
	}
	edge := func(from, to, value string) {
		label := ""
		if d, ok := shapes[value]; ok {
			label = shapeLabel(d)
		}
		fmt.Fprintf(&b, "  %s -> %s [label=%s, tooltip=%s];\n", from, to, dotQuote(label), dotQuote(value))
	}
	for i, n := range v.nodes {
		if !drawn[i] {
			continue
		}
		seen := map[string]bool{}
		for _, in := range n.GetInput() {
			from, ok := source[in]
			if in == "" || !ok || seen[in] {
				continue
			}
			seen[in] = true
			edge(from, "node"+strconv.Itoa(i), in)
		}
	}
	for i, out := range g.GetOutput() {
		id := "output" + strconv.Itoa(i)
		val := describeValue(out)
		fmt.Fprintf(&b, "  %s [shape=ellipse, style=filled, fillcolor=\"#e8f5e9\", label=%s];\n", id,
			dotQuote(val.Name+"\n"+val.DType+val.ShapeString()))
		if from, ok := source[out.GetName()]; ok {
			edge(from, id, out.GetName())
		}
	}
	b.WriteString("}\n")
	_, err = io.WriteString(w, b.String())
	return err
}

// constShape prints a constant's dims as 6×1×3×3 (a scalar as "scalar").
func constShape(g *onnxpb.GraphProto, name string, t tensorMeta) string {
	for _, init := range g.GetInitializer() {
		if init.GetName() == name {
			return dimsLabel(init.GetDims())
		}
	}
	for _, n := range g.GetNode() {
		if n.GetOpType() == "Constant" && len(n.GetOutput()) > 0 && n.GetOutput()[0] == name {
			for _, a := range n.GetAttribute() {
				if a.GetName() == "value" {
					return dimsLabel(a.GetT().GetDims())
				}
			}
		}
	}
	return strconv.FormatInt(t.elems, 10)
}

func dimsLabel(dims []int64) string {
	if len(dims) == 0 {
		return "scalar"
	}
	parts := make([]string, len(dims))
	for i, d := range dims {
		parts[i] = strconv.FormatInt(d, 10)
	}
	return strings.Join(parts, "×")
}

// shapeLabel prints an inferred shape for an edge, the batch as "?": ?×6×26×26.
func shapeLabel(dims []int64) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		if d < 0 {
			parts[i] = "?"
		} else {
			parts[i] = strconv.FormatInt(d, 10)
		}
	}
	if len(parts) == 0 {
		return "scalar"
	}
	return strings.Join(parts, "×")
}

// shortName keeps the last two path elements of a long tensor name, enough to tell weights apart.
func shortName(name string) string {
	parts := strings.Split(strings.TrimPrefix(name, "/"), "/")
	if len(parts) > 2 {
		parts = parts[len(parts)-2:]
	}
	return strings.Join(parts, "/")
}

// nodeColor colours boxes by family, as Netron does: layers with weights blue, activations red,
// pooling and normalisation green, the rest grey.
func nodeColor(op string) string {
	switch {
	case weighted[op] || op == "MatMul":
		return "#cfe2f3"
	case activations[op]:
		return "#f4cccc"
	case spatial[op]:
		return "#d9ead3"
	}
	return "#eeeeee"
}

// dotQuote makes s a DOT string literal.
func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
