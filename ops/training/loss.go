package training

// The classification losses: NegativeLogLikelihoodLoss
// (https://onnx.ai/onnx/operators/onnx__NegativeLogLikelihoodLoss.html, opsets 12, 13, 22) and
// SoftmaxCrossEntropyLoss (onnx__SoftmaxCrossEntropyLoss.html, opsets 12, 13, 22).
//
// With input log-probabilities y of shape [N, C, d1, ..., dk] (SoftmaxCrossEntropyLoss computes them, as
// its optional second output, with a log-softmax of the scores over C) and class labels c of shape
// [N, d1, ..., dk]:
//
//	loss[n, d] = -y[n, c, d] · weight[c]      (weight 1 when absent; 0 where c = ignore_index)
//
// reduced by "none" (the loss itself), "sum", or "mean" (the default): Σ loss / Σ weight[c] over the
// samples not ignored, which is the plain mean when there is no weight and no ignore_index. The sums run
// in float64.

import (
	"fmt"
	"math"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
)

func init() {
	ops.Register("", "NegativeLogLikelihoodLoss", ops.Since(12, buildNLLLoss), ops.Since(13, buildNLLLoss), ops.Since(22, buildNLLLoss))
	ops.Register("", "SoftmaxCrossEntropyLoss", ops.Since(12, buildSCELoss), ops.Since(13, buildSCELoss), ops.Since(22, buildSCELoss))
}

type lossReduction int

const (
	reduceMean lossReduction = iota
	reduceSum
	reduceNone
)

type lossOp struct {
	softmax     bool // SoftmaxCrossEntropyLoss: the input is scores, not log-probabilities
	reduction   lossReduction
	ignoreIndex int64
	hasIgnore   bool
}

func buildNLLLoss(n ops.NodeInfo) (ops.Op, error) { return buildLoss(n, false) }
func buildSCELoss(n ops.NodeInfo) (ops.Op, error) { return buildLoss(n, true) }

func buildLoss(n ops.NodeInfo, softmax bool) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	op := &lossOp{softmax: softmax, hasIgnore: r.Has("ignore_index"), ignoreIndex: r.Int("ignore_index", 0)}
	reduction := r.String("reduction", "mean")
	if err := r.Err(); err != nil {
		return nil, err
	}
	switch reduction {
	case "mean":
		op.reduction = reduceMean
	case "sum":
		op.reduction = reduceSum
	case "none":
		op.reduction = reduceNone
	default:
		return nil, &ops.AttrError{Name: "reduction", Msg: fmt.Sprintf("is %q, want none, sum or mean", reduction)}
	}
	return op, nil
}

// lossShape is a node's geometry: the batch N, classes C and the cells per class plane (d1·...·dk).
type lossShape struct {
	batch, classes, inner int
	dtype                 ops.DType
	labels                ops.Shape
	weighted              bool
}

func (op *lossOp) shape(in []ops.ValueInfo) (lossShape, error) {
	if err := ops.CheckInputCount(in, 2, 3); err != nil {
		return lossShape{}, err
	}
	x, labels, w := in[0], in[1], ops.Input(in, 2)
	name := "input"
	if op.softmax {
		name = "scores"
	}
	if err := kernelutil.CheckFloat(name, x.DType); err != nil {
		return lossShape{}, err
	}
	if labels.DType != ops.Int32 && labels.DType != ops.Int64 {
		return lossShape{}, ops.Invalidf("the labels have dtype %s, want int32 or int64", labels.DType)
	}
	if len(x.Shape) < 2 {
		return lossShape{}, ops.Invalidf("%s has shape %v, want [N, C, d1, ..., dk]", name, x.Shape)
	}
	want := append(ops.Shape{x.Shape[0]}, x.Shape[2:]...)
	if !labels.Shape.Equal(want) {
		return lossShape{}, ops.Invalidf("the labels have shape %v, want %v (%s %v without its class axis)", labels.Shape, want, name, x.Shape)
	}
	s := lossShape{batch: x.Shape[0], classes: x.Shape[1], inner: kernelutil.DimsProduct(x.Shape, 2, len(x.Shape)), dtype: x.DType, labels: labels.Shape}
	if w.Present() {
		if w.DType != x.DType || !w.Shape.Equal(ops.Shape{s.classes}) {
			return lossShape{}, ops.Invalidf("the weights are %s%v, want %s[%d] (one per class)", w.DType, w.Shape, x.DType, s.classes)
		}
		s.weighted = true
	}
	return s, nil
}

