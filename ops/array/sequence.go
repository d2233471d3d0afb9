package array

import "github.com/onnxrun/onnxrun/ops"

// SplitToSequence and ConcatFromSequence move tensor data in and out of sequences; they live beside Split
// and Concat, whose copy plans they use. The container operators (SequenceAt, Optional, ...) are in
// ops/sequence. Sequence values are described in ops/value.go.
//
// SplitToSequence: https://onnx.ai/onnx/operators/onnx__SplitToSequence.html — opsets 11, 24.
// ConcatFromSequence: https://onnx.ai/onnx/operators/onnx__ConcatFromSequence.html — opset 11.
func init() {
	ops.Register("", "SplitToSequence",
		ops.Since(11, buildSplitToSequence),
		ops.Since(24, buildSplitToSequence), // opset 24: bfloat16
	)
	ops.Register("", "ConcatFromSequence", ops.Since(11, buildConcatFromSequence))
}

type splitToSequenceOp struct {
	axis     int64
	keepDims bool
}

func buildSplitToSequence(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	o := &splitToSequenceOp{axis: r.Int("axis", 0), keepDims: r.Int("keepdims", 1) != 0}
	return o, r.Err()
}

func (o *splitToSequenceOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 2); err != nil {
		return nil, err
	}
	if in[0].Kind() != ops.KindTensor {
		return nil, ops.Invalidf("input 0 is a %s, SplitToSequence splits a tensor", in[0].Type)
	}
	if _, ok := copyFuncs.of(in[0].DType); !ok {
		return nil, unsupportedDType(in[0].DType)
	}
	if _, err := normalizeAxis(o.axis, len(in[0].Shape), "attribute \"axis\""); err != nil {
		return nil, err
	}
	if split := ops.Input(in, 1); split.Present() {
		if split.Kind() != ops.KindTensor || (split.DType != ops.Int64 && split.DType != ops.Int32) || len(split.Shape) > 1 {
			return nil, ops.Invalidf("input 1 (split) must be an int32 or int64 scalar or 1-D tensor, is %s%v", split.DType, split.Shape)
		}
	}
	return []ops.ValueInfo{ops.InfoOf(ops.SequenceOf(ops.TensorType(in[0].DType)))}, nil
}

func (o *splitToSequenceOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	run, _ := copyFuncs.of(in[0].DType)
	return ops.KernelFunc(func(_ *ops.ExecContext, in, out []*ops.Tensor) error {
		x := in[0]
		axis, err := normalizeAxis(o.axis, x.Rank(), "attribute \"axis\"")
		if err != nil {
			return err
		}
		dim := x.Shape()[axis]
		var sizes []int
		squeeze := false
		if len(in) > 1 && in[1] != nil {
			if sizes, err = splitToSequenceSizes(in[1], dim); err != nil {
				return err
			}
		} else {
			sizes = make([]int, dim)
			for i := range sizes {
				sizes[i] = 1
			}
			squeeze = !o.keepDims
		}
		strides := x.Shape().Strides()
		elems := make([]*ops.Tensor, len(sizes))
		offset := 0
		for i, n := range sizes {
			shape := x.Shape().Clone()
			shape[axis] = n
			piece := ops.New(x.DType(), shape)
			run(newCopyPlan(affineAxes(shape, shape.Strides(), strides), 0, offset*strides[axis]), piece.Data(), x.Data())
			offset += n
			if squeeze {
				piece = piece.View(append(shape[:axis:axis], shape[axis+1:]...))
			}
			elems[i] = piece
		}
		out[0].SetValue(ops.NewSequence(ops.TensorType(x.DType()), elems))
		return nil
	}), nil
}

