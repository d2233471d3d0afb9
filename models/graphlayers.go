package models

import (
	"fmt"
	"math/rand/v2"

	"github.com/onnxrun/onnxrun/ops"
)

// mergeLayer is a layer that reads several earlier outputs (Add). Its build is never called: the graph
// calls buildMerge with every input's shape.
type mergeLayer interface {
	Layer
	buildMerge(in []ops.Shape) (ops.Shape, error)
	exportMerge(e *exportState, xs []string) (string, error)
}

// mergeStep is the step of a mergeLayer: backwardMerge returns dL/dx for each input, in order.
type mergeStep interface {
	step
	forwardMerge(ctx *ops.ExecContext, xs []*ops.Tensor) (*ops.Tensor, error)
	backwardMerge(ctx *ops.ExecContext, dy *ops.Tensor) ([]*ops.Tensor, error)
}

// Add sums the outputs of two or more earlier layers of the same shape and applies an activation: the
// join of a residual connection (Keras's Add followed by an Activation).
type Add struct {
	Activation Activation
	LayerName  string

	inputs int
	shape  ops.Shape
}

func (l *Add) Name() string     { return l.LayerName }
func (l *Add) Type() string     { return "Add" }
func (l *Add) setName(n string) { l.LayerName = n }
func (l *Add) params() []*Param { return nil }

func (l *Add) build(in ops.Shape) (ops.Shape, error) { return l.buildMerge([]ops.Shape{in}) }

func (l *Add) buildMerge(in []ops.Shape) (ops.Shape, error) {
	if len(in) < 2 {
		return nil, fmt.Errorf("layer %s (Add): reads %d output, want at least two (name them in Graph.Layer)", l.LayerName, len(in))
	}
	for k, s := range in[1:] {
		if !s.Equal(in[0]) {
			return nil, fmt.Errorf("layer %s (Add): input %d has shape %v, input 1 has %v", l.LayerName, k+2, s, in[0])
		}
	}
	if err := l.Activation.check(); err != nil {
		return nil, fmt.Errorf("layer %s (Add): %w", l.LayerName, err)
	}
	l.inputs, l.shape = len(in), in[0].Clone()
	return l.shape, nil
}

type addStep struct {
	adds []*node // adds[k] sums the running total with input k+2, through the Add kernel inference runs
	act  *activationStep
	dxs  []*ops.Tensor
}

func (l *Add) newStep(batch int, _ []*ops.Tensor, _ *rand.Rand) (step, error) {
	shape := withBatch(batch, l.shape)
	s := &addStep{dxs: make([]*ops.Tensor, l.inputs)}
	for range l.inputs - 1 {
		nd, err := newNode("", "Add", nil, 1, f32(shape), f32(shape))
		if err != nil {
			return nil, err
		}
		s.adds = append(s.adds, nd)
	}
	var err error
	s.act, err = newActivationStep(l.Activation, shape)
	return s, err
}

func (s *addStep) forwardMerge(ctx *ops.ExecContext, xs []*ops.Tensor) (*ops.Tensor, error) {
	sum := xs[0]
	for k, nd := range s.adds {
		var err error
		if sum, err = nd.run(ctx, sum, xs[k+1]); err != nil {
			return nil, err
		}
	}
	return s.act.forward(ctx, sum)
}

// backwardMerge: the sum passes its gradient to every input unchanged.
func (s *addStep) backwardMerge(ctx *ops.ExecContext, dy *ops.Tensor) ([]*ops.Tensor, error) {
	dz, err := s.act.backward(ctx, dy)
	if err != nil {
		return nil, err
	}
	for k := range s.dxs {
		s.dxs[k] = dz
	}
	return s.dxs, nil
}

func (s *addStep) forward(*ops.ExecContext, *ops.Tensor, bool) (*ops.Tensor, error) {
	return nil, fmt.Errorf("Add needs its inputs through forwardMerge")
}

func (s *addStep) backward(*ops.ExecContext, *ops.Tensor, bool) (*ops.Tensor, error) {
	return nil, fmt.Errorf("Add needs its gradient through backwardMerge")
}

func (s *addStep) nodes() []*node { return append(append([]*node(nil), s.adds...), s.act.nodes()...) }

// GlobalAveragePool averages each channel over its height and width and gives a vector of channels
// (Keras's GlobalAveragePooling2D; exported as ONNX GlobalAveragePool then Flatten).
type GlobalAveragePool struct {
	LayerName string
	in, out   ops.Shape
	gradAttrs ops.AttrMap
}

func (l *GlobalAveragePool) Name() string     { return l.LayerName }
func (l *GlobalAveragePool) Type() string     { return "GlobalAveragePooling2D" }
func (l *GlobalAveragePool) setName(n string) { l.LayerName = n }
func (l *GlobalAveragePool) params() []*Param { return nil }

func (l *GlobalAveragePool) build(in ops.Shape) (ops.Shape, error) {
	if len(in) != 3 {
		return nil, fmt.Errorf("layer %s (GlobalAveragePooling2D): input shape %v, want [channels height width]", l.LayerName, in)
	}
	l.in, l.out = in.Clone(), ops.Shape{in[0]}
	// Its gradient is an average pool's over one window covering the whole image.
	l.gradAttrs = ops.AttrMap{"kernel_shape": ints(in[1], in[2]), "strides": ints(in[1], in[2])}
	return l.out, nil
}

type globalPoolStep struct {
	pool, grad      *node
	pooled, flatOut ops.Shape // [N C 1 1] and [N C]
	x               *ops.Tensor
}

func (l *GlobalAveragePool) newStep(batch int, _ []*ops.Tensor, _ *rand.Rand) (step, error) {
	x := withBatch(batch, l.in)
	s := &globalPoolStep{pooled: ops.Shape{batch, l.in[0], 1, 1}, flatOut: withBatch(batch, l.out)}
	var err error
	if s.pool, err = newNode("", "GlobalAveragePool", nil, 1, f32(x)); err != nil {
		return nil, err
	}
	if s.grad, err = newNode(ops.TrainingDomain, "AveragePoolGrad", l.gradAttrs, 1, f32(s.pooled), f32(x)); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *globalPoolStep) forward(ctx *ops.ExecContext, x *ops.Tensor, _ bool) (*ops.Tensor, error) {
	s.x = x
	y, err := s.pool.run(ctx, x)
	if err != nil {
		return nil, err
	}
	return y.View(s.flatOut), nil
}

func (s *globalPoolStep) backward(ctx *ops.ExecContext, dy *ops.Tensor, wantDX bool) (*ops.Tensor, error) {
	if !wantDX {
		return nil, nil
	}
	return s.grad.run(ctx, dy.View(s.pooled), s.x)
}

func (s *globalPoolStep) nodes() []*node { return []*node{s.pool, s.grad} }
