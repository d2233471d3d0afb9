package quant

import (
	"github.com/onnxrun/onnxrun/ops"
)

// QLinearMatMul multiplies two quantized matrices and quantizes the product:
// y = saturate(round((a - a_zero_point)·(b - b_zero_point) · a_scale·b_scale / y_scale) + y_zero_point).
// https://onnx.ai/onnx/operators/onnx__QLinearMatMul.html. Opsets 10 and 21.
//
// The combined multiplier a_scale·b_scale/y_scale is formed in the scales' own precision (float16 scales give
// a float16 multiplier), as ONNX's reference does; the product itself is accumulated exactly.
func init() {
	ops.Register("", "QLinearMatMul",
		// opset 10: int8/uint8 with float32 scales.
		ops.Since(10, buildQLinearMatMul),
		// opset 21: float16/bfloat16 scales and float8 inputs and output.
		ops.Since(21, buildQLinearMatMul),
	)
}

type qLinearMatMulOp struct{ opset int }

func buildQLinearMatMul(n ops.NodeInfo) (ops.Op, error) {
	if n.NumInputs != 8 {
		return nil, ops.Invalidf("QLinearMatMul takes 8 inputs, the node has %d", n.NumInputs)
	}
	return &qLinearMatMulOp{opset: n.Opset}, nil
}

var qlmmNames = []string{"a", "a_scale", "a_zero_point", "b", "b_scale", "b_zero_point", "y_scale", "y_zero_point"}

func (o *qLinearMatMulOp) check(in []ops.ValueInfo) (*qLinearMatMulKernel, error) {
	if err := ops.CheckInputCount(in, 8, 8); err != nil {
		return nil, err
	}
	qt, st := quant8, ops.DTypes(ops.Float32)
	if o.opset >= 21 {
		qt, st = quantF8, ops.DTypes(ops.Float32, ops.Float16, ops.BFloat16)
	}
	for i, name := range qlmmNames {
		set := qt
		if i == 1 || i == 4 || i == 6 {
			set = st
		}
		if err := set.Check("QLinearMatMul", o.opset, name, in[i].DType); err != nil {
			return nil, err
		}
	}
	for _, pair := range [][2]int{{0, 2}, {3, 5}, {1, 4}, {1, 6}} {
		if in[pair[0]].DType != in[pair[1]].DType {
			return nil, ops.Invalidf("QLinearMatMul %s has dtype %s, %s %s: they must match",
				qlmmNames[pair[1]], in[pair[1]].DType, qlmmNames[pair[0]], in[pair[0]].DType)
		}
	}
	if in[7].Shape.Size() != 1 || in[6].Shape.Size() != 1 {
		return nil, ops.Invalidf("QLinearMatMul y_scale %v and y_zero_point %v must be single values", in[6].Shape, in[7].Shape)
	}
	plan, err := newMMPlan("QLinearMatMul", in[0].Shape, in[3].Shape)
	if err != nil {
		return nil, err
	}
	k := &qLinearMatMulKernel{plan: plan, scaleType: in[1].DType}
	for _, s := range []struct {
		idx  int
		isA  bool
		dest *sideParam
	}{{1, true, &k.as}, {2, true, &k.azp}, {4, false, &k.bs}, {5, false, &k.bzp}} {
		x := in[0].Shape
		if !s.isA {
			x = in[3].Shape
		}
		if *s.dest, err = newSideParam("QLinearMatMul", qlmmNames[s.idx], in[s.idx].Shape, x, s.isA, plan); err != nil {
			return nil, err
		}
	}
	return k, nil
}

func (o *qLinearMatMulOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	k, err := o.check(in)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: in[7].DType, Shape: k.plan.out.Clone()}}, nil
}

func (o *qLinearMatMulOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	k, err := o.check(in)
	if err != nil {
		return nil, err
	}
	if quant8.Has(in[0].DType) && quant8.Has(in[3].DType) && quant8.Has(in[7].DType) && in[1].DType == ops.Float32 {
		k.fast = newIgemmMatMul(k.plan, in[0], in[3], k.azp, k.bzp)
	}
	return k, nil
}

type qLinearMatMulKernel struct {
	plan             *mmPlan
	as, azp, bs, bzp sideParam
	scaleType        ops.DType
	fast             *igemmMatMul // 8-bit operands and output with float32 scales; nil otherwise
}

// Run multiplies 8-bit operands with float32 scales on the integer GEMM, requantising in its epilogue
// (the multiplier a_scale*b_scale/y_scale in float32, the product rounded to float32, then half to
// even, as ONNX Runtime does); the float8 types and float16/bfloat16 scales run the reference loop.
func (k *qLinearMatMulKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	if k.fast == nil {
		k.runReference(in, out)
		return nil
	}
	rq := requantArgs{aScale: in[1].Float32s(), bScale: in[4].Float32s(), as: k.as, bs: k.bs,
		yScale: in[6].Float32s()[0], yZero: int32(load(in[7].Data(), 0)), ySigned: in[7].DType() == ops.Int8,
		y: bytesOf(out[0].Data())}
	k.fast.run(ctx, bytesOf(in[0].Data()), bytesOf(in[3].Data()), bytesOf(in[2].Data()), bytesOf(in[5].Data()), nil, &rq)
	return nil
}

// runReference is the element-by-element loop of every type, and the tests' twin of the fast path.
func (k *qLinearMatMulKernel) runReference(in, out []*ops.Tensor) {
	p := k.plan
	a, aScale, aZP := in[0].Data(), in[1].Data(), in[2].Data()
	b, bScale, bZP := in[3].Data(), in[4].Data(), in[5].Data()
	yScale := float32(load(in[6].Data(), 0))
	yZP := load(in[7].Data(), 0)
	y := out[0].Data()
	for bi := range p.aOff {
		ab, bb := p.aOff[bi], p.bOff[bi]
		for m := 0; m < p.m; m++ {
			za := load(aZP, k.azp.index(ab, m))
			sa := float32(load(aScale, k.as.index(ab, m)))
			for n := 0; n < p.n; n++ {
				zb := load(bZP, k.bzp.index(bb, n))
				sb := float32(load(bScale, k.bs.index(bb, n)))
				acc := 0.0
				for kk := 0; kk < p.k; kk++ {
					acc += (load(a, (ab*p.m+m)*p.k+kk) - za) * (load(b, (bb*p.k+kk)*p.n+n) - zb)
				}
				mult := roundTo(k.scaleType, roundTo(k.scaleType, sa*sb)/yScale)
				storeQuantized(y, (bi*p.m+m)*p.n+n, acc*float64(mult), yZP, true)
			}
		}
	}
}
