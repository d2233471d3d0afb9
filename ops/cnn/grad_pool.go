package cnn

// MaxPoolGrad(dY, X) -> dX and AveragePoolGrad(dY, X) -> dX: the gradients of MaxPool and AveragePool
// (pool.go, with their opset-22 attributes) with respect to X. MaxPool's gradient flows to the cell each
// window took (the first largest, as the forward kernel picks it); AveragePool's is spread over the window's
// cells, divided by the count the forward kernel divided by.

import (
	"github.com/onnxrun/onnxrun/ops"
)

func init() {
	ops.Register(ops.TrainingDomain, "MaxPoolGrad", ops.Since(1, buildPoolGrad(poolMax)))
	ops.Register(ops.TrainingDomain, "AveragePoolGrad", ops.Since(1, buildPoolGrad(poolAverage)))
}

type poolGradOp struct{ pool *poolOp }

func buildPoolGrad(kind poolKind) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		if err := checkNumOutputs(poolNames[kind]+"Grad", n, 1); err != nil {
			return nil, err
		}
		op, err := buildPool(kind, 22)(n)
		if err != nil {
			return nil, err
		}
		return &poolGradOp{pool: op.(*poolOp)}, nil
	}
}

func (op *poolGradOp) shape(in []ops.ValueInfo) (poolShape, error) {
	if err := ops.CheckInputCount(in, 2, 2); err != nil {
		return poolShape{}, err
	}
	for i, name := range []string{"dY", "X"} {
		if err := checkGradDType(name, in[i].DType); err != nil {
			return poolShape{}, err
		}
	}
	s, err := op.pool.shape(in[1:2])
	if err != nil {
		return s, err
	}
	if in[0].DType != in[1].DType {
		return s, ops.Invalidf("dY has dtype %s, X has %s", in[0].DType, in[1].DType)
	}
	if !in[0].Shape.Equal(s.outShape) {
		return s, ops.Invalidf("dY has shape %v, pooling X %v gives %v", in[0].Shape, in[1].Shape, s.outShape)
	}
	return s, nil
}

func (op *poolGradOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if _, err := op.shape(in); err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: in[1].DType, Shape: in[1].Shape}}, nil
}

func (op *poolGradOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	return &poolGradKernel{op: op.pool, s: s, g: s.win.gatherInput()}, nil
}

type poolGradKernel struct {
	op *poolOp
	s  poolShape
	g  *gather
}

func (k *poolGradKernel) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	if out[0] == nil {
		return nil
	}
	switch dy := in[0].Data().(type) {
	case []float32:
		poolGrad(k, dy, in[1].Float32s(), out[0].Float32s())
	case []float64:
		poolGrad(k, dy, in[1].Float64s(), out[0].Float64s())
	}
	return nil
}

func poolGrad[T ops.Float](k *poolGradKernel, dy, x, dx []T) {
	zero(dx)
	if k.op.kind == poolMax {
		maxPoolGrad(k, dy, x, dx)
	} else {
		averagePoolGrad(k, dy, dx)
	}
}

// maxPoolGrad adds dY[p] to the cell window p took: the first one holding the window's largest value.
func maxPoolGrad[T ops.Float](k *poolGradKernel, dy, x, dx []T) {
	g, s := k.g, &k.s
	for plane := 0; plane < s.planes; plane++ {
		xp := x[plane*s.inSize : (plane+1)*s.inSize]
		dxp := dx[plane*s.inSize : (plane+1)*s.inSize]
		dyp := dy[plane*s.outSize : (plane+1)*s.outSize]
		for p, d := range dyp {
			var best T
			at := int32(-1)
			if r := g.border[p]; r < 0 {
				base := g.origin[p]
				for _, t := range g.tapOffset {
					if v := xp[base+t]; at < 0 || v > best {
						best, at = v, base+t
					}
				}
			} else {
				for _, off := range g.borderTaps[int(r)*g.taps : int(r+1)*g.taps] {
					if off >= 0 && (at < 0 || xp[off] > best) {
						best, at = xp[off], off
					}
				}
			}
			if at >= 0 {
				dxp[at] += d
			}
		}
	}
}

// averagePoolGrad spreads dY[p] evenly over window p's input cells, dividing by the count averagePool used.
func averagePoolGrad[T ops.Float](k *poolGradKernel, dy, dx []T) {
	g, s := k.g, &k.s
	includePad := k.op.countIncludePad
	for plane := 0; plane < s.planes; plane++ {
		dxp := dx[plane*s.inSize : (plane+1)*s.inSize]
		dyp := dy[plane*s.outSize : (plane+1)*s.outSize]
		for p, d := range dyp {
			if r := g.border[p]; r < 0 {
				v := d / T(g.taps)
				base := g.origin[p]
				for _, t := range g.tapOffset {
					dxp[base+t] += v
				}
				continue
			}
			row := g.borderTaps[int(g.border[p])*g.taps : int(g.border[p]+1)*g.taps]
			count := 0
			for _, off := range row {
				if off >= 0 || (off == tapPad && includePad) {
					count++
				}
			}
			if count == 0 {
				continue
			}
			v := d / T(count)
			for _, off := range row {
				if off >= 0 {
					dxp[off] += v
				}
			}
		}
	}
}
