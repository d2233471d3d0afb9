package onnx

import (
	"reflect"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/onnx/onnxpb"
)

func TestValueInfoShape(t *testing.T) {
	dimV := func(v int64) *onnxpb.TensorShapeProto_Dimension {
		return &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: v}}
	}
	dimP := func(p string) *onnxpb.TensorShapeProto_Dimension {
		return &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: p}}
	}
	tensor := func(elem onnxpb.TensorProto_DataType, shape *onnxpb.TensorShapeProto) *onnxpb.ValueInfoProto {
		return &onnxpb.ValueInfoProto{Name: proto.String("x"), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
			TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(elem)), Shape: shape}}}}
	}
	tests := []struct {
		name string
		vi   *onnxpb.ValueInfoProto
		elem onnxpb.TensorProto_DataType
		dims []Dim
		ok   bool
	}{
		{"static", tensor(onnxpb.TensorProto_FLOAT, &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{dimV(1), dimV(28)}}),
			onnxpb.TensorProto_FLOAT, []Dim{{Value: 1}, {Value: 28}}, true},
		{"symbolic and unknown", tensor(onnxpb.TensorProto_INT64, &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{
			dimP("N"), {}, dimV(-3), dimP(""), dimV(0)}}),
			onnxpb.TensorProto_INT64, []Dim{{Value: -1, Param: "N"}, {Value: -1}, {Value: -1}, {Value: -1}, {Value: 0}}, true},
		{"scalar", tensor(onnxpb.TensorProto_BOOL, &onnxpb.TensorShapeProto{}), onnxpb.TensorProto_BOOL, []Dim{}, true},
		{"unknown rank", tensor(onnxpb.TensorProto_DOUBLE, nil), onnxpb.TensorProto_DOUBLE, nil, false},
		{"sequence", &onnxpb.ValueInfoProto{Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_SequenceType{SequenceType: &onnxpb.TypeProto_Sequence{}}}},
			onnxpb.TensorProto_UNDEFINED, nil, false},
		{"no type", &onnxpb.ValueInfoProto{Name: proto.String("x")}, onnxpb.TensorProto_UNDEFINED, nil, false},
		{"nil", nil, onnxpb.TensorProto_UNDEFINED, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			elem, dims, ok := ValueInfoShape(tt.vi)
			if elem != tt.elem || !reflect.DeepEqual(dims, tt.dims) || ok != tt.ok {
				t.Errorf("got %v %#v %v, want %v %#v %v", elem, dims, ok, tt.elem, tt.dims, tt.ok)
			}
		})
	}
}

func TestDimString(t *testing.T) {
	for _, tt := range []struct {
		d     Dim
		s     string
		known bool
	}{{Dim{Value: 3}, "3", true}, {Dim{Value: 0}, "0", true}, {Dim{Value: -1, Param: "N"}, "N", false}, {Dim{Value: -1}, "?", false}} {
		if tt.d.String() != tt.s || tt.d.Known() != tt.known {
			t.Errorf("%#v: String %q Known %v, want %q %v", tt.d, tt.d.String(), tt.d.Known(), tt.s, tt.known)
		}
	}
}

func TestAttrValue(t *testing.T) {
	tensor := &onnxpb.TensorProto{Name: proto.String("v")}
	graph := &onnxpb.GraphProto{Name: proto.String("body")}
	typ := func(k onnxpb.AttributeProto_AttributeType) *onnxpb.AttributeProto_AttributeType { return k.Enum() }
	tests := []struct {
		name        string
		a           *onnxpb.AttributeProto
		want        any
		unsupported bool
		msg         string
	}{
		{"float", &onnxpb.AttributeProto{Type: typ(onnxpb.AttributeProto_FLOAT), F: proto.Float32(0.5)}, float32(0.5), false, ""},
		{"int", &onnxpb.AttributeProto{Type: typ(onnxpb.AttributeProto_INT), I: proto.Int64(-3)}, int64(-3), false, ""},
		{"int omitted by a proto3 writer", &onnxpb.AttributeProto{Type: typ(onnxpb.AttributeProto_INT)}, int64(0), false, ""},
		{"string", &onnxpb.AttributeProto{Type: typ(onnxpb.AttributeProto_STRING), S: []byte("SAME_UPPER")}, "SAME_UPPER", false, ""},
		{"tensor", &onnxpb.AttributeProto{Type: typ(onnxpb.AttributeProto_TENSOR), T: tensor}, tensor, false, ""},
		{"graph", &onnxpb.AttributeProto{Type: typ(onnxpb.AttributeProto_GRAPH), G: graph}, graph, false, ""},
		{"floats", &onnxpb.AttributeProto{Type: typ(onnxpb.AttributeProto_FLOATS), Floats: []float32{1, 2}}, []float32{1, 2}, false, ""},
		{"empty ints", &onnxpb.AttributeProto{Type: typ(onnxpb.AttributeProto_INTS)}, []int64{}, false, ""},
		{"strings", &onnxpb.AttributeProto{Type: typ(onnxpb.AttributeProto_STRINGS), Strings: [][]byte{[]byte("a"), []byte("b")}}, []string{"a", "b"}, false, ""},
		{"graphs", &onnxpb.AttributeProto{Type: typ(onnxpb.AttributeProto_GRAPHS), Graphs: []*onnxpb.GraphProto{graph}}, []*onnxpb.GraphProto{graph}, false, ""},
		{"inferred ints", &onnxpb.AttributeProto{Ints: []int64{1, 1}}, []int64{1, 1}, false, ""},
		{"inferred int", &onnxpb.AttributeProto{I: proto.Int64(4)}, int64(4), false, ""},
		{"ambiguous", &onnxpb.AttributeProto{Name: proto.String("k"), I: proto.Int64(4), F: proto.Float32(1)}, nil, false,
			`attribute "k": type is UNDEFINED and 2 value fields are set [FLOAT INT]`},
		{"empty", &onnxpb.AttributeProto{Name: proto.String("k")}, nil, false, "type is UNDEFINED and 0 value fields are set"},
		{"tensor missing", &onnxpb.AttributeProto{Name: proto.String("value"), Type: typ(onnxpb.AttributeProto_TENSOR)}, nil, false,
			`attribute "value": type TENSOR but t is not set`},
		{"unknown type", &onnxpb.AttributeProto{Name: proto.String("x"), Type: typ(77)}, nil, false, "unknown attribute type 77"},
		{"ref_attr_name", &onnxpb.AttributeProto{Name: proto.String("alpha"), RefAttrName: proto.String("a")}, nil, true,
			`refers to the calling function's attribute "a"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AttrValue(tt.a)
			if tt.msg != "" {
				checkErr(t, err, tt.unsupported, tt.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestAttr(t *testing.T) {
	n := &onnxpb.NodeProto{Attribute: []*onnxpb.AttributeProto{{Name: proto.String("axis")}, {Name: proto.String("keepdims")}}}
	if a := Attr(n, "keepdims"); a != n.Attribute[1] {
		t.Errorf("Attr(keepdims) = %v", a)
	}
	if a := Attr(n, "missing"); a != nil {
		t.Errorf("Attr(missing) = %v", a)
	}
}
