package reduce

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// The Reduce* family: https://onnx.ai/onnx/operators/onnx__ReduceSum.html and its siblings
// onnx__ReduceMean, onnx__ReduceMax, onnx__ReduceMin, onnx__ReduceProd, onnx__ReduceL1, onnx__ReduceL2,
// onnx__ReduceLogSum, onnx__ReduceLogSumExp and onnx__ReduceSumSquare.
//
// Opsets: ReduceSum 1, 11, 13; ReduceMax and ReduceMin 1, 11, 12, 13, 18, 20; the others 1, 11, 13, 18.
// The axes are an attribute up to opset 12 (ReduceSum) or 17 (the others) and an optional int64 input
// after; absent or empty axes mean every axis, unless noop_with_empty_axes (input-axes opsets only) asks
// for no reduction at all.
func init() {
	// Up to opset 12, Reduce* take uint32, uint64, int32, int64, float16, float32, float64.
	base := ops.DTypes(ops.Uint32, ops.Uint64, ops.Int32, ops.Int64, ops.Float16, ops.Float32, ops.Float64)
	withBF16 := base.With(ops.BFloat16)

	ops.Register("", "ReduceSum",
		ops.Since(1, buildReduce(reduceSum, base, false)),
		ops.Since(11, buildReduce(reduceSum, base, false)), // opset 11: negative axes allowed
		// opset 13: axes moves from attribute to optional input, noop_with_empty_axes added; bfloat16
		ops.Since(13, buildReduce(reduceSum, withBF16, true)),
	)
	for _, r := range []struct {
		name string
		kind reduceKind
	}{
		{"ReduceMean", reduceMean}, {"ReduceProd", reduceProd}, {"ReduceL1", reduceL1}, {"ReduceL2", reduceL2},
		{"ReduceLogSum", reduceLogSum}, {"ReduceLogSumExp", reduceLogSumExp}, {"ReduceSumSquare", reduceSumSquare},
	} {
		ops.Register("", r.name,
			ops.Since(1, buildReduce(r.kind, base, false)),
			ops.Since(11, buildReduce(r.kind, base, false)),     // opset 11: negative axes allowed
			ops.Since(13, buildReduce(r.kind, withBF16, false)), // opset 13: bfloat16
			// opset 18: axes moves from attribute to optional input, noop_with_empty_axes added
			ops.Since(18, buildReduce(r.kind, withBF16, true)),
		)
	}
	for _, r := range []struct {
		name string
		kind reduceKind
	}{{"ReduceMax", reduceMax}, {"ReduceMin", reduceMin}} {
		withInt8 := base.With(ops.Uint8, ops.Int8)
		ops.Register("", r.name,
			ops.Since(1, buildReduce(r.kind, base, false)),
			ops.Since(11, buildReduce(r.kind, base, false)),                                 // opset 11: negative axes allowed
			ops.Since(12, buildReduce(r.kind, withInt8, false)),                             // opset 12: uint8, int8
			ops.Since(13, buildReduce(r.kind, withInt8.With(ops.BFloat16), false)),          // opset 13: bfloat16
			ops.Since(18, buildReduce(r.kind, withInt8.With(ops.BFloat16), true)),           // opset 18: axes input, noop_with_empty_axes
			ops.Since(20, buildReduce(r.kind, withInt8.With(ops.BFloat16, ops.Bool), true)), // opset 20: bool
		)
	}
}

// reduceKind says what a Reduce* operator accumulates and how it finishes.
type reduceKind int

const (
	reduceSum reduceKind = iota
	reduceMean
	reduceMax
	reduceMin
	reduceProd
	reduceL1
	reduceL2
	reduceLogSum
	reduceLogSumExp
	reduceSumSquare
	reduceSumExp // the second pass of LogSumExp: sum of exp(x - max)
)

var reduceNames = [...]string{"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
	"ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare", "sum of exp"}

// maxReduceRank bounds the rank of a Reduce* input: the kernel keeps its loop counters in a fixed array.
const maxReduceRank = 64

// buildReduce builds a Reduce* operator of one opset range: types are its input dtypes; axesInput says the
// axes come as input 1 (with noop_with_empty_axes) instead of an attribute.
func buildReduce(kind reduceKind, types ops.DTypeSet, axesInput bool) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		r := ops.NewAttrReader(n.Attrs)
		o := &reduceOp{kind: kind, opset: n.Opset, types: types, axesInput: axesInput,
			keepDims: r.Int("keepdims", 1) != 0}
		if axesInput {
			o.noopWithEmptyAxes = r.Int("noop_with_empty_axes", 0) != 0
			if n.NumInputs < 1 || n.NumInputs > 2 {
				return nil, ops.Invalidf("%s takes 1 or 2 inputs, the node has %d", reduceNames[kind], n.NumInputs)
			}
		} else {
			o.axesAttr = r.IntsAsInts("axes", nil)
			if n.NumInputs != 1 {
				return nil, ops.Invalidf("%s at opset %d takes 1 input (axes is an attribute), the node has %d",
					reduceNames[kind], n.Opset, n.NumInputs)
			}
		}
		if err := r.Err(); err != nil {
			return nil, err
		}
		return o, nil
	}
}

