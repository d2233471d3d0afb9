package onnx

import (
	"fmt"
	"strconv"

	"github.com/onnxrun/onnxrun/onnx/onnxpb"
)

// Dim is one dimension of a static shape: a known size (Value >= 0, Param ""), a symbolic size shared by
// name (Param != ""), or unknown (Value < 0, Param "").
type Dim struct {
	Value int64
	Param string
}

// Known reports whether d is a concrete size.
func (d Dim) Known() bool { return d.Param == "" && d.Value >= 0 }

// String prints a known size as its number, a symbolic one as its name and an unknown one as "?".
func (d Dim) String() string {
	switch {
	case d.Param != "":
		return d.Param
	case d.Value < 0:
		return "?"
	}
	return strconv.FormatInt(d.Value, 10)
}

// ValueInfoShape returns the element type and static shape of a tensor-typed value. ok is true only
// when vi has a tensor type with a shape, that is a known rank; then dims has one entry per axis (empty,
// not nil, for a scalar). For a tensor type without a shape (any rank), elem is still set and ok is
// false; for non-tensor types (sequence, map, optional, sparse) elem is UNDEFINED and ok false.
// A dimension with neither dim_value nor dim_param, or with a negative dim_value, is unknown (Value -1).
func ValueInfoShape(vi *onnxpb.ValueInfoProto) (elem onnxpb.TensorProto_DataType, dims []Dim, ok bool) {
	tt := vi.GetType().GetTensorType()
	if tt == nil {
		return onnxpb.TensorProto_UNDEFINED, nil, false
	}
	elem = onnxpb.TensorProto_DataType(tt.GetElemType())
	if tt.Shape == nil {
		return elem, nil, false
	}
	dims = make([]Dim, len(tt.Shape.GetDim()))
	for i, d := range tt.Shape.GetDim() {
		switch v := d.GetValue().(type) {
		case *onnxpb.TensorShapeProto_Dimension_DimValue:
			dims[i] = Dim{Value: max(v.DimValue, -1)}
		case *onnxpb.TensorShapeProto_Dimension_DimParam:
			dims[i] = Dim{Value: -1, Param: v.DimParam}
			if v.DimParam == "" {
				dims[i] = Dim{Value: -1}
			}
		default:
			dims[i] = Dim{Value: -1}
		}
	}
	return elem, dims, true
}

// Attr returns n's attribute called name, or nil.
func Attr(n *onnxpb.NodeProto, name string) *onnxpb.AttributeProto {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return a
		}
	}
	return nil
}

