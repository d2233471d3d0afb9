package runtime

import (
	"fmt"
	"sort"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
)

// Graph is the runtime's editable form of a model graph: what passes rewrite before planning. Values are
// named by strings here; the planner turns names into integer slots.
type Graph struct {
	Name      string // a subgraph's name, for dumps
	Nodes     []*Node
	Inputs    []ValueSpec            // graph inputs that callers feed (initializers excluded)
	Outputs   []ValueSpec            // graph outputs, in order
	Constants map[string]*ops.Tensor // initializers and everything folded from them
	// ValueInfo holds the declared dtype and shape of intermediate values, when the model gives them.
	ValueInfo map[string]ValueSpec
	// Captures are, for a body, the values of enclosing graphs it reads, by name: the last len(Captures)
	// of Inputs, bound by the control-flow operator to the owning node's implicit inputs.
	Captures []string
}

// Node is one operator application.
type Node struct {
	Name    string
	Domain  string
	OpType  string
	Opset   int
	Inputs  []string // "" marks an absent optional input
	Outputs []string // "" marks an output the model does not use
	Attrs   ops.AttrMap
	Op      ops.Op // bound at compile time
}

// Label is how errors and profiles name the node: its name, else its first output, else #index:OpType.
func (n *Node) label(idx int) string {
	if n.Name != "" {
		return n.Name
	}
	for _, o := range n.Outputs {
		if o != "" {
			return o
		}
	}
	return fmt.Sprintf("#%d:%s", idx, n.OpType)
}

// Dim is one declared dimension: a size, or a symbol (Param) such as "N" or "batch_size" when Value < 0.
type Dim struct {
	Value int64
	Param string
}

// Symbolic reports whether the dimension is not a fixed size.
func (d Dim) Symbolic() bool { return d.Value < 0 }

func (d Dim) String() string {
	if d.Symbolic() {
		if d.Param == "" {
			return "?"
		}
		return d.Param
	}
	return fmt.Sprint(d.Value)
}

// ValueSpec is a declared graph input or output: name, element type and dimensions.
//
// A sequence, optional or map value has Type set (its full type, such as seq(tensor(float32))); DType is
// then the dtype of the tensors it holds and Dims, HasShape are left empty. A caller feeds such an input as
// the *ops.Tensor that ops.NewSequence, ops.NewOptional or ops.NewMap make, and Run returns such outputs
// the same way (read them with Kind, Elements, Element).
type ValueSpec struct {
	Name  string
	DType ops.DType
	Dims  []Dim // nil when the model declares no shape at all
	// HasShape is false when the model gives no shape (rank unknown).
	HasShape bool
	// Type is the declared type of a non-tensor value, nil for a tensor.
	Type *ops.ValueType
}

// Kind is the kind of value declared: ops.KindTensor unless Type says otherwise.
func (v ValueSpec) Kind() ops.ValueKind {
	if v.Type == nil {
		return ops.KindTensor
	}
	return v.Type.Kind
}

// TypeString renders the declared type: the dtype and shape of a tensor (float32[N,3]), the full type
// of anything else (seq(tensor(float32))).
func (v ValueSpec) TypeString() string {
	if v.Type != nil {
		return v.Type.String()
	}
	return v.DType.String() + v.ShapeString()
}

// ShapeString renders the declared shape as [N,1,28,28].
func (v ValueSpec) ShapeString() string {
	if !v.HasShape {
		return "[?]"
	}
	s := "["
	for i, d := range v.Dims {
		if i > 0 {
			s += ","
		}
		s += d.String()
	}
	return s + "]"
}

func valueSpec(vi *onnxpb.ValueInfoProto) ValueSpec {
	spec := ValueSpec{Name: vi.GetName()}
	if tp := vi.GetType(); tp != nil && tp.GetTensorType() == nil {
		if t, ok := valueTypeFromProto(tp, 0); ok && t.Kind != ops.KindTensor {
			spec.Type = &t
			spec.DType = t.TensorDType()
		}
		return spec
	}
	elem, dims, ok := onnx.ValueInfoShape(vi)
	spec.DType = ops.DType(elem)
	if ok {
		spec.HasShape = true
		spec.Dims = make([]Dim, len(dims))
		for i, d := range dims {
			spec.Dims[i] = Dim{Value: d.Value, Param: d.Param}
			if d.Param != "" {
				spec.Dims[i].Value = -1
			}
		}
	}
	return spec
}