// splitToSequenceSizes reads SplitToSequence's split input: a scalar is a chunk length (the last chunk may
// be shorter), a 1-D tensor the length of every piece.
func splitToSequenceSizes(split *ops.Tensor, dim int) ([]int, error) {
	values := split.AsInt64s()
	if split.Rank() == 0 {
		chunk := values[0]
		if chunk <= 0 {
			return nil, ops.Invalidf("split %d: a scalar split must be positive", chunk)
		}
		var sizes []int
		for left := int64(dim); left > 0; left -= chunk {
			sizes = append(sizes, int(min(chunk, left)))
		}
		return sizes, nil
	}
	sizes := make([]int, len(values))
	sum := int64(0)
	for i, s := range values {
		if s < 0 || s > int64(dim) {
			return nil, ops.Invalidf("split %v: entry %d is %d, outside [0, %d]", values, i, s, dim)
		}
		sum += s
		sizes[i] = int(s)
	}
	if sum != int64(dim) {
		return nil, ops.Invalidf("split %v sums to %d, but the dimension is %d", values, sum, dim)
	}
	return sizes, nil
}

type concatFromSequenceOp struct {
	axis    int64
	newAxis bool
}

func buildConcatFromSequence(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	if !r.Has("axis") {
		return nil, &ops.AttrError{Name: "axis", Msg: "is required"}
	}
	o := &concatFromSequenceOp{axis: r.Int("axis", 0), newAxis: r.Int("new_axis", 0) != 0}
	return o, r.Err()
}

// AcceptsNonTensors: input 0 is a sequence.
func (o *concatFromSequenceOp) AcceptsNonTensors() bool { return true }

// concatOf returns the Concat that joins these elements (each given an axis of 1 first with new_axis), and
// the elements' ValueInfos as that Concat sees them.
func (o *concatFromSequenceOp) concatOf(elems []*ops.Tensor) (*concatOp, []ops.ValueInfo, error) {
	if len(elems) == 0 {
		return nil, nil, ops.Invalidf("the sequence is empty: there is nothing to concatenate")
	}
	infos := make([]ops.ValueInfo, len(elems))
	for i, e := range elems {
		if e.Kind() != ops.KindTensor {
			return nil, nil, ops.Invalidf("element %d is a %s, not a tensor", i, e.Type())
		}
		infos[i] = ops.ValueInfo{DType: e.DType(), Shape: e.Shape()}
	}
	axis := o.axis
	if o.newAxis {
		rank := len(infos[0].Shape)
		a, err := normalizeAxis(axis, rank+1, "attribute \"axis\" (with new_axis)")
		if err != nil {
			return nil, nil, err
		}
		for i := range infos {
			s := infos[i].Shape
			if len(s) != rank {
				return nil, nil, ops.Invalidf("element %d has shape %v, element 0 has %v: stacking needs equal shapes", i, s, infos[0].Shape)
			}
			infos[i].Shape = append(append(s[:a:a], 1), s[a:]...)
		}
		axis = int64(a)
	}
	return &concatOp{axis: axis}, infos, nil
}

func (o *concatFromSequenceOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	if in[0].Kind() != ops.KindSequence {
		return nil, ops.Invalidf("input 0 is a %s, ConcatFromSequence needs a sequence", in[0].Type)
	}
	if in[0].Const == nil {
		return nil, ops.Dynamicf("ConcatFromSequence's output shape depends on the sequence's elements")
	}
	c, infos, err := o.concatOf(in[0].Const.Elements())
	if err != nil {
		return nil, err
	}
	return c.InferShapes(infos)
}

func (o *concatFromSequenceOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	if _, ok := copyFuncs.of(out[0].DType); !ok {
		return nil, unsupportedDType(out[0].DType)
	}
	return ops.KernelFunc(func(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
		c, infos, err := o.concatOf(in[0].Elements())
		if err != nil {
			return err
		}
		outs, err := c.InferShapes(infos)
		if err != nil {
			return err
		}
		if !outs[0].Shape.Equal(out[0].Shape()) || outs[0].DType != out[0].DType() {
			return ops.Invalidf("the sequence's elements make a %s%v, the plan expected %s%v", outs[0].DType, outs[0].Shape, out[0].DType(), out[0].Shape())
		}
		k, err := c.Prepare(infos, outs)
		if err != nil {
			return err
		}
		views := make([]*ops.Tensor, len(infos))
		for i, e := range in[0].Elements() {
			views[i] = e.View(infos[i].Shape)
		}
		return k.Run(ctx, views, out)
	}), nil
}
