package array

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// Slice takes a strided sub-box of a tensor, numpy-style. https://onnx.ai/onnx/operators/onnx__Slice.html —
// opsets 1, 10, 11, 13.
//
// Starts and ends are clamped to the dimension (so INT64_MAX and INT64_MIN mean "to the end"); with a
// negative step they are clamped to [-1, dim-1] and the slice walks backwards.
func init() {
	ops.Register("", "Slice",
		ops.Since(1, buildSlice(false)), // starts, ends and axes are attributes
		ops.Since(10, buildSlice(true)), // opset 10: starts, ends, axes move to inputs 1-3, steps is input 4
		ops.Since(11, buildSlice(true)), // opset 11: negative axes (accepted at every opset here)
		ops.Since(13, buildSlice(true)), // opset 13: bfloat16
	)
}

type sliceOp struct {
	fromInputs         bool
	starts, ends, axes []int64 // the attribute form (opset 1)
}

func buildSlice(fromInputs bool) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		o := &sliceOp{fromInputs: fromInputs}
		if fromInputs {
			return o, nil
		}
		r := ops.NewAttrReader(n.Attrs)
		if !r.Has("starts") || !r.Has("ends") {
			return nil, &ops.AttrError{Name: "starts", Msg: "and \"ends\" are required before opset 10"}
		}
		o.starts, o.ends, o.axes = r.Ints("starts", nil), r.Ints("ends", nil), r.Ints("axes", nil)
		return o, r.Err()
	}
}

// ShapeInputs reports that starts, ends, axes and steps must be known to plan.
func (o *sliceOp) ShapeInputs() []int {
	if o.fromInputs {
		return []int{1, 2, 3, 4}
	}
	return nil
}

// sliceAxis is where one output axis starts in the input, how it steps, and how many elements it takes.
type sliceAxis struct{ start, step, n int }

func (o *sliceOp) params(in []ops.ValueInfo) ([]sliceAxis, error) {
	shape := in[0].Shape
	starts, ends, axes := o.starts, o.ends, o.axes
	var steps []int64
	if o.fromInputs {
		var err error
		if starts, err = ops.ConstInts(in[1], "starts"); err != nil {
			return nil, err
		}
		if ends, err = ops.ConstInts(in[2], "ends"); err != nil {
			return nil, err
		}
		if v := ops.Input(in, 3); v.Present() {
			if axes, err = ops.ConstInts(v, "axes"); err != nil {
				return nil, err
			}
		}
		if v := ops.Input(in, 4); v.Present() {
			if steps, err = ops.ConstInts(v, "steps"); err != nil {
				return nil, err
			}
		}
	}
	if len(starts) != len(ends) {
		return nil, ops.Invalidf("starts %v and ends %v differ in length", starts, ends)
	}
	if axes == nil {
		if len(starts) > len(shape) {
			return nil, ops.Invalidf("%d starts for an input of rank %d", len(starts), len(shape))
		}
		axes = make([]int64, len(starts))
		for i := range axes {
			axes[i] = int64(i)
		}
	}
	if len(axes) != len(starts) {
		return nil, ops.Invalidf("axes %v and starts %v differ in length", axes, starts)
	}
	if steps != nil && len(steps) != len(starts) {
		return nil, ops.Invalidf("steps %v and starts %v differ in length", steps, starts)
	}
	norm, err := ops.NormalizeAxes(axes, len(shape), "axes")
	if err != nil {
		return nil, err
	}
	out := make([]sliceAxis, len(shape))
	for i, d := range shape {
		out[i] = sliceAxis{start: 0, step: 1, n: d}
	}
	for i, a := range norm {
		step := int64(1)
		if steps != nil {
			step = steps[i]
		}
		if step == 0 {
			return nil, ops.Invalidf("steps[%d] is 0", i)
		}
		start, n := sliceRange(starts[i], ends[i], step, int64(shape[a]))
		out[a] = sliceAxis{start: int(start), step: int(step), n: int(n)}
	}
	return out, nil
}

// sliceRange clamps start and end as ONNX specifies and returns the first index and the element count.
func sliceRange(start, end, step, dim int64) (first, n int64) {
	clamp := func(v, lo, hi int64) int64 { return max(lo, min(v, hi)) }
	if dim == 0 {
		return 0, 0
	}
	if start < 0 {
		start += dim // no overflow: start is negative and dim non-negative
	}
	if end < 0 {
		end += dim
	}
	if step > 0 {
		start, end = clamp(start, 0, dim), clamp(end, 0, dim)
		if end <= start {
			return start, 0
		}
		return start, ceilDiv(end-start, step)
	}
	start, end = clamp(start, 0, dim-1), clamp(end, -1, dim-1)
	if end >= start {
		return max(start, 0), 0
	}
	if step == math.MinInt64 { // -step overflows; such a step takes one element
		return start, 1
	}
	return start, ceilDiv(start-end, -step)
}

// ceilDiv is ⌈a/b⌉ for b > 0, written so that a huge b cannot overflow.
func ceilDiv(a, b int64) int64 {
	if a <= 0 {
		return 0
	}
	return (a-1)/b + 1
}

func (o *sliceOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if o.fromInputs {
		if err := ops.CheckInputCount(in, 3, 5); err != nil {
			return nil, err
		}
	} else if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	p, err := o.params(in)
	if err != nil {
		return nil, err
	}
	out := make(ops.Shape, len(p))
	for i, a := range p {
		out[i] = a.n
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: out}}, nil
}

func (o *sliceOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	p, err := o.params(in)
	if err != nil {
		return nil, err
	}
	inStrides := in[0].Shape.Strides()
	outStrides := out[0].Shape.Strides()
	axes := make([]planAxis, len(p))
	srcOff := 0
	for i, a := range p {
		axes[i] = planAxis{n: a.n, dstStride: outStrides[i], srcStride: a.step * inStrides[i]}
		if a.n > 0 {
			srcOff += a.start * inStrides[i]
		}
	}
	return newPlanKernel(in[0].DType, newCopyPlan(axes, 0, srcOff))
}
