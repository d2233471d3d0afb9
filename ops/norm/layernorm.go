package norm

// LayerNormalization: https://onnx.ai/onnx/operators/onnx__LayerNormalization.html, opset 17 (a function
// in ONNX; implemented directly here).

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
)

func init() {
	ops.Register("", "LayerNormalization", ops.Since(17, buildLayerNorm))
}

type layerNormOp struct{ normAxisAttrs }

func buildLayerNorm(n ops.NodeInfo) (ops.Op, error) {
	attrs, err := readNormAxisAttrs(n)
	if err != nil {
		return nil, err
	}
	op := &layerNormOp{attrs}
	if n.NumOutputs > 3 {
		return nil, ops.Invalidf("LayerNormalization has at most 3 outputs (Y, Mean, InvStdDev), the node declares %d", n.NumOutputs)
	}
	return op, nil
}

// layerNormShape splits X into outer x inner, inner being the normalised axes [axis, rank).
type layerNormShape struct {
	axis         int
	outer, inner int
	statShape    ops.Shape // shape of Mean and InvStdDev: X's dims before axis, then ones
}

func (op *layerNormOp) shape(in []ops.ValueInfo) (layerNormShape, error) {
	var s layerNormShape
	if err := ops.CheckInputCount(in, 2, 3); err != nil {
		return s, err
	}
	x := in[0]
	if err := kernelutil.CheckFloat("X", x.DType); err != nil {
		return s, err
	}
	axis, err := ops.NormalizeAxis(op.axis, len(x.Shape))
	if err != nil {
		return s, ops.Invalidf("attribute axis: %v (X has shape %v)", err, x.Shape)
	}
	names := [...]string{"X", "Scale", "B"}
	for i := 1; i < 3; i++ {
		v, name := ops.Input(in, i), names[i]
		if !v.Present() {
			continue
		}
		if v.DType != x.DType {
			return s, ops.Invalidf("%s has dtype %s, X has %s", name, v.DType, x.DType)
		}
		if _, ok := broadcastStrides(v.Shape, x.Shape); !ok {
			return s, ops.Invalidf("%s has shape %v, which does not broadcast to X %v", name, v.Shape, x.Shape)
		}
	}
	s.axis = axis
	s.outer = kernelutil.DimsProduct(x.Shape, 0, axis)
	s.inner = kernelutil.DimsProduct(x.Shape, axis, len(x.Shape))
	s.statShape = x.Shape.Clone()
	for i := axis; i < len(s.statShape); i++ {
		s.statShape[i] = 1
	}
	return s, nil
}

func (op *layerNormOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{
		{DType: in[0].DType, Shape: in[0].Shape},
		{DType: ops.Float32, Shape: s.statShape},
		{DType: ops.Float32, Shape: s.statShape},
	}, nil
}

func (op *layerNormOp) Prepare(in []ops.ValueInfo, out []ops.ValueInfo) (ops.Kernel, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	x := in[0]
	k := &layerNormKernel{op: op, s: s, dtype: x.DType, outputs: len(out), hasBias: ops.Input(in, 2).Present()}
	outerAxes, innerAxes := span(0, s.axis), span(s.axis, len(x.Shape))
	strides, _ := broadcastStrides(in[1].Shape, x.Shape)
	k.scaleOuter, k.scaleInner = axisOffsets(x.Shape, strides, outerAxes), axisOffsets(x.Shape, strides, innerAxes)
	k.scaleSize = in[1].Shape.Size()
	if k.hasBias {
		strides, _ := broadcastStrides(in[2].Shape, x.Shape)
		k.biasOuter, k.biasInner = axisOffsets(x.Shape, strides, outerAxes), axisOffsets(x.Shape, strides, innerAxes)
		k.biasSize = in[2].Shape.Size()
	}
	k.perColumn = k.contiguousRows()
	return k, nil
}

// layerNormKernel normalises each of the outer rows of X. Scale and B broadcast over X, so the element of
// row o, column i reads Scale[scaleOuter[o] + scaleInner[i]] (likewise B).
type layerNormKernel struct {
	op                     *layerNormOp
	s                      layerNormShape
	dtype                  ops.DType
	outputs                int
	hasBias                bool
	scaleOuter, scaleInner []int
	biasOuter, biasInner   []int
	scaleSize, biasSize    int
	perColumn              bool // Scale and B hold one value per column: float32 runs layerNormRows
}

// ScratchSize is room for float32 copies of X, Y, Scale and B when they are 16-bit floats.
func (k *layerNormKernel) ScratchSize() int {
	return ops.HalfScratch(k.dtype, k.s.outer*k.s.inner, k.s.outer*k.s.inner, k.scaleSize, k.biasSize)
}

func (k *layerNormKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	var mean, invStd []float32
	if k.outputs > 1 {
		mean = out[1].Float32s()
	}
	if k.outputs > 2 {
		invStd = out[2].Float32s()
	}
	b := ops.TensorAt(in, 2)
	switch x := in[0].Data().(type) {
	case []float32:
		var bias []float32
		if b != nil {
			bias = b.Float32s()
		}
		if k.perColumn {
			k.runRows(ctx, x, in[1].Float32s(), bias, out[0].Float32s(), mean, invStd)
			return nil
		}
		layerNorm(k, x, in[1].Float32s(), bias, out[0].Float32s(), mean, invStd)
	case []float64:
		var bias []float64
		if b != nil {
			bias = b.Float64s()
		}
		layerNorm(k, x, in[1].Float64s(), bias, out[0].Float64s(), mean, invStd)
	default: // float16, bfloat16: computed in float32 scratch
		w := ops.NewWidener(ctx.Scratch)
		layerNorm(k, w.In(in[0]), w.In(in[1]), w.In(b), w.Out(out[0]), mean, invStd)
		w.Narrow()
	}
	return nil
}

// layerNorm computes, for each outer row of X over the normalised axes,
//
//	Mean = mean(row), InvStdDev = 1 / sqrt(variance(row) + epsilon)
//	Y = (row - Mean) * InvStdDev * Scale + B
//
// with the statistics in float64 (at least the float32 stash_type asks for).
func layerNorm[T ops.Float](k *layerNormKernel, x, scale, bias, y []T, meanOut, invStdOut []float32) {
	inner := k.s.inner
	for o := 0; o < k.s.outer; o++ {
		xs, ys := x[o*inner:(o+1)*inner], y[o*inner:(o+1)*inner]
		mean, variance := meanVariance(xs)
		inv := 1 / math.Sqrt(variance+k.op.epsilon)
		if meanOut != nil {
			meanOut[o] = float32(mean)
		}
		if invStdOut != nil {
			invStdOut[o] = float32(inv)
		}
		so := k.scaleOuter[o]
		for i, v := range xs {
			r := (float64(v) - mean) * inv * float64(scale[so+k.scaleInner[i]])
			if bias != nil {
				r += float64(bias[k.biasOuter[o]+k.biasInner[i]])
			}
			ys[i] = T(r)
		}
	}
}
