package ops

import (
	"fmt"
	"strings"
)

// ValueKind says what a runtime value is: a tensor, or one of ONNX's non-tensor types.
type ValueKind uint8

const (
	// KindTensor is a dense tensor: the zero value, and what every value was before sequences.
	KindTensor ValueKind = iota
	// KindSequence is an ordered list of values of one type (ONNX seq(T)).
	KindSequence
	// KindOptional is a value that may be absent (ONNX optional(T)).
	KindOptional
	// KindMap is a table from scalar keys to values (ONNX map(K, V)), held as a keys tensor and a values
	// tensor of one dimension and equal length: what ZipMap produces and DictVectorizer reads.
	KindMap
)

func (k ValueKind) String() string {
	switch k {
	case KindTensor:
		return "tensor"
	case KindSequence:
		return "sequence"
	case KindOptional:
		return "optional"
	case KindMap:
		return "map"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ValueType is the full type of a value. A tensor is {Kind: KindTensor, DType: d}; a sequence or an
// optional names its element type in Elem; a map has the key dtype in Key and the value type in Elem.
// seq(tensor(float)) is {KindSequence, Elem: &{KindTensor, DType: Float32}}.
type ValueType struct {
	Kind  ValueKind
	DType DType      // KindTensor: the element dtype
	Key   DType      // KindMap: the key dtype (an integer type or String)
	Elem  *ValueType // KindSequence, KindOptional: the element type; KindMap: the value type
}

// TensorType is the type of a tensor of dtype d.
func TensorType(d DType) ValueType { return ValueType{Kind: KindTensor, DType: d} }

// SequenceOf is the type seq(elem).
func SequenceOf(elem ValueType) ValueType { return ValueType{Kind: KindSequence, Elem: &elem} }

// OptionalOf is the type optional(elem).
func OptionalOf(elem ValueType) ValueType { return ValueType{Kind: KindOptional, Elem: &elem} }

// MapOf is the type map(key, value).
func MapOf(key DType, value ValueType) ValueType {
	return ValueType{Kind: KindMap, Key: key, Elem: &value}
}

// TensorDType is the dtype of the tensors the value holds at its innermost level (for a map, of its
// values); Undefined when a container's element type is not known.
func (t ValueType) TensorDType() DType {
	for t.Kind != KindTensor {
		if t.Elem == nil {
			return Undefined
		}
		t = *t.Elem
	}
	return t.DType
}

// Equal reports whether t and u are the same type.
func (t ValueType) Equal(u ValueType) bool {
	if t.Kind != u.Kind || t.DType != u.DType || t.Key != u.Key {
		return false
	}
	if t.Elem == nil || u.Elem == nil {
		return t.Elem == u.Elem
	}
	return t.Elem.Equal(*u.Elem)
}

// String writes the type as ONNX does: tensor(float32), seq(tensor(int64)), optional(seq(...)),
// map(string,tensor(float32)).
func (t ValueType) String() string {
	elem := "?"
	if t.Elem != nil {
		elem = t.Elem.String()
	}
	switch t.Kind {
	case KindTensor:
		return "tensor(" + t.DType.String() + ")"
	case KindSequence:
		return "seq(" + elem + ")"
	case KindOptional:
		return "optional(" + elem + ")"
	case KindMap:
		return "map(" + t.Key.String() + "," + elem + ")"
	}
	return t.Kind.String()
}

// InfoOf returns what a plan knows of a value of type t with no contents known: the ValueInfo an op's
// InferShapes returns for a non-tensor output. For a tensor type it is just the dtype.
func InfoOf(t ValueType) ValueInfo {
	if t.Kind == KindTensor {
		return ValueInfo{DType: t.DType}
	}
	return ValueInfo{DType: t.TensorDType(), Type: &t}
}

// ConstInfo returns the ValueInfo of a known value (a constant, or an input of a plan made at Run): its
// dtype and shape for a tensor, its type for anything else, with Const set to v.
func ConstInfo(v *Tensor) ValueInfo {
	if v.typ == nil {
		return ValueInfo{DType: v.dtype, Shape: v.shape, Const: v}
	}
	typ := *v.typ
	return ValueInfo{DType: typ.TensorDType(), Type: &typ, Const: v}
}

// NewSequence makes a sequence of element type elem holding elems. The sequence owns its elements from
// now on: the caller must not modify them (clone an arena tensor before putting it in a sequence).
func NewSequence(elem ValueType, elems []*Tensor) *Tensor {
	typ := SequenceOf(elem)
	return &Tensor{dtype: typ.TensorDType(), typ: &typ, elems: elems}
}

// NewOptional makes an optional of element type elem holding v, or nothing when v is nil. Like a
// sequence, it owns v from now on.
func NewOptional(elem ValueType, v *Tensor) *Tensor {
	typ := OptionalOf(elem)
	t := &Tensor{dtype: typ.TensorDType(), typ: &typ}
	if v != nil {
		t.elems = []*Tensor{v}
	}
	return t
}

// NewMap makes a map from keys (one dimension) to values (one dimension, as long as keys). It owns both.
func NewMap(keys, values *Tensor) (*Tensor, error) {
	if keys.Kind() != KindTensor || values.Kind() != KindTensor || keys.Rank() != 1 || values.Rank() != 1 || keys.Len() != values.Len() {
		return nil, Invalidf("a map needs keys and values of one dimension and equal length, got %v and %v", keys, values)
	}
	typ := MapOf(keys.dtype, TensorType(values.dtype))
	return &Tensor{dtype: values.dtype, typ: &typ, elems: []*Tensor{keys, values}}, nil
}

// NewValue makes an empty value for info: a zeroed tensor of its dtype and shape, an empty sequence, an
// absent optional or an empty map. The runtime hands kernels such values as the outputs to fill.
func NewValue(info ValueInfo) *Tensor {
	if info.Type == nil || info.Type.Kind == KindTensor {
		return New(info.DType, info.Shape)
	}
	typ := *info.Type
	t := &Tensor{dtype: typ.TensorDType(), typ: &typ}
	if typ.Kind == KindMap {
		valueDType := Undefined
		if typ.Elem != nil {
			valueDType = typ.Elem.TensorDType()
		}
		t.elems = []*Tensor{New(typ.Key, Shape{0}), New(valueDType, Shape{0})}
	}
	return t
}

// Kind says whether t is a tensor, a sequence, an optional or a map.
func (t *Tensor) Kind() ValueKind {
	if t.typ == nil {
		return KindTensor
	}
	return t.typ.Kind
}

// Type is t's full type.
func (t *Tensor) Type() ValueType {
	if t.typ == nil {
		return TensorType(t.dtype)
	}
	return *t.typ
}

// Elements returns a sequence's elements in order (an optional's: none or one; a map's: keys and values).
// The slice and the tensors are the value's own: read them, never modify them.
func (t *Tensor) Elements() []*Tensor { return t.elems }

// HasElement reports whether an optional holds a value.
func (t *Tensor) HasElement() bool { return t.Kind() == KindOptional && len(t.elems) == 1 }

// Element returns what an optional holds, or nil when it is empty.
func (t *Tensor) Element() *Tensor {
	if !t.HasElement() {
		return nil
	}
	return t.elems[0]
}

// MapKeys and MapValues return a map's two tensors.
func (t *Tensor) MapKeys() *Tensor { return t.mapPart(0) }

// MapValues returns a map's values tensor, MapKeys's counterpart.
func (t *Tensor) MapValues() *Tensor { return t.mapPart(1) }

func (t *Tensor) mapPart(i int) *Tensor {
	if t.Kind() != KindMap || len(t.elems) != 2 {
		return nil
	}
	return t.elems[i]
}

// SetValue makes t hold what v holds, sharing v's data or elements: how a kernel writes a non-tensor
// output (out[0].SetValue(ops.NewSequence(...))), and how the runtime binds a caller's value to a slot.
func (t *Tensor) SetValue(v *Tensor) {
	t.dtype, t.data, t.typ, t.elems = v.dtype, v.data, v.typ, v.elems
	t.shape = append(t.shape[:0], v.shape...)
}

func (t *Tensor) cloneValue() *Tensor {
	c := &Tensor{dtype: t.dtype, typ: t.typ}
	if t.elems != nil {
		c.elems = make([]*Tensor, len(t.elems))
		for i, e := range t.elems {
			c.elems[i] = e.Clone()
		}
	}
	return c
}

func (t *Tensor) valueString() string {
	switch t.typ.Kind {
	case KindSequence:
		parts := make([]string, len(t.elems))
		for i, e := range t.elems {
			parts[i] = e.String()
		}
		return fmt.Sprintf("Sequence(%s)[%s]", t.typ.Elem, strings.Join(parts, ", "))
	case KindOptional:
		if !t.HasElement() {
			return fmt.Sprintf("Optional(%s)(none)", t.typ.Elem)
		}
		return fmt.Sprintf("Optional(%s)(%s)", t.typ.Elem, t.elems[0])
	case KindMap:
		return fmt.Sprintf("Map(%s)[%d]", t.typ, t.elems[0].Len())
	}
	return t.typ.String()
}

// CheckValue checks a caller's value the way CheckData checks a tensor, recursively: every tensor inside
// holds data of its dtype and shape, a sequence's elements have its element type, an optional holds at
// most one value, a map's keys and values agree.
func (t *Tensor) CheckValue() error {
	if t.typ == nil {
		return t.CheckData()
	}
	switch t.typ.Kind {
	case KindSequence, KindOptional:
		if t.typ.Elem == nil {
			return fmt.Errorf("is a %s with no element type", t.typ.Kind)
		}
		if t.typ.Kind == KindOptional && len(t.elems) > 1 {
			return fmt.Errorf("is an optional holding %d values", len(t.elems))
		}
		for i, e := range t.elems {
			if e == nil {
				return fmt.Errorf("element %d is nil", i)
			}
			if got := e.Type(); !got.Equal(*t.typ.Elem) {
				return fmt.Errorf("element %d is a %s in a %s", i, got, t.typ)
			}
			if err := e.CheckValue(); err != nil {
				return fmt.Errorf("element %d %w", i, err)
			}
		}
		return nil
	case KindMap:
		k, v := t.MapKeys(), t.MapValues()
		if k == nil || v == nil || k.Kind() != KindTensor || v.Kind() != KindTensor || k.Rank() != 1 || v.Rank() != 1 || k.Len() != v.Len() {
			return fmt.Errorf("is a map whose keys and values are not two tensors of one dimension and equal length")
		}
		if err := k.CheckData(); err != nil {
			return fmt.Errorf("keys %w", err)
		}
		return v.CheckData()
	}
	return fmt.Errorf("has unknown kind %d", uint8(t.typ.Kind))
}

// AcceptsNonTensors is an Op that takes sequences, optionals or maps as inputs (the sequence and optional
// operators, Identity, the control-flow operators). The runtime refuses to feed a non-tensor value to any
// other op, whose kernel would read it as a tensor.
type AcceptsNonTensors interface {
	AcceptsNonTensors() bool
}
