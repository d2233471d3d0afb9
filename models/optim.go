package models

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
)

// Optimizer updates parameters from their gradients (the gradient of the batch's mean loss).
type Optimizer interface {
	// Step applies one update; grads[i] belongs to params[i] and may be overwritten.
	Step(params []*Param, grads [][]float32)
	LearningRate() float64
	SetLearningRate(lr float64)
	Name() string
}

// NewOptimizer returns "sgd" (momentum 0.9) or "adam" (Keras's defaults: beta1 0.9, beta2 0.999,
// epsilon 1e-7) with learning rate lr; lr 0 takes the usual default (0.01 for SGD, 0.001 for Adam).
func NewOptimizer(name string, lr float64) (Optimizer, error) {
	switch strings.ToLower(name) {
	case "sgd":
		if lr == 0 {
			lr = 0.01
		}
		return &SGD{LR: lr, Momentum: 0.9}, nil
	case "adam":
		if lr == 0 {
			lr = 0.001
		}
		return &Adam{LR: lr, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-7}, nil
	}
	return nil, fmt.Errorf("optimizer %q: want sgd or adam", name)
}

// SGD is stochastic gradient descent with momentum, as PyTorch writes it: v = momentum*v + g, p -= LR*v.
// Momentum 0 is plain SGD.
type SGD struct {
	LR, Momentum float64
	velocity     [][]float32
}

func (o *SGD) Name() string               { return "sgd" }
func (o *SGD) LearningRate() float64      { return o.LR }
func (o *SGD) SetLearningRate(lr float64) { o.LR = lr }

// Step applies one update.
func (o *SGD) Step(params []*Param, grads [][]float32) {
	if o.velocity == nil && o.Momentum != 0 {
		for _, p := range params {
			o.velocity = append(o.velocity, make([]float32, len(p.Value)))
		}
	}
	lr, mu := float32(o.LR), float32(o.Momentum)
	for i, p := range params {
		g := grads[i]
		if mu == 0 {
			for j := range p.Value {
				p.Value[j] -= lr * g[j]
			}
			continue
		}
		v := o.velocity[i]
		for j := range p.Value {
			v[j] = mu*v[j] + g[j]
			p.Value[j] -= lr * v[j]
		}
	}
}

func (o *SGD) settings() map[string]float64 { return map[string]float64{"momentum": o.Momentum} }

func (o *SGD) state() (int, map[string][][]float32) {
	if o.velocity == nil {
		return 0, nil
	}
	return 0, map[string][][]float32{"velocity": o.velocity}
}

func (o *SGD) restore(_ int, buffers map[string][][]float32) error {
	if err := onlyBuffers(buffers, "velocity"); err != nil {
		return err
	}
	o.velocity = buffers["velocity"]
	return nil
}

// onlyBuffers checks that buffers holds either none or all of names, and nothing else.
func onlyBuffers(buffers map[string][][]float32, names ...string) error {
	for k := range buffers {
		if !slices.Contains(names, k) {
			return fmt.Errorf("optimizer buffer %q is not one of %q", k, names)
		}
	}
	if len(buffers) != 0 && len(buffers) != len(names) {
		return fmt.Errorf("optimizer buffers %q: want all or none of %q", slices.Sorted(maps.Keys(buffers)), names)
	}
	return nil
}

// Adam is Kingma and Ba's optimizer with bias correction:
//
//	m = β1·m + (1-β1)·g,  v = β2·v + (1-β2)·g²,  p -= LR · m̂ / (sqrt(v̂) + ε)
//
// with m̂ = m/(1-β1ᵗ), v̂ = v/(1-β2ᵗ).
type Adam struct {
	LR, Beta1, Beta2, Epsilon float64
	t                         int
	m, v                      [][]float32
}

func (o *Adam) Name() string               { return "adam" }
func (o *Adam) LearningRate() float64      { return o.LR }
func (o *Adam) SetLearningRate(lr float64) { o.LR = lr }

// Step applies one update.
func (o *Adam) Step(params []*Param, grads [][]float32) {
	if o.m == nil {
		for _, p := range params {
			o.m = append(o.m, make([]float32, len(p.Value)))
			o.v = append(o.v, make([]float32, len(p.Value)))
		}
	}
	o.t++
	b1, b2 := float32(o.Beta1), float32(o.Beta2)
	c1 := 1 - math.Pow(o.Beta1, float64(o.t))
	c2 := 1 - math.Pow(o.Beta2, float64(o.t))
	// p -= LR/c1 · m / (sqrt(v/c2) + ε), with the corrections folded into two scalars.
	step := float32(o.LR / c1)
	invC2 := float32(1 / c2)
	eps := float32(o.Epsilon)
	for i, p := range params {
		g, m, v := grads[i], o.m[i], o.v[i]
		for j := range p.Value {
			m[j] = b1*m[j] + (1-b1)*g[j]
			v[j] = b2*v[j] + (1-b2)*g[j]*g[j]
			p.Value[j] -= step * m[j] / (float32(math.Sqrt(float64(v[j]*invC2))) + eps)
		}
	}
}

func (o *Adam) settings() map[string]float64 {
	return map[string]float64{"beta1": o.Beta1, "beta2": o.Beta2, "epsilon": o.Epsilon}
}

func (o *Adam) state() (int, map[string][][]float32) {
	if o.m == nil {
		return o.t, nil
	}
	return o.t, map[string][][]float32{"m": o.m, "v": o.v}
}

func (o *Adam) restore(t int, buffers map[string][][]float32) error {
	if err := onlyBuffers(buffers, "m", "v"); err != nil {
		return err
	}
	if t < 0 || (t > 0) != (len(buffers) > 0) {
		return fmt.Errorf("adam at step %d with %d buffers", t, len(buffers))
	}
	o.t, o.m, o.v = t, buffers["m"], buffers["v"]
	return nil
}
