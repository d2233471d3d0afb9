package array

import "github.com/onnxrun/onnxrun/ops"

// Reshape gives a tensor another shape with the same elements in the same order.
// https://onnx.ai/onnx/operators/onnx__Reshape.html — opsets 1, 5, 13, 14, 19, 21, 23, 24, 25.
//
// A 0 in the target shape copies the input's dimension at that index (unless allowzero=1, when it means an
// empty dimension), and one -1 is inferred from the element count.
func init() {
	ops.Register("", "Reshape",
		ops.Since(1, buildReshape(false, false)), // shape is an attribute (consumed_inputs is ignored)
		ops.Since(5, buildReshape(true, false)),  // opset 5: shape moved from the attribute to input 1
		ops.Since(13, buildReshape(true, false)), // opset 13: bfloat16
		ops.Since(14, buildReshape(true, true)),  // opset 14: allowzero attribute
		ops.Since(19, buildReshape(true, true)),  // opset 19: float8 types (not held by ops.Tensor)
		ops.Since(21, buildReshape(true, true)),  // opset 21: int4/uint4 (not held)
		ops.Since(23, buildReshape(true, true)),  // opset 23: float4e2m1 (not held)
		ops.Since(24, buildReshape(true, true)),  // opset 24: float8e8m0 (not held)
		ops.Since(25, buildReshape(true, true)),  // opset 25: int2/uint2 (not held)
	)
}

type reshapeOp struct {
	aliasInput0
	fromInput bool
	attrShape []int64
	allowZero bool
}

func buildReshape(fromInput, hasAllowZero bool) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		r := ops.NewAttrReader(n.Attrs)
		o := &reshapeOp{fromInput: fromInput}
		if !fromInput {
			if !r.Has("shape") {
				return nil, &ops.AttrError{Name: "shape", Msg: "is required before opset 5"}
			}
			o.attrShape = r.Ints("shape", nil)
		}
		if hasAllowZero {
			az := r.Int("allowzero", 0)
			if az != 0 && az != 1 {
				return nil, &ops.AttrError{Name: "allowzero", Msg: "must be 0 or 1, is " + itoa(az)}
			}
			o.allowZero = az == 1
		}
		return o, r.Err()
	}
}

// ShapeInputs reports that the target shape (input 1 from opset 5) must be known to plan.
func (o *reshapeOp) ShapeInputs() []int {
	if o.fromInput {
		return []int{1}
	}
	return nil
}

func (o *reshapeOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	maxIn := 1
	if o.fromInput {
		maxIn = 2
	}
	if err := ops.CheckInputCount(in, maxIn, maxIn); err != nil {
		return nil, err
	}
	spec := o.attrShape
	if o.fromInput {
		var err error
		if spec, err = ops.ConstInts(in[1], "shape"); err != nil {
			return nil, err
		}
	}
	out, err := reshapeTarget(in[0].Shape, spec, o.allowZero)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: out}}, nil
}

func (o *reshapeOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) { return copyKernel, nil }

// reshapeTarget resolves a Reshape shape against the input shape.
func reshapeTarget(inShape ops.Shape, spec []int64, allowZero bool) (ops.Shape, error) {
	out := make(ops.Shape, len(spec))
	inferred := -1
	known := 1
	hasZero := false
	for i, d := range spec {
		switch {
		case d == -1:
			if inferred >= 0 {
				return nil, ops.Invalidf("shape %v has more than one -1", spec)
			}
			inferred = i
			continue
		case d == 0 && !allowZero:
			if i >= len(inShape) {
				return nil, ops.Invalidf("shape %v copies dimension %d (a 0) but the input %v has rank %d", spec, i, inShape, len(inShape))
			}
			out[i] = inShape[i]
		case d < 0:
			return nil, ops.Invalidf("shape %v has a negative dimension %d at index %d", spec, d, i)
		default:
			if d == 0 {
				hasZero = true
			}
			if int64(int(d)) != d {
				return nil, ops.Invalidf("shape %v: dimension %d is too large", spec, d)
			}
			out[i] = int(d)
		}
		if _, err := (ops.Shape{known, out[i]}).CheckedSize(0); err != nil {
			return nil, ops.Invalidf("shape %v has too many elements", spec)
		}
		known *= out[i]
	}
	if allowZero && hasZero && inferred >= 0 {
		return nil, ops.Invalidf("shape %v has both 0 and -1, which allowzero=1 forbids", spec)
	}
	size := inShape.Size()
	if inferred >= 0 {
		if known == 0 || size%known != 0 {
			return nil, ops.Invalidf("cannot reshape %s to %v: the -1 dimension cannot be inferred", shapeOf(inShape), spec)
		}
		out[inferred] = size / known
		known = size
	}
	if known != size {
		return nil, ops.Invalidf("cannot reshape %s to %s", shapeOf(inShape), shapeOf(out))
	}
	return out, nil
}
