package models

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// plainActivation runs GELU or SiLU and their gradients as loops: no inference kernel of the opsets the
// trainer runs has them (ONNX's Gelu arrives in opset 20, SiLU has no op), and their gradients are
// functions of the input, which the ops/cnn gradient kernels (functions of the output) do not take.
type plainActivation struct {
	kind  Activation
	x     *ops.Tensor // the input of the last forward
	y, dx *ops.Tensor
}

func newPlainActivation(kind Activation, shape ops.Shape) *plainActivation {
	return &plainActivation{kind: kind, y: ops.New(ops.Float32, shape), dx: ops.New(ops.Float32, shape)}
}

// activationValue returns f(x) and f'(x) for GELU or SiLU, in float64:
//
//	GELU: f = x·Φ(x),       f' = Φ(x) + x·φ(x)          with Φ(x) = (1 + erf(x/√2))/2, φ the normal density
//	SiLU: f = x·σ(x),       f' = σ(x)·(1 + x·(1 - σ(x)))
func activationValue(kind Activation, x float64) (f, df float64) {
	if kind == GELU {
		cdf := 0.5 * (1 + math.Erf(x/math.Sqrt2))
		pdf := math.Exp(-0.5*x*x) / math.Sqrt(2*math.Pi)
		return x * cdf, cdf + x*pdf
	}
	sig := 1 / (1 + math.Exp(-x))
	return x * sig, sig * (1 + x*(1-sig))
}

func (a *plainActivation) forward(x *ops.Tensor) *ops.Tensor {
	a.x = x
	ys := a.y.Float32s()
	for i, v := range x.Float32s() {
		f, _ := activationValue(a.kind, float64(v))
		ys[i] = float32(f)
	}
	return a.y
}

func (a *plainActivation) backward(dy *ops.Tensor) *ops.Tensor {
	xs, dxs := a.x.Float32s(), a.dx.Float32s()
	for i, g := range dy.Float32s() {
		_, df := activationValue(a.kind, float64(xs[i]))
		dxs[i] = float32(df * float64(g))
	}
	return a.dx
}
