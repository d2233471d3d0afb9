package inspect

import (
	"maps"
	"sort"
	"strings"

	"github.com/onnxrun/onnxrun/onnx/onnxpb"
)

// valueKind sorts the values of a graph by where they come from.
type valueKind uint8

const (
	// kindData values depend on a graph input: what flows through the layers.
	kindData valueKind = iota + 1
	// kindConst values are initializers, Constant outputs, and what nodes compute from them alone (the
	// Reshape a CNTK model applies to a weight): weights, or shape constants, depending on who reads them.
	kindConst
	// kindShape values are computed from Shape or Size of a data value: the target shapes exporters
	// build at run time (Shape → Gather → Concat → Reshape). Neither layers nor parameters.
	kindShape
)

// tensorMeta is what a constant tensor (initializer or Constant output) is, without its data.
type tensorMeta struct {
	dtype onnxpb.TensorProto_DataType
	elems int64
	bytes int64
}

type use struct {
	node, pos int
}

// graphView is a model's main graph prepared for the summary: nodes in topological order, who produces
// and who reads each value, and each value's kind. Constant values carry their roots: the initializers and
// Constant outputs they were computed from, through the inputs that are data rather than configuration.
type graphView struct {
	nodes     []*onnxpb.NodeProto
	producer  map[string]int
	consumers map[string][]use
	isOutput  map[string]bool
	isInput   map[string]bool // graph inputs that are not initializers
	kind      map[string]valueKind
	roots     map[string][]string
	tensors   map[string]tensorMeta
}

func newGraphView(g *onnxpb.GraphProto) *graphView { return newBodyView(g, nil) }

// newBodyView is the view of a subgraph whose nodes may read the values of the graph outer describes:
// those keep the kind and roots they have there, so that an outer weight read inside a body is a weight.
func newBodyView(g *onnxpb.GraphProto, outer *graphView) *graphView {
	v := &graphView{
		nodes: sortNodes(g), producer: map[string]int{}, consumers: map[string][]use{},
		isOutput: map[string]bool{}, isInput: map[string]bool{}, kind: map[string]valueKind{},
		roots: map[string][]string{}, tensors: map[string]tensorMeta{},
	}
	if outer != nil {
		maps.Copy(v.kind, outer.kind)
		maps.Copy(v.roots, outer.roots)
		maps.Copy(v.tensors, outer.tensors)
	}
	for _, t := range g.GetInitializer() {
		elems, bytes := tensorSize(t)
		v.tensors[t.GetName()] = tensorMeta{dtype: onnxpb.TensorProto_DataType(t.GetDataType()), elems: elems, bytes: bytes}
		v.kind[t.GetName()] = kindConst
		v.roots[t.GetName()] = []string{t.GetName()}
	}
	for _, in := range g.GetInput() {
		if _, isInit := v.tensors[in.GetName()]; !isInit {
			v.isInput[in.GetName()] = true
			v.kind[in.GetName()] = kindData
		}
	}
	for _, out := range g.GetOutput() {
		v.isOutput[out.GetName()] = true
	}
	for i, n := range v.nodes {
		for pos, in := range n.GetInput() {
			if in != "" {
				v.consumers[in] = append(v.consumers[in], use{i, pos})
			}
		}
		for _, out := range n.GetOutput() {
			if out != "" {
				v.producer[out] = i
			}
		}
		v.classify(n)
	}
	return v
}

// classify sets the kind (and roots) of n's outputs from its inputs'.
func (v *graphView) classify(n *onnxpb.NodeProto) {
	set := func(k valueKind, roots []string) {
		for _, out := range n.GetOutput() {
			if out != "" {
				v.kind[out] = k
				if k == kindConst {
					v.roots[out] = roots
				}
			}
		}
	}
	switch n.GetOpType() {
	case "Constant":
		if len(n.GetOutput()) > 0 && n.GetOutput()[0] != "" {
			out := n.GetOutput()[0]
			v.tensors[out] = constantMeta(n)
			set(kindConst, []string{out})
		}
		return
	case "Shape", "Size":
		set(kindShape, nil)
		return
	}
	data, shape := false, false
	var roots []string
	for pos, in := range n.GetInput() {
		if in == "" {
			continue
		}
		switch v.kind[in] {
		case kindData:
			data = true
		case kindShape:
			shape = true
		case kindConst:
			if !isConfigInput(n.GetOpType(), pos) {
				roots = append(roots, v.roots[in]...)
			}
		default:
			// A value nothing produces (a malformed graph): treat it as data, so it stays visible.
			data = true
		}
	}
	switch {
	case data:
		set(kindData, nil)
	case shape:
		set(kindShape, nil)
	default:
		set(kindConst, roots)
	}
}

