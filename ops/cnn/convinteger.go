package cnn

// ConvInteger: https://onnx.ai/onnx/operators/onnx__ConvInteger.html, opset 10.

import (
	"github.com/onnxrun/onnxrun/ops"
)

func init() {
	ops.Register("", "ConvInteger", ops.Since(10, buildConvInteger))
}

// convIntegerOp is Conv over 8-bit integers with zero points, accumulating in int32.
type convIntegerOp struct{ conv convOp }

func buildConvInteger(n ops.NodeInfo) (ops.Op, error) {
	op, err := buildConv(n)
	if err != nil {
		return nil, err
	}
	return &convIntegerOp{conv: *op.(*convOp)}, nil
}

func isInt8Type(dt ops.DType) bool { return dt == ops.Int8 || dt == ops.Uint8 }

// shape checks x, w (int8 or uint8), x_zero_point (a scalar of x's type) and w_zero_point (a scalar or one
// value per output channel, of w's type).
func (op *convIntegerOp) shape(in []ops.ValueInfo) (convShape, error) {
	if err := ops.CheckInputCount(in, 2, 4); err != nil {
		return convShape{}, err
	}
	s, err := op.conv.quantGeometry(in[0], in[1])
	if err != nil {
		return s, err
	}
	if zp := ops.Input(in, 2); zp.Present() {
		if err := checkTensorParam("x_zero_point", zp, in[0].DType); err != nil {
			return s, err
		}
	}
	if zp := ops.Input(in, 3); zp.Present() {
		if err := checkChannelParam("w_zero_point", zp, in[1].DType, s.outC); err != nil {
			return s, err
		}
	}
	return s, nil
}

// quantGeometry checks a quantized convolution's data x and weights w (int8 or uint8 each) and resolves
// the window as Conv does.
func (op *convOp) quantGeometry(x, w ops.ValueInfo) (convShape, error) {
	if !isInt8Type(x.DType) {
		return convShape{}, ops.Invalidf("x has dtype %s, want int8 or uint8", x.DType)
	}
	if !isInt8Type(w.DType) {
		return convShape{}, ops.Invalidf("w has dtype %s, want int8 or uint8", w.DType)
	}
	return op.geometry(x.Shape, w.Shape)
}

// checkTensorParam checks a per-tensor scale or zero point: a single value of dtype want.
func checkTensorParam(name string, v ops.ValueInfo, want ops.DType) error {
	if v.DType != want || v.Shape.Size() != 1 {
		return ops.Invalidf("%s is %s%v, want a %s scalar", name, v.DType, v.Shape, want)
	}
	return nil
}

// checkChannelParam checks a weight scale or zero point: a single value, or one per output channel, of
// dtype want.
func checkChannelParam(name string, v ops.ValueInfo, want ops.DType, outC int) error {
	perTensor := v.Shape.Size() == 1
	perChannel := len(v.Shape) == 1 && v.Shape[0] == outC
	if v.DType != want || !(perTensor || perChannel) {
		return ops.Invalidf("%s is %s%v, want a %s scalar or [%d] (one per output channel)", name, v.DType, v.Shape, want, outC)
	}
	return nil
}

func (op *convIntegerOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: ops.Int32, Shape: s.outShape}}, nil
}

func (op *convIntegerOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	return newQconvKernel(s, in, 0, 1, ops.Int32, false), nil
}

// convIntegerKernel is the reference loop the fast kernel (qconv_fast.go) is tested against.
type convIntegerKernel struct {
	s convShape
	g *gather
}

// FLOPs counts multiply-adds.
func (k *convIntegerKernel) FLOPs() int64 {
	return k.s.multiplyAdds()
}

func (k *convIntegerKernel) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	xzp, wzp := ops.TensorAt(in, 2), ops.TensorAt(in, 3)
	y := out[0].Int32s()
	switch x := in[0].Data().(type) {
	case []uint8:
		switch w := in[1].Data().(type) {
		case []uint8:
			convIntegerDirect(&k.s, k.g, x, w, xzp, wzp, y)
		case []int8:
			convIntegerDirect(&k.s, k.g, x, w, xzp, wzp, y)
		}
	case []int8:
		switch w := in[1].Data().(type) {
		case []uint8:
			convIntegerDirect(&k.s, k.g, x, w, xzp, wzp, y)
		case []int8:
			convIntegerDirect(&k.s, k.g, x, w, xzp, wzp, y)
		}
	}
	return nil
}

// zeroPoint reads element i of an 8-bit zero-point tensor (0 when absent; a scalar serves every i).
func zeroPoint(t *ops.Tensor, i int) int32 {
	if t == nil {
		return 0
	}
	if t.Len() == 1 {
		i = 0
	}
	switch d := t.Data().(type) {
	case []uint8:
		return int32(d[i])
	case []int8:
		return int32(d[i])
	}
	return 0
}

// convIntegerDirect is convDirect over integers:
//
//	y[n, m, p] = Σ_c Σ_t (w[m, c, t] - w_zero_point[m]) · (x[n, c, cell(p, t)] - x_zero_point)
//
// in int32. Padding holds x_zero_point, so it contributes nothing.
func convIntegerDirect[X, W int8 | uint8](s *convShape, g *gather, x []X, w []W, xZero, wZero *ops.Tensor, y []int32) {
	kc := s.groupInC * s.taps
	xzp := zeroPoint(xZero, 0)
	for n := 0; n < s.batch; n++ {
		for m := 0; m < s.outC; m++ {
			grp := m / s.groupOutC
			wzp := zeroPoint(wZero, m)
			xg := x[(n*s.inC+grp*s.groupInC)*s.inSize:]
			wm := w[m*kc : (m+1)*kc]
			ym := y[(n*s.outC+m)*s.outSize : (n*s.outC+m+1)*s.outSize]
			for p := range ym {
				var sum int32
				if r := g.border[p]; r < 0 {
					base := int(g.origin[p])
					for c := 0; c < s.groupInC; c++ {
						xc := xg[c*s.inSize+base:]
						wc := wm[c*s.taps : (c+1)*s.taps]
						for t, off := range g.tapOffset {
							sum += (int32(wc[t]) - wzp) * (int32(xc[off]) - xzp)
						}
					}
				} else {
					row := g.borderTaps[int(r)*g.taps : int(r+1)*g.taps]
					for c := 0; c < s.groupInC; c++ {
						xc := xg[c*s.inSize : (c+1)*s.inSize]
						wc := wm[c*s.taps : (c+1)*s.taps]
						for t, off := range row {
							if off >= 0 {
								sum += (int32(wc[t]) - wzp) * (int32(xc[off]) - xzp)
							}
						}
					}
				}
				ym[p] = sum
			}
		}
	}
}