// ValueTypeOf reads a type proto (a graph input's or output's type) as the runtime represents it; ok is
// false for a type it does not (sparse tensors, opaque types). Test data readers use it to decide how to
// decode a file.
func ValueTypeOf(tp *onnxpb.TypeProto) (t ops.ValueType, ok bool) { return valueTypeFromProto(tp, 0) }

// maxTypeDepth bounds the nesting of a type proto (seq(seq(...))): a hostile model cannot make the
// recursion deep.
const maxTypeDepth = 16

// valueTypeFromProto reads a type proto: a tensor, sequence, optional or map type. ok is false for what
// the runtime does not represent (sparse tensors, opaque types, an element type left out, nesting deeper
// than maxTypeDepth).
func valueTypeFromProto(tp *onnxpb.TypeProto, depth int) (ops.ValueType, bool) {
	if tp == nil || depth > maxTypeDepth {
		return ops.ValueType{}, false
	}
	switch {
	case tp.GetTensorType() != nil:
		dt := ops.DType(tp.GetTensorType().GetElemType())
		return ops.TensorType(dt), dt.Size() > 0
	case tp.GetSequenceType() != nil:
		elem, ok := valueTypeFromProto(tp.GetSequenceType().GetElemType(), depth+1)
		return ops.SequenceOf(elem), ok
	case tp.GetOptionalType() != nil:
		elem, ok := valueTypeFromProto(tp.GetOptionalType().GetElemType(), depth+1)
		return ops.OptionalOf(elem), ok && elem.Kind != ops.KindOptional
	case tp.GetMapType() != nil:
		key := ops.DType(tp.GetMapType().GetKeyType())
		value, ok := valueTypeFromProto(tp.GetMapType().GetValueType(), depth+1)
		return ops.MapOf(key, value), ok && key.Size() > 0
	}
	return ops.ValueType{}, false
}

// tensorFromProto converts an initializer or attribute tensor into an ops.Tensor. With take, the model is
// the caller's to spend: the tensor may take t's bytes, or the model file's mapped pages, as its memory
// (onnx.Model.TakeTensor) and t loses them.
func tensorFromProto(m *onnx.Model, t *onnxpb.TensorProto, limits onnx.Limits, take bool) (*ops.Tensor, error) {
	var a *onnx.Array
	var err error
	if take {
		a, err = m.TakeTensor(t, limits) // in the model's mapped pages where it can: see Plan.lifetime
	} else {
		a, err = onnx.ReadTensor(t, m.Dir, limits)
	}
	if err != nil {
		return nil, classifyDecodeError(err)
	}
	return arrayToTensor(a)
}

// buildGraph converts the decoded model's main graph. It checks names (a value produced twice, an initializer
// shadowing a node output) but not ordering: that is the topological sort's job. With release, each
// initializer's raw bytes are dropped from the protobuf once converted (the model is the caller's to spend).
func buildGraph(m *onnx.Model, opsets map[string]int, limits onnx.Limits, release bool) (*Graph, error) {
	gp := m.Proto.GetGraph()
	if gp == nil {
		return nil, modelErrorf("model has no graph")
	}
	return convertGraph(m, gp, opsets, limits, release, false)
}

