package reduce

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// Softmax, LogSoftmax and Hardmax normalise along an axis: https://onnx.ai/onnx/operators/onnx__Softmax.html,
// https://onnx.ai/onnx/operators/onnx__LogSoftmax.html, https://onnx.ai/onnx/operators/onnx__Hardmax.html.
// Opsets 1, 11 and 13.
//
// Before opset 13 the input is coerced to 2-D at axis (default 1): dimensions before it form the rows and
// everything from it on forms one row to normalise. From opset 13 (default axis -1) only the axis itself is
// normalised. Both come down to lines of n elements with stride inner (inner = 1 for the old form).
// Softmax and LogSoftmax subtract the line's maximum before exp, so large inputs do not overflow, and sum
// in float64. Hardmax puts 1 at the first maximum of each line and 0 elsewhere.
func init() {
	for _, k := range []softmaxKind{softmax, logSoftmax, hardmax} {
		name := softmaxNames[k]
		ops.Register("", name,
			// opset 1: float16, float32, float64; coerce to 2-D at axis (default 1).
			ops.Since(1, buildSoftmax(k, floatTypes, false)),
			// opset 11: negative axis allowed.
			ops.Since(11, buildSoftmax(k, floatTypes, false)),
			// opset 13: normalise along the axis alone (default -1); bfloat16.
			ops.Since(13, buildSoftmax(k, floatTypes.With(ops.BFloat16), true)),
		)
	}
}

type softmaxKind int

const (
	softmax softmaxKind = iota
	logSoftmax
	hardmax
)

var softmaxNames = [...]string{"Softmax", "LogSoftmax", "Hardmax"}

func buildSoftmax(kind softmaxKind, types ops.DTypeSet, singleAxis bool) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		def := int64(1)
		if singleAxis {
			def = -1
		}
		r := ops.NewAttrReader(n.Attrs)
		o := &softmaxOp{kind: kind, opset: n.Opset, types: types, singleAxis: singleAxis, axis: int(r.Int("axis", def))}
		if err := r.Err(); err != nil {
			return nil, err
		}
		if n.NumInputs != 1 {
			return nil, ops.Invalidf("%s takes 1 input, the node has %d", softmaxNames[kind], n.NumInputs)
		}
		return o, nil
	}
}

type softmaxOp struct {
	kind       softmaxKind
	opset      int
	types      ops.DTypeSet
	singleAxis bool
	axis       int
}

func (o *softmaxOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if _, err := o.extents(in); err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: in[0].Shape.Clone()}}, nil
}

// extents checks the input and returns the kernel with its line layout.
func (o *softmaxOp) extents(in []ops.ValueInfo) (*softmaxKernel, error) {
	name := softmaxNames[o.kind]
	if err := o.types.Check(name, o.opset, "input", in[0].DType); err != nil {
		return nil, err
	}
	s := in[0].Shape
	axis, err := ops.NormalizeAxis(o.axis, len(s))
	if err != nil {
		return nil, ops.Invalidf("%s of an input of shape %v: %v", name, s, err)
	}
	k := &softmaxKernel{kind: o.kind}
	if o.singleAxis {
		k.outer, k.n, k.inner = axisExtents(s, axis)
	} else {
		k.outer, k.n, k.inner = s[:axis].Size(), s[axis:].Size(), 1
	}
	return k, nil
}

func (o *softmaxOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	k, err := o.extents(in)
	if err != nil {
		return nil, err
	}
	if widensToFloat32(in[0].DType) {
		k.scratch = 2 * in[0].Shape.Size()
	}
	return k, nil
}

type softmaxKernel struct {
	kind            softmaxKind
	outer, n, inner int
	scratch         int
}

func (k *softmaxKernel) ScratchSize() int { return k.scratch }

func (k *softmaxKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	switch x := in[0].Data().(type) {
	case []float32:
		softmaxRun(k, x, out[0].Float32s())
	case []float64:
		softmaxRun(k, x, out[0].Float64s())
	default: // float16, bfloat16
		size := in[0].Len()
		xf, yf := ctx.Scratch[:size], ctx.Scratch[size:2*size]
		ops.WidenToFloat32(xf, in[0].Data())
		softmaxRun(k, xf, yf)
		ops.NarrowFromFloat32(out[0].Data(), yf)
	}
	return nil
}

func softmaxRun[T ops.Float](k *softmaxKernel, x, y []T) {
	n, inner := k.n, k.inner
	for o := 0; o < k.outer; o++ {
		for j := 0; j < inner; j++ {
			base := o*n*inner + j
			if k.kind == hardmax {
				for i := 0; i < n; i++ {
					y[base+i*inner] = 0
				}
				if n > 0 { // an empty axis has no extreme to mark
					y[base+extremeIndex(x, base, inner, n, true, false)*inner] = 1
				}
				continue
			}
			mx := math.Inf(-1)
			for i := 0; i < n; i++ {
				mx = max(mx, float64(x[base+i*inner]))
			}
			sum := 0.0
			for i := 0; i < n; i++ {
				e := math.Exp(float64(x[base+i*inner]) - mx)
				sum += e
				if k.kind == softmax {
					y[base+i*inner] = T(e)
				}
			}
			if k.kind == softmax {
				for i := 0; i < n; i++ {
					at := base + i*inner
					y[at] = T(float64(y[at]) / sum)
				}
				continue
			}
			logSum := mx + math.Log(sum)
			for i := 0; i < n; i++ {
				at := base + i*inner
				y[at] = T(float64(x[at]) - logSum)
			}
		}
	}
}
