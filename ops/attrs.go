package ops

import "fmt"

// AttrType says which field of an Attr is set, with ONNX's AttributeProto.AttributeType numbering.
type AttrType uint8

// Attribute kinds.
const (
	AttrUndefined  AttrType = 0
	AttrFloat      AttrType = 1
	AttrInt        AttrType = 2
	AttrString     AttrType = 3
	AttrTensor     AttrType = 4
	AttrGraph      AttrType = 5
	AttrFloats     AttrType = 6
	AttrInts       AttrType = 7
	AttrStrings    AttrType = 8
	AttrTensors    AttrType = 9
	AttrGraphs     AttrType = 10
	AttrSparse     AttrType = 11
	AttrSparses    AttrType = 12
	AttrTypeProto  AttrType = 13
	AttrTypeProtos AttrType = 14
)

var attrTypeNames = map[AttrType]string{
	AttrUndefined: "undefined", AttrFloat: "float", AttrInt: "int", AttrString: "string", AttrTensor: "tensor",
	AttrGraph: "graph", AttrFloats: "floats", AttrInts: "ints", AttrStrings: "strings", AttrTensors: "tensors",
	AttrGraphs: "graphs", AttrSparse: "sparse_tensor", AttrSparses: "sparse_tensors", AttrTypeProto: "type_proto",
	AttrTypeProtos: "type_protos",
}

func (a AttrType) String() string {
	if s, ok := attrTypeNames[a]; ok {
		return s
	}
	return fmt.Sprintf("attrtype(%d)", uint8(a))
}

// Attr is one node attribute, decoded. Only the field that Type names is meaningful.
type Attr struct {
	Type    AttrType
	Int     int64
	Float   float32
	String  string
	Ints    []int64
	Floats  []float32
	Strings []string
	Tensor  *Tensor
	Tensors []*Tensor
	// ValueType is a type_proto attribute's type (Optional's "type"); nil when the runtime could not
	// read it (a sparse tensor type, say).
	ValueType *ValueType
	// Graph is a subgraph (If's branches, Loop's and Scan's body), opaque to ops: the runtime, which
	// alone joins the model format and the kernels, stores its own form of the graph here and its
	// control-flow operators read it back.
	Graph any
}

// Attrs is how an operator reads its node's attributes. The runtime implements it over the decoded model;
// tests use AttrMap. Keeping protobuf out of ops lets kernels be tested without building a model.
type Attrs interface {
	Lookup(name string) (Attr, bool)
	Names() []string
}

// AttrMap is a map-backed Attrs, for tests and for nodes built in Go.
type AttrMap map[string]Attr

// Lookup returns the named attribute.
func (m AttrMap) Lookup(name string) (Attr, bool) { a, ok := m[name]; return a, ok }

// Names lists the attribute names in no particular order.
func (m AttrMap) Names() []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	return names
}

// Helpers to build attribute values in tests and graph builders.
func IntAttr(v int64) Attr         { return Attr{Type: AttrInt, Int: v} }
func FloatAttr(v float32) Attr     { return Attr{Type: AttrFloat, Float: v} }
func StringAttr(v string) Attr     { return Attr{Type: AttrString, String: v} }
func IntsAttr(v ...int64) Attr     { return Attr{Type: AttrInts, Ints: v} }
func FloatsAttr(v ...float32) Attr { return Attr{Type: AttrFloats, Floats: v} }
func StringsAttr(v ...string) Attr { return Attr{Type: AttrStrings, Strings: v} }
func TensorAttr(t *Tensor) Attr    { return Attr{Type: AttrTensor, Tensor: t} }

// AttrReader reads typed attributes with defaults and remembers the first type mismatch, so a Builder reads
// everything it needs and checks Err once (the bufio.Scanner pattern):
//
//	r := ops.NewAttrReader(n.Attrs)
//	group := r.Int("group", 1)
//	pads := r.Ints("pads", nil)
//	if err := r.Err(); err != nil { return nil, err }
type AttrReader struct {
	attrs Attrs
	err   error
}