type reduceOp struct {
	kind              reduceKind
	opset             int
	types             ops.DTypeSet
	axesInput         bool
	axesAttr          []int
	keepDims          bool
	noopWithEmptyAxes bool
}

// ShapeInputs: with axes as an input, the output shape depends on its value.
func (o *reduceOp) ShapeInputs() []int {
	if o.axesInput {
		return []int{1}
	}
	return nil
}

// reducedAxes returns, per input dimension, whether it is reduced.
func (o *reduceOp) reducedAxes(in []ops.ValueInfo) ([]bool, error) {
	name := reduceNames[o.kind]
	if err := o.types.Check(name, o.opset, "data", in[0].DType); err != nil {
		return nil, err
	}
	rank := len(in[0].Shape)
	if rank > maxReduceRank {
		return nil, ops.Unsupportedf("%s of rank %d (at most %d)", name, rank, maxReduceRank)
	}
	axes := o.axesAttr
	if o.axesInput && len(in) > 1 && in[1].Present() {
		a := in[1]
		if a.DType != ops.Int64 {
			return nil, ops.Invalidf("%s input axes has dtype %s, want int64", name, a.DType)
		}
		if len(a.Shape) != 1 {
			return nil, ops.Invalidf("%s input axes has shape %v, want 1-D", name, a.Shape)
		}
		if a.Const == nil {
			return nil, ops.Dynamicf("%s axes are a runtime input", name)
		}
		axes = make([]int, 0, a.Shape[0])
		for _, v := range a.Const.AsInt64s() {
			axes = append(axes, int(v))
		}
	}
	reduced := make([]bool, rank)
	if len(axes) == 0 {
		if !(o.axesInput && o.noopWithEmptyAxes) {
			for i := range reduced {
				reduced[i] = true
			}
		}
		return reduced, nil
	}
	for _, a := range axes {
		ax, err := ops.NormalizeAxis(a, rank)
		if err != nil {
			return nil, ops.Invalidf("%s axes %v of an input of shape %v: %v", name, axes, in[0].Shape, err)
		}
		if reduced[ax] {
			return nil, ops.Invalidf("%s axes %v name dimension %d twice", name, axes, ax)
		}
		reduced[ax] = true
	}
	return reduced, nil
}

func (o *reduceOp) outShape(shape ops.Shape, reduced []bool) ops.Shape {
	out := ops.Shape{}
	for i, d := range shape {
		switch {
		case !reduced[i]:
			out = append(out, d)
		case o.keepDims:
			out = append(out, 1)
		}
	}
	return out
}

func (o *reduceOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	reduced, err := o.reducedAxes(in)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: o.outShape(in[0].Shape, reduced)}}, nil
}

func (o *reduceOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	reduced, err := o.reducedAxes(in)
	if err != nil {
		return nil, err
	}
	p := newReducePlan(o.kind, in[0].Shape, reduced)
	k := &reduceKernel{plan: p}
	dt := in[0].DType
	aux := 0 // the per-output maxima of LogSumExp
	if o.kind == reduceLogSumExp {
		aux = p.outSize
	}
	switch {
	case widensToFloat32(dt):
		k.scratch = p.inSize + p.outSize + aux
	case dt == ops.Float32:
		k.scratch = aux
	case dt == ops.Float64:
		k.scratch = ops.Float64ScratchLen(aux)
	case o.kind == reduceLogSumExp: // integers: exp needs floats, so compute in float64
		k.scratch = ops.Float64ScratchLen(p.inSize + p.outSize + aux)
	}
	return k, nil
}

// reducePlan walks the input once in memory order. Its dimensions are the input's with size-1 dimensions
// dropped and neighbours of the same kind (both reduced or both kept) merged, so [2,3,4] reduced over axes
// 1 and 2 becomes one kept dimension of 2 and one reduced of 12. Input element at loop index idx adds into
// output element sum(idx[d]*outStrides[d]); reduced dimensions have stride 0.
type reducePlan struct {
	kind            reduceKind
	dims            []int
	outStrides      []int
	count           int // input elements per output element
	inSize, outSize int
}

