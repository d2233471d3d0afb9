package norm

// GroupNormalization: https://onnx.ai/onnx/operators/onnx__GroupNormalization.html, opsets 18 and 21 (a
// function in ONNX; implemented directly here).

import (
	"fmt"
	"math"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
)

func init() {
	ops.Register("", "GroupNormalization",
		// opset 18: scale and bias hold one value per group.
		ops.Since(18, buildGroupNorm(18)),
		// opset 21: scale and bias hold one value per channel (the usual definition); stash_type added.
		ops.Since(21, buildGroupNorm(21)),
	)
}

type groupNormOp struct {
	opset     int
	numGroups int
	epsilon   float64
}

func buildGroupNorm(opset int) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		r := ops.NewAttrReader(n.Attrs)
		op := &groupNormOp{opset: opset, epsilon: float64(r.Float("epsilon", 1e-5))}
		hasGroups := r.Has("num_groups")
		op.numGroups = int(r.Int("num_groups", 0))
		stash := int64(1)
		if opset >= 21 {
			stash = r.Int("stash_type", 1)
		}
		if err := r.Err(); err != nil {
			return nil, err
		}
		if !hasGroups {
			return nil, &ops.AttrError{Name: "num_groups", Msg: "is required"}
		}
		if op.numGroups < 1 {
			return nil, &ops.AttrError{Name: "num_groups", Msg: fmt.Sprintf("is %d, must be at least 1", op.numGroups)}
		}
		if err := checkStashType(stash); err != nil {
			return nil, err
		}
		return op, checkEpsilon(op.epsilon)
	}
}

func (op *groupNormOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 3, 3); err != nil {
		return nil, err
	}
	x := in[0]
	if _, err := checkChannelPlanes("X", x); err != nil {
		return nil, err
	}
	c := x.Shape[1]
	if c%op.numGroups != 0 {
		return nil, ops.Invalidf("num_groups %d does not divide the %d channels of X %v", op.numGroups, c, x.Shape)
	}
	want, per := c, "channel"
	if op.opset < 21 {
		want, per = op.numGroups, "group"
	}
	names := [...]string{"X", "scale", "bias"}
	for i := 1; i < 3; i++ {
		if in[i].DType != x.DType {
			return nil, ops.Invalidf("%s has dtype %s, X has %s", names[i], in[i].DType, x.DType)
		}
		if len(in[i].Shape) != 1 || in[i].Shape[0] != want {
			return nil, ops.Invalidf("%s has shape %v, want [%d] (one value per %s at opset %d)", names[i], in[i].Shape, want, per, op.opset)
		}
	}
	return []ops.ValueInfo{{DType: x.DType, Shape: x.Shape}}, nil
}

func (op *groupNormOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	if _, err := op.InferShapes(in); err != nil {
		return nil, err
	}
	planes, _ := checkChannelPlanes("X", in[0])
	return &groupNormKernel{op: op, channelPlanes: planes}, nil
}

type groupNormKernel struct {
	op *groupNormOp
	channelPlanes
}

func (k *groupNormKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	switch x := in[0].Data().(type) {
	case []float32:
		groupNorm(k, x, out[0].Float32s(), in[1], in[2])
	case []float64:
		groupNorm(k, x, out[0].Float64s(), in[1], in[2])
	default: // float16, bfloat16: computed in float32 scratch
		w := ops.NewWidener(ctx.Scratch)
		groupNorm(k, w.In(in[0]), w.Out(out[0]), in[1], in[2])
		w.Narrow()
	}
	return nil
}

// groupNorm normalises each group of C/num_groups consecutive channels of each image by the group's mean and
// population variance, then scales and shifts per channel (per group before opset 21):
//
//	y = scale[c] * (x - mean) / sqrt(variance + epsilon) + bias[c]
func groupNorm[T ops.Float](k *groupNormKernel, x, y []T, scale, bias *ops.Tensor) {
	perGroup := k.channels / k.op.numGroups
	block := perGroup * k.inner
	for n := 0; n < k.batch; n++ {
		for g := 0; g < k.op.numGroups; g++ {
			off := (n*k.op.numGroups + g) * block
			mean, variance := meanVariance(x[off : off+block])
			inv := 1 / math.Sqrt(variance+k.op.epsilon)
			for c := g * perGroup; c < (g+1)*perGroup; c++ {
				param := c
				if k.op.opset < 21 {
					param = g
				}
				a := kernelutil.ValueAt(scale, param) * inv
				b := kernelutil.ValueAt(bias, param) - mean*a
				coff := (n*k.channels + c) * k.inner
				xs, ys := x[coff:coff+k.inner], y[coff:coff+k.inner]
				for i, v := range xs {
					ys[i] = T(float64(v)*a + b)
				}
			}
		}
	}
}
