package norm

// LRN: https://onnx.ai/onnx/operators/onnx__LRN.html, opsets 1 and 13.

import (
	"fmt"
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

func init() {
	ops.Register("", "LRN",
		ops.Since(1, buildLRN),
		// opset 13: bfloat16.
		ops.Since(13, buildLRN),
	)
}

type lrnOp struct {
	size              int
	alpha, beta, bias float64
}

func buildLRN(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	hasSize := r.Has("size")
	op := &lrnOp{
		size:  int(r.Int("size", 0)),
		alpha: float64(r.Float("alpha", 1e-4)),
		beta:  float64(r.Float("beta", 0.75)),
		bias:  float64(r.Float("bias", 1)),
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	if !hasSize {
		return nil, &ops.AttrError{Name: "size", Msg: "is required"}
	}
	if op.size < 1 {
		return nil, &ops.AttrError{Name: "size", Msg: fmt.Sprintf("is %d, must be at least 1", op.size)}
	}
	return op, nil
}

func (op *lrnOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	x := in[0]
	if _, err := checkChannelPlanes("X", x); err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: x.DType, Shape: x.Shape}}, nil
}

func (op *lrnOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	if _, err := op.InferShapes(in); err != nil {
		return nil, err
	}
	planes, _ := checkChannelPlanes("X", in[0])
	return &lrnKernel{op: op, channelPlanes: planes}, nil
}

type lrnKernel struct {
	op *lrnOp
	channelPlanes
}

func (k *lrnKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	switch x := in[0].Data().(type) {
	case []float32:
		lrn(k, x, out[0].Float32s())
	case []float64:
		lrn(k, x, out[0].Float64s())
	default: // float16, bfloat16: computed in float32 scratch
		w := ops.NewWidener(ctx.Scratch)
		lrn(k, w.In(in[0]), w.Out(out[0]))
		w.Narrow()
	}
	return nil
}

// lrn divides each element by a power of the squares summed across neighbouring channels:
//
//	square_sum[n, c, d] = Σ X[n, i, d]²  for max(0, c - floor((size-1)/2)) <= i <= min(C-1, c + ceil((size-1)/2))
//	Y[n, c, d] = X[n, c, d] / (bias + alpha/size * square_sum[n, c, d])^beta
func lrn[T ops.Float](k *lrnKernel, x, y []T) {
	before, after := (k.op.size-1)/2, k.op.size/2 // floor and ceil of (size-1)/2
	coef := k.op.alpha / float64(k.op.size)
	for n := 0; n < k.batch; n++ {
		img := n * k.channels * k.inner
		for c := 0; c < k.channels; c++ {
			lo, hi := max(0, c-before), min(k.channels-1, c+after)
			for d := 0; d < k.inner; d++ {
				sum := 0.0
				for i := lo; i <= hi; i++ {
					v := float64(x[img+i*k.inner+d])
					sum += v * v
				}
				at := img + c*k.inner + d
				y[at] = T(float64(x[at]) / math.Pow(k.op.bias+coef*sum, k.op.beta))
			}
		}
	}
}