func newReducePlan(kind reduceKind, shape ops.Shape, reduced []bool) *reducePlan {
	p := &reducePlan{kind: kind, inSize: shape.Size(), count: 1, outSize: 1}
	var kinds []bool
	for i, d := range shape {
		if reduced[i] {
			p.count *= d
		} else {
			p.outSize *= d
		}
		if d == 1 {
			continue
		}
		if n := len(p.dims); n > 0 && kinds[n-1] == reduced[i] {
			p.dims[n-1] *= d
			continue
		}
		p.dims = append(p.dims, d)
		kinds = append(kinds, reduced[i])
	}
	p.outStrides = make([]int, len(p.dims))
	stride := 1
	for d := len(p.dims) - 1; d >= 0; d-- {
		if !kinds[d] {
			p.outStrides[d] = stride
			stride *= p.dims[d]
		}
	}
	return p
}

type reduceKernel struct {
	plan    *reducePlan
	scratch int
}

func (k *reduceKernel) ScratchSize() int { return k.scratch }

func (k *reduceKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	p := k.plan
	aux := 0
	if p.kind == reduceLogSumExp {
		aux = p.outSize
	}
	switch x := in[0].Data().(type) {
	case []float32:
		reduceRun(p, x, out[0].Float32s(), ctx.Scratch[:aux])
	case []float64:
		reduceRun(p, x, out[0].Float64s(), ops.Float64View(ctx.Scratch, aux))
	case []int8:
		reduceInts(p, x, ops.Data[int8](out[0]), ctx.Scratch)
	case []int16:
		reduceInts(p, x, ops.Data[int16](out[0]), ctx.Scratch)
	case []int32:
		reduceInts(p, x, ops.Data[int32](out[0]), ctx.Scratch)
	case []int64:
		reduceInts(p, x, ops.Data[int64](out[0]), ctx.Scratch)
	case []uint8:
		reduceInts(p, x, ops.Data[uint8](out[0]), ctx.Scratch)
	case []uint16:
		reduceInts(p, x, ops.Data[uint16](out[0]), ctx.Scratch)
	case []uint32:
		reduceInts(p, x, ops.Data[uint32](out[0]), ctx.Scratch)
	case []uint64:
		reduceInts(p, x, ops.Data[uint64](out[0]), ctx.Scratch)
	default: // float16, bfloat16, bool: through float32
		s := ctx.Scratch
		xf, yf, mf := s[:p.inSize], s[p.inSize:p.inSize+p.outSize], s[p.inSize+p.outSize:p.inSize+p.outSize+aux]
		ops.WidenToFloat32(xf, in[0].Data())
		reduceRun(p, xf, yf, mf)
		ops.NarrowFromFloat32(out[0].Data(), yf)
	}
	return nil
}

// reduceInts reduces integers in their own type, except LogSumExp, which goes through float64 and is
// truncated back as numpy's astype does.
func reduceInts[T ops.Integer](p *reducePlan, x, y []T, scratch []float32) {
	if p.kind != reduceLogSumExp {
		reduceRun(p, x, y, nil)
		return
	}
	s := ops.Float64View(scratch, p.inSize+2*p.outSize)
	xf, yf, mf := s[:p.inSize], s[p.inSize:p.inSize+p.outSize], s[p.inSize+p.outSize:]
	for i, v := range x {
		xf[i] = float64(v)
	}
	reduceRun(p, xf, yf, mf)
	for i, v := range yf {
		y[i] = T(v)
	}
}

// reduceRun computes y from x: fill y with the identity, accumulate every input element into its output,
// then finish (divide, root, log). LogSumExp first finds each output's maximum into m and then sums
// exp(x - max), which cannot overflow.
func reduceRun[T ops.Number](p *reducePlan, x, y, m []T) {
	switch p.kind {
	case reduceLogSumExp:
		fill(m, lowest[T]())
		accumulate(p, reduceMax, x, m, nil)
		clear(y)
		accumulate(p, reduceSumExp, x, y, m)
	case reduceProd:
		fill(y, 1)
	case reduceMax:
		fill(y, lowest[T]())
	case reduceMin:
		fill(y, highest[T]())
	default:
		clear(y)
	}
	if p.kind != reduceLogSumExp {
		accumulate(p, p.kind, x, y, nil)
	}
	finish(p, y, m)
}

func fill[T any](s []T, v T) {
	for i := range s {
		s[i] = v
	}
}

