package onnxgo

import (
	"fmt"
	"sort"

	onnxgo "github.com/owulveryck/onnx-go"
	"gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/iterator"
	"gorgonia.org/tensor"

	"github.com/onnxrun/onnxrun/ops"
)

// Graph is an onnx-go backend that runs on onnxrun. It implements onnx.Backend (a gonum directed weighted
// graph builder and an OperationCarrier) and backend.ComputationBackend (Run), so that code written for
// onnx-go's gorgonnx backend works with it unchanged:
//
//	backend := onnxgo.NewGraph()
//	model := onnx.NewModel(backend)
//	err := model.UnmarshalBinary(b)
//	model.SetInput(0, input)
//	err = backend.Run()
//	outputs, err := model.GetOutputTensors()
//
// A Graph holds one model; it is not safe for concurrent use.
type Graph struct {
	// Opset is the default-domain opset the operators are read at. onnx-go does not pass the model's
	// opset_import on to its backend, so 0 (the default) infers it from the forms the operators take:
	// the opset of onnx-go's time, 11, unless an operator's inputs or attributes exist only in earlier
	// opsets (Pad's pads attribute, Slice's starts) or only in later ones (Squeeze's axes input). Set it
	// when the model's opset is known.
	Opset int
	// Threads is the number of threads per operator. 0 means 1: onnx-go's API has no way to release a
	// backend, and a one-thread session starts no goroutines that could outlive it. Set more for big
	// models, and call Close when done with the Graph.
	Threads int

	nodes      []*Node
	edges      []*Edge
	operations []*operation
	// decoded becomes true at the first ApplyOperation: onnx-go sets the initializers (and placeholders
	// for the inputs) before it applies any operation, so a tensor set after that is an input the caller
	// gave with Model.SetInput.
	decoded bool

	compiled *compiled
}

// NewGraph returns an empty backend, ready for onnx.NewModel.
func NewGraph() *Graph { return &Graph{} }

// Close releases the compiled session's worker threads (see Threads). The Graph may run again after
// it; the next Run compiles anew.
func (g *Graph) Close() {
	if g.compiled != nil {
		g.compiled.sess.Close()
		g.compiled = nil
	}
}

// Node is a value of the graph: an input, an initializer, or an operation's output. It implements
// onnx-go's Namer, Documenter and DataCarrier.
type Node struct {
	id          int64
	name        string
	description string
	t           tensor.Tensor
	// setAtDecode is set when onnx-go gave the node a tensor while decoding: an initializer, or the
	// placeholder of a declared input or output; userSet when the caller did (SetInput).
	setAtDecode bool
	userSet     bool
	// declared is the dtype of the placeholder onnx-go made from the model's declaration, when it did.
	declared    tensor.Dtype
	hasDeclared bool
	producer    *operation
	g           *Graph
}

// ID returns the node's ID (graph.Node).
func (n *Node) ID() int64 { return n.id }

// SetName sets the node's name (onnx.Namer).
func (n *Node) SetName(name string) { n.name = name }

// GetName returns the node's name: the ONNX value name.
func (n *Node) GetName() string { return n.name }

// SetDescription sets the node's doc string (onnx.Documenter).
func (n *Node) SetDescription(d string) { n.description = d }

// GetDescription returns the node's doc string.
func (n *Node) GetDescription() string { return n.description }

// GetTensor returns the node's value: its initializer, the input the caller set, or after Run, the
// output computed.
func (n *Node) GetTensor() tensor.Tensor { return n.t }

// SetTensor sets the node's value (onnx.DataCarrier). Once the graph's operations are applied, a tensor
// set on a node that no operation produces makes that node an input of the model (Model.SetInput).
func (n *Node) SetTensor(t tensor.Tensor) error {
	n.t = t
	if n.g != nil && n.g.decoded {
		n.userSet = true
	}
	return nil
}

// String names the node for messages.
func (n *Node) String() string { return fmt.Sprintf("%q (node %d)", n.name, n.id) }

// Edge goes from an operation's output to one of its inputs, as onnx-go draws them; its weight is the
// input's position.
type Edge struct {
	from, to *Node
	weight   float64
}

// From returns the operation's output node.
func (e *Edge) From() graph.Node { return e.from }

// To returns the input node.
func (e *Edge) To() graph.Node { return e.to }

// Weight is the input's position among the operation's inputs.
func (e *Edge) Weight() float64 { return e.weight }

// ReversedEdge returns the edge itself: reversing it would change its meaning.
func (e *Edge) ReversedEdge() graph.Edge { return e }

// operation is one ONNX node: an op type, its attributes as onnx-go decoded them, its outputs and (read
// from the edges) its inputs, nil for an absent optional input.
type operation struct {
	opType  string
	attrs   map[string]interface{}
	outputs []*Node
	inputs  []*Node
}

// NewNode returns a new node with the next free ID. onnx-go relies on the graph's inputs getting the IDs
// 0, 1, ...: Model.SetInput(i) sets node i.
func (g *Graph) NewNode() graph.Node { return &Node{id: int64(len(g.nodes))} }

// AddNode adds a node made by NewNode. It panics on a node of another type or an ID in use, as gonum's
// graphs do.
func (g *Graph) AddNode(n graph.Node) {
	node, ok := n.(*Node)
	if !ok {
		panic(fmt.Sprintf("onnxgo: AddNode of a %T; use the graph's NewNode", n))
	}
	for int64(len(g.nodes)) <= node.id {
		g.nodes = append(g.nodes, nil)
	}
	if g.nodes[node.id] != nil {
		panic(fmt.Sprintf("onnxgo: node ID %d is already in the graph", node.id))
	}
	g.nodes[node.id] = node
	node.g = g
}

