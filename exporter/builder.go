package exporter

import (
	"fmt"
	"sort"

	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
)

// Dim is one dimension of a declared input or output: a size (int) or a symbol (string, such as "N").
type Dim any

// Attrs are a node's attributes as Go values: int, int64, float32, float64, string, []int, []int64,
// []float32, []string, *onnx.Array (a tensor attribute), *Graph (a subgraph: If's branches, Loop's and
// Scan's body). Map order does not matter: they are written
// sorted by name so that exports are reproducible.
type Attrs map[string]any

// Graph builds an ONNX graph node by node. Value names are made unique automatically; methods return the
// names of the values they create, to be passed to later nodes. The first error sticks and is returned by
// Model, so a chain of calls needs one check.
type Graph struct {
	g       *onnxpb.GraphProto
	used    map[string]bool
	counter map[string]int
	opsets  map[string]int64
	err     error
}

// NewGraph starts a graph with the given name.
func NewGraph(name string) *Graph {
	return &Graph{g: &onnxpb.GraphProto{Name: proto.String(name)}, used: map[string]bool{}, counter: map[string]int{}, opsets: map[string]int64{}}
}

// Err is the first error met so far.
func (b *Graph) Err() error { return b.err }

func (b *Graph) fail(format string, args ...any) {
	if b.err == nil {
		b.err = fmt.Errorf("exporter: "+format, args...)
	}
}

// Unique returns base, or base_1, base_2, ... if base is taken, and reserves it.
func (b *Graph) Unique(base string) string {
	if base == "" {
		base = "v"
	}
	name := base
	for b.used[name] {
		b.counter[base]++
		name = fmt.Sprintf("%s_%d", base, b.counter[base])
	}
	b.used[name] = true
	return name
}

func valueInfo(name string, dt onnxpb.TensorProto_DataType, dims []Dim) (*onnxpb.ValueInfoProto, error) {
	shape := &onnxpb.TensorShapeProto{}
	for _, d := range dims {
		switch v := d.(type) {
		case int:
			shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(v)}})
		case int64:
			shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: v}})
		case string:
			shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: v}})
		default:
			return nil, fmt.Errorf("dimension %v of %q is a %T, want int or string", d, name, d)
		}
	}
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(dt)), Shape: shape}}}}, nil
}

// Input declares a graph input and returns its name.
func (b *Graph) Input(name string, dt onnxpb.TensorProto_DataType, dims ...Dim) string {
	if b.used[name] {
		b.fail("input %q: name already used", name)
		return name
	}
	b.used[name] = true
	vi, err := valueInfo(name, dt, dims)
	if err != nil {
		b.fail("%v", err)
		return name
	}
	b.g.Input = append(b.g.Input, vi)
	return name
}

// Output declares an existing value as a graph output with its dtype and shape. A value_info entry for
// the same value is dropped: the output's declaration replaces it.
func (b *Graph) Output(name string, dt onnxpb.TensorProto_DataType, dims ...Dim) {
	vi, err := valueInfo(name, dt, dims)
	if err != nil {
		b.fail("%v", err)
		return
	}
	kept := b.g.ValueInfo[:0]
	for _, v := range b.g.ValueInfo {
		if v.GetName() != name {
			kept = append(kept, v)
		}
	}
	b.g.ValueInfo = kept
	b.g.Output = append(b.g.Output, vi)
}

// Rename gives the value old the name new everywhere it appears (node inputs and outputs, declared
// inputs, outputs and value_info, initializers): to give a graph output a chosen name after the nodes that
// compute it were added. new must not be in use.
func (b *Graph) Rename(old, new string) {
	if old == new {
		return
	}
	if b.used[new] {
		b.fail("rename %q to %q: %q is already used", old, new, new)
		return
	}
	b.used[new] = true
	swap := func(s []string) {
		for i, v := range s {
			if v == old {
				s[i] = new
			}
		}
	}
	for _, n := range b.g.Node {
		swap(n.Input)
		swap(n.Output)
	}
	for _, list := range [][]*onnxpb.ValueInfoProto{b.g.Input, b.g.Output, b.g.ValueInfo} {
		for _, vi := range list {
			if vi.GetName() == old {
				vi.Name = proto.String(new)
			}
		}
	}
	for _, t := range b.g.Initializer {
		if t.GetName() == old {
			t.Name = proto.String(new)
		}
	}
}

