package array

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// OneHot expands indices into one-hot vectors along a new axis: values[1] where the axis position equals the
// index, values[0] elsewhere. Indices outside the range give all-off vectors (not an error).
// https://onnx.ai/onnx/operators/onnx__OneHot.html — opsets 9, 11.
func init() {
	ops.Register("", "OneHot",
		ops.Since(9, buildOneHot(false)), // indices must be in [0, depth)
		ops.Since(11, buildOneHot(true)), // opset 11: negative indices count from depth; negative axis
	)
}

type oneHotOp struct {
	axis     int64
	negative bool // indices in [-depth, 0) count back from depth
}

func buildOneHot(negative bool) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		r := ops.NewAttrReader(n.Attrs)
		o := &oneHotOp{axis: r.Int("axis", -1), negative: negative}
		return o, r.Err()
	}
}

// ShapeInputs reports that depth (input 1) must be known to plan.
func (o *oneHotOp) ShapeInputs() []int { return []int{1} }

// depthAndAxis reads depth and places the new axis in the output of rank rank(indices)+1.
func (o *oneHotOp) depthAndAxis(in []ops.ValueInfo) (depth, axis int, err error) {
	d := in[1]
	if !d.DType.IsInteger() && !d.DType.IsFloat() {
		return 0, 0, ops.Invalidf("depth has dtype %s, want a number", d.DType)
	}
	if d.Shape.Size() != 1 || len(d.Shape) > 1 {
		return 0, 0, ops.Invalidf("depth has shape %v, want a scalar or one element", d.Shape)
	}
	if d.Const == nil {
		return 0, 0, ops.Dynamicf("depth is not a constant")
	}
	v := d.Const.AsFloat64s()[0]
	if !(v >= 1) || v > math.MaxInt32 {
		return 0, 0, ops.Invalidf("depth is %v, want a positive count", v)
	}
	axis, err = normalizeAxis(o.axis, len(in[0].Shape)+1, "attribute \"axis\"")
	return int(v), axis, err
}

func (o *oneHotOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 3, 3); err != nil {
		return nil, err
	}
	if _, ok := intReaderFor(in[0].DType); !ok {
		return nil, ops.Invalidf("indices have dtype %s, want a number", in[0].DType)
	}
	if in[2].Shape.Size() != 2 || len(in[2].Shape) != 1 {
		return nil, ops.Invalidf("values have shape %v, want [2] (off, on)", in[2].Shape)
	}
	depth, axis, err := o.depthAndAxis(in)
	if err != nil {
		return nil, err
	}
	q := in[0].Shape
	out := append(append(append(ops.Shape{}, q[:axis]...), depth), q[axis:]...)
	if out, err = checkedShape(out); err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: in[2].DType, Shape: out}}, nil
}

type oneHotKernel struct {
	depth, inner int // inner: index positions per step of the new axis
	negative     bool
	read         func(data any, i int) int64
	run          func(k *oneHotKernel, dst, values, indices any)
}

var oneHotFuncs = rawSet[func(k *oneHotKernel, dst, values, indices any)]{
	oneHotRun[uint8], oneHotRun[uint16], oneHotRun[uint32], oneHotRun[uint64], oneHotRun[[2]uint32],
	oneHotRun[[2]uint64], oneHotRun[string],
}

func (o *oneHotOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	depth, axis, err := o.depthAndAxis(in)
	if err != nil {
		return nil, err
	}
	k := &oneHotKernel{depth: depth, inner: in[0].Shape[axis:].Size(), negative: o.negative}
	k.read, _ = intReaderFor(in[0].DType)
	var ok bool
	if k.run, ok = oneHotFuncs.of(in[2].DType); !ok {
		return nil, unsupportedDType(in[2].DType)
	}
	return k, nil
}

func (k *oneHotKernel) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	k.run(k, out[0].Data(), in[2].Data(), in[0].Data())
	return nil
}

func oneHotRun[E rawElem](k *oneHotKernel, dstData, valuesData, indicesData any) {
	dst, values := rawAs[E](dstData), rawAs[E](valuesData)
	off, on := values[0], values[1]
	for i := range dst {
		dst[i] = off
	}
	depth := int64(k.depth)
	n := len(dst) / k.depth
	for p := 0; p < n; p++ {
		v := k.read(indicesData, p)
		if v < 0 && k.negative {
			v += depth
		}
		if v < 0 || v >= depth {
			continue // out of range: the whole vector stays off
		}
		outer, inner := p/k.inner, p%k.inner
		dst[(outer*k.depth+int(v))*k.inner+inner] = on
	}
}

// intReaderFor returns a function reading element i of a numeric slice as int64 (floats truncate, as a
// cast to int64 does): how OneHot reads indices of any numeric type.
func intReaderFor(dt ops.DType) (func(data any, i int) int64, bool) {
	switch dt {
	case ops.Float32:
		return readFloat[float32], true
	case ops.Float64:
		return readFloat[float64], true
	case ops.Int8:
		return readInt[int8], true
	case ops.Int16:
		return readInt[int16], true
	case ops.Int32:
		return readInt[int32], true
	case ops.Int64:
		return readInt[int64], true
	case ops.Uint8:
		return readInt[uint8], true
	case ops.Uint16:
		return readInt[uint16], true
	case ops.Uint32:
		return readInt[uint32], true
	case ops.Uint64:
		return readInt[uint64], true
	case ops.Float16:
		return func(data any, i int) int64 { return truncate(float64(data.([]ops.Float16Bits)[i].Float32())) }, true
	case ops.BFloat16:
		return func(data any, i int) int64 { return truncate(float64(data.([]ops.BFloat16Bits)[i].Float32())) }, true
	}
	return nil, false
}

func readInt[T ops.Integer](data any, i int) int64 { return int64(data.([]T)[i]) }

func readFloat[T ops.Float](data any, i int) int64 { return truncate(float64(data.([]T)[i])) }

// truncate converts toward zero, mapping NaN and out-of-range values to an index no tensor has.
func truncate(f float64) int64 {
	if !(f > -1<<62 && f < 1<<62) {
		return math.MinInt64
	}
	return int64(f)
}
