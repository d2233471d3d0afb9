package onnx

import (
	"fmt"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/onnx/onnxpb"
)

// ValueKind says which message a test data file holds: ONNX's SequenceProto.DataType numbering.
type ValueKind int32

// The kinds of value a data file may hold.
const (
	ValueTensor   ValueKind = ValueKind(onnxpb.SequenceProto_TENSOR)
	ValueSequence ValueKind = ValueKind(onnxpb.SequenceProto_SEQUENCE)
	ValueMap      ValueKind = ValueKind(onnxpb.SequenceProto_MAP)
	ValueOptional ValueKind = ValueKind(onnxpb.SequenceProto_OPTIONAL)
)

// Value is a decoded tensor, SequenceProto, OptionalProto or MapProto: a test data file's content when the
// model's input or output is not a tensor.
type Value struct {
	Kind   ValueKind
	Tensor *Array   // ValueTensor
	Elems  []*Value // ValueSequence: the elements; ValueOptional: none or one
	// ValueMap: the keys (int64 or string, one dimension) and the values (a sequence of one-element
	// tensors in the file, here one tensor of one dimension when they are scalars).
	Keys   *Array
	Values *Value
}

// ReadValueFile reads a file holding one serialized message of the given kind (the model's declared
// type says which: the wire format does not) and converts it.
func ReadValueFile(path string, kind ValueKind) (*Value, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var msg proto.Message
	switch kind {
	case ValueTensor:
		msg = &onnxpb.TensorProto{}
	case ValueSequence:
		msg = &onnxpb.SequenceProto{}
	case ValueOptional:
		msg = &onnxpb.OptionalProto{}
	case ValueMap:
		msg = &onnxpb.MapProto{}
	default:
		return nil, &FormatError{Where: path, What: fmt.Sprintf("unknown value kind %d", kind)}
	}
	if err := (proto.UnmarshalOptions{RecursionLimit: defaultMaxDepth}).Unmarshal(b, msg); err != nil {
		return nil, &FormatError{Where: path, What: fmt.Sprintf("not a %s", msg.ProtoReflect().Descriptor().Name()), Err: err}
	}
	r := valueReader{dir: filepath.Dir(path), where: path}
	switch m := msg.(type) {
	case *onnxpb.TensorProto:
		return r.tensor(m)
	case *onnxpb.SequenceProto:
		return r.sequence(m)
	case *onnxpb.OptionalProto:
		return r.optional(m)
	default:
		return r.mapValue(msg.(*onnxpb.MapProto))
	}
}

type valueReader struct {
	dir, where string
}

func (r valueReader) tensor(t *onnxpb.TensorProto) (*Value, error) {
	a, err := ReadTensor(t, r.dir, Limits{})
	if err != nil {
		return nil, err
	}
	return &Value{Kind: ValueTensor, Tensor: a}, nil
}

func (r valueReader) sequence(s *onnxpb.SequenceProto) (*Value, error) {
	v := &Value{Kind: ValueSequence}
	var err error
	add := func(e *Value, e2 error) {
		if err == nil && e2 != nil {
			err = e2
		}
		if e != nil {
			v.Elems = append(v.Elems, e)
		}
	}
	switch ValueKind(s.GetElemType()) {
	case ValueTensor:
		for _, t := range s.GetTensorValues() {
			add(r.tensor(t))
		}
	case ValueSequence:
		for _, e := range s.GetSequenceValues() {
			add(r.sequence(e))
		}
	case ValueOptional:
		for _, e := range s.GetOptionalValues() {
			add(r.optional(e))
		}
	case ValueMap:
		for _, e := range s.GetMapValues() {
			add(r.mapValue(e))
		}
	default:
		if s.GetElemType() != 0 || len(s.GetTensorValues())+len(s.GetSequenceValues())+len(s.GetMapValues())+len(s.GetOptionalValues())+len(s.GetSparseTensorValues()) > 0 {
			return nil, &FormatError{Where: r.where, What: fmt.Sprintf("a SequenceProto of element type %d, which onnxrun does not read", s.GetElemType())}
		}
	}
	return v, err
}

func (r valueReader) optional(o *onnxpb.OptionalProto) (*Value, error) {
	v := &Value{Kind: ValueOptional}
	var e *Value
	var err error
	switch ValueKind(o.GetElemType()) {
	case 0:
		return v, nil // empty
	case ValueTensor:
		if o.GetTensorValue() != nil {
			e, err = r.tensor(o.GetTensorValue())
		}
	case ValueSequence:
		if o.GetSequenceValue() != nil {
			e, err = r.sequence(o.GetSequenceValue())
		}
	case ValueMap:
		if o.GetMapValue() != nil {
			e, err = r.mapValue(o.GetMapValue())
		}
	default:
		return nil, &FormatError{Where: r.where, What: fmt.Sprintf("an OptionalProto of element type %d, which onnxrun does not read", o.GetElemType())}
	}
	if err != nil {
		return nil, err
	}
	if e != nil {
		v.Elems = []*Value{e}
	}
	return v, nil
}

func (r valueReader) mapValue(m *onnxpb.MapProto) (*Value, error) {
	keyType := onnxpb.TensorProto_DataType(m.GetKeyType())
	var keys *Array
	var n int
	if keyType == onnxpb.TensorProto_STRING {
		ks := make([]string, len(m.GetStringKeys()))
		for i, k := range m.GetStringKeys() {
			ks[i] = string(k)
		}
		keys, n = &Array{DataType: keyType, Dims: []int64{int64(len(ks))}, Data: ks}, len(ks)
	} else {
		ks := append([]int64(nil), m.GetKeys()...)
		keys, n = &Array{DataType: onnxpb.TensorProto_INT64, Dims: []int64{int64(len(ks))}, Data: ks}, len(ks)
	}
	values, err := r.sequence(m.GetValues())
	if err != nil {
		return nil, err
	}
	if len(values.Elems) != n {
		return nil, &FormatError{Where: r.where, What: fmt.Sprintf("a MapProto with %d keys and %d values", n, len(values.Elems))}
	}
	return &Value{Kind: ValueMap, Keys: keys, Values: values}, nil
}