// ValueInfo records the dtype and shape of an intermediate value (what Netron and shape-aware tools show).
func (b *Graph) ValueInfo(name string, dt onnxpb.TensorProto_DataType, dims ...Dim) {
	vi, err := valueInfo(name, dt, dims)
	if err != nil {
		b.fail("%v", err)
		return
	}
	b.g.ValueInfo = append(b.g.ValueInfo, vi)
}

// Initializer adds a constant tensor (stored in raw_data) and returns its name, made unique.
func (b *Graph) Initializer(name string, a *onnx.Array) string {
	name = b.Unique(name)
	t, err := onnx.NewTensorProto(name, a)
	if err != nil {
		b.fail("initializer %q: %v", name, err)
		return name
	}
	b.g.Initializer = append(b.g.Initializer, t)
	return name
}

// Node adds a node with one output and returns the output's name.
func (b *Graph) Node(opType string, inputs []string, attrs Attrs) string {
	return b.NodeN(opType, "", inputs, 1, attrs)[0]
}

// NodeN adds a node in domain ("" for ONNX's) with n outputs named after the op type, and returns them.
// Pass "" in inputs for an absent optional input.
func (b *Graph) NodeN(opType, domain string, inputs []string, n int, attrs Attrs) []string {
	outs := make([]string, n)
	base := b.Unique(opType)
	for i := range outs {
		if i == 0 {
			outs[i] = base + "_out"
		} else {
			outs[i] = fmt.Sprintf("%s_out%d", base, i)
		}
		b.used[outs[i]] = true
	}
	b.NodeNamed(base, opType, domain, inputs, outs, attrs)
	return outs
}

// NodeNamed adds a node with explicit node and output names ("" outputs are unused optional outputs).
func (b *Graph) NodeNamed(name, opType, domain string, inputs, outputs []string, attrs Attrs) {
	node := &onnxpb.NodeProto{Name: proto.String(name), OpType: proto.String(opType), Domain: proto.String(domain),
		Input: append([]string(nil), inputs...), Output: append([]string(nil), outputs...)}
	for _, o := range outputs {
		if o != "" {
			b.used[o] = true
		}
	}
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		a, err := attribute(k, attrs[k])
		if err != nil {
			b.fail("node %q (%s): %v", name, opType, err)
			return
		}
		node.Attribute = append(node.Attribute, a)
	}
	b.g.Node = append(b.g.Node, node)
}

func attribute(name string, v any) (*onnxpb.AttributeProto, error) {
	a := &onnxpb.AttributeProto{Name: proto.String(name)}
	switch x := v.(type) {
	case int:
		a.Type, a.I = onnxpb.AttributeProto_INT.Enum(), proto.Int64(int64(x))
	case int64:
		a.Type, a.I = onnxpb.AttributeProto_INT.Enum(), proto.Int64(x)
	case bool:
		a.Type, a.I = onnxpb.AttributeProto_INT.Enum(), proto.Int64(0)
		if x {
			a.I = proto.Int64(1)
		}
	case float32:
		a.Type, a.F = onnxpb.AttributeProto_FLOAT.Enum(), proto.Float32(x)
	case float64:
		a.Type, a.F = onnxpb.AttributeProto_FLOAT.Enum(), proto.Float32(float32(x))
	case string:
		a.Type, a.S = onnxpb.AttributeProto_STRING.Enum(), []byte(x)
	case []int:
		a.Type = onnxpb.AttributeProto_INTS.Enum()
		for _, e := range x {
			a.Ints = append(a.Ints, int64(e))
		}
	case []int64:
		a.Type, a.Ints = onnxpb.AttributeProto_INTS.Enum(), append([]int64(nil), x...)
	case []float32:
		a.Type, a.Floats = onnxpb.AttributeProto_FLOATS.Enum(), append([]float32(nil), x...)
	case []string:
		a.Type = onnxpb.AttributeProto_STRINGS.Enum()
		for _, s := range x {
			a.Strings = append(a.Strings, []byte(s))
		}
	case *Graph:
		// A body (If's branches, Loop's and Scan's body), built with its own Graph.
		if x.err != nil {
			return nil, fmt.Errorf("attribute %q: %w", name, x.err)
		}
		a.Type, a.G = onnxpb.AttributeProto_GRAPH.Enum(), x.g
	case *onnx.Array:
		t, err := onnx.NewTensorProto("", x)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", name, err)
		}
		a.Type, a.T = onnxpb.AttributeProto_TENSOR.Enum(), t
	default:
		return nil, fmt.Errorf("attribute %q: unsupported Go type %T", name, v)
	}
	return a, nil
}

