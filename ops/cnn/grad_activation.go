package cnn

// ReluGrad(dY, Y), SigmoidGrad(dY, Y) and TanhGrad(dY, Y) -> dX: the gradients of Relu, Sigmoid and Tanh
// written in terms of the forward output Y, which is what a trainer keeps:
//
//	Relu:    dX = dY if Y > 0, else 0
//	Sigmoid: dX = dY · Y · (1 - Y)
//	Tanh:    dX = dY · (1 - Y²)

import (
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
