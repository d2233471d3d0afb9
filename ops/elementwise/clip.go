package elementwise

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

// Clip: https://onnx.ai/onnx/operators/onnx__Clip.html, opsets 1, 6, 11, 12, 13.
// Relu: https://onnx.ai/onnx/operators/onnx__Relu.html, opsets 1, 6, 13, 14; it is Clip(x, 0, +inf) and runs
// on the same kernel.
func init() {
	// opset 1: bounds are attributes min and max, absent meaning unbounded (legacy consumed_inputs)
	// opset 6: the attributes default to -3.402823e+38 and 3.402823e+38
	// opset 11: bounds became optional inputs 2 and 3
	// opset 12: integer types added
	// opset 13: bfloat16 added
	ops.Register("", "Clip", ops.SameBuilder(buildClip, 1, 6, 11, 12, 13)...)
	// opset 6: consumed_inputs removed; opset 13: bfloat16; opset 14: int8, int16, int32, int64
	ops.Register("", "Relu", ops.SameBuilder(buildRelu, 1, 6, 13, 14)...)
}

// clipOp clamps its input to [lo, hi]. Before opset 11 the bounds are attributes (lo, hi); from 11 they
// are optional scalar inputs, read at run time, and absent bounds are the type's infinities or limits.
type clipOp struct {
	nodeMeta
	input      string // the data input's name in the spec, for messages
	types      typeSet
	lo, hi     float64 // attribute bounds (or Relu's)
	fromInputs bool
}

func buildClip(n ops.NodeInfo) (ops.Op, error) {
	if err := checkOutputs(n, 1); err != nil {
		return nil, err
	}
	o := &clipOp{nodeMeta: metaOf(n), input: "input", lo: math.Inf(-1), hi: math.Inf(1),
		types: typeSince{{1, floatsNoBF16}, {12, numericNoBF}, {13, numeric}}.at(n.Opset)}
	if n.Opset < 11 {
		if err := checkArity(n, 1, 1); err != nil {
			return nil, err
		}
		def := math.Inf(1)
		if n.Opset >= 6 {
			def = 3.402823e+38
		}
		r := ops.NewAttrReader(n.Attrs)
		o.lo = float64(r.Float("min", float32(-def)))
		o.hi = float64(r.Float("max", float32(def)))
		if err := r.Err(); err != nil {
			return nil, err
		}
		return o, nil
	}
	if err := checkArity(n, 1, 3); err != nil {
		return nil, err
	}
	o.fromInputs = true
	return o, nil
}

func buildRelu(n ops.NodeInfo) (ops.Op, error) {
	if err := checkArity(n, 1, 1); err != nil {
		return nil, err
	}
	if err := checkOutputs(n, 1); err != nil {
		return nil, err
	}
	types := typeSince{{1, floatsNoBF16}, {13, floats}, {14, floats | signedInts}}.at(n.Opset)
	return &clipOp{nodeMeta: metaOf(n), input: "X", types: types, lo: 0, hi: math.Inf(1)}, nil
}

func (o *clipOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	dt, err := checkInputs(&o.nodeMeta, in, 1, o.types, o.input)
	if err != nil {
		return nil, err
	}
	for i := 1; i < len(in); i++ {
		if !in[i].Present() {
			continue
		}
		name := [...]string{"", "min", "max"}[i]
		if in[i].DType != dt {
			return nil, ops.Invalidf("%s-%d: %s is %s but input is %s; they must have the same type",
				o.opType, o.opset, name, in[i].DType, dt)
		}
		if n := in[i].Shape.Size(); n != 1 {
			return nil, ops.Invalidf("%s-%d: %s must be a scalar, has shape %v", o.opType, o.opset, name, in[i].Shape)
		}
	}
	return []ops.ValueInfo{{DType: dt, Shape: in[0].Shape.Clone()}}, nil
}

func (o *clipOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	var k ops.Kernel
	switch in[0].DType {
	case ops.Float32:
		c := newClamp[float32](o).(*clampKernel[float32])
		k = &clamp32Kernel{bounds: c}
	case ops.Float64:
		k = newClamp[float64](o)
	case ops.Int8:
		k = newClamp[int8](o)
	case ops.Int16:
		k = newClamp[int16](o)
	case ops.Int32:
		k = newClamp[int32](o)
	case ops.Int64:
		k = newClamp[int64](o)
	case ops.Uint8:
		k = newClamp[uint8](o)
	case ops.Uint16:
		k = newClamp[uint16](o)
	case ops.Uint32:
		k = newClamp[uint32](o)
	case ops.Uint64:
		k = newClamp[uint64](o)
	case ops.Float16:
		k = newHalfClamp[ops.Float16Bits](o)
	case ops.BFloat16:
		k = newHalfClamp[ops.BFloat16Bits](o)
	default:
		return nil, ops.Unsupportedf("%s-%d has no kernel for %s", o.opType, o.opset, in[0].DType)
	}
	return k, nil
}

