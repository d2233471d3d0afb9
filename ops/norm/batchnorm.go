package norm

// BatchNormalization: https://onnx.ai/onnx/operators/onnx__BatchNormalization.html, opsets 1, 6, 7, 9, 14
// and 15.

import (
	"fmt"
	"math"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

func init() {
	ops.Register("", "BatchNormalization",
		// opset 1: consumed_inputs (ignored), is_test, spatial; five outputs in training mode.
		ops.Since(1, buildBatchNorm(1)),
		// opset 6: consumed_inputs removed.
		ops.Since(6, buildBatchNorm(6)),
		// opset 7: is_test removed; training is asked for by declaring the extra outputs.
		ops.Since(7, buildBatchNorm(7)),
		// opset 9: spatial removed (statistics are always per channel); 1-D inputs allowed.
		ops.Since(9, buildBatchNorm(9)),
		// opset 14: the training_mode attribute; outputs are Y, running_mean, running_var; mean and var may
		// have another float type (U) than X.
		ops.Since(14, buildBatchNorm(14)),
		// opset 15: scale and B may have their own float type (T1).
		ops.Since(15, buildBatchNorm(15)),
	)
}

type batchNormOp struct {
	opset    int
	epsilon  float64
	momentum float64
	spatial  bool // before opset 9: false normalises each (C, D1, ..., Dn) cell on its own
	training bool // use the batch's statistics and write the running ones
}

func buildBatchNorm(opset int) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		r := ops.NewAttrReader(n.Attrs)
		op := &batchNormOp{opset: opset, spatial: true}
		op.epsilon = float64(r.Float("epsilon", 1e-5))
		op.momentum = float64(r.Float("momentum", 0.9))
		isTest := true
		if opset < 7 {
			isTest = r.Int("is_test", 0) != 0
		}
		if opset < 9 {
			op.spatial = r.Int("spatial", 1) != 0
		}
		trainingMode := r.Int("training_mode", 0) != 0
		if err := r.Err(); err != nil {
			return nil, err
		}
		maxOut := 5
		switch {
		case opset >= 14:
			op.training = trainingMode
			maxOut = 3
			if !op.training && n.NumOutputs > 1 {
				return nil, ops.Invalidf("training_mode is 0 but the node declares %d outputs: running_mean and running_var exist only in training mode", n.NumOutputs)
			}
		case opset >= 7:
			op.training = n.NumOutputs > 1
		default:
			op.training = !isTest && n.NumOutputs > 1
		}
		if n.NumOutputs > maxOut {
			return nil, ops.Invalidf("BatchNormalization opset %d has at most %d outputs, the node declares %d", opset, maxOut, n.NumOutputs)
		}
		if op.epsilon < 0 || math.IsNaN(op.epsilon) {
			return nil, &ops.AttrError{Name: "epsilon", Msg: fmt.Sprintf("is %g, want >= 0", op.epsilon)}
		}
		return op, nil
	}
}

// batchNormShape says how X splits into channels: X is batch x channels x inner, where inner is the product of
// the spatial dims (or 1 when spatial is off, which folds them into the channels).
type batchNormShape struct {
	batch, channels, inner int
}

func (op *batchNormOp) shape(in []ops.ValueInfo) (batchNormShape, error) {
	var s batchNormShape
	if err := ops.CheckInputCount(in, 5, 5); err != nil {
		return s, err
	}
	x := in[0]
	if err := kernelutil.CheckFloat("X", x.DType); err != nil {
		return s, err
	}
	switch {
	case len(x.Shape) == 0:
		return s, ops.Invalidf("X is a scalar, want N x C x D1 ... (or a 1-D batch)")
	case len(x.Shape) == 1: // a batch of N single-channel values
		s = batchNormShape{batch: x.Shape[0], channels: 1, inner: 1}
	case op.spatial:
		s = batchNormShape{batch: x.Shape[0], channels: x.Shape[1], inner: kernelutil.DimsProduct(x.Shape, 2, len(x.Shape))}
	default:
		s = batchNormShape{batch: x.Shape[0], channels: kernelutil.DimsProduct(x.Shape, 1, len(x.Shape)), inner: 1}
	}
	names := [...]string{"X", "scale", "B", "mean", "var"}
	for i := 1; i < 5; i++ {
		v := in[i]
		if err := kernelutil.CheckFloat(names[i], v.DType); err != nil {
			return s, err
		}
		if op.opset < 14 && v.DType != x.DType {
			return s, ops.Invalidf("input %s has dtype %s, X has %s (opset %d wants one type)", names[i], v.DType, x.DType, op.opset)
		}
		if v.Shape.Size() != s.channels || len(v.Shape) == 0 {
			want := fmt.Sprintf("[%d]", s.channels)
			if !op.spatial {
				want = fmt.Sprintf("%v (C x D1 x ... with spatial=0)", x.Shape[1:])
			}
			return s, ops.Invalidf("input %s has shape %v, want %s for X %v", names[i], v.Shape, want, x.Shape)
		}
	}
	if in[4].DType != in[3].DType {
		return s, ops.Invalidf("var has dtype %s, mean has %s", in[4].DType, in[3].DType)
	}
	if in[2].DType != in[1].DType {
		return s, ops.Invalidf("B has dtype %s, scale has %s", in[2].DType, in[1].DType)
	}
	return s, nil
}

