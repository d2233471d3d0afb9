package array

import "github.com/onnxrun/onnxrun/ops"

// Expand broadcasts a tensor to a shape, numpy-style in both directions (a 1 in the shape keeps the input's
// dimension). https://onnx.ai/onnx/operators/onnx__Expand.html — opsets 8, 13.
func init() {
	ops.Register("", "Expand",
		ops.Since(8, buildExpand),
		ops.Since(13, buildExpand), // opset 13: bfloat16
	)
}

type expandOp struct{}

func buildExpand(ops.NodeInfo) (ops.Op, error) { return expandOp{}, nil }

// ShapeInputs reports that the target shape (input 1) must be known to plan.
func (expandOp) ShapeInputs() []int { return []int{1} }

func (expandOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 2, 2); err != nil {
		return nil, err
	}
	spec, err := ops.ConstInts(in[1], "shape")
	if err != nil {
		return nil, err
	}
	target := make(ops.Shape, len(spec))
	for i, d := range spec {
		if d < 0 || int64(int(d)) != d {
			return nil, ops.Invalidf("shape %v has an invalid dimension %d", spec, d)
		}
		target[i] = int(d)
	}
	out, err := ops.BroadcastShapes(in[0].Shape, target)
	if err != nil {
		return nil, ops.Invalidf("cannot expand shape %v to %v: %v", in[0].Shape, spec, err)
	}
	if out, err = checkedShape(out); err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: out}}, nil
}

func (expandOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	return newPlanKernel(in[0].DType, newCopyPlan(broadcastAxes(in[0].Shape, out[0].Shape), 0, 0))
}

// broadcastAxes returns the plan axes that copy a tensor of shape from into every position of the
// broadcast shape to: a dimension of 1 that grows reads with stride 0.
func broadcastAxes(from, to ops.Shape) []planAxis {
	fromStrides := from.Strides()
	src := make([]int, len(to))
	off := len(to) - len(from)
	for i := range from {
		if from[i] != 1 || to[off+i] == 1 {
			src[off+i] = fromStrides[i]
		}
	}
	return affineAxes(to, to.Strides(), src)
}