// AttrValue returns a's value as the Go type its kind calls for:
//
//	FLOAT float32          FLOATS []float32
//	INT int64              INTS []int64
//	STRING string          STRINGS []string
//	TENSOR *TensorProto    TENSORS []*TensorProto
//	GRAPH *GraphProto      GRAPHS []*GraphProto
//	SPARSE_TENSOR *SparseTensorProto   SPARSE_TENSORS []*SparseTensorProto
//	TYPE_PROTO *TypeProto  TYPE_PROTOS []*TypeProto
//
// The kind is a.type; when a producer left it UNDEFINED it is inferred from the one value field present.
// An absent scalar (f, i, s) reads as its zero value, because proto3-based writers omit zeros; an absent
// message (t, g, ...) is a *FormatError. A reference to a calling function's attribute (ref_attr_name) is
// an *UnsupportedError: the caller must substitute it first. Returned slices of numbers and messages
// share memory with a; do not modify them.
func AttrValue(a *onnxpb.AttributeProto) (any, error) {
	where := fmt.Sprintf("attribute %q", a.GetName())
	if a.GetRefAttrName() != "" {
		return nil, unsupportedErr(where, fmt.Sprintf("refers to the calling function's attribute %q", a.GetRefAttrName()))
	}
	kind := a.GetType()
	if kind == onnxpb.AttributeProto_UNDEFINED {
		var err error
		if kind, err = inferAttrType(where, a); err != nil {
			return nil, err
		}
	}
	missing := func(f string) error { return formatErr(where, fmt.Sprintf("type %s but %s is not set", kind, f)) }
	switch kind {
	case onnxpb.AttributeProto_FLOAT:
		return a.GetF(), nil
	case onnxpb.AttributeProto_INT:
		return a.GetI(), nil
	case onnxpb.AttributeProto_STRING:
		return string(a.GetS()), nil
	case onnxpb.AttributeProto_TENSOR:
		if a.T == nil {
			return nil, missing("t")
		}
		return a.T, nil
	case onnxpb.AttributeProto_GRAPH:
		if a.G == nil {
			return nil, missing("g")
		}
		return a.G, nil
	case onnxpb.AttributeProto_SPARSE_TENSOR:
		if a.SparseTensor == nil {
			return nil, missing("sparse_tensor")
		}
		return a.SparseTensor, nil
	case onnxpb.AttributeProto_TYPE_PROTO:
		if a.Tp == nil {
			return nil, missing("tp")
		}
		return a.Tp, nil
	case onnxpb.AttributeProto_FLOATS:
		return nonNil(a.GetFloats()), nil
	case onnxpb.AttributeProto_INTS:
		return nonNil(a.GetInts()), nil
	case onnxpb.AttributeProto_STRINGS:
		out := make([]string, len(a.GetStrings()))
		for i, s := range a.GetStrings() {
			out[i] = string(s)
		}
		return out, nil
	case onnxpb.AttributeProto_TENSORS:
		return nonNil(a.GetTensors()), nil
	case onnxpb.AttributeProto_GRAPHS:
		return nonNil(a.GetGraphs()), nil
	case onnxpb.AttributeProto_SPARSE_TENSORS:
		return nonNil(a.GetSparseTensors()), nil
	case onnxpb.AttributeProto_TYPE_PROTOS:
		return nonNil(a.GetTypeProtos()), nil
	}
	return nil, formatErr(where, fmt.Sprintf("unknown attribute type %d", int32(kind)))
}

// inferAttrType guesses the kind of an attribute whose type field is UNDEFINED from the value fields
// present (the IR 1 rule), and fails unless exactly one is.
func inferAttrType(where string, a *onnxpb.AttributeProto) (onnxpb.AttributeProto_AttributeType, error) {
	var found []onnxpb.AttributeProto_AttributeType
	add := func(present bool, k onnxpb.AttributeProto_AttributeType) {
		if present {
			found = append(found, k)
		}
	}
	add(a.F != nil, onnxpb.AttributeProto_FLOAT)
	add(a.I != nil, onnxpb.AttributeProto_INT)
	add(a.S != nil, onnxpb.AttributeProto_STRING)
	add(a.T != nil, onnxpb.AttributeProto_TENSOR)
	add(a.G != nil, onnxpb.AttributeProto_GRAPH)
	add(a.SparseTensor != nil, onnxpb.AttributeProto_SPARSE_TENSOR)
	add(a.Tp != nil, onnxpb.AttributeProto_TYPE_PROTO)
	add(len(a.Floats) > 0, onnxpb.AttributeProto_FLOATS)
	add(len(a.Ints) > 0, onnxpb.AttributeProto_INTS)
	add(len(a.Strings) > 0, onnxpb.AttributeProto_STRINGS)
	add(len(a.Tensors) > 0, onnxpb.AttributeProto_TENSORS)
	add(len(a.Graphs) > 0, onnxpb.AttributeProto_GRAPHS)
	add(len(a.SparseTensors) > 0, onnxpb.AttributeProto_SPARSE_TENSORS)
	add(len(a.TypeProtos) > 0, onnxpb.AttributeProto_TYPE_PROTOS)
	if len(found) != 1 {
		return 0, formatErr(where, fmt.Sprintf("type is UNDEFINED and %d value fields are set %v; cannot tell its kind", len(found), found))
	}
	return found[0], nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
