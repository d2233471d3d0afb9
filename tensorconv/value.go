package tensorconv

import (
	"fmt"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/ops"
)

// KindOf is the onnx package's name for a value kind: which message a data file of that type holds.
func KindOf(t ops.ValueType) onnx.ValueKind {
	switch t.Kind {
	case ops.KindSequence:
		return onnx.ValueSequence
	case ops.KindOptional:
		return onnx.ValueOptional
	case ops.KindMap:
		return onnx.ValueMap
	}
	return onnx.ValueTensor
}

// FromValue converts a decoded SequenceProto, OptionalProto or MapProto (or tensor) to the value of type
// t it must hold; the type gives the element type of an empty sequence or optional, which the files do
// not carry. A value that does not match t is an error naming both.
func FromValue(v *onnx.Value, t ops.ValueType) (*ops.Tensor, error) {
	if v.Kind != KindOf(t) {
		return nil, fmt.Errorf("the data holds a value of kind %d where a %s is expected", v.Kind, t)
	}
	switch t.Kind {
	case ops.KindTensor:
		x, err := FromArray(v.Tensor)
		if err != nil {
			return nil, err
		}
		if x.DType() != t.DType {
			return nil, fmt.Errorf("the data holds a %s tensor where a %s is expected", x.DType(), t)
		}
		return x, nil
	case ops.KindSequence, ops.KindOptional:
		if t.Elem == nil {
			return nil, fmt.Errorf("the type %s has no element type", t)
		}
		elems := make([]*ops.Tensor, len(v.Elems))
		for i, e := range v.Elems {
			x, err := FromValue(e, *t.Elem)
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
			elems[i] = x
		}
		if t.Kind == ops.KindSequence {
			return ops.NewSequence(*t.Elem, elems), nil
		}
		if len(elems) == 0 {
			return ops.NewOptional(*t.Elem, nil), nil
		}
		return ops.NewOptional(*t.Elem, elems[0]), nil
	}
	// A map: its values are one-element tensors in the file, one tensor of one dimension here.
	keys, err := FromArray(v.Keys)
	if err != nil {
		return nil, err
	}
	if keys.DType() != t.Key {
		return nil, fmt.Errorf("the data holds %s keys where a %s is expected", keys.DType(), t)
	}
	if t.Elem == nil || t.Elem.Kind != ops.KindTensor {
		return nil, fmt.Errorf("maps of %v values are not represented", t.Elem)
	}
	values := ops.New(t.Elem.DType, ops.Shape{len(v.Values.Elems)})
	for i, e := range v.Values.Elems {
		x, err := FromValue(e, *t.Elem)
		if err != nil {
			return nil, fmt.Errorf("value %d: %w", i, err)
		}
		if x.Len() != 1 {
			return nil, fmt.Errorf("value %d holds %d elements: a map's values are scalars here", i, x.Len())
		}
		slot, err := ops.FromData(x.DType(), ops.Shape{1}, ops.Slice(values.Data(), i, i+1))
		if err != nil {
			return nil, err
		}
		ops.CopyData(slot, x)
	}
	return ops.NewMap(keys, values)
}
