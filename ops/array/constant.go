package array

import "github.com/onnxrun/onnxrun/ops"

// Constant outputs a tensor held in its attributes.
// https://onnx.ai/onnx/operators/onnx__Constant.html — opsets 1, 9, 11, 12, 13, 19, 21, 23, 24, 25.
//
// ConstantOfShape outputs a tensor of a given shape filled with one value.
// https://onnx.ai/onnx/operators/onnx__ConstantOfShape.html — opsets 9, 20, 21, 23, 24, 25.
func init() {
	ops.Register("", "Constant",
		ops.Since(1, buildConstant(constValueOnly)), // value attribute
		ops.Since(9, buildConstant(constValueOnly)), // opset 9: every type
		ops.Since(11, buildConstant(constSparse)),   // opset 11: sparse_value attribute (unsupported)
		ops.Since(12, buildConstant(constAllForms)), // opset 12: value_float(s), value_int(s), value_string(s)
		ops.Since(13, buildConstant(constAllForms)), // opset 13: bfloat16
		ops.Since(19, buildConstant(constAllForms)), // opset 19: float8 types (not held by ops.Tensor)
		ops.Since(21, buildConstant(constAllForms)), // opset 21: int4/uint4 (not held)
		ops.Since(23, buildConstant(constAllForms)), // opset 23: float4e2m1 (not held)
		ops.Since(24, buildConstant(constAllForms)), // opset 24: float8e8m0 (not held)
		ops.Since(25, buildConstant(constAllForms)), // opset 25: int2/uint2 (not held)
	)
	ops.Register("", "ConstantOfShape",
		ops.Since(9, buildConstantOfShape),
		ops.Since(20, buildConstantOfShape), // opset 20: bfloat16 and float8 values
		ops.Since(21, buildConstantOfShape), // opset 21: int4/uint4 (not held by ops.Tensor)
		ops.Since(23, buildConstantOfShape), // opset 23: float4e2m1 (not held)
		ops.Since(24, buildConstantOfShape), // opset 24: float8e8m0 (not held)
		ops.Since(25, buildConstantOfShape), // opset 25: int2/uint2 (not held)
	)
}

// constForms says which attributes an opset of Constant defines.
type constForms int

const (
	constValueOnly constForms = iota
	constSparse
	constAllForms
)

type constantOp struct{ value *ops.Tensor }

func buildConstant(forms constForms) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		r := ops.NewAttrReader(n.Attrs)
		var names []string
		if n.Attrs != nil {
			names = n.Attrs.Names()
		}
		var value *ops.Tensor
		set := ""
		for _, name := range names {
			var t *ops.Tensor
			switch name {
			case "value":
				if t = r.Tensor("value"); t == nil && r.Err() == nil {
					return nil, &ops.AttrError{Name: name, Msg: "holds no tensor"}
				}
			case "sparse_value":
				if forms < constSparse {
					return nil, &ops.AttrError{Name: name, Msg: "is not defined before opset 11"}
				}
				return nil, ops.Unsupportedf("Constant with a sparse_value attribute")
			case "value_float", "value_floats", "value_int", "value_ints", "value_string", "value_strings":
				if forms < constAllForms {
					return nil, &ops.AttrError{Name: name, Msg: "is not defined before opset 12"}
				}
				t = constantFromList(r, name)
			default:
				continue // unknown attributes are ignored, as elsewhere
			}
			if set != "" {
				return nil, ops.Invalidf("Constant has both %q and %q; exactly one value attribute is allowed", set, name)
			}
			set, value = name, t
		}
		if err := r.Err(); err != nil {
			return nil, err
		}
		if value == nil {
			return nil, ops.Invalidf("Constant has no value attribute")
		}
		return &constantOp{value: value}, nil
	}
}

// constantFromList builds the tensor of a value_* attribute: a scalar for the singular forms, 1-D for lists.
func constantFromList(r *ops.AttrReader, name string) *ops.Tensor {
	switch name {
	case "value_float":
		return ops.Scalar(r.Float(name, 0))
	case "value_floats":
		v := append([]float32{}, r.Floats(name, nil)...)
		return ops.FromSlice(ops.Shape{len(v)}, v)
	case "value_int":
		return ops.Scalar(r.Int(name, 0))
	case "value_ints":
		v := append([]int64{}, r.Ints(name, nil)...)
		return ops.FromSlice(ops.Shape{len(v)}, v)
	case "value_string":
		return ops.Scalar(r.String(name, ""))
	default:
		v := append([]string{}, r.Strings(name, nil)...)
		return ops.FromSlice(ops.Shape{len(v)}, v)
	}
}

func (o *constantOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if len(in) != 0 {
		return nil, ops.Invalidf("Constant takes no inputs, got %d", len(in))
	}
	return []ops.ValueInfo{{DType: o.value.DType(), Shape: o.value.Shape().Clone(), Const: o.value}}, nil
}

func (o *constantOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	return constKernel{o.value}, nil
}

type constantOfShapeOp struct{ value *ops.Tensor }

func buildConstantOfShape(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	o := &constantOfShapeOp{value: r.Tensor("value")}
	if err := r.Err(); err != nil {
		return nil, err
	}
	if o.value == nil {
		o.value = ops.FromSlice(ops.Shape{1}, []float32{0})
	}
	if o.value.Len() != 1 {
		return nil, &ops.AttrError{Name: "value", Msg: "must hold exactly one element, has shape " + o.value.Shape().String()}
	}
	if _, ok := fillFuncs.of(o.value.DType()); !ok {
		return nil, unsupportedDType(o.value.DType())
	}
	return o, nil
}

// ShapeInputs reports that the shape (input 0) must be known to plan.
func (o *constantOfShapeOp) ShapeInputs() []int { return []int{0} }

func (o *constantOfShapeOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	dims, err := ops.ConstInts(in[0], "input")
	if err != nil {
		return nil, err
	}
	out := make(ops.Shape, len(dims))
	for i, d := range dims {
		if d < 0 || int64(int(d)) != d {
			return nil, ops.Invalidf("shape %v has an invalid dimension %d", dims, d)
		}
		out[i] = int(d)
	}
	if out, err = checkedShape(out); err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: o.value.DType(), Shape: out}}, nil
}

type fillKernel struct {
	value any
	fill  func(dst, value any)
}

func (k *fillKernel) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	k.fill(out[0].Data(), k.value)
	return nil
}

func (o *constantOfShapeOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	f, _ := fillFuncs.of(o.value.DType())
	return &fillKernel{value: o.value.Data(), fill: f}, nil
}