// clampKernel computes y = min(max(x, lo), hi), so lo > hi gives hi everywhere (the spec's
// Min(max, Max(input, min))) and NaN stays NaN.
type clampKernel[T ops.Number] struct {
	lo, hi     T
	fromInputs bool // bounds come from inputs 1 and 2 when present
}

func newClamp[T ops.Number](o *clipOp) ops.Kernel {
	lo, hi := typeLimits[T]()
	// Attribute bounds are float; for integer types they narrow to the nearest representable limit.
	if o.lo > float64(lo) {
		lo = T(o.lo)
	}
	if o.hi < float64(hi) {
		hi = T(o.hi)
	}
	return &clampKernel[T]{lo: lo, hi: hi, fromInputs: o.fromInputs}
}

// bounds returns the run's bounds: the attributes', or inputs 1 and 2 when present.
func (k *clampKernel[T]) bounds(in []*ops.Tensor) (lo, hi T) {
	lo, hi = k.lo, k.hi
	if k.fromInputs {
		if len(in) > 1 && in[1] != nil {
			lo = ops.Data[T](in[1])[0]
		}
		if len(in) > 2 && in[2] != nil {
			hi = ops.Data[T](in[2])[0]
		}
	}
	return lo, hi
}

func (k *clampKernel[T]) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	lo, hi := k.bounds(in)
	x := ops.Data[T](in[0])
	y := ops.Data[T](out[0])[:len(x)]
	for i, v := range x {
		y[i] = min(max(v, lo), hi) // the builtins keep NaN, and compile without branches
	}
	return nil
}

// clamp32Kernel is clampKernel for float32, vectorised (Relu, Relu6 and Clip are among the most
// common operators of CNNs) and split across threads when the tensor is big.
type clamp32Kernel struct {
	bounds *clampKernel[float32]
	tasks  parallel.TaskSlot[spanTask]
}

func (k *clamp32Kernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	lo, hi := k.bounds.bounds(in)
	x := in[0].Float32s()
	runSpans(ctx, &k.tasks, spanOf(clampSpan, lo, hi), out[0].Float32s()[:len(x)], x)
	return nil
}

// typeLimits returns the bounds of an unbounded clamp: the infinities for floats, the range for integers.
func typeLimits[T ops.Number]() (lo, hi T) {
	var lo64, hi64 int64
	switch ops.DTypeOf[T]() {
	case ops.Float32, ops.Float64:
		inf := math.Inf(1)
		return T(-inf), T(inf)
	case ops.Uint64:
		var m uint64 = math.MaxUint64
		return 0, T(m)
	case ops.Int8:
		lo64, hi64 = math.MinInt8, math.MaxInt8
	case ops.Int16:
		lo64, hi64 = math.MinInt16, math.MaxInt16
	case ops.Int32:
		lo64, hi64 = math.MinInt32, math.MaxInt32
	case ops.Int64:
		lo64, hi64 = math.MinInt64, math.MaxInt64
	case ops.Uint8:
		hi64 = math.MaxUint8
	case ops.Uint16:
		hi64 = math.MaxUint16
	case ops.Uint32:
		hi64 = math.MaxUint32
	}
	return T(lo64), T(hi64)
}

// halfClampKernel is clampKernel for float16 and bfloat16, comparing in float32. Values inside the bounds
// are copied bit for bit.
type halfClampKernel[H half] struct {
	lo, hi     float32
	fromInputs bool
	toF32      func(H) float32
	fromF32    func(float32) H
}

func newHalfClamp[H half](o *clipOp) ops.Kernel {
	to, from := halfCodec[H]()
	return &halfClampKernel[H]{lo: float32(o.lo), hi: float32(o.hi), fromInputs: o.fromInputs, toF32: to, fromF32: from}
}

func (k *halfClampKernel[H]) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	lo, hi := k.lo, k.hi
	if k.fromInputs {
		if len(in) > 1 && in[1] != nil {
			lo = k.toF32(ops.Data[H](in[1])[0])
		}
		if len(in) > 2 && in[2] != nil {
			hi = k.toF32(ops.Data[H](in[2])[0])
		}
	}
	x := ops.Data[H](in[0])
	y := ops.Data[H](out[0])[:len(x)]
	for i, h := range x {
		v := k.toF32(h)
		if v < lo || v > hi {
			v = max(v, lo) // not NaN here, so max and min are plain comparisons
			v = min(v, hi)
			h = k.fromF32(v)
		}
		y[i] = h
	}
	return nil
}
