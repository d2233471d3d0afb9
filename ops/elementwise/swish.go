package elementwise

import (
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/vecmath"
)

// Swish is x * sigmoid(alpha*x): https://onnx.ai/onnx/operators/onnx__Swish.html. Opset 24.
//
// SwiGLU is Swish_alpha(A) * B for a gate A and a value B of the same shape (no broadcasting):
// https://onnx.ai/onnx/operators/onnx__SwiGLU.html. Opset 28.
func init() {
	// Swish: opset 24 only; float16, float, bfloat16, double.
	ops.Register("", "Swish", ops.SameBuilder(buildSwish, 24)...)
	ops.Register("", "SwiGLU",
		// SwiGLU: opset 28 only; same float types.
		ops.Since(28, buildSwiGLU),
	)
}

func buildSwish(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	alpha := float64(r.Float("alpha", 1))
	if err := r.Err(); err != nil {
		return nil, err
	}
	f := func(x float64) float64 { return x * sigmoid(alpha*x) }
	vec := vecmath.SiLU // one pass; another alpha scales, then multiplies, around vecmath's Sigmoid
	if alpha != 1 {
		vec = func(dst, src []float32) { vecmath.Swish(dst, src, float32(alpha)) }
	}
	return newUnary(n, floats, ops.Undefined, withVec(vec, func(dt ops.DType) ops.Kernel { return floatMap(dt, f) }))
}

func buildSwiGLU(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	alpha := r.Float("alpha", 1)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if n.NumInputs != 2 {
		return nil, ops.Invalidf("SwiGLU takes 2 inputs (A, B), the node has %d", n.NumInputs)
	}
	if n.NumOutputs != 1 {
		return nil, ops.Invalidf("SwiGLU has 1 output, the node declares %d", n.NumOutputs)
	}
	return &swiGLUOp{opset: n.Opset, alpha: float64(alpha)}, nil
}

type swiGLUOp struct {
	opset int
	alpha float64
}

func (o *swiGLUOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 2, 2); err != nil {
		return nil, err
	}
	if err := floats.Check("SwiGLU", o.opset, "A", in[0].DType); err != nil {
		return nil, err
	}
	if in[1].DType != in[0].DType {
		return nil, ops.Invalidf("SwiGLU inputs have dtypes A=%s and B=%s, want the same", in[0].DType, in[1].DType)
	}
	if !in[0].Shape.Equal(in[1].Shape) {
		return nil, ops.Invalidf("SwiGLU inputs have shapes A=%v and B=%v, want identical shapes (no broadcasting)",
			in[0].Shape, in[1].Shape)
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: in[0].Shape.Clone()}}, nil
}

func (o *swiGLUOp) Prepare(in []ops.ValueInfo, out []ops.ValueInfo) (ops.Kernel, error) {
	if _, err := o.InferShapes(in); err != nil {
		return nil, err
	}
	switch in[0].DType {
	case ops.Float32:
		return swiGLUKernel[float32]{alpha: o.alpha}, nil
	case ops.Float64:
		return swiGLUKernel[float64]{alpha: o.alpha}, nil
	}
	// float16 and bfloat16 compute in float32 scratch: A, B, then Y.
	return &swiGLUHalfKernel{alpha: o.alpha, n: in[0].Shape.Size()}, nil
}

type swiGLUKernel[T ops.Float] struct{ alpha float64 }

func (k swiGLUKernel[T]) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	swiGLU(ops.Data[T](in[0]), ops.Data[T](in[1]), ops.Data[T](out[0]), k.alpha)
	return nil
}

func swiGLU[T ops.Float](a, b, y []T, alpha float64) {
	for i, av := range a {
		x := float64(av)
		y[i] = T(x * sigmoid(alpha*x) * float64(b[i]))
	}
}

type swiGLUHalfKernel struct {
	alpha float64
	n     int
}

func (k *swiGLUHalfKernel) ScratchSize() int { return 3 * k.n }

func (k *swiGLUHalfKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	a, b, y := ctx.Scratch[:k.n], ctx.Scratch[k.n:2*k.n], ctx.Scratch[2*k.n:3*k.n]
	ops.WidenToFloat32(a, in[0].Data())
	ops.WidenToFloat32(b, in[1].Data())
	swiGLU(a, b, y, k.alpha)
	ops.NarrowFromFloat32(out[0].Data(), y)
	return nil
}
