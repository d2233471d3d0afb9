package quant

import (
	"strconv"

	"github.com/onnxrun/onnxrun/ops"
)

// QuantizeLinear computes y = saturate(round(x / y_scale) + y_zero_point):
// https://onnx.ai/onnx/operators/onnx__QuantizeLinear.html. Opsets 10, 13, 19, 21, 23, 24 and 25.
func init() {
	ops.Register("", "QuantizeLinear",
		// opset 10: per-tensor uint8/int8 from float32 or int32.
		ops.Since(10, buildQuantizeLinear),
		// opset 13: the axis attribute (per-axis scales).
		ops.Since(13, buildQuantizeLinear),
		// opset 19: float8 outputs, the saturate attribute, float16/bfloat16 inputs and scales.
		ops.Since(19, buildQuantizeLinear),
		// opset 21: int16/uint16/int4/uint4 outputs, blocked quantization (block_size), output_dtype.
		ops.Since(21, buildQuantizeLinear),
		// opset 23: float4e2m1 output, the precision attribute.
		ops.Since(23, buildQuantizeLinear),
		// opset 24: float8e8m0 scales.
		ops.Since(24, buildQuantizeLinear),
		// opset 25: int2/uint2 outputs.
		ops.Since(25, buildQuantizeLinear),
	)
}

type quantizeOp struct {
	opset       int
	axis        int64
	blockSize   int64
	outputDType ops.DType
	precision   ops.DType
	saturate    bool
}

func buildQuantizeLinear(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	o := &quantizeOp{opset: n.Opset, axis: r.Int("axis", 1), blockSize: r.Int("block_size", 0),
		outputDType: ops.DType(uint8(r.Int("output_dtype", 0))), precision: ops.DType(uint8(r.Int("precision", 0))),
		saturate: r.Int("saturate", 1) != 0}
	if err := r.Err(); err != nil {
		return nil, err
	}
	if o.blockSize < 0 {
		return nil, &ops.AttrError{Name: "block_size", Msg: "must be >= 0, is " + itoa(o.blockSize)}
	}
	if o.outputDType != ops.Undefined && !quantTypesAt(n.Opset).Has(o.outputDType) {
		return nil, &ops.AttrError{Name: "output_dtype", Msg: "is " + o.outputDType.String() + ", opset " +
			itoa(int64(n.Opset)) + " allows " + quantTypesAt(n.Opset).String()}
	}
	if o.precision != ops.Undefined && !ops.DTypes(ops.Float32, ops.Float16, ops.BFloat16).Has(o.precision) {
		return nil, &ops.AttrError{Name: "precision", Msg: "is " + o.precision.String() + ", want float, float16 or bfloat16"}
	}
	return o, nil
}

func (o *quantizeOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if _, err := o.check(in); err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: o.outType(in), Shape: in[0].Shape.Clone()}}, nil
}

func (o *quantizeOp) outType(in []ops.ValueInfo) ops.DType {
	if zp := ops.Input(in, 2); zp.Present() {
		return zp.DType
	}
	if o.outputDType != ops.Undefined {
		return o.outputDType
	}
	return ops.Uint8
}

func (o *quantizeOp) check(in []ops.ValueInfo) (*granularity, error) {
	if err := ops.CheckInputCount(in, 2, 3); err != nil {
		return nil, err
	}
	xTypes := ops.DTypes(ops.Float32, ops.Int32)
	if o.opset >= 19 {
		xTypes = xTypes.With(ops.Float16, ops.BFloat16)
	}
	if err := xTypes.Check("QuantizeLinear", o.opset, "x", in[0].DType); err != nil {
		return nil, err
	}
	if err := scaleTypesAt(o.opset).With(ops.Int32).Check("QuantizeLinear", o.opset, "y_scale", in[1].DType); err != nil {
		return nil, err
	}
	zp := ops.Input(in, 2)
	if zp.Present() {
		if err := quantTypesAt(o.opset).Check("QuantizeLinear", o.opset, "y_zero_point", zp.DType); err != nil {
			return nil, err
		}
		if o.outputDType != ops.Undefined && o.outputDType != zp.DType {
			return nil, ops.Invalidf("QuantizeLinear output_dtype %s differs from y_zero_point's dtype %s", o.outputDType, zp.DType)
		}
		if !sameScaleShape(zp.Shape, in[1].Shape) {
			return nil, ops.Invalidf("QuantizeLinear y_zero_point has shape %v, y_scale %v: they must match", zp.Shape, in[1].Shape)
		}
	}
	axis := o.axis
	if o.opset < 13 {
		axis = 1
	}
	return newGranularity("QuantizeLinear", in[0].Shape, in[1].Shape, axis, o.blockSize)
}

func (o *quantizeOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	g, err := o.check(in)
	if err != nil {
		return nil, err
	}
	precision := o.precision
	if precision == ops.Undefined {
		precision = in[1].DType
	}
	if fast8(in[0].DType, in[1].DType, o.outType(in), g) && precision == ops.Float32 {
		return &convert8Kernel{g: g, quantize: true, signed: o.outType(in) == ops.Int8}, nil
	}
	return &quantizeKernel{g: g, saturate: o.saturate, precision: precision}, nil
}

type quantizeKernel struct {
	g         *granularity
	saturate  bool
	precision ops.DType // the type the division x / scale is done in
}

func (k *quantizeKernel) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
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
				zp := 0.0
				if zpData != nil {
					zp = load(zpData, si)
				}
				v := roundTo(k.precision, roundTo(k.precision, float32(load(x, idx)))/roundTo(k.precision, float32(load(scale, si))))
				storeQuantized(y, idx, float64(v), zp, k.saturate)
				idx++
			}
		}
	}
	return nil
}

// itoa formats v in decimal.
func itoa(v int64) string { return strconv.FormatInt(v, 10) }