// convertGraph converts one graph: the model's main graph, or (sub) the body of a control-flow node. A body
// may read any value of the graphs that enclose it by name: those names are its Captures, appended to its
// Inputs (as values of unknown type, whatever the outer value is), and the node that owns the body lists
// them as extra inputs after its own (implicitInputs), so that ordering, liveness and passes in the outer
// graph see them as ordinary edges. A body binds them by position, so passes may rename the outer values.
func convertGraph(m *onnx.Model, gp *onnxpb.GraphProto, opsets map[string]int, limits onnx.Limits, release, sub bool) (*Graph, error) {
	g := &Graph{Constants: map[string]*ops.Tensor{}, ValueInfo: map[string]ValueSpec{}}
	for _, init := range gp.GetInitializer() {
		name := init.GetName()
		if name == "" {
			return nil, modelErrorf("an initializer has no name")
		}
		if _, dup := g.Constants[name]; dup {
			return nil, modelErrorf("initializer %q is defined twice", name)
		}
		t, err := tensorFromProto(m, init, limits, release)
		if err != nil {
			return nil, fmt.Errorf("initializer %q: %w", name, err)
		}
		g.Constants[name] = t
	}
	if len(gp.GetSparseInitializer()) > 0 {
		return nil, fmt.Errorf("%w: sparse initializers", ErrUnsupported)
	}
	seenInput := map[string]bool{}
	for _, in := range gp.GetInput() {
		if seenInput[in.GetName()] {
			return nil, modelErrorf("graph input %q is declared twice", in.GetName())
		}
		seenInput[in.GetName()] = true
		if _, isConst := g.Constants[in.GetName()]; isConst {
			continue // IR < 4 lists initializers among the inputs: they are constants, not things to feed
		}
		spec := valueSpec(in)
		if spec.DType == ops.Undefined && !sub {
			return nil, fmt.Errorf("%w: graph input %q is of a type the runtime does not represent (tensors, sequences, optionals and maps are)", ErrUnsupported, in.GetName())
		}
		// A body's input holds whatever its outer slot holds (the control-flow operator binds it), so a
		// body input that is not a tensor type is no error here.
		g.Inputs = append(g.Inputs, spec)
	}
	for _, out := range gp.GetOutput() {
		g.Outputs = append(g.Outputs, valueSpec(out))
	}
	for _, vi := range gp.GetValueInfo() {
		g.ValueInfo[vi.GetName()] = valueSpec(vi)
	}
	for _, np := range gp.GetNode() {
		domain := ops.NormalizeDomain(np.GetDomain())
		opset, ok := opsets[domain]
		if !ok {
			return nil, modelErrorf("node %q (%s) is in domain %q, which the model does not import (opset_import)", np.GetName(), np.GetOpType(), np.GetDomain())
		}
		attrs := ops.AttrMap{}
		for _, ap := range np.GetAttribute() {
			a, err := attrFromProto(m, ap, opsets, limits, release)
			if err != nil {
				return nil, fmt.Errorf("node %q (%s): attribute %q: %w", np.GetName(), np.GetOpType(), ap.GetName(), err)
			}
			attrs[ap.GetName()] = a
		}
		g.Nodes = append(g.Nodes, &Node{
			Name: np.GetName(), Domain: domain, OpType: np.GetOpType(), Opset: opset,
			Inputs: append(append([]string(nil), np.GetInput()...), implicitInputs(attrs)...), Outputs: append([]string(nil), np.GetOutput()...),
			Attrs: attrs,
		})
	}
	if sub {
		g.Captures = freeValues(g)
		for _, name := range g.Captures {
			g.Inputs = append(g.Inputs, ValueSpec{Name: name})
		}
	}
	return g, nil
}

// freeValues lists, in order of first use, the values g's nodes and outputs read that g does not define:
// the values of enclosing graphs a body captures.
func freeValues(g *Graph) []string {
	defined := map[string]bool{}
	for _, in := range g.Inputs {
		defined[in.Name] = true
	}
	for name := range g.Constants {
		defined[name] = true
	}
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			defined[o] = true
		}
	}
	var free []string
	use := func(name string) {
		if name != "" && !defined[name] {
			defined[name] = true
			free = append(free, name)
		}
	}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			use(in)
		}
	}
	for _, out := range g.Outputs {
		use(out.Name)
	}
	return free
}

// implicitInputs is the union, in attribute-name order, of what a node's subgraphs capture from the graphs
// around it: the node's inputs after those the model lists. A control-flow operator finds the capture of
// each of its bodies by name in this list.
func implicitInputs(attrs ops.Attrs) []string {
	names := attrs.Names()
	sort.Strings(names)
	var union []string
	seen := map[string]bool{}
	for _, name := range names {
		a, _ := attrs.Lookup(name)
		sg, ok := a.Graph.(*Graph)
		if !ok {
			continue
		}
		for _, c := range sg.Captures {
			if !seen[c] {
				seen[c] = true
				union = append(union, c)
			}
		}
	}
	return union
}