// NewWeightedEdge returns an edge from an operation's output to its input at position w.
func (g *Graph) NewWeightedEdge(from, to graph.Node, w float64) graph.WeightedEdge {
	return &Edge{from: from.(*Node), to: to.(*Node), weight: w}
}

// SetWeightedEdge adds e. Unlike gonum's simple graphs it keeps parallel edges, so an operation that
// reads one value twice (Add(x, x)) keeps both inputs.
func (g *Graph) SetWeightedEdge(e graph.WeightedEdge) {
	edge, ok := e.(*Edge)
	if !ok {
		edge = &Edge{from: g.Node(e.From().ID()).(*Node), to: g.Node(e.To().ID()).(*Node), weight: e.Weight()}
	}
	for _, n := range []*Node{edge.from, edge.to} {
		if g.Node(n.id) == nil {
			g.AddNode(n)
		}
	}
	g.edges = append(g.edges, edge)
}

// Node returns the node with the given ID, or nil.
func (g *Graph) Node(id int64) graph.Node {
	if id < 0 || id >= int64(len(g.nodes)) || g.nodes[id] == nil {
		return nil
	}
	return g.nodes[id]
}

// Nodes returns every node, by ID.
func (g *Graph) Nodes() graph.Nodes {
	var ns []graph.Node
	for _, n := range g.nodes {
		if n != nil {
			ns = append(ns, n)
		}
	}
	return iterator.NewOrderedNodes(ns)
}

// From returns the inputs of the operation whose output is node id.
func (g *Graph) From(id int64) graph.Nodes {
	var ns []graph.Node
	seen := map[int64]bool{}
	for _, e := range g.edges {
		if e.from.id == id && !seen[e.to.id] {
			seen[e.to.id] = true
			ns = append(ns, e.to)
		}
	}
	return iterator.NewOrderedNodes(ns)
}

// To returns the outputs of the operations that read node id.
func (g *Graph) To(id int64) graph.Nodes {
	var ns []graph.Node
	seen := map[int64]bool{}
	for _, e := range g.edges {
		if e.to.id == id && !seen[e.from.id] {
			seen[e.from.id] = true
			ns = append(ns, e.from)
		}
	}
	return iterator.NewOrderedNodes(ns)
}

// HasEdgeBetween reports whether an edge joins x and y in either direction.
func (g *Graph) HasEdgeBetween(xid, yid int64) bool {
	return g.HasEdgeFromTo(xid, yid) || g.HasEdgeFromTo(yid, xid)
}

// HasEdgeFromTo reports whether an edge goes from u to v.
func (g *Graph) HasEdgeFromTo(uid, vid int64) bool { return g.Edge(uid, vid) != nil }

// Edge returns the first edge from u to v, or nil.
func (g *Graph) Edge(uid, vid int64) graph.Edge {
	for _, e := range g.edges {
		if e.from.id == uid && e.to.id == vid {
			return e
		}
	}
	return nil
}

// WeightedEdge returns the first edge from u to v, or nil.
func (g *Graph) WeightedEdge(uid, vid int64) graph.WeightedEdge {
	for _, e := range g.edges {
		if e.from.id == uid && e.to.id == vid {
			return e
		}
	}
	return nil
}

// ApplyOperation records an ONNX node whose outputs are nodes; its inputs are the nodes the outputs'
// edges point to, ordered by weight. An operator onnxrun has no kernel for at any opset is refused with
// onnx-go's *ErrNotImplemented, as gorgonnx does.
func (g *Graph) ApplyOperation(op onnxgo.Operation, nodes ...graph.Node) error {
	if !g.decoded {
		g.decoded = true
		for _, n := range g.nodes {
			if n != nil && n.t != nil {
				n.setAtDecode = true
				n.declared, n.hasDeclared = n.t.Dtype(), true
			}
		}
	}
	if len(nodes) == 0 {
		return fmt.Errorf("onnxgo: operation %s has no output", op.Name)
	}
	if !registered(op.Name) {
		return &onnxgo.ErrNotImplemented{Operator: op.Name, Message: "onnxrun has no kernel for it"}
	}
	o := &operation{opType: op.Name, attrs: op.Attributes}
	for _, n := range nodes {
		node, ok := n.(*Node)
		if !ok {
			return fmt.Errorf("onnxgo: operation %s: output node %d is a %T, not made by this graph", op.Name, n.ID(), n)
		}
		if node.producer != nil {
			return fmt.Errorf("onnxgo: value %s is produced twice, by %s and %s", node, node.producer.opType, op.Name)
		}
		node.producer = o
		o.outputs = append(o.outputs, node)
	}
	var ins []*Edge
	for _, e := range g.edges {
		if e.from == o.outputs[0] {
			ins = append(ins, e)
		}
	}
	sort.SliceStable(ins, func(a, b int) bool { return ins[a].weight < ins[b].weight })
	for _, e := range ins {
		pos := int(e.weight)
		if pos < 0 || float64(pos) != e.weight || pos > 1<<16 {
			return fmt.Errorf("onnxgo: operation %s: input edge weight %v is not a position", op.Name, e.weight)
		}
		for len(o.inputs) <= pos {
			o.inputs = append(o.inputs, nil)
		}
		if o.inputs[pos] != nil && o.inputs[pos] != e.to {
			return fmt.Errorf("onnxgo: operation %s: two inputs at position %d (%s and %s)", op.Name, pos, o.inputs[pos], e.to)
		}
		o.inputs[pos] = e.to
	}
	g.operations = append(g.operations, o)
	g.compiled = nil
	return nil
}

// registered reports whether onnxrun has a kernel for the default-domain operator at some opset (the
// runtime package, which run.go imports, registers them all).
func registered(opType string) bool {
	_, have, ok := ops.Lookup("", opType, ops.MaxOpset)
	return ok || len(have) > 0
}
