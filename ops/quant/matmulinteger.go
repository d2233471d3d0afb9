package quant

import (
	"github.com/onnxrun/onnxrun/ops"
)

// MatMulInteger is numpy.matmul of (A - a_zero_point) and (B - b_zero_point) with int32 results:
// https://onnx.ai/onnx/operators/onnx__MatMulInteger.html. Opset 10.
//
// Zero points are per tensor (one element), per row of A / per column of B (a vector), or N-D shaped like
// the input with K set to 1. Accumulation wraps around in 32 bits, as the spec permits.
func init() {
	ops.Register("", "MatMulInteger",
		// opset 10: the only version; int8 and uint8 inputs.
		ops.Since(10, buildMatMulInteger),
	)
}

type matMulIntegerOp struct{ opset int }

func buildMatMulInteger(n ops.NodeInfo) (ops.Op, error) {
	if n.NumInputs < 2 || n.NumInputs > 4 {
		return nil, ops.Invalidf("MatMulInteger takes 2 to 4 inputs, the node has %d", n.NumInputs)
	}
	return &matMulIntegerOp{opset: n.Opset}, nil
}

func (o *matMulIntegerOp) check(in []ops.ValueInfo) (*matMulIntegerKernel, error) {
	if err := ops.CheckInputCount(in, 2, 4); err != nil {
		return nil, err
	}
	for i, name := range []string{"A", "B", "a_zero_point", "b_zero_point"} {
		v := ops.Input(in, i)
		if !v.Present() {
			continue
		}
		if err := quant8.Check("MatMulInteger", o.opset, name, v.DType); err != nil {
			return nil, err
		}
		if i >= 2 && v.DType != in[i-2].DType {
			return nil, ops.Invalidf("MatMulInteger %s has dtype %s, its input %s: they must match", name, v.DType, in[i-2].DType)
		}
	}
	plan, err := newMMPlan("MatMulInteger", in[0].Shape, in[1].Shape)
	if err != nil {
		return nil, err
	}
	k := &matMulIntegerKernel{plan: plan}
	if zp := ops.Input(in, 2); zp.Present() {
		if k.azp, err = newSideParam("MatMulInteger", "a_zero_point", zp.Shape, in[0].Shape, true, plan); err != nil {
			return nil, err
		}
	}
	if zp := ops.Input(in, 3); zp.Present() {
		if k.bzp, err = newSideParam("MatMulInteger", "b_zero_point", zp.Shape, in[1].Shape, false, plan); err != nil {
			return nil, err
		}
	}
	return k, nil
}

func (o *matMulIntegerOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	k, err := o.check(in)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: ops.Int32, Shape: k.plan.out.Clone()}}, nil
}

func (o *matMulIntegerOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	k, err := o.check(in)
	if err != nil {
		return nil, err
	}
	k.fast = newIgemmMatMul(k.plan, in[0], in[1], k.azp, k.bzp)
	return k, nil
}

type matMulIntegerKernel struct {
	plan     *mmPlan
	azp, bzp sideParam
	fast     *igemmMatMul
}

// Run multiplies on the integer GEMM (every MatMulInteger type is 8-bit).
func (k *matMulIntegerKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	var aZero, bZero []byte
	if t := ops.TensorAt(in, 2); t != nil {
		aZero = bytesOf(t.Data())
	}
	if t := ops.TensorAt(in, 3); t != nil {
		bZero = bytesOf(t.Data())
	}
	k.fast.run(ctx, bytesOf(in[0].Data()), bytesOf(in[1].Data()), aZero, bZero, out[0].Int32s(), nil)
	return nil
}

// runReference is the element-by-element loop Run replaced, kept as the tests' twin.
func (k *matMulIntegerKernel) runReference(in, out []*ops.Tensor) {
	p := k.plan
	a, b, y := in[0].Data(), in[1].Data(), out[0].Int32s()
	azp, bzp := ops.TensorAt(in, 2), ops.TensorAt(in, 3)
	for bi := range p.aOff {
		ab, bb := p.aOff[bi], p.bOff[bi]
		for m := 0; m < p.m; m++ {
			var za int32
			if azp != nil {
				za = int32(load(azp.Data(), k.azp.index(ab, m)))
			}
			for n := 0; n < p.n; n++ {
				var zb int32
				if bzp != nil {
					zb = int32(load(bzp.Data(), k.bzp.index(bb, n)))
				}
				var acc int32
				for kk := 0; kk < p.k; kk++ {
					av := int32(load(a, (ab*p.m+m)*p.k+kk)) - za
					bv := int32(load(b, (bb*p.k+kk)*p.n+n)) - zb
					acc += av * bv
				}
				y[(bi*p.m+m)*p.n+n] = acc
			}
		}
	}
}
