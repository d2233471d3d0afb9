package array

import "github.com/onnxrun/onnxrun/ops"

// Compress keeps the slices along an axis (or, without axis, the elements of the flattened input) whose
// condition is true; condition entries past the end are ignored and missing ones count as false, as in
// numpy.compress. https://onnx.ai/onnx/operators/onnx__Compress.html — opsets 9, 11.
//
// The output length depends on the condition, so it must be known to plan.
func init() {
	ops.Register("", "Compress",
		ops.Since(9, buildCompress),
		ops.Since(11, buildCompress), // opset 11: negative axis (accepted at every opset here)
	)
}

type compressOp struct {
	axis    int64
	hasAxis bool
}

func buildCompress(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	o := &compressOp{axis: r.Int("axis", 0), hasAxis: r.Has("axis")}
	return o, r.Err()
}

// ShapeInputs reports that the condition (input 1) must be known to plan.
func (o *compressOp) ShapeInputs() []int { return []int{1} }

// selection returns the axis the condition applies to (-1: the flattened input) and the kept indexes.
func (o *compressOp) selection(in []ops.ValueInfo) (int, []int, error) {
	c := in[1]
	if c.DType != ops.Bool || len(c.Shape) != 1 {
		return 0, nil, ops.Invalidf("condition is %s%v, want a 1-D bool tensor", c.DType, c.Shape)
	}
	if c.Const == nil {
		return 0, nil, ops.Dynamicf("condition is not a constant")
	}
	axis, n := -1, in[0].Shape.Size()
	if o.hasAxis {
		var err error
		if axis, err = normalizeAxis(o.axis, len(in[0].Shape), "attribute \"axis\""); err != nil {
			return 0, nil, err
		}
		n = in[0].Shape[axis]
	}
	keep := []int{}
	for i, b := range c.Const.Bools() {
		if i < n && b {
			keep = append(keep, i)
		}
	}
	return axis, keep, nil
}

func (o *compressOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 2, 2); err != nil {
		return nil, err
	}
	if len(in[0].Shape) < 1 {
		return nil, ops.Invalidf("input is a scalar, want rank 1 or more")
	}
	axis, keep, err := o.selection(in)
	if err != nil {
		return nil, err
	}
	out := ops.Shape{len(keep)}
	if axis >= 0 {
		out = in[0].Shape.Clone()
		out[axis] = len(keep)
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: out}}, nil
}

func (o *compressOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	axis, keep, err := o.selection(in)
	if err != nil {
		return nil, err
	}
	if axis < 0 {
		return newPlanKernel(in[0].DType, newCopyPlan([]planAxis{{n: len(keep), dstStride: 1, table: keep}}, 0, 0))
	}
	inStrides := in[0].Shape.Strides()
	axes := affineAxes(out[0].Shape, out[0].Shape.Strides(), inStrides)
	table := make([]int, len(keep))
	for i, k := range keep {
		table[i] = k * inStrides[axis]
	}
	axes[axis].table = table
	return newPlanKernel(in[0].DType, newCopyPlan(axes, 0, 0))
}
