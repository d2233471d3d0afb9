package reduce

import "github.com/onnxrun/onnxrun/ops"

// ArgMax and ArgMin give the int64 index of the largest or smallest element along one axis:
// https://onnx.ai/onnx/operators/onnx__ArgMax.html, https://onnx.ai/onnx/operators/onnx__ArgMin.html.
// Opsets 1, 11, 12 and 13.
//
// Ties go to the first index, or the last with select_last_index. As in numpy, a NaN counts as the extreme
// value: the first NaN along the axis is the answer.
func init() {
	for _, name := range []string{"ArgMax", "ArgMin"} {
		isMax := name == "ArgMax"
		ops.Register("", name,
			// opset 1: all integer and float types except bfloat16.
			ops.Since(1, buildArg(isMax, allNumbers, false)),
			// opset 11: negative axis allowed.
			ops.Since(11, buildArg(isMax, allNumbers, false)),
			// opset 12: select_last_index added.
			ops.Since(12, buildArg(isMax, allNumbers, true)),
			// opset 13: bfloat16.
			ops.Since(13, buildArg(isMax, allNumbers.With(ops.BFloat16), true)),
		)
	}
}

func buildArg(isMax bool, types ops.DTypeSet, hasSelectLast bool) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		r := ops.NewAttrReader(n.Attrs)
		o := &argOp{isMax: isMax, opset: n.Opset, types: types, axis: int(r.Int("axis", 0)),
			keepDims: r.Int("keepdims", 1) != 0}
		if hasSelectLast {
			o.selectLast = r.Int("select_last_index", 0) != 0
		}
		if err := r.Err(); err != nil {
			return nil, err
		}
		if n.NumInputs != 1 {
			return nil, ops.Invalidf("%s takes 1 input, the node has %d", o.name(), n.NumInputs)
		}
		return o, nil
	}
}

type argOp struct {
	isMax      bool
	opset      int
	types      ops.DTypeSet
	axis       int
	keepDims   bool
	selectLast bool
}

func (o *argOp) name() string {
	if o.isMax {
		return "ArgMax"
	}
	return "ArgMin"
}

// normalize checks the input and returns the non-negative axis.
func (o *argOp) normalize(in []ops.ValueInfo) (int, error) {
	if err := o.types.Check(o.name(), o.opset, "data", in[0].DType); err != nil {
		return 0, err
	}
	s := in[0].Shape
	axis, err := ops.NormalizeAxis(o.axis, len(s))
	if err != nil {
		return 0, ops.Invalidf("%s of an input of shape %v: %v", o.name(), s, err)
	}
	if s[axis] == 0 {
		return 0, ops.Invalidf("%s along axis %d of shape %v: the axis is empty, there is no extreme to find",
			o.name(), o.axis, s)
	}
	return axis, nil
}

func (o *argOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	axis, err := o.normalize(in)
	if err != nil {
		return nil, err
	}
	out := in[0].Shape.Clone()
	if o.keepDims {
		out[axis] = 1
	} else {
		out = append(out[:axis], out[axis+1:]...)
	}
	return []ops.ValueInfo{{DType: ops.Int64, Shape: out}}, nil
}

func (o *argOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	axis, err := o.normalize(in)
	if err != nil {
		return nil, err
	}
	k := &argKernel{isMax: o.isMax, selectLast: o.selectLast}
	k.outer, k.n, k.inner = axisExtents(in[0].Shape, axis)
	if widensToFloat32(in[0].DType) {
		k.scratch = in[0].Shape.Size()
	}
	return k, nil
}

type argKernel struct {
	isMax, selectLast bool
	outer, n, inner   int
	scratch           int
}

func (k *argKernel) ScratchSize() int { return k.scratch }

func (k *argKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	y := out[0].Int64s()
	switch x := in[0].Data().(type) {
	case []float32:
		argRun(k, x, y)
	case []float64:
		argRun(k, x, y)
	case []int8:
		argRun(k, x, y)
	case []int16:
		argRun(k, x, y)
	case []int32:
		argRun(k, x, y)
	case []int64:
		argRun(k, x, y)
	case []uint8:
		argRun(k, x, y)
	case []uint16:
		argRun(k, x, y)
	case []uint32:
		argRun(k, x, y)
	case []uint64:
		argRun(k, x, y)
	default: // float16, bfloat16
		xf := ctx.Scratch[:in[0].Len()]
		ops.WidenToFloat32(xf, in[0].Data())
		argRun(k, xf, y)
	}
	return nil
}

// argRun scans each line along the axis (stride inner) for its extreme.
func argRun[T ops.Number](k *argKernel, x []T, y []int64) {
	for o := 0; o < k.outer; o++ {
		for j := 0; j < k.inner; j++ {
			base := o*k.n*k.inner + j
			y[o*k.inner+j] = int64(extremeIndex(x, base, k.inner, k.n, k.isMax, k.selectLast))
		}
	}
}

// extremeIndex returns i in [0,n) for which x[base+i*stride] is the largest (isMax) or smallest; ties go
// to the first, or the last with last; the first NaN wins outright.
func extremeIndex[T ops.Number](x []T, base, stride, n int, isMax, last bool) int {
	best, bi := x[base], 0
	if isNaN(best) {
		return 0
	}
	for i := 1; i < n; i++ {
		v := x[base+i*stride]
		if isNaN(v) {
			return i
		}
		if (isMax && v > best) || (!isMax && v < best) || (last && v == best) {
			best, bi = v, i
		}
	}
	return bi
}
