package models

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/onnxrun/onnxrun/ops"
)

// bufferedLayer is a layer with state that gradients do not train (BatchNorm's running averages).
type bufferedLayer interface {
	buffers() []*Param
}

// BatchNorm normalizes each channel (axis 1: a Conv2D's filters or a Dense layer's units) and applies a
// learned scale and shift, then an activation: y = act(scale · (x - mean) / sqrt(var + Epsilon) + shift).
// In training, mean and var are those of the batch (of each thread's shard of it: the threads do not
// synchronize, as PyTorch's DataParallel without SyncBatchNorm); after every step the running averages
// move towards them, running = Momentum · running + (1 - Momentum) · batch, with the unbiased variance
// (as PyTorch and ONNX's training mode). Inference uses the running averages.
type BatchNorm struct {
	// Momentum is the weight of the old running average, ONNX's and Keras's convention (PyTorch's
	// momentum is 1 minus it); 0 means 0.9.
	Momentum float64
	// Epsilon is added to the variance; 0 means 1e-5 (PyTorch's and ONNX's default).
	Epsilon    float64
	Activation Activation
	LayerName  string

	shape                   ops.Shape
	channels, spatial       int
	scale, shift            *Param
	runningMean, runningVar *Param
	momentum, epsilon       float64
	// initializers, when ImportONNX made the layer, are the source model's names of scale, bias, mean and
	// variance: they name the parameters and buffers, so that the export writes each back to its own.
	initializers *[4]string
}

func (l *BatchNorm) Name() string      { return l.LayerName }
func (l *BatchNorm) Type() string      { return "BatchNormalization" }
func (l *BatchNorm) setName(n string)  { l.LayerName = n }
func (l *BatchNorm) params() []*Param  { return []*Param{l.scale, l.shift} }
func (l *BatchNorm) buffers() []*Param { return []*Param{l.runningMean, l.runningVar} }

func (l *BatchNorm) build(in ops.Shape) (ops.Shape, error) {
	if len(in) < 1 {
		return nil, fmt.Errorf("layer %s (BatchNormalization): input shape %v has no channel axis", l.LayerName, in)
	}
	l.momentum, l.epsilon = l.Momentum, l.Epsilon
	if l.momentum == 0 {
		l.momentum = 0.9
	}
	if l.epsilon == 0 {
		l.epsilon = 1e-5
	}
	if !(l.momentum > 0 && l.momentum < 1) || !(l.epsilon > 0) {
		return nil, fmt.Errorf("layer %s (BatchNormalization): momentum %g and epsilon %g, want 0 < momentum < 1 and epsilon > 0", l.LayerName, l.Momentum, l.Epsilon)
	}
	if err := l.Activation.check(); err != nil {
		return nil, fmt.Errorf("layer %s (BatchNormalization): %w", l.LayerName, err)
	}
	l.shape = in.Clone()
	l.channels, l.spatial = in[0], in[1:].Size()
	c := ops.Shape{l.channels}
	names := [4]string{l.LayerName + ".weight", l.LayerName + ".bias", l.LayerName + ".running_mean", l.LayerName + ".running_var"}
	if l.initializers != nil {
		names = *l.initializers
	}
	l.scale, l.shift = newParam(names[0], c, 0, 0), newParam(names[1], c, 0, 0)
	l.runningMean, l.runningVar = newParam(names[2], c, 0, 0), newParam(names[3], c, 0, 0)
	l.scale.initial, l.runningVar.initial = 1, 1
	return l.shape, nil
}

// bnStep normalizes one shard. Its statistics and the normalized input of the last training forward
// stay for the backward pass and for the trainer's running-average update.
type bnStep struct {
	layer          *BatchNorm
	batch          int
	dScale, dShift []float32
	y, dx          *ops.Tensor
	xhat           []float32
	mean, variance []float64 // the batch statistics (biased variance) of the last training forward
	invStd         []float64
	act            *activationStep
}

func (l *BatchNorm) newStep(batch int, grads []*ops.Tensor, _ *rand.Rand) (step, error) {
	shape := withBatch(batch, l.shape)
	act, err := newActivationStep(l.Activation, shape)
	if err != nil {
		return nil, err
	}
	return &bnStep{layer: l, batch: batch, dScale: grads[0].Float32s(), dShift: grads[1].Float32s(),
		y: ops.New(ops.Float32, shape), dx: ops.New(ops.Float32, shape), xhat: make([]float32, shape.Size()),
		mean: make([]float64, l.channels), variance: make([]float64, l.channels), invStd: make([]float64, l.channels), act: act}, nil
}

// plane returns channel c of example n in a flat [N C spatial] tensor.
func (s *bnStep) plane(t []float32, n, c int) []float32 {
	S := s.layer.spatial
	lo := (n*s.layer.channels + c) * S
	return t[lo : lo+S]
}

func (s *bnStep) forward(ctx *ops.ExecContext, x *ops.Tensor, train bool) (*ops.Tensor, error) {
	l := s.layer
	xs, ys := x.Float32s(), s.y.Float32s()
	scale, shift := l.scale.Value, l.shift.Value
	count := float64(s.batch * l.spatial)
	for c := 0; c < l.channels; c++ {
		mean, variance := float64(l.runningMean.Value[c]), float64(l.runningVar.Value[c])
		if train {
			var sum, sq float64
			for n := 0; n < s.batch; n++ {
				sum += sum64(s.plane(xs, n, c))
			}
			mean = sum / count
			for n := 0; n < s.batch; n++ {
				sq += squaredDeviations64(s.plane(xs, n, c), mean)
			}
			variance = sq / count
			s.mean[c], s.variance[c] = mean, variance
		}
		inv := 1 / math.Sqrt(variance+l.epsilon)
		s.invStd[c] = inv
		m, iv, g, b := float32(mean), float32(inv), scale[c], shift[c]
		for n := 0; n < s.batch; n++ {
			xp, xh, yp := s.plane(xs, n, c), s.plane(s.xhat, n, c), s.plane(ys, n, c)
			for i, v := range xp {
				h := (v - m) * iv
				xh[i] = h
				yp[i] = g*h + b
			}
		}
	}
	return s.act.forward(ctx, s.y)
}