func (op *lossOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	loss := ops.ValueInfo{DType: s.dtype, Shape: ops.Shape{}}
	if op.reduction == reduceNone {
		loss.Shape = s.labels
	}
	if !op.softmax {
		return []ops.ValueInfo{loss}, nil
	}
	return []ops.ValueInfo{loss, {DType: s.dtype, Shape: in[0].Shape}}, nil
}

func (op *lossOp) Prepare(in []ops.ValueInfo, out []ops.ValueInfo) (ops.Kernel, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	return &lossKernel{op: op, s: s, logProbOut: len(out) > 1}, nil
}

type lossKernel struct {
	op         *lossOp
	s          lossShape
	logProbOut bool
}

// float64s is the scratch in float64s: the per-sample losses and (SoftmaxCrossEntropyLoss) the
// log-probabilities.
func (k *lossKernel) float64s() int {
	n := k.s.batch * k.s.inner
	if k.op.softmax {
		n += k.s.batch * k.s.classes * k.s.inner
	}
	return n
}

func (k *lossKernel) ScratchSize() int { return ops.Float64ScratchLen(k.float64s()) }

func (k *lossKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	s := &k.s
	samples, cells := s.batch*s.inner, s.batch*s.classes*s.inner
	scratch := ops.Float64View(ctx.Scratch, k.float64s())
	loss := scratch[:samples]
	var logp []float64
	if k.op.softmax {
		logp = scratch[samples : samples+cells]
		kernelutil.Widen64(logp, in[0])
		logSoftmaxClasses(logp, s.batch, s.classes, s.inner)
	}
	var weights *ops.Tensor
	if s.weighted {
		weights = in[2]
	}
	var wsum float64
	var err error
	switch labels := in[1].Data().(type) {
	case []int32:
		wsum, err = nllLoss(k, in[0], logp, labels, weights, loss)
	case []int64:
		wsum, err = nllLoss(k, in[0], logp, labels, weights, loss)
	}
	if err != nil {
		return err
	}
	switch k.op.reduction {
	case reduceNone:
		kernelutil.Narrow64(out[0], loss)
	default:
		sum := 0.0
		for _, v := range loss {
			sum += v
		}
		if k.op.reduction == reduceMean {
			sum /= wsum // 0/0, every sample ignored, is NaN as in ONNX's reference
		}
		var one [1]float64
		one[0] = sum
		kernelutil.Narrow64(out[0], one[:])
	}
	if k.logProbOut && len(out) > 1 {
		kernelutil.Narrow64(out[1], logp)
	}
	return nil
}

// nllLoss writes each sample's loss and returns the sum of the weights of the samples not ignored. The
// log-probabilities are logp, or (NegativeLogLikelihoodLoss) the input tensor x.
func nllLoss[L int32 | int64](k *lossKernel, x *ops.Tensor, logp []float64, labels []L, weights *ops.Tensor, loss []float64) (float64, error) {
	s := &k.s
	wsum := 0.0
	for i, label := range labels {
		c := int64(label)
		if k.op.hasIgnore && c == k.op.ignoreIndex {
			loss[i] = 0
			continue
		}
		if c < 0 || c >= int64(s.classes) {
			return 0, ops.Invalidf("label %d at sample %d is outside the %d classes", c, i, s.classes)
		}
		n, d := i/s.inner, i%s.inner
		at := (n*s.classes+int(c))*s.inner + d
		var y float64
		if logp != nil {
			y = logp[at]
		} else {
			y = kernelutil.ValueAt(x, at) // one type switch per sample: a loss reads one element of each C
		}
		w := 1.0
		if weights != nil {
			w = kernelutil.ValueAt(weights, int(c))
		}
		loss[i] = -y * w
		wsum += w
	}
	return wsum, nil
}

// logSoftmaxClasses replaces v, laid out [batch, classes, inner], by its log-softmax over the classes:
// v - max - log Σ exp(v - max).
func logSoftmaxClasses(v []float64, batch, classes, inner int) {
	for n := 0; n < batch; n++ {
		plane := v[n*classes*inner : (n+1)*classes*inner]
		for d := 0; d < inner; d++ {
			m := math.Inf(-1)
			for c := 0; c < classes; c++ {
				m = math.Max(m, plane[c*inner+d])
			}
			sum := 0.0
			for c := 0; c < classes; c++ {
				sum += math.Exp(plane[c*inner+d] - m)
			}
			lse := m + math.Log(sum)
			for c := 0; c < classes; c++ {
				plane[c*inner+d] -= lse
			}
		}
	}
}