// accumulate walks x in memory order, one row of the innermost loop dimension at a time: a reduced row
// folds into one output element, a kept row updates a row of outputs element-wise.
func accumulate[T ops.Number](p *reducePlan, kind reduceKind, x, y, m []T) {
	if p.inSize == 0 {
		return
	}
	r := len(p.dims)
	if r == 0 { // every dimension has size 1: each output takes one input
		y[0] = foldRow(kind, y[0], x[:1], maxAt(m, 0))
		return
	}
	inner := p.dims[r-1]
	innerReduced := p.outStrides[r-1] == 0
	var idx [maxReduceRank]int
	xoff, yoff := 0, 0
	for {
		row := x[xoff : xoff+inner]
		if innerReduced {
			y[yoff] = foldRow(kind, y[yoff], row, maxAt(m, yoff))
		} else {
			var mrow []T
			if m != nil {
				mrow = m[yoff : yoff+inner]
			}
			mapRow(kind, y[yoff:yoff+inner], row, mrow)
		}
		xoff += inner
		d := r - 2
		for ; d >= 0; d-- { // odometer over the outer loop dimensions
			idx[d]++
			yoff += p.outStrides[d]
			if idx[d] < p.dims[d] {
				break
			}
			yoff -= p.outStrides[d] * p.dims[d]
			idx[d] = 0
		}
		if d < 0 {
			return
		}
	}
}

func maxAt[T any](m []T, i int) T {
	var z T
	if m == nil {
		return z
	}
	return m[i]
}

// foldRow folds a row of inputs into one accumulator; mx is the output's maximum for reduceSumExp.
func foldRow[T ops.Number](kind reduceKind, acc T, row []T, mx T) T {
	switch kind {
	case reduceSum, reduceMean, reduceLogSum:
		for _, v := range row {
			acc += v
		}
	case reduceL1:
		for _, v := range row {
			if v < 0 {
				v = -v
			}
			acc += v
		}
	case reduceL2, reduceSumSquare:
		for _, v := range row {
			acc += v * v
		}
	case reduceProd:
		for _, v := range row {
			acc *= v
		}
	case reduceMax: // NaN wins, as in numpy.max
		for _, v := range row {
			if v > acc || isNaN(v) {
				acc = v
			}
			if isNaN(acc) {
				break
			}
		}
	case reduceMin:
		for _, v := range row {
			if v < acc || isNaN(v) {
				acc = v
			}
			if isNaN(acc) {
				break
			}
		}
	case reduceSumExp:
		for _, v := range row {
			acc += T(math.Exp(float64(v - mx)))
		}
	}
	return acc
}

// mapRow accumulates row into acc element-wise; mx holds the maxima for reduceSumExp.
func mapRow[T ops.Number](kind reduceKind, acc, row, mx []T) {
	switch kind {
	case reduceSum, reduceMean, reduceLogSum:
		for i, v := range row {
			acc[i] += v
		}
	case reduceL1:
		for i, v := range row {
			if v < 0 {
				v = -v
			}
			acc[i] += v
		}
	case reduceL2, reduceSumSquare:
		for i, v := range row {
			acc[i] += v * v
		}
	case reduceProd:
		for i, v := range row {
			acc[i] *= v
		}
	case reduceMax:
		for i, v := range row {
			if v > acc[i] || isNaN(v) && !isNaN(acc[i]) {
				acc[i] = v
			}
		}
	case reduceMin:
		for i, v := range row {
			if v < acc[i] || isNaN(v) && !isNaN(acc[i]) {
				acc[i] = v
			}
		}
	case reduceSumExp:
		for i, v := range row {
			acc[i] += T(math.Exp(float64(v - mx[i])))
		}
	}
}

// finish turns accumulators into results: the mean divides by the count, L2 takes the root, the log
// reductions the log. LogSumExp adds back the maximum; an infinite maximum (all -inf, an empty set, or a
// +inf element) is the result itself.
func finish[T ops.Number](p *reducePlan, y, m []T) {
	switch p.kind {
	case reduceMean:
		if p.count == 0 {
			var zero T
			if isFloat(zero) {
				fill(y, T(math.NaN()))
			} else {
				clear(y) // integer 0/0 has no value; ONNX leaves it undefined
			}
			return
		}
		n := T(p.count)
		for i := range y {
			y[i] /= n
		}
	case reduceL2:
		for i, v := range y {
			y[i] = T(math.Sqrt(float64(v)))
		}
	case reduceLogSum:
		for i, v := range y {
			y[i] = T(math.Log(float64(v)))
		}
	case reduceLogSumExp:
		for i, v := range y {
			mx := float64(m[i])
			if math.IsInf(mx, 0) {
				y[i] = m[i]
				continue
			}
			y[i] = T(mx + math.Log(float64(v)))
		}
	}
}

func isFloat[T ops.Number](v T) bool {
	switch any(v).(type) {
	case float32, float64:
		return true
	}
	return false
}
