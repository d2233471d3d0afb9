package norm

// LpNormalization: https://onnx.ai/onnx/operators/onnx__LpNormalization.html, opsets 1 and 22.

import (
	"fmt"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
)

func init() {
	ops.Register("", "LpNormalization",
		ops.Since(1, buildLpNormalization),
		// opset 22: bfloat16; a zero norm is defined to give zeros.
		ops.Since(22, buildLpNormalization),
	)
}

type lpNormalizationOp struct {
	axis int
	p    int
}

func buildLpNormalization(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	op := &lpNormalizationOp{axis: int(r.Int("axis", -1)), p: int(r.Int("p", 2))}
	if err := r.Err(); err != nil {
		return nil, err
	}
	if op.p != 1 && op.p != 2 {
		return nil, &ops.AttrError{Name: "p", Msg: fmt.Sprintf("is %d, want 1 or 2", op.p)}
	}
	return op, nil
}

func (op *lpNormalizationOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	x := in[0]
	if err := kernelutil.CheckFloat("input", x.DType); err != nil {
		return nil, err
	}
	if _, err := ops.NormalizeAxis(op.axis, len(x.Shape)); err != nil {
		return nil, ops.Invalidf("attribute axis: %v (input has shape %v)", err, x.Shape)
	}
	return []ops.ValueInfo{{DType: x.DType, Shape: x.Shape}}, nil
}

func (op *lpNormalizationOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	if _, err := op.InferShapes(in); err != nil {
		return nil, err
	}
	x := in[0]
	axis, _ := ops.NormalizeAxis(op.axis, len(x.Shape))
	return &lpNormalizationKernel{
		p:     op.p,
		outer: kernelutil.DimsProduct(x.Shape, 0, axis),
		n:     x.Shape[axis],
		inner: kernelutil.DimsProduct(x.Shape, axis+1, len(x.Shape)),
		dtype: x.DType,
	}, nil
}

// lpNormalizationKernel normalises the lines of n elements, inner apart, that run along the axis.
type lpNormalizationKernel struct {
	p               int
	outer, n, inner int
	dtype           ops.DType
}

// ScratchSize is room for float32 copies of the input and output when they are 16-bit floats.
func (k *lpNormalizationKernel) ScratchSize() int {
	return ops.HalfScratch(k.dtype, k.outer*k.n*k.inner, k.outer*k.n*k.inner)
}

func (k *lpNormalizationKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	switch x := in[0].Data().(type) {
	case []float32:
		lpNormalize(k, x, out[0].Float32s())
	case []float64:
		lpNormalize(k, x, out[0].Float64s())
	default: // float16, bfloat16: computed in float32 scratch
		w := ops.NewWidener(ctx.Scratch)
		lpNormalize(k, w.In(in[0]), w.Out(out[0]))
		w.Narrow()
	}
	return nil
}

// lpNormalize divides each line along the axis by its L1 or L2 norm; a line whose norm is 0 gives zeros.
func lpNormalize[T ops.Float](k *lpNormalizationKernel, x, y []T) {
	for o := 0; o < k.outer; o++ {
		for i := 0; i < k.inner; i++ {
			base := o*k.n*k.inner + i
			norm := 0.0
			for j := 0; j < k.n; j++ {
				norm += kernelutil.PowAbs(float64(x[base+j*k.inner]), float64(k.p))
			}
			norm = kernelutil.RootP(norm, float64(k.p))
			for j := 0; j < k.n; j++ {
				at := base + j*k.inner
				if norm == 0 {
					y[at] = 0
				} else {
					y[at] = T(float64(x[at]) / norm)
				}
			}
		}
	}
}