func (op *batchNormOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if _, err := op.shape(in); err != nil {
		return nil, err
	}
	out := []ops.ValueInfo{{DType: in[0].DType, Shape: in[0].Shape}}
	if op.training {
		// running mean, running var, then (before opset 14) the batch's mean and variance.
		for i := 0; i < 4; i++ {
			out = append(out, ops.ValueInfo{DType: in[3].DType, Shape: in[3].Shape})
		}
	}
	return out, nil
}

func (op *batchNormOp) Prepare(in []ops.ValueInfo, out []ops.ValueInfo) (ops.Kernel, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	return &batchNormKernel{op: op, s: s, dtype: in[0].DType, outputs: len(out)}, nil
}

type batchNormKernel struct {
	op      *batchNormOp
	s       batchNormShape
	dtype   ops.DType
	outputs int
	tasks   parallel.TaskSlot[batchNormTask]
}

// ScratchSize is room for float32 copies of X and Y when they are 16-bit floats.
func (k *batchNormKernel) ScratchSize() int {
	return ops.HalfScratch(k.dtype, k.s.batch*k.s.channels*k.s.inner, k.s.batch*k.s.channels*k.s.inner)
}

func (k *batchNormKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	switch x := in[0].Data().(type) {
	case []float32:
		y := out[0].Float32s()
		if pool := ctx.Pool; !k.op.training && pool.Threads() > 1 && k.s.channels > 1 &&
			len(x) >= batchNormParallelMin {
			t := k.tasks.Get()
			*t = batchNormTask{k: k, x: x, y: y, in: in}
			pool.ForTask(k.s.channels, t)
			k.tasks.Put(t)
			return nil
		}
		batchNorm(k, x, y, in, out)
	case []float64:
		batchNorm(k, x, out[0].Float64s(), in, out)
	default: // float16, bfloat16: computed in float32 scratch
		w := ops.NewWidener(ctx.Scratch)
		batchNorm(k, w.In(in[0]), w.Out(out[0]), in, out)
		w.Narrow()
	}
	return nil
}

// batchNormParallelMin is the size of X (elements) from which an inference-mode float32
// BatchNormalization splits its channels across the session's threads (issue 15: every kernel above
// ~50 µs runs on the pool); training mode, which also writes the statistics, stays on one thread.
const batchNormParallelMin = 32 << 10

// batchNormTask is one threaded run over a range of channels, lent by the kernel's TaskSlot so that Run
// does not allocate.
type batchNormTask struct {
	k    *batchNormKernel
	x, y []float32
	in   []*ops.Tensor
}

func (t *batchNormTask) Do(lo, hi int) {
	for c := lo; c < hi; c++ {
		mean, variance := kernelutil.ValueAt(t.in[3], c), kernelutil.ValueAt(t.in[4], c)
		normalizeChannel(t.k, t.x, t.y, t.in, c, mean, variance)
	}
}

// normalizeChannel writes channel c of Y from its mean and variance.
func normalizeChannel[T ops.Float](k *batchNormKernel, x, y []T, in []*ops.Tensor, c int, mean, variance float64) {
	s := &k.s
	a := kernelutil.ValueAt(in[1], c) / math.Sqrt(variance+k.op.epsilon)
	b := kernelutil.ValueAt(in[2], c) - mean*a
	for n := 0; n < s.batch; n++ {
		off := (n*s.channels + c) * s.inner
		xs, ys := x[off:off+s.inner], y[off:off+s.inner]
		for i, v := range xs {
			ys[i] = T(float64(v)*a + b)
		}
	}
}

// batchNorm computes, per channel c,
//
//	Y = (X - mean[c]) / sqrt(var[c] + epsilon) * scale[c] + B[c]
//
// with the given mean and var in inference mode. In training mode mean and var are the batch's own
// (population variance over N and the spatial dims), and the running statistics are written out as
// input*momentum + batch*(1 - momentum); before opset 14 the batch statistics follow as outputs 3 and 4.
func batchNorm[T ops.Float](k *batchNormKernel, x, y []T, in, out []*ops.Tensor) {
	s, op := &k.s, k.op
	meanIn, varIn := in[3], in[4]
	for c := 0; c < s.channels; c++ {
		var mean, variance float64
		if op.training {
			mean, variance = channelStats(x, s, c)
			m := op.momentum
			if k.outputs > 1 {
				kernelutil.SetValue(out[1], c, kernelutil.ValueAt(meanIn, c)*m+mean*(1-m))
			}
			if k.outputs > 2 {
				kernelutil.SetValue(out[2], c, kernelutil.ValueAt(varIn, c)*m+variance*(1-m))
			}
			if k.outputs > 3 {
				kernelutil.SetValue(out[3], c, mean)
			}
			if k.outputs > 4 {
				kernelutil.SetValue(out[4], c, variance)
			}
		} else {
			mean, variance = kernelutil.ValueAt(meanIn, c), kernelutil.ValueAt(varIn, c)
		}
		normalizeChannel(k, x, y, in, c, mean, variance)
	}
}

// channelStats is the mean and population variance of channel c over the batch and the inner cells.
func channelStats[T ops.Float](x []T, s *batchNormShape, c int) (mean, variance float64) {
	count := float64(s.batch * s.inner)
	for n := 0; n < s.batch; n++ {
		off := (n*s.channels + c) * s.inner
		for _, v := range x[off : off+s.inner] {
			mean += float64(v)
		}
	}
	mean /= count
	for n := 0; n < s.batch; n++ {
		off := (n*s.channels + c) * s.inner
		for _, v := range x[off : off+s.inner] {
			d := float64(v) - mean
			variance += d * d
		}
	}
	return mean, variance / count
}
