package sequence

import (
	"github.com/onnxrun/onnxrun/ops"
)

// Optional, OptionalHasElement and OptionalGetElement:
// https://onnx.ai/onnx/operators/onnx__Optional.html — opset 15;
// https://onnx.ai/onnx/operators/onnx__OptionalHasElement.html — opsets 15, 18;
// https://onnx.ai/onnx/operators/onnx__OptionalGetElement.html — opsets 15, 18.
func init() {
	ops.Register("", "Optional", ops.Since(15, buildOptional))
	ops.Register("", "OptionalHasElement",
		ops.Since(15, buildHasElement(false)),
		ops.Since(18, buildHasElement(true)), // opset 18: the input may be absent, a tensor or a sequence
	)
	ops.Register("", "OptionalGetElement",
		ops.Since(15, buildGetElement(false)),
		ops.Since(18, buildGetElement(true)), // opset 18: a tensor or a sequence input is returned as it is
	)
}

// Optional wraps its input in an optional, or makes an empty optional of the type attribute.
type optionalOp struct {
	takesValues
	elem *ops.ValueType // the type attribute, nil when absent
}

func buildOptional(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	o := optionalOp{elem: r.ValueType("type")}
	if err := r.Err(); err != nil {
		return nil, err
	}
	hasInput := n.NumInputs > 0 && (len(n.InputPresent) == 0 || n.InputPresent[0])
	if !hasInput && o.elem == nil {
		return nil, &ops.AttrError{Name: "type", Msg: "is required when the input is absent"}
	}
	if o.elem != nil && o.elem.Kind == ops.KindOptional {
		return nil, &ops.AttrError{Name: "type", Msg: "is " + o.elem.String() + ": an optional cannot hold an optional"}
	}
	return o, nil
}

func (o optionalOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 0, 1); err != nil {
		return nil, err
	}
	if v := ops.Input(in, 0); v.Present() {
		t := typeOf(v)
		if t.Kind != ops.KindTensor && t.Kind != ops.KindSequence {
			return nil, ops.Invalidf("input 0 is a %s: an optional holds a tensor or a sequence", t)
		}
		if o.elem != nil && !o.elem.Equal(t) {
			return nil, ops.Invalidf("input 0 is a %s, the type attribute says %s", t, *o.elem)
		}
		return []ops.ValueInfo{ops.InfoOf(ops.OptionalOf(t))}, nil
	}
	return []ops.ValueInfo{ops.InfoOf(ops.OptionalOf(*o.elem))}, nil
}

func (o optionalOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	elem := *out[0].Type.Elem
	return ops.KernelFunc(func(_ *ops.ExecContext, in, out []*ops.Tensor) error {
		var v *ops.Tensor
		if len(in) > 0 && in[0] != nil {
			v = in[0]
			if v.Kind() == ops.KindTensor {
				v = v.Clone() // the input may be an arena buffer: an optional owns its value
			}
		}
		out[0].SetValue(ops.NewOptional(elem, v))
		return nil
	}), nil
}

// OptionalHasElement tells whether an optional holds a value. From opset 18 a tensor or a sequence counts
// as present and an absent input as empty.
type hasElementOp struct {
	takesValues
	opset18 bool
}

func buildHasElement(opset18 bool) ops.Builder {
	return func(ops.NodeInfo) (ops.Op, error) { return hasElementOp{opset18: opset18}, nil }
}

func (o hasElementOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	required := 1
	if o.opset18 {
		required = 0
	}
	if err := ops.CheckInputCount(in, required, 1); err != nil {
		return nil, err
	}
	if v := ops.Input(in, 0); v.Present() && v.Kind() != ops.KindOptional && !o.opset18 {
		return nil, ops.Invalidf("input 0 is a %s; before opset 18 OptionalHasElement takes an optional", typeOf(v))
	}
	out := ops.ValueInfo{DType: ops.Bool, Shape: ops.Shape{}}
	if v := ops.Input(in, 0); !v.Present() {
		out.Const = ops.Scalar(false) // known at plan time: nothing to run
	}
	return []ops.ValueInfo{out}, nil
}

func (o hasElementOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	return ops.KernelFunc(func(_ *ops.ExecContext, in, out []*ops.Tensor) error {
		has := false
		if len(in) > 0 && in[0] != nil {
			has = in[0].Kind() != ops.KindOptional || in[0].HasElement()
		}
		out[0].Bools()[0] = has
		return nil
	}), nil
}

// OptionalGetElement returns what an optional holds; reading an empty optional is an error. From opset 18
// a tensor or a sequence input is returned as it is.
type getElementOp struct {
	takesValues
	opset18 bool
}

func buildGetElement(opset18 bool) ops.Builder {
	return func(ops.NodeInfo) (ops.Op, error) { return getElementOp{opset18: opset18}, nil }
}

// element returns the value OptionalGetElement yields for v: what the optional holds, or v itself.
func element(v *ops.Tensor) (*ops.Tensor, error) {
	if v.Kind() != ops.KindOptional {
		return v, nil
	}
	if !v.HasElement() {
		return nil, ops.Invalidf("the optional is empty: there is no element to get")
	}
	return v.Element(), nil
}

func (o getElementOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	v := in[0]
	if v.Kind() != ops.KindOptional && !o.opset18 {
		return nil, ops.Invalidf("input 0 is a %s; before opset 18 OptionalGetElement takes an optional", typeOf(v))
	}
	t := typeOf(v)
	if t.Kind == ops.KindOptional {
		t = *t.Elem
	}
	if t.Kind != ops.KindTensor {
		return []ops.ValueInfo{ops.InfoOf(t)}, nil
	}
	if v.Kind() == ops.KindTensor {
		return []ops.ValueInfo{{DType: v.DType, Shape: v.Shape.Clone()}}, nil
	}
	if v.Const == nil {
		return nil, ops.Dynamicf("OptionalGetElement's output shape is that of the tensor the optional holds")
	}
	e, err := element(v.Const)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: e.DType(), Shape: e.Shape().Clone()}}, nil
}

func (o getElementOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	return ops.KernelFunc(func(_ *ops.ExecContext, in, out []*ops.Tensor) error {
		e, err := element(in[0])
		if err != nil {
			return err
		}
		if out[0].Kind() == ops.KindTensor {
			return copyInto(out[0], e)
		}
		if !e.Type().Equal(out[0].Type()) {
			return ops.Invalidf("the element is a %s, the plan expected %s", e.Type(), out[0].Type())
		}
		out[0].SetValue(e) // a sequence: its elements are immutable, so it is shared
		return nil
	}), nil
}
