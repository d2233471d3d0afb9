package array

import "github.com/onnxrun/onnxrun/ops"

// Flatten reshapes a tensor to 2-D: the dimensions before axis multiply into the rows, the rest into the
// columns. https://onnx.ai/onnx/operators/onnx__Flatten.html — opsets 1, 9, 11, 13, 21, 23, 24, 25.
func init() {
	ops.Register("", "Flatten",
		ops.Since(1, buildFlatten),  // float types only
		ops.Since(9, buildFlatten),  // opset 9: every type
		ops.Since(11, buildFlatten), // opset 11: negative axis (accepted at every opset here)
		ops.Since(13, buildFlatten), // opset 13: bfloat16
		ops.Since(21, buildFlatten), // opset 21: int4/uint4 (not held by ops.Tensor)
		ops.Since(23, buildFlatten), // opset 23: float4e2m1 (not held)
		ops.Since(24, buildFlatten), // opset 24: float8e8m0 (not held)
		ops.Since(25, buildFlatten), // opset 25: int2/uint2 (not held)
	)
}

type flattenOp struct {
	aliasInput0
	axis int64
}

func buildFlatten(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	o := &flattenOp{axis: r.Int("axis", 1)}
	return o, r.Err()
}

func (o *flattenOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	s := in[0].Shape
	r := int64(len(s))
	axis := o.axis
	if axis < -r || axis > r {
		return nil, ops.Invalidf("axis %d is out of range [%d, %d] for input shape %v", o.axis, -r, r, s)
	}
	if axis < 0 {
		axis += r
	}
	outer := s[:axis].Size()
	return []ops.ValueInfo{{DType: in[0].DType, Shape: ops.Shape{outer, s[axis:].Size()}}}, nil
}

func (o *flattenOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) { return copyKernel, nil }
