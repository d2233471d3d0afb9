package array

import "github.com/onnxrun/onnxrun/ops"

// Shape returns a tensor's dimensions as a 1-D int64 tensor, optionally a [start, end) slice of them.
// https://onnx.ai/onnx/operators/onnx__Shape.html — opsets 1, 13, 15, 19, 21, 23, 24, 25.
//
// Size returns the element count as an int64 scalar.
// https://onnx.ai/onnx/operators/onnx__Size.html — opsets 1, 13, 19, 21, 23, 24, 25.
//
// Both know their output from shapes alone, so InferShapes returns it as ValueInfo.Const and the runtime
// never runs them; the kernels exist for callers that do.
func init() {
	ops.Register("", "Shape",
		ops.Since(1, buildShape(false)),
		ops.Since(13, buildShape(false)), // opset 13: bfloat16
		ops.Since(15, buildShape(true)),  // opset 15: start and end attributes
		ops.Since(19, buildShape(true)),  // opset 19: float8 types (not held by ops.Tensor)
		ops.Since(21, buildShape(true)),  // opset 21: int4/uint4 (not held)
		ops.Since(23, buildShape(true)),  // opset 23: float4e2m1 (not held)
		ops.Since(24, buildShape(true)),  // opset 24: float8e8m0 (not held)
		ops.Since(25, buildShape(true)),  // opset 25: int2/uint2 (not held)
	)
	ops.Register("", "Size",
		ops.Since(1, buildSize),
		ops.Since(13, buildSize), // opset 13: bfloat16
		ops.Since(19, buildSize), // opset 19: float8 types (not held by ops.Tensor)
		ops.Since(21, buildSize), // opset 21: int4/uint4 (not held)
		ops.Since(23, buildSize), // opset 23: float4e2m1 (not held)
		ops.Since(24, buildSize), // opset 24: float8e8m0 (not held)
		ops.Since(25, buildSize), // opset 25: int2/uint2 (not held)
	)
}

type shapeOp struct {
	start, end int64
	hasEnd     bool
}

func buildShape(hasRange bool) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		o := &shapeOp{}
		if !hasRange {
			return o, nil
		}
		r := ops.NewAttrReader(n.Attrs)
		o.start = r.Int("start", 0)
		o.hasEnd = r.Has("end")
		o.end = r.Int("end", 0)
		return o, r.Err()
	}
}

// dims returns the selected dimensions: start and end count from the back when negative and are clamped
// to [0, rank].
func (o *shapeOp) dims(s ops.Shape) []int64 {
	r := int64(len(s))
	clampAxis := func(a int64) int64 {
		if a < 0 {
			a += r
		}
		return max(0, min(a, r))
	}
	start, end := clampAxis(o.start), r
	if o.hasEnd {
		end = clampAxis(o.end)
	}
	out := []int64{}
	for i := start; i < end; i++ {
		out = append(out, int64(s[i]))
	}
	return out
}

func (o *shapeOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	d := o.dims(in[0].Shape)
	c := ops.FromSlice(ops.Shape{len(d)}, d)
	return []ops.ValueInfo{{DType: ops.Int64, Shape: c.Shape(), Const: c}}, nil
}

func (o *shapeOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	return constKernel{ops.FromSlice(ops.Shape{len(o.dims(in[0].Shape))}, o.dims(in[0].Shape))}, nil
}

type sizeOp struct{}

func buildSize(ops.NodeInfo) (ops.Op, error) { return sizeOp{}, nil }

func (sizeOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	c := ops.Scalar(int64(in[0].Shape.Size()))
	return []ops.ValueInfo{{DType: ops.Int64, Shape: ops.Shape{}, Const: c}}, nil
}

func (sizeOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	return constKernel{ops.Scalar(int64(in[0].Shape.Size()))}, nil
}

// constKernel writes a value fixed at plan time (Shape, Size, Constant).
type constKernel struct{ value *ops.Tensor }

func (k constKernel) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	ops.CopyData(out[0], k.value)
	return nil
}
