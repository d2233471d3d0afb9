package quant

import (
	"github.com/onnxrun/onnxrun/ops"
)

// MatMulIntegerToFloat is ONNX Runtime's MatMulInteger followed by its dequantisation (com.microsoft, opset
// 1), which its dynamic quantizer writes for MatMul nodes:
//
//	acc = Σ_p (A[..][i][p] - a_zero_point) · (B[..][p][j] - b_zero_point[j])   (int32, exact)
//	Y[..][i][j] = float32(acc) · (a_scale·b_scale[j]) + bias[j]
//
// with numpy.matmul's batch broadcasting. Inputs: A (uint8/int8), B (uint8/int8), a_scale (float32, one
// value), b_scale (float32: one value, [N], or B's shape with K set to 1), a_zero_point (optional, A's type,
// one value), b_zero_point (optional, B's type, shaped as b_scale allows), bias (optional float32 [N]).
// Output float32 (ONNX Runtime's CPU kernel has no float16 variant either).
//
// The multiplier a_scale·b_scale is formed in float32 and the int32 sum converted to float32 before it is
// scaled, as ONNX Runtime's output processor does.
func init() {
	ops.Register(ops.MicrosoftDomain, "MatMulIntegerToFloat",
		// opset 1: the only version of the contrib operator.
		ops.Since(1, buildMatMulIntegerToFloat),
	)
}

type matMulIntegerToFloatOp struct{ opset int }

func buildMatMulIntegerToFloat(n ops.NodeInfo) (ops.Op, error) {
	if n.NumInputs < 4 || n.NumInputs > 7 {
		return nil, ops.Invalidf("MatMulIntegerToFloat takes 4 to 7 inputs, the node has %d", n.NumInputs)
	}
	return &matMulIntegerToFloatOp{opset: n.Opset}, nil
}

var mmitfNames = []string{"A", "B", "a_scale", "b_scale", "a_zero_point", "b_zero_point", "bias"}

func (o *matMulIntegerToFloatOp) check(in []ops.ValueInfo) (*intToFloatKernel, error) {
	const op = "MatMulIntegerToFloat"
	if err := ops.CheckInputCount(in, 4, 7); err != nil {
		return nil, err
	}
	for i, name := range mmitfNames {
		v := ops.Input(in, i)
		if !v.Present() {
			continue
		}
		set := quant8
		if i == 2 || i == 3 || i == 6 {
			set = ops.DTypes(ops.Float32)
		}
		if err := set.Check(op, o.opset, name, v.DType); err != nil {
			return nil, err
		}
		if i == 4 || i == 5 {
			if x := in[i-4]; v.DType != x.DType {
				return nil, ops.Invalidf("%s %s has dtype %s, %s is %s: they must match", op, name, v.DType, mmitfNames[i-4], x.DType)
			}
		}
	}
	if in[2].Shape.Size() != 1 {
		return nil, ops.Invalidf("%s a_scale has shape %v, want a single value (A is quantized per tensor)", op, in[2].Shape)
	}
	if zp := ops.Input(in, 4); zp.Present() && zp.Shape.Size() != 1 {
		return nil, ops.Invalidf("%s a_zero_point has shape %v, want a single value (A is quantized per tensor)", op, zp.Shape)
	}
	return newIntToFloatKernel(op, in[0].Shape, in[1].Shape, in[3].Shape, ops.Input(in, 5), ops.Input(in, 6))
}

func (o *matMulIntegerToFloatOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	k, err := o.check(in)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: ops.Float32, Shape: k.plan.out.Clone()}}, nil
}

func (o *matMulIntegerToFloatOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	k, err := o.check(in)
	if err != nil {
		return nil, err
	}
	return &matMulIntegerToFloatKernel{k}, nil
}

type matMulIntegerToFloatKernel struct{ *intToFloatKernel }

func (k *matMulIntegerToFloatKernel) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	k.run(int8Tensor(in[0], 0, 0, 1), scalarZeroPoint(ops.TensorAt(in, 4)), in[2].Float32s()[0],
		in[1], in[3].Float32s(), ops.TensorAt(in, 5), ops.TensorAt(in, 6), out[0].Float32s())
	return nil
}

// intToFloatKernel is the product both MatMulIntegerToFloat and DynamicQuantizeMatMul end in: A quantized
// per tensor, B per tensor or per column, a float32 output scaled by a_scale·b_scale[j] plus a bias.
type intToFloatKernel struct {
	plan    *mmPlan
	bs, bzp sideParam
}

// newIntToFloatKernel checks the shapes of A, B, b_scale, b_zero_point (may be absent) and bias (may be
// absent) for operator op.
func newIntToFloatKernel(op string, a, b, bScale ops.Shape, bzp, bias ops.ValueInfo) (*intToFloatKernel, error) {
	plan, err := newMMPlan(op, a, b)
	if err != nil {
		return nil, err
	}
	k := &intToFloatKernel{plan: plan}
	if k.bs, err = newSideParam(op, "b_scale", bScale, b, false, plan); err != nil {
		return nil, err
	}
	if bzp.Present() {
		if k.bzp, err = newSideParam(op, "b_zero_point", bzp.Shape, b, false, plan); err != nil {
			return nil, err
		}
	}
	if bias.Present() && !(len(bias.Shape) == 1 && bias.Shape[0] == plan.n) {
		return nil, ops.Invalidf("%s bias has shape %v, want [%d] (N)", op, bias.Shape, plan.n)
	}
	return k, nil
}

func (k *intToFloatKernel) FLOPs() int64 {
	p := k.plan
	return int64(len(p.aOff)) * int64(p.m) * int64(p.n) * int64(p.k)
}

// run computes every batch of the product into y; a is A's whole data (its offset and row stride are set
// here), bzp and bias may be nil.
func (k *intToFloatKernel) run(a int8Matrix, za int32, aScale float32, b *ops.Tensor, bScale []float32, bzp, bias *ops.Tensor, y []float32) {
	p := k.plan
	var biasData []float32
	if bias != nil {
		biasData = bias.Float32s()
	}
	for bi := range p.aOff {
		ab, bb := p.aOff[bi], p.bOff[bi]
		c := y[bi*p.m*p.n : (bi+1)*p.m*p.n]
		a.off, a.rowStride = ab*p.m*p.k, p.k
		zb := int8ZeroPoint{t: bzp, off: k.bzp.index(bb, 0), perCol: k.bzp.kind != 0}
		int8ProductToFloat(p.m, p.n, p.k, a, za, int8Tensor(b, bb*p.k*p.n, p.n, 1), zb, int8Bias{}, c, p.n)
		for i := 0; i < p.m; i++ {
			row := c[i*p.n : (i+1)*p.n]
			for j := range row {
				row[j] *= aScale * bScale[k.bs.index(bb, j)]
				if biasData != nil {
					row[j] += biasData[j]
				}
			}
		}
	}
}
