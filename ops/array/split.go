package array

import "github.com/onnxrun/onnxrun/ops"

// Split cuts a tensor into pieces along an axis. https://onnx.ai/onnx/operators/onnx__Split.html — opsets 1,
// 2, 11, 13, 18.
//
// The piece sizes come from the split attribute or input, from num_outputs (opset 18: equal pieces of
// ceil(dim/num_outputs), the last one smaller), or else from the number of outputs (equal pieces).
func init() {
	ops.Register("", "Split",
		ops.Since(1, buildSplit(true, true, false)),   // split is an attribute or an optional input 1
		ops.Since(2, buildSplit(true, false, false)),  // opset 2: split is an attribute only; axis defaults to 0
		ops.Since(11, buildSplit(true, false, false)), // opset 11: negative axis (accepted at every opset here)
		ops.Since(13, buildSplit(false, true, false)), // opset 13: split moved to input 1; bfloat16
		ops.Since(18, buildSplit(false, true, true)),  // opset 18: num_outputs attribute
	)
}

type splitOp struct {
	axis        int64
	attrSplit   []int64 // the attribute form, nil when absent
	splitInput  bool    // split may come as input 1
	numOutputs  int64   // 0 when absent
	nodeOutputs int
}

func buildSplit(splitAttr, splitInput, numOutputs bool) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		r := ops.NewAttrReader(n.Attrs)
		o := &splitOp{axis: r.Int("axis", 0), splitInput: splitInput, nodeOutputs: n.NumOutputs}
		if splitAttr {
			o.attrSplit = r.Ints("split", nil)
		}
		if numOutputs && r.Has("num_outputs") {
			o.numOutputs = r.Int("num_outputs", 0)
			if o.numOutputs < 1 {
				return nil, &ops.AttrError{Name: "num_outputs", Msg: "must be at least 1, is " + itoa(o.numOutputs)}
			}
			if o.numOutputs != int64(n.NumOutputs) {
				return nil, &ops.AttrError{Name: "num_outputs", Msg: "is " + itoa(o.numOutputs) + " but the node has " + itoa(int64(n.NumOutputs)) + " outputs"}
			}
		}
		if err := r.Err(); err != nil {
			return nil, err
		}
		if n.NumOutputs < 1 {
			return nil, ops.Invalidf("Split needs at least one output")
		}
		return o, nil
	}
}

// ShapeInputs reports that the split sizes (input 1) must be known to plan.
func (o *splitOp) ShapeInputs() []int {
	if o.splitInput {
		return []int{1}
	}
	return nil
}

// sizes returns the length of each piece along axis.
func (o *splitOp) sizes(in []ops.ValueInfo, dim int) ([]int, error) {
	var split []int64
	switch {
	case o.splitInput && ops.Input(in, 1).Present():
		if o.numOutputs != 0 {
			return nil, ops.Invalidf("both the split input and the num_outputs attribute are given")
		}
		var err error
		if split, err = ops.ConstInts(in[1], "split"); err != nil {
			return nil, err
		}
	case o.attrSplit != nil:
		split = o.attrSplit
	case o.numOutputs != 0:
		n := int(o.numOutputs)
		chunk := (dim + n - 1) / n
		last := dim - chunk*(n-1)
		if last < 0 {
			return nil, ops.Invalidf("cannot split a dimension of %d into %d pieces of %d and a last smaller one", dim, n, chunk)
		}
		sizes := make([]int, n)
		for i := range sizes {
			sizes[i] = chunk
		}
		sizes[n-1] = last
		return sizes, nil
	default:
		n := o.nodeOutputs
		if dim%n != 0 {
			return nil, ops.Invalidf("cannot split a dimension of %d evenly into %d outputs", dim, n)
		}
		sizes := make([]int, n)
		for i := range sizes {
			sizes[i] = dim / n
		}
		return sizes, nil
	}
	if len(split) != o.nodeOutputs {
		return nil, ops.Invalidf("split %v has %d entries but the node has %d outputs", split, len(split), o.nodeOutputs)
	}
	sizes := make([]int, len(split))
	sum := int64(0)
	for i, s := range split {
		if s < 0 {
			return nil, ops.Invalidf("split %v has a negative size", split)
		}
		sum += s
		sizes[i] = int(s)
	}
	if sum != int64(dim) {
		return nil, ops.Invalidf("split %v sums to %d, but the dimension is %d", split, sum, dim)
	}
	return sizes, nil
}

func (o *splitOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	maxIn := 1
	if o.splitInput {
		maxIn = 2
	}
	if err := ops.CheckInputCount(in, 1, maxIn); err != nil {
		return nil, err
	}
	s := in[0].Shape
	axis, err := normalizeAxis(o.axis, len(s), "attribute \"axis\"")
	if err != nil {
		return nil, err
	}
	sizes, err := o.sizes(in, s[axis])
	if err != nil {
		return nil, err
	}
	outs := make([]ops.ValueInfo, len(sizes))
	for i, n := range sizes {
		shape := s.Clone()
		shape[axis] = n
		outs[i] = ops.ValueInfo{DType: in[0].DType, Shape: shape}
	}
	return outs, nil
}

type splitKernel struct {
	plans    []*copyPlan // one per output, reading its block of the input
	run      func(p *copyPlan, dst, src any)
	runRange func(p *copyPlan, dst, src any, lo, hi int)
}

func (o *splitOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	run, ok := copyFuncs.of(in[0].DType)
	if !ok {
		return nil, unsupportedDType(in[0].DType)
	}
	axis, err := normalizeAxis(o.axis, len(in[0].Shape), "attribute \"axis\"")
	if err != nil {
		return nil, err
	}
	inStrides := in[0].Shape.Strides()
	runRange, _ := copyRangeFuncs.of(in[0].DType)
	k := &splitKernel{run: run, runRange: runRange}
	offset := 0
	for _, v := range out {
		k.plans = append(k.plans, newCopyPlan(affineAxes(v.Shape, v.Shape.Strides(), inStrides), 0, offset*inStrides[axis]))
		offset += v.Shape[axis]
	}
	return k, nil
}

// BlockOf lets the planner make an output a view of its block of the input (ops.BlockViewer): each is one
// contiguous run when every dimension before the axis is 1.
func (k *splitKernel) BlockOf(output int) (input, offset, n int, ok bool) {
	if output < 0 || output >= len(k.plans) {
		return 0, 0, 0, false
	}
	offset, n, ok = k.plans[output].contiguousRun()
	return 0, offset, n, ok
}

func (k *splitKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	src := in[0].Data()
	for i, p := range k.plans {
		if out[i] != nil { // an output the node leaves unnamed
			parallelCopy(ctx, k.run, k.runRange, p, out[i].Data(), src)
		}
	}
	return nil
}