func attrFromProto(m *onnx.Model, ap *onnxpb.AttributeProto, opsets map[string]int, limits onnx.Limits, release bool) (ops.Attr, error) {
	if ap.GetRefAttrName() != "" {
		return ops.Attr{}, fmt.Errorf("%w: attribute references (ref_attr_name) outside functions", ErrUnsupported)
	}
	typ := ap.GetType()
	if typ == onnxpb.AttributeProto_UNDEFINED {
		// IR version 1 files carry no type: infer it from the one field that is set.
		switch {
		case len(ap.GetInts()) > 0:
			typ = onnxpb.AttributeProto_INTS
		case len(ap.GetFloats()) > 0:
			typ = onnxpb.AttributeProto_FLOATS
		case len(ap.GetStrings()) > 0:
			typ = onnxpb.AttributeProto_STRINGS
		case ap.GetT() != nil:
			typ = onnxpb.AttributeProto_TENSOR
		case ap.GetG() != nil:
			typ = onnxpb.AttributeProto_GRAPH
		case len(ap.GetS()) > 0:
			typ = onnxpb.AttributeProto_STRING
		case ap.F != nil:
			typ = onnxpb.AttributeProto_FLOAT
		default:
			typ = onnxpb.AttributeProto_INT
		}
	}
	switch typ {
	case onnxpb.AttributeProto_FLOAT:
		return ops.FloatAttr(ap.GetF()), nil
	case onnxpb.AttributeProto_INT:
		return ops.IntAttr(ap.GetI()), nil
	case onnxpb.AttributeProto_STRING:
		return ops.StringAttr(string(ap.GetS())), nil
	case onnxpb.AttributeProto_FLOATS:
		return ops.FloatsAttr(ap.GetFloats()...), nil
	case onnxpb.AttributeProto_INTS:
		return ops.IntsAttr(ap.GetInts()...), nil
	case onnxpb.AttributeProto_STRINGS:
		ss := make([]string, len(ap.GetStrings()))
		for i, s := range ap.GetStrings() {
			ss[i] = string(s)
		}
		return ops.StringsAttr(ss...), nil
	case onnxpb.AttributeProto_TENSOR:
		t, err := tensorFromProto(m, ap.GetT(), limits, false)
		if err != nil {
			return ops.Attr{}, err
		}
		return ops.TensorAttr(t), nil
	case onnxpb.AttributeProto_TENSORS:
		a := ops.Attr{Type: ops.AttrTensors}
		for _, tp := range ap.GetTensors() {
			t, err := tensorFromProto(m, tp, limits, false)
			if err != nil {
				return ops.Attr{}, err
			}
			a.Tensors = append(a.Tensors, t)
		}
		return a, nil
	case onnxpb.AttributeProto_GRAPH:
		// A body (If's branches, Loop's and Scan's body), converted like the main graph; the control-flow
		// operators compile it into a nested plan (controlflow.go).
		if ap.GetG() == nil {
			return ops.Attr{}, modelErrorf("graph attribute has no graph")
		}
		sg, err := convertGraph(m, ap.GetG(), opsets, limits, release, true)
		if err != nil {
			return ops.Attr{}, fmt.Errorf("subgraph %q: %w", ap.GetG().GetName(), err)
		}
		sg.Name = ap.GetG().GetName()
		return ops.Attr{Type: ops.AttrGraph, Graph: sg}, nil
	case onnxpb.AttributeProto_GRAPHS:
		// No operator of the standard domains takes a list of graphs; recorded so one can say so.
		return ops.Attr{Type: ops.AttrGraphs}, nil
	case onnxpb.AttributeProto_SPARSE_TENSOR, onnxpb.AttributeProto_SPARSE_TENSORS:
		return ops.Attr{Type: ops.AttrType(typ)}, nil
	case onnxpb.AttributeProto_TYPE_PROTO:
		a := ops.Attr{Type: ops.AttrTypeProto}
		if t, ok := valueTypeFromProto(ap.GetTp(), 0); ok {
			a.ValueType = &t
		}
		return a, nil
	case onnxpb.AttributeProto_TYPE_PROTOS:
		return ops.Attr{Type: ops.AttrType(typ)}, nil
	}
	return ops.Attr{}, modelErrorf("unknown attribute type %d", int32(typ))
}