// UseOpset records that the model imports domain at version (the default domain is set by ModelOptions).
func (b *Graph) UseOpset(domain string, version int64) { b.opsets[domain] = version }

// ModelOptions are the model-level fields of an export.
type ModelOptions struct {
	Opset           int64  // default-domain opset; 13 when zero
	IRVersion       int64  // 0 picks the IR version that goes with the opset
	ProducerName    string // "onnxrun" when empty
	ProducerVersion string
	DocString       string
	Metadata        map[string]string
}

// irVersionFor gives the IR version ONNX pairs with an opset (IR.md's version table), so older runtimes
// accept the file.
func irVersionFor(opset int64) int64 {
	switch {
	case opset <= 8:
		return 3
	case opset <= 9:
		return 4
	case opset <= 10:
		return 5
	case opset <= 11:
		return 6
	case opset <= 14:
		return 7
	case opset <= 18:
		return 8
	case opset <= 20:
		return 9
	case opset <= 21:
		return 10
	default:
		return 10
	}
}

// Model finishes the graph into a model. The Graph must not be used afterwards.
func (b *Graph) Model(opts ModelOptions) (*onnx.Model, error) {
	if b.err != nil {
		return nil, b.err
	}
	if opts.Opset == 0 {
		opts.Opset = 13
	}
	if opts.Opset < 1 {
		return nil, fmt.Errorf("exporter: opset %d, want a positive version", opts.Opset)
	}
	if opts.IRVersion == 0 {
		opts.IRVersion = irVersionFor(opts.Opset)
	}
	if opts.ProducerName == "" {
		opts.ProducerName = "onnxrun"
	}
	mp := &onnxpb.ModelProto{
		IrVersion:       proto.Int64(opts.IRVersion),
		ProducerName:    proto.String(opts.ProducerName),
		ProducerVersion: proto.String(opts.ProducerVersion),
		DocString:       proto.String(opts.DocString),
		Graph:           b.g,
		OpsetImport:     []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(opts.Opset)}},
	}
	domains := make([]string, 0, len(b.opsets))
	for d := range b.opsets {
		domains = append(domains, d)
	}
	sort.Strings(domains)
	for _, d := range domains {
		mp.OpsetImport = append(mp.OpsetImport, &onnxpb.OperatorSetIdProto{Domain: proto.String(d), Version: proto.Int64(b.opsets[d])})
	}
	keys := make([]string, 0, len(opts.Metadata))
	for k := range opts.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		mp.MetadataProps = append(mp.MetadataProps, &onnxpb.StringStringEntryProto{Key: proto.String(k), Value: proto.String(opts.Metadata[k])})
	}
	return &onnx.Model{Proto: mp}, nil
}

// Doc sets the graph's doc string.
func (b *Graph) Doc(doc string) { b.g.DocString = proto.String(doc) }

// NodeDoc sets the doc string of the node added last (what Netron shows as its description).
func (b *Graph) NodeDoc(doc string) {
	if len(b.g.Node) == 0 {
		b.fail("NodeDoc(%q) before any node", doc)
		return
	}
	b.g.Node[len(b.g.Node)-1].DocString = proto.String(doc)
}

// ValueDoc sets the doc string of the declared input, output or value_info entry called name.
func (b *Graph) ValueDoc(name, doc string) {
	found := false
	for _, list := range [][]*onnxpb.ValueInfoProto{b.g.Input, b.g.Output, b.g.ValueInfo} {
		for _, vi := range list {
			if vi.GetName() == name {
				vi.DocString = proto.String(doc)
				found = true
			}
		}
	}
	if !found {
		b.fail("ValueDoc: no input, output or value_info is named %q", name)
	}
}

// Float32Initializer adds a float32 initializer of shape dims (data is copied into raw_data) and returns
// its name, made unique.
func (b *Graph) Float32Initializer(name string, dims []int, data []float32) string {
	d := make([]int64, len(dims))
	for i, v := range dims {
		d[i] = int64(v)
	}
	return b.Initializer(name, &onnx.Array{DataType: onnxpb.TensorProto_FLOAT, Dims: d, Data: data})
}