// backward of y = scale·x̂ + shift with x̂ = (x - mean)·invStd over the batch statistics (M cells per
// channel): dShift = Σdy, dScale = Σdy·x̂, dx = scale·invStd/M · (M·dy - dShift - x̂·dScale).
func (s *bnStep) backward(ctx *ops.ExecContext, dy *ops.Tensor, wantDX bool) (*ops.Tensor, error) {
	dz, err := s.act.backward(ctx, dy)
	if err != nil {
		return nil, err
	}
	l := s.layer
	dzs, dxs := dz.Float32s(), s.dx.Float32s()
	count := float64(s.batch * l.spatial)
	for c := 0; c < l.channels; c++ {
		var dShift, dScale float64
		for n := 0; n < s.batch; n++ {
			sum, dot := sumAndDot64(s.plane(dzs, n, c), s.plane(s.xhat, n, c))
			dShift += sum
			dScale += dot
		}
		s.dShift[c], s.dScale[c] = float32(dShift), float32(dScale)
		if !wantDX {
			continue
		}
		k := float32(float64(l.scale.Value[c])*s.invStd[c]/count) * float32(count)
		meanDz, meanDzXhat := float32(dShift/count), float32(dScale/count)
		for n := 0; n < s.batch; n++ {
			dzp, xh, dxp := s.plane(dzs, n, c), s.plane(s.xhat, n, c), s.plane(dxs, n, c)
			for i, d := range dzp {
				dxp[i] = k * (d - meanDz - xh[i]*meanDzXhat)
			}
		}
	}
	if !wantDX {
		return nil, nil
	}
	return s.dx, nil
}

// sum64 returns Σx in float64, over four interleaved partial sums (so that the adds do not wait on each
// other: a single running sum is one long chain of dependent adds).
func sum64(x []float32) float64 {
	var a, b, c, d float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		a += float64(x[i])
		b += float64(x[i+1])
		c += float64(x[i+2])
		d += float64(x[i+3])
	}
	for ; i < len(x); i++ {
		a += float64(x[i])
	}
	return (a + b) + (c + d)
}

// squaredDeviations64 returns Σ(x - mean)² in float64, as sum64 does its sum.
func squaredDeviations64(x []float32, mean float64) float64 {
	var a, b, c, d float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		d0, d1, d2, d3 := float64(x[i])-mean, float64(x[i+1])-mean, float64(x[i+2])-mean, float64(x[i+3])-mean
		a += d0 * d0
		b += d1 * d1
		c += d2 * d2
		d += d3 * d3
	}
	for ; i < len(x); i++ {
		v := float64(x[i]) - mean
		a += v * v
	}
	return (a + b) + (c + d)
}

// sumAndDot64 returns Σx and Σx·y in float64, as sum64 does its sum.
func sumAndDot64(x, y []float32) (sum, dot float64) {
	y = y[:len(x)]
	var s0, s1, d0, d1 float64
	i := 0
	for ; i+2 <= len(x); i += 2 {
		x0, x1 := float64(x[i]), float64(x[i+1])
		s0 += x0
		s1 += x1
		d0 += x0 * float64(y[i])
		d1 += x1 * float64(y[i+1])
	}
	for ; i < len(x); i++ {
		s0 += float64(x[i])
		d0 += float64(x[i]) * float64(y[i])
	}
	return s0 + s1, d0 + d1
}

func (s *bnStep) nodes() []*node { return s.act.nodes() }

// updateRunning moves the running averages towards the statistics of the whole batch, combined from the
// shards' in shard order (so the result does not depend on timing). shards are the steps of this layer that ran the last
// training forward, with their example counts.
func (l *BatchNorm) updateRunning(shards []*bnStep) {
	if len(shards) == 0 {
		return
	}
	cells := 0
	for _, s := range shards {
		cells += s.batch * l.spatial
	}
	for c := 0; c < l.channels; c++ {
		// The whole batch's mean and (biased) variance from the shards': the variance adds the spread of
		// the shard means around the batch mean.
		var mean, variance float64
		for _, s := range shards {
			mean += float64(s.batch*l.spatial) / float64(cells) * s.mean[c]
		}
		for _, s := range shards {
			d := s.mean[c] - mean
			variance += float64(s.batch*l.spatial) / float64(cells) * (s.variance[c] + d*d)
		}
		if cells > 1 {
			variance *= float64(cells) / float64(cells-1)
		}
		m := l.momentum
		l.runningMean.Value[c] = float32(m*float64(l.runningMean.Value[c]) + (1-m)*mean)
		l.runningVar.Value[c] = float32(m*float64(l.runningVar.Value[c]) + (1-m)*variance)
	}
}

// updateRunningStats moves every BatchNorm's running averages after a training step that the workers
// ran, in worker order.
func (n *Network) updateRunningStats(workers []*worker) {
	for i, l := range n.Layers {
		bn, ok := l.(*BatchNorm)
		if !ok {
			continue
		}
		shards := make([]*bnStep, len(workers))
		for k, w := range workers {
			shards[k] = w.last.steps[i].(*bnStep)
		}
		bn.updateRunning(shards)
	}
}