// constantMeta sizes a Constant node's value from its attribute.
func constantMeta(n *onnxpb.NodeProto) tensorMeta {
	for _, a := range n.GetAttribute() {
		switch a.GetName() {
		case "value":
			elems, bytes := tensorSize(a.GetT())
			return tensorMeta{dtype: onnxpb.TensorProto_DataType(a.GetT().GetDataType()), elems: elems, bytes: bytes}
		case "value_float":
			return tensorMeta{dtype: onnxpb.TensorProto_FLOAT, elems: 1, bytes: 4}
		case "value_floats":
			k := int64(len(a.GetFloats()))
			return tensorMeta{dtype: onnxpb.TensorProto_FLOAT, elems: k, bytes: 4 * k}
		case "value_int":
			return tensorMeta{dtype: onnxpb.TensorProto_INT64, elems: 1, bytes: 8}
		case "value_ints":
			k := int64(len(a.GetInts()))
			return tensorMeta{dtype: onnxpb.TensorProto_INT64, elems: k, bytes: 8 * k}
		}
	}
	return tensorMeta{dtype: onnxpb.TensorProto_STRING} // strings and sparse values: never weights here
}

// configInputs are the inputs that configure an operator rather than feed it numbers to learn: target
// shapes, axes, pads, bounds. A constant there is not a parameter.
var configInputs = map[string][]int{
	"Reshape": {1}, "Expand": {1}, "Tile": {1}, "Slice": {1, 2, 3, 4}, "Pad": {1, 2, 3}, "Squeeze": {1},
	"Unsqueeze": {1}, "Split": {1}, "Resize": {1, 2, 3}, "Upsample": {1}, "TopK": {1}, "Clip": {1, 2},
	"ConstantOfShape": {0}, "Range": {0, 1, 2}, "OneHot": {1, 2}, "CumSum": {1}, "Trilu": {1}, "Dropout": {1, 2},
	"NonMaxSuppression": {2, 3, 4}, "Gather": {1}, "GatherElements": {1}, "GatherND": {1}, "ScatterND": {1},
	"ScatterElements": {1}, "CenterCropPad": {1}, "DFT": {1, 2}, "Col2Im": {1, 2},
}

func isConfigInput(op string, pos int) bool {
	if strings.HasPrefix(op, "Reduce") && pos == 1 {
		return true // ReduceSum and, from opset 18, every Reduce* take axes as input 1
	}
	for _, p := range configInputs[op] {
		if p == pos {
			return true
		}
	}
	return false
}

// sortNodes orders the nodes so that producers come before consumers, keeping the file's order where it
// is already valid. Nodes left in a cycle or reading values nothing produces keep their file positions at
// the end; the summary is a description, not a validation.
func sortNodes(g *onnxpb.GraphProto) []*onnxpb.NodeProto {
	nodes := g.GetNode()
	producer := map[string]int{}
	for i, n := range nodes {
		for _, o := range n.GetOutput() {
			if o != "" {
				producer[o] = i
			}
		}
	}
	indeg := make([]int, len(nodes))
	users := make([][]int, len(nodes))
	for i, n := range nodes {
		for _, in := range n.GetInput() {
			if p, ok := producer[in]; ok && in != "" && p != i {
				indeg[i]++
				users[p] = append(users[p], i)
			}
		}
	}
	var ready []int
	for i := range nodes {
		if indeg[i] == 0 {
			ready = append(ready, i)
		}
	}
	done := make([]bool, len(nodes))
	sorted := make([]*onnxpb.NodeProto, 0, len(nodes))
	for len(ready) > 0 {
		i := ready[0]
		ready = ready[1:]
		done[i] = true
		sorted = append(sorted, nodes[i])
		for _, u := range users[i] {
			indeg[u]--
			if indeg[u] == 0 {
				j := sort.SearchInts(ready, u)
				ready = append(ready, 0)
				copy(ready[j+1:], ready[j:])
				ready[j] = u
			}
		}
	}
	for i, n := range nodes {
		if !done[i] {
			sorted = append(sorted, n)
		}
	}
	return sorted
}

// dataConsumers are the nodes that read value's data: Shape and Size read only its shape and do not count.
func (v *graphView) dataConsumers(value string) []use {
	var out []use
	for _, u := range v.consumers[value] {
		switch v.nodes[u.node].GetOpType() {
		case "Shape", "Size":
			continue
		}
		out = append(out, u)
	}
	return out
}

// soleConsumer is the one node reading value's data, when there is exactly one and value is not also a
// graph output.
func (v *graphView) soleConsumer(value string) (int, bool) {
	cs := v.dataConsumers(value)
	if len(cs) != 1 || v.isOutput[value] {
		return 0, false
	}
	return cs[0].node, true
}

// dataInputs lists the data-kind inputs of node i.
func (v *graphView) dataInputs(i int) []string {
	var out []string
	for _, in := range v.nodes[i].GetInput() {
		if in != "" && v.kind[in] == kindData {
			out = append(out, in)
		}
	}
	return out
}

// isData reports whether node i computes data (as opposed to constants or shapes).
func (v *graphView) isData(i int) bool {
	for _, out := range v.nodes[i].GetOutput() {
		if out != "" {
			return v.kind[out] == kindData
		}
	}
	return false
}

// firstOutput is node i's first named output.
func (v *graphView) firstOutput(i int) string {
	for _, out := range v.nodes[i].GetOutput() {
		if out != "" {
			return out
		}
	}
	return ""
}
