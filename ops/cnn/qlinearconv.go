package cnn

// QLinearConv: https://onnx.ai/onnx/operators/onnx__QLinearConv.html, opset 10 (its only version).

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

func init() {
	ops.Register("", "QLinearConv", ops.Since(10, buildQLinearConv))
}

// qLinearConvOp is Conv over quantized tensors: the int32 accumulator of ConvInteger plus the optional int32
// bias B, requantized to y's type with the multiplier x_scale·w_scale[m]/y_scale.
type qLinearConvOp struct{ conv convOp }

func buildQLinearConv(n ops.NodeInfo) (ops.Op, error) {
	if n.NumInputs < 8 || n.NumInputs > 9 {
		return nil, ops.Invalidf("QLinearConv takes 8 or 9 inputs, the node has %d", n.NumInputs)
	}
	op, err := buildConv(n)
	if err != nil {
		return nil, err
	}
	return &qLinearConvOp{conv: *op.(*convOp)}, nil
}

// The inputs of QLinearConv, by position.
const (
	qcX = iota
	qcXScale
	qcXZero
	qcW
	qcWScale
	qcWZero
	qcYScale
	qcYZero
	qcBias
)

// shape checks the nine inputs: x and w (int8 or uint8) with float32 scales and zero points of their own
// type (per tensor for x and y, per tensor or per output channel for w), y_zero_point giving y's type, and
// the optional int32 bias B of M values.
func (op *qLinearConvOp) shape(in []ops.ValueInfo) (convShape, error) {
	if err := ops.CheckInputCount(in, 8, 9); err != nil {
		return convShape{}, err
	}
	s, err := op.conv.quantGeometry(in[qcX], in[qcW])
	if err != nil {
		return s, err
	}
	yType := in[qcYZero].DType
	if !isInt8Type(yType) {
		return s, ops.Invalidf("y_zero_point has dtype %s, want int8 or uint8 (it gives y's type)", yType)
	}
	checks := []error{
		checkTensorParam("x_scale", in[qcXScale], ops.Float32),
		checkTensorParam("x_zero_point", in[qcXZero], in[qcX].DType),
		checkChannelParam("w_scale", in[qcWScale], ops.Float32, s.outC),
		checkChannelParam("w_zero_point", in[qcWZero], in[qcW].DType, s.outC),
		checkTensorParam("y_scale", in[qcYScale], ops.Float32),
		checkTensorParam("y_zero_point", in[qcYZero], yType),
	}
	for _, err := range checks {
		if err != nil {
			return s, err
		}
	}
	if b := ops.Input(in, qcBias); b.Present() {
		if b.DType != ops.Int32 || len(b.Shape) != 1 || b.Shape[0] != s.outC {
			return s, ops.Invalidf("B is %s%v, want int32 [%d] (one per output channel)", b.DType, b.Shape, s.outC)
		}
	}
	return s, nil
}

func (op *qLinearConvOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: in[qcYZero].DType, Shape: s.outShape}}, nil
}

func (op *qLinearConvOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	return newQconvKernel(s, in, qcX, qcW, in[qcYZero].DType, true), nil
}

// qLinearConvKernel is QLinearConv's reference loop, which the fast kernel (qconv_fast.go) is tested
// against: the int32 accumulators of the whole output in scratch, then the requantisation.
type qLinearConvKernel struct {
	s convShape
	g *gather
}

// ScratchSize is room for the int32 accumulators of the whole output.
func (k *qLinearConvKernel) ScratchSize() int { return k.s.batch * k.s.outC * k.s.outSize }

// FLOPs counts multiply-adds.
func (k *qLinearConvKernel) FLOPs() int64 {
	return k.s.multiplyAdds()
}

func (k *qLinearConvKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	s := &k.s
	acc := ops.Int32View(ctx.Scratch, k.ScratchSize())
	convIntegerByType(s, k.g, in[qcX], in[qcW], in[qcXZero], in[qcWZero], acc)
	xScale, yScale := in[qcXScale].Float32s()[0], in[qcYScale].Float32s()[0]
	wScale := in[qcWScale].Float32s()
	var bias []int32
	if b := ops.TensorAt(in, qcBias); b != nil {
		bias = b.Int32s()
	}
	yZero := zeroPoint(in[qcYZero], 0)
	for n := 0; n < s.batch; n++ {
		for m := 0; m < s.outC; m++ {
			var b int32
			if bias != nil {
				b = bias[m]
			}
			mult := requantMultiplier(xScale, wScale[min(m, len(wScale)-1)], yScale)
			plane := (n*s.outC + m) * s.outSize
			a := acc[plane : plane+s.outSize]
			switch y := out[0].Data().(type) {
			case []uint8:
				requantize(y[plane:plane+s.outSize], a, b, mult, yZero)
			case []int8:
				requantize(y[plane:plane+s.outSize], a, b, mult, yZero)
			}
		}
	}
	return nil
}

// convIntegerByType runs convIntegerDirect on x and w of any 8-bit type pair.
func convIntegerByType(s *convShape, g *gather, x, w, xZero, wZero *ops.Tensor, acc []int32) {
	switch xd := x.Data().(type) {
	case []uint8:
		switch wd := w.Data().(type) {
		case []uint8:
			convIntegerDirect(s, g, xd, wd, xZero, wZero, acc)
		case []int8:
			convIntegerDirect(s, g, xd, wd, xZero, wZero, acc)
		}
	case []int8:
		switch wd := w.Data().(type) {
		case []uint8:
			convIntegerDirect(s, g, xd, wd, xZero, wZero, acc)
		case []int8:
			convIntegerDirect(s, g, xd, wd, xZero, wZero, acc)
		}
	}
}

// requantMultiplier is x_scale·w_scale/y_scale in float32, in that order, as ONNX Runtime computes its
// output scales.
func requantMultiplier(xScale, wScale, yScale float32) float32 { return xScale * wScale / yScale }

// requantize writes
//
//	y[i] = saturate(round_half_to_even(float32(acc[i] + bias) · mult) + yZero)
//
// The product is rounded to float32 before rounding to an integer, as ONNX Runtime's requantisation does
// (MlasRequantizeOutput); a NaN product (a zero or NaN scale) gives yZero.
func requantize[Y int8 | uint8](y []Y, acc []int32, bias int32, mult float32, yZero int32) {
	lo, hi := float64(math.MinInt8), float64(math.MaxInt8)
	var unsigned Y = ^Y(0) // all ones: 255 for uint8, -1 for int8
	if unsigned > 0 {
		lo, hi = 0, math.MaxUint8
	}
	zy := float64(yZero)
	for i, a := range acc {
		r := math.RoundToEven(float64(float32(a+bias) * mult))
		if r != r {
			r = 0
		}
		y[i] = Y(max(lo, min(hi, r+zy)))
	}
}
