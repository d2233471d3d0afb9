package norm

// InstanceNormalization: https://onnx.ai/onnx/operators/onnx__InstanceNormalization.html, opsets 1, 6 and 22.

import (
	"fmt"
	"math"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
)

func init() {
	ops.Register("", "InstanceNormalization",
		// opset 1: consumed_inputs (a legacy attribute, ignored).
		ops.Since(1, buildInstanceNorm),
		// opset 6: consumed_inputs removed.
		ops.Since(6, buildInstanceNorm),
		// opset 22: bfloat16.
		ops.Since(22, buildInstanceNorm),
	)
}

type instanceNormOp struct{ epsilon float64 }

func buildInstanceNorm(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	eps := float64(r.Float("epsilon", 1e-5))
	if err := r.Err(); err != nil {
		return nil, err
	}
	if eps < 0 || math.IsNaN(eps) {
		return nil, &ops.AttrError{Name: "epsilon", Msg: fmt.Sprintf("is %g, want >= 0", eps)}
	}
	return &instanceNormOp{epsilon: eps}, nil
}

func (op *instanceNormOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 3, 3); err != nil {
		return nil, err
	}
	x := in[0]
	if _, err := checkChannelPlanes("input", x); err != nil {
		return nil, err
	}
	names := [...]string{"input", "scale", "B"}
	for i := 1; i < 3; i++ {
		name := names[i]
		if in[i].DType != x.DType {
			return nil, ops.Invalidf("%s has dtype %s, input has %s", name, in[i].DType, x.DType)
		}
		if len(in[i].Shape) != 1 || in[i].Shape[0] != x.Shape[1] {
			return nil, ops.Invalidf("%s has shape %v, want [%d] (the channels of input %v)", name, in[i].Shape, x.Shape[1], x.Shape)
		}
	}
	return []ops.ValueInfo{{DType: x.DType, Shape: x.Shape}}, nil
}

func (op *instanceNormOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	if _, err := op.InferShapes(in); err != nil {
		return nil, err
	}
	planes, _ := checkChannelPlanes("input", in[0])
	return &instanceNormKernel{op: op, channelPlanes: planes}, nil
}

type instanceNormKernel struct {
	op *instanceNormOp
	channelPlanes
}

func (k *instanceNormKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	switch x := in[0].Data().(type) {
	case []float32:
		instanceNorm(k, x, out[0].Float32s(), in[1], in[2])
	case []float64:
		instanceNorm(k, x, out[0].Float64s(), in[1], in[2])
	default: // float16, bfloat16: computed in float32 scratch
		w := ops.NewWidener(ctx.Scratch)
		instanceNorm(k, w.In(in[0]), w.Out(out[0]), in[1], in[2])
		w.Narrow()
	}
	return nil
}

// instanceNorm normalises each (n, c) plane by its own mean and population variance:
//
//	y = scale[c] * (x - mean) / sqrt(variance + epsilon) + B[c]
func instanceNorm[T ops.Float](k *instanceNormKernel, x, y []T, scale, bias *ops.Tensor) {
	for n := 0; n < k.batch; n++ {
		for c := 0; c < k.channels; c++ {
			off := (n*k.channels + c) * k.inner
			xs, ys := x[off:off+k.inner], y[off:off+k.inner]
			mean, variance := meanVariance(xs)
			a := kernelutil.ValueAt(scale, c) / math.Sqrt(variance+k.op.epsilon)
			b := kernelutil.ValueAt(bias, c) - mean*a
			for i, v := range xs {
				ys[i] = T(float64(v)*a + b)
			}
		}
	}
}
