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
	plans    []*copyPlan // one per input, writing its block of the output
	offsets  []int       // where each input's block starts in the output when it is contiguous, else -1
	run      func(p *copyPlan, dst, src any)
	runRange func(p *copyPlan, dst, src any, lo, hi int)
	inPlace  func(dst, src any, dstOff int) bool
}

// startsAt reports whether src's data starts at element dstOff of dst: the planner had the input's
// producer write it there already (runtime/memplan.go), so there is nothing to copy.
func startsAt[E rawElem](dst, src any, dstOff int) bool {
	d, s := rawAs[E](dst), rawAs[E](src)
	return len(s) > 0 && dstOff < len(d) && &d[dstOff] == &s[0]
}

var startsAtFuncs = rawSet[func(dst, src any, dstOff int) bool]{
	startsAt[uint8], startsAt[uint16], startsAt[uint32], startsAt[uint64], startsAt[[2]uint32], startsAt[[2]uint64],
	startsAt[string],
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
	inPlace, _ := startsAtFuncs.of(out[0].DType)
	runRange, _ := copyRangeFuncs.of(out[0].DType)
	k := &concatKernel{run: run, runRange: runRange, inPlace: inPlace}
	offset := 0
	for _, v := range in {
		p := newCopyPlan(affineAxes(v.Shape, outStrides, v.Shape.Strides()), offset*outStrides[axis], 0)
		k.plans = append(k.plans, p)
		start := -1
		if _, n, ok := p.contiguousDst(); ok && n == v.Shape.Size() {
			start = p.dstOff
		}
		k.offsets = append(k.offsets, start)
		offset += v.Shape[axis]
	}
	return k, nil
}

// Run copies each input into its block, except those whose producer already wrote them there (the planner
// may do that for some inputs and not others).
func (k *concatKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	dst := out[0].Data()
	for i, p := range k.plans {
		src := in[i].Data()
		if k.offsets[i] >= 0 && k.inPlace(dst, src, k.offsets[i]) {
			continue
		}
		parallelCopy(ctx, k.run, k.runRange, p, dst, src)
	}
	return nil
}
