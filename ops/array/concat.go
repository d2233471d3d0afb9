package array

import "github.com/onnxrun/onnxrun/ops"

// Concat joins tensors along an axis. https://onnx.ai/onnx/operators/onnx__Concat.html — opsets 1, 4, 11, 13.
func init() {
	ops.Register("", "Concat",
		ops.Since(1, buildConcat(false)), // axis is optional, default 1
		ops.Since(4, buildConcat(true)),  // opset 4: axis is required
		ops.Since(11, buildConcat(true)), // opset 11: negative axis (accepted at every opset here)
		ops.Since(13, buildConcat(true)), // opset 13: bfloat16
	)
}

type concatOp struct {
	axis int64
}

func buildConcat(axisRequired bool) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		r := ops.NewAttrReader(n.Attrs)
		if axisRequired && !r.Has("axis") {
			return nil, &ops.AttrError{Name: "axis", Msg: "is required"}
		}
		o := &concatOp{axis: r.Int("axis", 1)}
		return o, r.Err()
	}
}

func (o *concatOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if len(in) == 0 {
		return nil, ops.Invalidf("Concat needs at least one input")
	}
	if err := ops.CheckInputCount(in, len(in), len(in)); err != nil {
		return nil, err
	}
	first := in[0].Shape
	axis, err := normalizeAxis(o.axis, len(first), "attribute \"axis\"")
	if err != nil {
		return nil, err
	}
	out := first.Clone()
	for i := 1; i < len(in); i++ {
		s := in[i].Shape
		if in[i].DType != in[0].DType {
			return nil, ops.Invalidf("input %d has dtype %s, input 0 has %s", i, in[i].DType, in[0].DType)
		}
		if len(s) != len(first) {
			return nil, ops.Invalidf("input %d has shape %v of rank %d, input 0 has shape %v of rank %d", i, s, len(s), first, len(first))
		}
		for d := range s {
			if d != axis && s[d] != first[d] {
				return nil, ops.Invalidf("input %d has shape %v, input 0 has shape %v: they differ in dimension %d, not only on axis %d", i, s, first, d, axis)
			}
		}
		out[axis] += s[axis]
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: out}}, nil
}

// ConcatAxis lets the planner place the inputs as blocks of the output (ops.Concatenator).
func (o *concatOp) ConcatAxis(rank int) (int, bool) {
	axis, err := normalizeAxis(o.axis, rank, "attribute \"axis\"")
	return axis, err == nil
}

type concatKernel struct {
	plans []*copyPlan // one per input, writing its block of the output
	run   func(p *copyPlan, dst, src any)
}

func (o *concatOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	run, ok := copyFuncs.of(out[0].DType)
	if !ok {
		return nil, unsupportedDType(out[0].DType)
	}
	axis, err := normalizeAxis(o.axis, len(out[0].Shape), "attribute \"axis\"")
	if err != nil {
		return nil, err
	}
	outStrides := out[0].Shape.Strides()
	k := &concatKernel{run: run}
	offset := 0
	for _, v := range in {
		k.plans = append(k.plans, newCopyPlan(affineAxes(v.Shape, outStrides, v.Shape.Strides()), offset*outStrides[axis], 0))
		offset += v.Shape[axis]
	}
	return k, nil
}

func (k *concatKernel) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	dst := out[0].Data()
	for i, p := range k.plans {
		k.run(p, dst, in[i].Data())
	}
	return nil
}
