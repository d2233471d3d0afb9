package quant

import (
	"github.com/onnxrun/onnxrun/ops"
)

// DequantizeLinear computes y = (x - x_zero_point) * x_scale:
// https://onnx.ai/onnx/operators/onnx__DequantizeLinear.html. Opsets 10, 13, 19, 21, 23, 24 and 25.
func init() {
	ops.Register("", "DequantizeLinear",
		// opset 10: per-tensor int8/uint8/int32 to float32.
		ops.Since(10, buildDequantizeLinear),
		// opset 13: the axis attribute (per-axis scales).
		ops.Since(13, buildDequantizeLinear),
		// opset 19: float8 inputs, float16/bfloat16 scales (and outputs).
		ops.Since(19, buildDequantizeLinear),
		// opset 21: int16/uint16/int4/uint4 inputs, blocked quantization (block_size).
		ops.Since(21, buildDequantizeLinear),
		// opset 23: float4e2m1 input, output_dtype.
		ops.Since(23, buildDequantizeLinear),
		// opset 24: float8e8m0 scales.
		ops.Since(24, buildDequantizeLinear),
		// opset 25: int2/uint2 inputs.
		ops.Since(25, buildDequantizeLinear),
	)
}

type dequantizeOp struct {
	opset       int
	axis        int64
	blockSize   int64
	outputDType ops.DType
}

var dequantOutTypes = ops.DTypes(ops.Float32, ops.Float16, ops.BFloat16)

func buildDequantizeLinear(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	o := &dequantizeOp{opset: n.Opset, axis: r.Int("axis", 1), blockSize: r.Int("block_size", 0),
		outputDType: ops.DType(uint8(r.Int("output_dtype", 0)))}
	if err := r.Err(); err != nil {
		return nil, err
	}
	if o.blockSize < 0 {
		return nil, &ops.AttrError{Name: "block_size", Msg: "must be >= 0, is " + itoa(o.blockSize)}
	}
	if o.outputDType != ops.Undefined && !dequantOutTypes.Has(o.outputDType) {
		return nil, &ops.AttrError{Name: "output_dtype", Msg: "is " + o.outputDType.String() + ", want float, float16 or bfloat16"}
	}
	return o, nil
}

func (o *dequantizeOp) outType(in []ops.ValueInfo) ops.DType {
	if o.outputDType != ops.Undefined {
		return o.outputDType
	}
	if in[1].DType == ops.Float8E8M0 {
		return ops.Float32
	}
	return in[1].DType
}

func (o *dequantizeOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if _, err := o.check(in); err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: o.outType(in), Shape: in[0].Shape.Clone()}}, nil
}

func (o *dequantizeOp) check(in []ops.ValueInfo) (*granularity, error) {
	if err := ops.CheckInputCount(in, 2, 3); err != nil {
		return nil, err
	}
	if err := quantTypesAt(o.opset).With(ops.Int32).Check("DequantizeLinear", o.opset, "x", in[0].DType); err != nil {
		return nil, err
	}
	if err := scaleTypesAt(o.opset).Check("DequantizeLinear", o.opset, "x_scale", in[1].DType); err != nil {
		return nil, err
	}
	if zp := ops.Input(in, 2); zp.Present() {
		if zp.DType != in[0].DType {
			return nil, ops.Invalidf("DequantizeLinear x_zero_point has dtype %s, x %s: they must match", zp.DType, in[0].DType)
		}
		if !sameScaleShape(zp.Shape, in[1].Shape) {
			return nil, ops.Invalidf("DequantizeLinear x_zero_point has shape %v, x_scale %v: they must match", zp.Shape, in[1].Shape)
		}
	}
	axis := o.axis
	if o.opset < 13 {
		axis = 1
	}
	return newGranularity("DequantizeLinear", in[0].Shape, in[1].Shape, axis, o.blockSize)
}

func (o *dequantizeOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	g, err := o.check(in)
	if err != nil {
		return nil, err
	}
	if fast8(o.outType(in), in[1].DType, in[0].DType, g) {
		return &convert8Kernel{g: g, signed: in[0].DType == ops.Int8}, nil
	}
	return &dequantizeKernel{g: g}, nil
}

type dequantizeKernel struct{ g *granularity }

func (k *dequantizeKernel) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	x, scale, y := in[0].Data(), in[1].Data(), out[0].Data()
	var zpData any
	if zp := ops.TensorAt(in, 2); zp != nil {
		zpData = zp.Data()
	}
	g := k.g
	idx := 0
	for o := 0; o < g.outer; o++ {
		for d := 0; d < g.dim; d++ {
			for i := 0; i < g.inner; i++ {
				si := g.scaleIndex(o, d, i)
				v := load(x, idx)
				if zpData != nil {
					v -= load(zpData, si)
				}
				storeFloat(y, idx, float32(v)*float32(load(scale, si)))
				idx++
			}
		}
	}
	return nil
}
