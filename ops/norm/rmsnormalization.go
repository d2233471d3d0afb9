package norm

// RMSNormalization: https://onnx.ai/onnx/operators/onnx__RMSNormalization.html, opset 23 (a function in
// ONNX; implemented directly here).

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
)

func init() {
	ops.Register("", "RMSNormalization", ops.Since(23, buildRMSNorm))
}

type rmsNormOp struct{ normAxisAttrs }

func buildRMSNorm(n ops.NodeInfo) (ops.Op, error) {
	attrs, err := readNormAxisAttrs(n)
	if err != nil {
		return nil, err
	}
	return &rmsNormOp{attrs}, nil
}

func (op *rmsNormOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 2, 2); err != nil {
		return nil, err
	}
	x, scale := in[0], in[1]
	if err := kernelutil.CheckFloat("X", x.DType); err != nil {
		return nil, err
	}
	if err := kernelutil.CheckFloat("scale", scale.DType); err != nil {
		return nil, err
	}
	if _, err := ops.NormalizeAxis(op.axis, len(x.Shape)); err != nil {
		return nil, ops.Invalidf("attribute axis: %v (X has shape %v)", err, x.Shape)
	}
	if _, ok := broadcastStrides(scale.Shape, x.Shape); !ok {
		return nil, ops.Invalidf("scale has shape %v, which does not broadcast to X %v", scale.Shape, x.Shape)
	}
	// Y has the scale's type (V), which may differ from X's (T).
	return []ops.ValueInfo{{DType: scale.DType, Shape: x.Shape}}, nil
}

func (op *rmsNormOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	if _, err := op.InferShapes(in); err != nil {
		return nil, err
	}
	x, scale := in[0], in[1]
	axis, _ := ops.NormalizeAxis(op.axis, len(x.Shape))
	strides, _ := broadcastStrides(scale.Shape, x.Shape)
	return &rmsNormKernel{
		epsilon:    op.epsilon,
		outer:      kernelutil.DimsProduct(x.Shape, 0, axis),
		inner:      kernelutil.DimsProduct(x.Shape, axis, len(x.Shape)),
		scaleOuter: axisOffsets(x.Shape, strides, span(0, axis)),
		scaleInner: axisOffsets(x.Shape, strides, span(axis, len(x.Shape))),
		scaleSize:  scale.Shape.Size(),
		xType:      x.DType,
		scaleType:  scale.DType,
	}, nil
}

// rmsNormKernel normalises each of the outer rows of X; element (o, i) is scaled by
// scale[scaleOuter[o] + scaleInner[i]].
type rmsNormKernel struct {
	epsilon                float64
	outer, inner           int
	scaleOuter, scaleInner []int
	scaleSize              int
	xType, scaleType       ops.DType
}

// ScratchSize is room for float32 copies of X, Y and scale when they are all 16-bit floats.
func (k *rmsNormKernel) ScratchSize() int {
	if k.xType != k.scaleType {
		return 0 // rmsNormMixed reads element by element
	}
	return ops.HalfScratch(k.xType, k.outer*k.inner, k.outer*k.inner, k.scaleSize)
}

func (k *rmsNormKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	if k.xType != k.scaleType {
		rmsNormMixed(k, in[0], in[1], out[0])
		return nil
	}
	switch x := in[0].Data().(type) {
	case []float32:
		rmsNorm(k, x, in[1].Float32s(), out[0].Float32s())
	case []float64:
		rmsNorm(k, x, in[1].Float64s(), out[0].Float64s())
	default: // float16, bfloat16: computed in float32 scratch
		w := ops.NewWidener(ctx.Scratch)
		rmsNorm(k, w.In(in[0]), w.In(in[1]), w.Out(out[0]))
		w.Narrow()
	}
	return nil
}

// rmsNorm computes, for each outer row over the normalised axes [axis, rank),
//
//	Y = X / sqrt(mean(X²) + epsilon) * scale
func rmsNorm[T ops.Float](k *rmsNormKernel, x, scale, y []T) {
	for o := 0; o < k.outer; o++ {
		xs, ys := x[o*k.inner:(o+1)*k.inner], y[o*k.inner:(o+1)*k.inner]
		inv := k.invRMS(func(i int) float64 { return float64(xs[i]) })
		so := k.scaleOuter[o]
		for i, v := range xs {
			ys[i] = T(float64(v) * inv * float64(scale[so+k.scaleInner[i]]))
		}
	}
}

// rmsNormMixed is rmsNorm for an X whose type differs from the scale's (and Y's): slower, element by element.
func rmsNormMixed(k *rmsNormKernel, x, scale, y *ops.Tensor) {
	for o := 0; o < k.outer; o++ {
		base := o * k.inner
		inv := k.invRMS(func(i int) float64 { return kernelutil.ValueAt(x, base+i) })
		for i := 0; i < k.inner; i++ {
			kernelutil.SetValue(y, base+i, kernelutil.ValueAt(x, base+i)*inv*kernelutil.ValueAt(scale, k.scaleOuter[o]+k.scaleInner[i]))
		}
	}
}

// invRMS is 1/sqrt(mean(v²) + epsilon) over one row, v(i) giving its elements.
func (k *rmsNormKernel) invRMS(v func(i int) float64) float64 {
	sum := 0.0
	for i := 0; i < k.inner; i++ {
		e := v(i)
		sum += e * e
	}
	return 1 / math.Sqrt(sum/float64(k.inner)+k.epsilon)
}
