package quant

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// DynamicQuantizeLinear quantizes a float32 tensor to uint8 with a scale and zero point computed from its
// own range (widened to include 0): https://onnx.ai/onnx/operators/onnx__DynamicQuantizeLinear.html.
// Opset 11. Outputs y, y_scale and y_zero_point. An all-zero input gets scale 0, zero point 0 and y = 0.
func init() {
	ops.Register("", "DynamicQuantizeLinear",
		// opset 11: the only version.
		ops.Since(11, buildDynamicQuantizeLinear),
	)
}

type dynamicQuantizeOp struct{ opset int }

func buildDynamicQuantizeLinear(n ops.NodeInfo) (ops.Op, error) {
	if n.NumInputs != 1 {
		return nil, ops.Invalidf("DynamicQuantizeLinear takes 1 input, the node has %d", n.NumInputs)
	}
	if n.NumOutputs != 3 {
		return nil, ops.Invalidf("DynamicQuantizeLinear has 3 outputs (y, y_scale, y_zero_point), the node declares %d", n.NumOutputs)
	}
	return &dynamicQuantizeOp{opset: n.Opset}, nil
}

func (o *dynamicQuantizeOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	if err := ops.DTypes(ops.Float32).Check("DynamicQuantizeLinear", o.opset, "x", in[0].DType); err != nil {
		return nil, err
	}
	return []ops.ValueInfo{
		{DType: ops.Uint8, Shape: in[0].Shape.Clone()},
		{DType: ops.Float32, Shape: ops.Shape{}},
		{DType: ops.Uint8, Shape: ops.Shape{}},
	}, nil
}

func (o *dynamicQuantizeOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	if _, err := o.InferShapes(in); err != nil {
		return nil, err
	}
	return ops.KernelFunc(runDynamicQuantize), nil
}

func runDynamicQuantize(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	scale, zp := quantizeDynamicU8(in[0].Float32s(), ops.Data[uint8](out[0]))
	out[1].Float32s()[0] = scale
	ops.Data[uint8](out[2])[0] = zp
	return nil
}

// quantizeDynamicU8 is DynamicQuantizeLinear on x into y (of x's length): it returns the scale and zero point
// it chose. DynamicQuantizeMatMul quantizes its float input with it.
func quantizeDynamicU8(x []float32, y []uint8) (scale float32, zeroPoint uint8) {
	var lo, hi float32 // the range always includes 0
	for _, v := range x {
		lo, hi = min(lo, v), max(hi, v)
	}
	scale = (hi - lo) / 255
	var zp float32
	if scale != 0 {
		zp = float32(math.RoundToEven(float64(max(0, min(255, -lo/scale)))))
	}
	for i, v := range x {
		q := 0.0
		if scale != 0 {
			q = math.RoundToEven(float64(v/scale)) + float64(zp)
		}
		y[i] = uint8(max(0, min(255, q)))
	}
	return scale, uint8(zp)
}
