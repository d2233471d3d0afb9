package cnn

// ReluGrad(dY, Y), SigmoidGrad(dY, Y) and TanhGrad(dY, Y) -> dX: the gradients of Relu, Sigmoid and Tanh
// written in terms of the forward output Y, which is what a trainer keeps:
//
//	Relu:    dX = dY if Y > 0, else 0
//	Sigmoid: dX = dY · Y · (1 - Y)
//	Tanh:    dX = dY · (1 - Y²)

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

type activationKind uint8

const (
	activationRelu activationKind = iota
	activationSigmoid
	activationTanh
)

var activationGradNames = [...]string{"ReluGrad", "SigmoidGrad", "TanhGrad"}

func init() {
	for kind, name := range activationGradNames {
		ops.Register(ops.TrainingDomain, name, ops.Since(1, buildActivationGrad(activationKind(kind))))
	}
}

type activationGradOp struct{ kind activationKind }

func buildActivationGrad(kind activationKind) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		if err := checkNumOutputs(activationGradNames[kind], n, 1); err != nil {
			return nil, err
		}
		return &activationGradOp{kind: kind}, nil
	}
}

func (op *activationGradOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 2, 2); err != nil {
		return nil, err
	}
	for i, name := range []string{"dY", "Y"} {
		if err := checkGradDType(name, in[i].DType); err != nil {
			return nil, err
		}
	}
	if in[0].DType != in[1].DType || !in[0].Shape.Equal(in[1].Shape) {
		return nil, ops.Invalidf("dY is %s%v, Y is %s%v: want the same dtype and shape", in[0].DType, in[0].Shape, in[1].DType, in[1].Shape)
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: in[0].Shape}}, nil
}

func (op *activationGradOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	if _, err := op.InferShapes(in); err != nil {
		return nil, err
	}
	return op, nil
}

func (op *activationGradOp) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	if out[0] == nil {
		return nil
	}
	switch dy := in[0].Data().(type) {
	case []float32:
		if op.kind == activationRelu {
			reluGradFloat32(dy, in[1].Float32s(), out[0].Float32s())
			return nil
		}
		activationGrad(op.kind, dy, in[1].Float32s(), out[0].Float32s())
	case []float64:
		activationGrad(op.kind, dy, in[1].Float64s(), out[0].Float64s())
	}
	return nil
}

func activationGrad[T ops.Float](kind activationKind, dy, y, dx []T) {
	y = y[:len(dy)]
	dx = dx[:len(dy)]
	switch kind {
	case activationRelu:
		for i, d := range dy {
			if y[i] > 0 {
				dx[i] = d
			} else {
				dx[i] = 0
			}
		}
	case activationSigmoid:
		for i, d := range dy {
			dx[i] = d * y[i] * (1 - y[i])
		}
	case activationTanh:
		for i, d := range dy {
			dx[i] = d * (1 - y[i]*y[i])
		}
	}
}

// reluGradFloat32 is activationGrad's Relu case without a branch per element, for float32: dx[i] = dy[i]
// if y[i] > 0, else +0. After a BatchNorm about half of the y are positive, in no pattern, so the
// branch of the plain loop is mispredicted about every other element; here a mask of y's bits selects
// dy's bits instead. y > 0 holds exactly when y's bits, read as an int32, lie in (0, +Inf]: that leaves
// out -0 and every negative (the sign bit makes the int32 negative), +0 (bits 0) and NaN (above +Inf).
func reluGradFloat32(dy, y, dx []float32) {
	y = y[:len(dy)]
	dx = dx[:len(dy)]
	const posInf = 0x7f800000
	for i, d := range dy {
		b := int32(math.Float32bits(y[i]))
		positive := uint32((-b)>>31) &^ uint32(b>>31) // all ones when b > 0 (-b is then negative)
		notNaN := uint32((b - (posInf + 1)) >> 31)    // all ones when b <= +Inf's bits (b >= 0 here)
		dx[i] = math.Float32frombits(math.Float32bits(d) & positive & notNaN)
	}
}