// NewAttrReader wraps attrs (which may be nil: every attribute then takes its default).
func NewAttrReader(attrs Attrs) *AttrReader { return &AttrReader{attrs: attrs} }

// Err is the first error met, naming the attribute and the expected and actual kinds.
func (r *AttrReader) Err() error { return r.err }

// Has reports whether the attribute is present.
func (r *AttrReader) Has(name string) bool {
	if r.attrs == nil {
		return false
	}
	_, ok := r.attrs.Lookup(name)
	return ok
}

func (r *AttrReader) get(name string, want AttrType) (Attr, bool) {
	if r.attrs == nil {
		return Attr{}, false
	}
	a, ok := r.attrs.Lookup(name)
	if !ok {
		return Attr{}, false
	}
	if a.Type != want {
		// Some exporters write a one-element list where a scalar is meant, or the reverse; accept those.
		switch {
		case want == AttrInt && a.Type == AttrInts && len(a.Ints) == 1:
			return Attr{Type: AttrInt, Int: a.Ints[0]}, true
		case want == AttrFloat && a.Type == AttrFloats && len(a.Floats) == 1:
			return Attr{Type: AttrFloat, Float: a.Floats[0]}, true
		case want == AttrFloat && a.Type == AttrInt:
			return Attr{Type: AttrFloat, Float: float32(a.Int)}, true
		}
		if r.err == nil {
			r.err = &AttrError{Name: name, Msg: fmt.Sprintf("is %s, want %s", a.Type, want)}
		}
		return Attr{}, false
	}
	return a, true
}

// Int returns an int attribute or def.
func (r *AttrReader) Int(name string, def int64) int64 {
	if a, ok := r.get(name, AttrInt); ok {
		return a.Int
	}
	return def
}

// Float returns a float attribute or def.
func (r *AttrReader) Float(name string, def float32) float32 {
	if a, ok := r.get(name, AttrFloat); ok {
		return a.Float
	}
	return def
}

// String returns a string attribute or def.
func (r *AttrReader) String(name string, def string) string {
	if a, ok := r.get(name, AttrString); ok {
		return a.String
	}
	return def
}

// Ints returns an ints attribute or def.
func (r *AttrReader) Ints(name string, def []int64) []int64 {
	if a, ok := r.get(name, AttrInts); ok {
		return a.Ints
	}
	return def
}

// Floats returns a floats attribute or def.
func (r *AttrReader) Floats(name string, def []float32) []float32 {
	if a, ok := r.get(name, AttrFloats); ok {
		return a.Floats
	}
	return def
}

// Strings returns a strings attribute or def.
func (r *AttrReader) Strings(name string, def []string) []string {
	if a, ok := r.get(name, AttrStrings); ok {
		return a.Strings
	}
	return def
}

// Tensor returns a tensor attribute or nil.
func (r *AttrReader) Tensor(name string) *Tensor {
	if a, ok := r.get(name, AttrTensor); ok {
		return a.Tensor
	}
	return nil
}

// ValueType returns a type_proto attribute's type, or nil when it is absent.
func (r *AttrReader) ValueType(name string) *ValueType {
	a, ok := r.get(name, AttrTypeProto)
	if !ok {
		return nil
	}
	if a.ValueType == nil && r.err == nil {
		r.err = &AttrError{Name: name, Msg: "is a type this engine does not represent (tensor, sequence, optional and map types are)"}
	}
	return a.ValueType
}

// IntsAsInts returns an ints attribute converted to []int, or def.
func (r *AttrReader) IntsAsInts(name string, def []int) []int {
	a, ok := r.get(name, AttrInts)
	if !ok {
		return def
	}
	out := make([]int, len(a.Ints))
	for i, v := range a.Ints {
		out[i] = int(v)
	}
	return out
}
