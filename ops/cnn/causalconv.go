package cnn

// CausalConvWithState: https://onnx.ai/onnx/operators/onnx__CausalConvWithState.html, opset 27.

import (
	"fmt"
	"math"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
)

func init() {
	ops.Register("", "CausalConvWithState", ops.Since(27, buildCausalConv))
}

// causalConvOp is a depthwise 1-D convolution over (batch, channels, length) that only looks back: the
// sequence is prefixed with the k-1 positions of past_state (zeros when absent), and the last k-1 positions
// of that prefixed sequence become present_state for the next call.
type causalConvOp struct{ silu bool }

func buildCausalConv(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	act := r.String("activation", "none")
	if err := r.Err(); err != nil {
		return nil, err
	}
	op := &causalConvOp{}
	switch act {
	case "none":
	case "silu", "swish":
		op.silu = true
	default:
		return nil, &ops.AttrError{Name: "activation", Msg: fmt.Sprintf("is %q, want \"silu\", \"swish\" or \"none\"", act)}
	}
	if n.NumOutputs > 2 {
		return nil, ops.Invalidf("CausalConvWithState has 2 outputs (output, present_state), the node declares %d", n.NumOutputs)
	}
	return op, nil
}

// causalShape is (batch, channels, length) and the kernel size k.
type causalShape struct{ batch, channels, length, k int }

func (op *causalConvOp) shape(in []ops.ValueInfo) (causalShape, error) {
	var s causalShape
	if err := ops.CheckInputCount(in, 2, 4); err != nil {
		return s, err
	}
	x, w := in[0], in[1]
	if err := kernelutil.CheckFloat("input", x.DType); err != nil {
		return s, err
	}
	if len(x.Shape) != 3 {
		return s, ops.Invalidf("input has shape %v, want (batch, channels, length)", x.Shape)
	}
	s = causalShape{batch: x.Shape[0], channels: x.Shape[1], length: x.Shape[2]}
	if w.DType != x.DType || len(w.Shape) != 3 || w.Shape[0] != s.channels || w.Shape[1] != 1 || w.Shape[2] < 1 {
		return s, ops.Invalidf("weight is %s%v, want %s[%d,1,k] with k >= 1", w.DType, w.Shape, x.DType, s.channels)
	}
	s.k = w.Shape[2]
	if b := ops.Input(in, 2); b.Present() && (b.DType != x.DType || !b.Shape.Equal(ops.Shape{s.channels})) {
		return s, ops.Invalidf("bias is %s%v, want %s[%d]", b.DType, b.Shape, x.DType, s.channels)
	}
	if p := ops.Input(in, 3); p.Present() && (p.DType != x.DType || !p.Shape.Equal(ops.Shape{s.batch, s.channels, s.k - 1})) {
		return s, ops.Invalidf("past_state is %s%v, want %s[%d,%d,%d] (batch, channels, k-1)", p.DType, p.Shape, x.DType, s.batch, s.channels, s.k-1)
	}
	return s, nil
}

func (op *causalConvOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{
		{DType: in[0].DType, Shape: in[0].Shape},
		{DType: in[0].DType, Shape: ops.Shape{s.batch, s.channels, s.k - 1}},
	}, nil
}

func (op *causalConvOp) Prepare(in []ops.ValueInfo, out []ops.ValueInfo) (ops.Kernel, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	return &causalConvKernel{op: op, s: s, dtype: in[0].DType, withState: len(out) > 1}, nil
}

type causalConvKernel struct {
	op        *causalConvOp
	s         causalShape
	dtype     ops.DType
	withState bool
}

// halfSizes are the element counts of input, weight, bias, past_state, output and present_state.
func (k *causalConvKernel) halfSizes() [6]int {
	s := &k.s
	state := s.batch * s.channels * (s.k - 1)
	return [6]int{s.batch * s.channels * s.length, s.channels * s.k, s.channels, state, s.batch * s.channels * s.length, state}
}

// ScratchSize is room for float32 copies of every tensor when they are 16-bit floats.
func (k *causalConvKernel) ScratchSize() int {
	n := k.halfSizes()
	return ops.HalfScratch(k.dtype, n[:]...)
}

func (k *causalConvKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	bias, past := ops.TensorAt(in, 2), ops.TensorAt(in, 3)
	var present *ops.Tensor
	if k.withState {
		present = out[1]
	}
	switch x := in[0].Data().(type) {
	case []float32:
		causalConv(k, x, in[1].Float32s(), optional[float32](bias), optional[float32](past), out[0].Float32s(), optional[float32](present))
	case []float64:
		causalConv(k, x, in[1].Float64s(), optional[float64](bias), optional[float64](past), out[0].Float64s(), optional[float64](present))
	default: // float16, bfloat16: computed in float32 scratch
		w := ops.NewWidener(ctx.Scratch)
		causalConv(k, w.In(in[0]), w.In(in[1]), w.In(bias), w.In(past), w.Out(out[0]), w.Out(present))
		w.Narrow()
	}
	return nil
}

// optional returns t's data, or nil for an absent tensor.
func optional[T ops.Elem](t *ops.Tensor) []T {
	if t == nil {
		return nil
	}
	return ops.Data[T](t)
}

// causalConv computes, for each batch b and channel c, over the sequence s = past_state ++ input (k-1+L
// positions, past_state being zeros when absent),
//
//	output[t] = act(bias[c] + Σ_j weight[c, 0, j] · s[t + j])    for t < L
//	present_state = the last k-1 positions of s
//
// where act is SiLU (v·sigmoid(v)) when asked for, else the identity.
func causalConv[T ops.Float](k *causalConvKernel, x, w, bias, past, y, present []T) {
	s := &k.s
	hist := s.k - 1
	// at reads position i of the prefixed sequence of one (batch, channel) row.
	at := func(xs, ps []T, i int) T {
		if i >= hist {
			return xs[i-hist]
		}
		if ps == nil {
			return 0
		}
		return ps[i]
	}
	for b := 0; b < s.batch; b++ {
		for c := 0; c < s.channels; c++ {
			row := b*s.channels + c
			xs := x[row*s.length : (row+1)*s.length]
			ys := y[row*s.length : (row+1)*s.length]
			var ps []T
			if past != nil {
				ps = past[row*hist : (row+1)*hist]
			}
			wc := w[c*s.k : (c+1)*s.k]
			var b0 T
			if bias != nil {
				b0 = bias[c]
			}
			for t := range ys {
				sum := b0
				for j, wj := range wc {
					sum += wj * at(xs, ps, t+j)
				}
				if k.op.silu {
					sum = T(float64(sum) / (1 + math.Exp(-float64(sum))))
				}
				ys[t] = sum
			}
			if present != nil {
				out := present[row*hist : (row+1)*hist]
				for i := range out {
					out[i] = at(xs, ps, s.length+i)
				}
			}
		}
	}
}
