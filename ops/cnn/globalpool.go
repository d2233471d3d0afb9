package cnn

// GlobalAveragePool: https://onnx.ai/onnx/operators/onnx__GlobalAveragePool.html, opsets 1 and 22.
// GlobalMaxPool: https://onnx.ai/onnx/operators/onnx__GlobalMaxPool.html, opsets 1 and 22.
// GlobalLpPool: https://onnx.ai/onnx/operators/onnx__GlobalLpPool.html, opsets 1, 2 and 22.

import (
	"fmt"
	"math"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

func init() {
	ops.Register("", "GlobalAveragePool",
		ops.Since(1, buildGlobalPool(poolAverage)),
		// opset 22: bfloat16.
		ops.Since(22, buildGlobalPool(poolAverage)),
	)
	ops.Register("", "GlobalMaxPool",
		ops.Since(1, buildGlobalPool(poolMax)),
		// opset 22: bfloat16.
		ops.Since(22, buildGlobalPool(poolMax)),
	)
	ops.Register("", "GlobalLpPool",
		ops.Since(1, buildGlobalPool(poolLp)),
		// opset 2: p becomes an int (this package reads either); the output keeps the input's rank.
		ops.Since(2, buildGlobalPool(poolLp)),
		// opset 22: bfloat16.
		ops.Since(22, buildGlobalPool(poolLp)),
	)
}

// globalPoolOp reduces every (n, c) plane of an N x C x D1 x ... tensor to one value.
type globalPoolOp struct {
	kind poolKind
	p    float64
}

func buildGlobalPool(kind poolKind) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		op := &globalPoolOp{kind: kind}
		if kind == poolLp {
			r := ops.NewAttrReader(n.Attrs)
			op.p = float64(r.Float("p", 2))
			if err := r.Err(); err != nil {
				return nil, err
			}
			if !(op.p > 0) {
				return nil, &ops.AttrError{Name: "p", Msg: fmt.Sprintf("is %g, want a positive exponent", op.p)}
			}
		}
		return op, nil
	}
}

func (op *globalPoolOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	x := in[0]
	if err := kernelutil.CheckFloat("X", x.DType); err != nil {
		return nil, err
	}
	if len(x.Shape) < 2 {
		return nil, ops.Invalidf("X has shape %v, want rank >= 2 (N x C x D1 ...)", x.Shape)
	}
	out := x.Shape.Clone()
	for i := 2; i < len(out); i++ {
		out[i] = 1
	}
	return []ops.ValueInfo{{DType: x.DType, Shape: out}}, nil
}

func (op *globalPoolOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	if _, err := op.InferShapes(in); err != nil {
		return nil, err
	}
	x := in[0]
	return &globalPoolKernel{op: op, planes: x.Shape[0] * x.Shape[1], size: kernelutil.DimsProduct(x.Shape, 2, len(x.Shape)), dtype: x.DType}, nil
}

type globalPoolKernel struct {
	op     *globalPoolOp
	tasks  parallel.TaskSlot[globalPoolTask]
	planes int // N*C
	size   int // cells per plane
	dtype  ops.DType
}

// ScratchSize is room for float32 copies of X and Y when they are 16-bit floats.
func (k *globalPoolKernel) ScratchSize() int {
	return ops.HalfScratch(k.dtype, k.planes*k.size, k.planes)
}

func (k *globalPoolKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	switch x := in[0].Data().(type) {
	case []float32:
		y := out[0].Float32s()
		if pool := ctx.Pool; pool.Threads() > 1 && k.planes > 1 && k.planes*k.size >= globalPoolParallelMin {
			t := k.tasks.Get()
			*t = globalPoolTask{k: k, x: x, y: y}
			pool.ForTask(k.planes, t)
			k.tasks.Put(t)
			return nil
		}
		globalPool(k, x, y, 0, k.planes)
	case []float64:
		globalPool(k, x, out[0].Float64s(), 0, k.planes)
	default: // float16, bfloat16: computed in float32 scratch
		w := ops.NewWidener(ctx.Scratch)
		globalPool(k, w.In(in[0]), w.Out(out[0]), 0, k.planes)
		w.Narrow()
	}
	return nil
}

// globalPoolParallelMin is the input size (elements) from which a float32 global pooling splits its
// planes across the session's threads (issue 15: every kernel above ~50 µs runs on the pool); below,
// a handoff costs more than it saves.
const globalPoolParallelMin = 32 << 10

// globalPoolTask is one threaded float32 run, lent by the kernel's TaskSlot so that Run does not allocate.
type globalPoolTask struct {
	k    *globalPoolKernel
	x, y []float32
}

func (t *globalPoolTask) Do(lo, hi int) { globalPool(t.k, t.x, t.y, lo, hi) }

// globalPool reduces planes [lo, hi): the mean, the maximum, or the p-norm (Σ|x|^p)^(1/p) of their cells.
func globalPool[T ops.Float](k *globalPoolKernel, x, y []T, lo, hi int) {
	for plane := lo; plane < hi; plane++ {
		xp := x[plane*k.size : (plane+1)*k.size]
		switch k.op.kind {
		case poolAverage:
			sum := 0.0
			for _, v := range xp {
				sum += float64(v)
			}
			y[plane] = T(sum / float64(k.size))
		case poolMax:
			best := T(math.Inf(-1))
			for i, v := range xp {
				if i == 0 || v > best {
					best = v
				}
			}
			y[plane] = best
		case poolLp:
			sum := 0.0
			for _, v := range xp {
				sum += kernelutil.PowAbs(float64(v), k.op.p)
			}
			y[plane] = T(kernelutil.RootP(sum, k.op.p))
		}
	}
}
