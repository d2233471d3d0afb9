package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/onnxrun/onnxrun/ops"
)

// Network is a Sequential stack of layers over examples of shape Input ([channels height width]).
type Network struct {
	Input  ops.Shape
	Layers []Layer

	shapes      []ops.Shape // shapes[i] is layer i's output shape, per example
	params      []*Param
	layerParams []int         // layerParams[i] is the index in params of layer i's first parameter
	source      *importSource // the ONNX model ImportONNX built the network from, nil otherwise
}

// NewSequential builds a network: it names unnamed layers (conv1, pool1, dense1, ...), checks that each
// layer fits the previous one's output and creates the parameters, all zero until Init.
func NewSequential(input ops.Shape, layers ...Layer) (*Network, error) {
	if len(layers) == 0 {
		return nil, fmt.Errorf("models: a network needs at least one layer")
	}
	n := &Network{Input: input.Clone(), Layers: layers}
	counts := map[string]int{}
	used := map[string]bool{}
	for _, l := range layers {
		if l.Name() != "" {
			if used[l.Name()] {
				return nil, fmt.Errorf("models: two layers are named %q", l.Name())
			}
			used[l.Name()] = true
		}
	}
	for _, l := range layers {
		if l.Name() != "" {
			continue
		}
		prefix := layerPrefix(l)
		for {
			counts[prefix]++
			name := fmt.Sprintf("%s%d", prefix, counts[prefix])
			if prefix == "flatten" && counts[prefix] == 1 {
				name = "flatten"
			}
			if !used[name] {
				l.setName(name)
				used[name] = true
				break
			}
		}
	}
	shape := n.Input
	for _, l := range layers {
		out, err := l.build(shape)
		if err != nil {
			return nil, fmt.Errorf("models: %w", err)
		}
		n.layerParams = append(n.layerParams, len(n.params))
		n.params = append(n.params, l.params()...)
		n.shapes = append(n.shapes, out)
		shape = out
	}
	return n, nil
}

func layerPrefix(l Layer) string {
	switch l.(type) {
	case *Conv2D:
		return "conv"
	case *Pool2D:
		return "pool"
	case *Flatten:
		return "flatten"
	case *Dense:
		return "dense"
	case *Dropout:
		return "dropout"
	}
	return "layer"
}

// Output is the shape of one example's output.
func (n *Network) Output() ops.Shape { return n.shapes[len(n.shapes)-1] }

// Params lists the trainable tensors in layer order.
func (n *Network) Params() []*Param { return n.params }

// NumParams is the number of trainable scalars.
func (n *Network) NumParams() int {
	total := 0
	for _, p := range n.params {
		total += len(p.Value)
	}
	return total
}

// Init sets weights to Glorot-uniform values, U(-l, l) with l = sqrt(6 / (fan_in + fan_out)) where a
// convolution's fans count its kernel taps (Keras's glorot_uniform), and biases to zero.
func (n *Network) Init(seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x676c6f726f74)) // "glorot"
	for _, p := range n.params {
		if p.fanIn+p.fanOut == 0 {
			clear(p.Value)
			continue
		}
		limit := math.Sqrt(6 / float64(p.fanIn+p.fanOut))
		for i := range p.Value {
			p.Value[i] = float32((2*rng.Float64() - 1) * limit)
		}
	}
}

// Summary is a table of the layers, their output shapes and parameter counts, as Keras's model.summary()
// prints it (shapes channels-first).
func (n *Network) Summary() string {
	var b strings.Builder
	line := strings.Repeat("─", 66)
	fmt.Fprintf(&b, "%-30s %-22s %12s\n%s\n", "Layer (type)", "Output Shape", "Param #", line)
	for i, l := range n.Layers {
		count := 0
		for _, p := range l.params() {
			count += len(p.Value)
		}
		dims := []string{"None"}
		for _, d := range n.shapes[i] {
			dims = append(dims, fmt.Sprint(d))
		}
		fmt.Fprintf(&b, "%-30s %-22s %12s\n", fmt.Sprintf("%s (%s)", l.Name(), l.Type()), "("+strings.Join(dims, ", ")+")", thousands(count))
	}
	fmt.Fprintf(&b, "%s\nTotal params: %s\n", line, thousands(n.NumParams()))
	return b.String()
}

func thousands(v int) string {
	s := fmt.Sprint(v)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Predict runs the network in inference mode (dropout off) on a batch x of shape [N, Input...] and returns
// its outputs [N, Output...]. It prepares kernels for that batch size on each call: for tests and one-off
// use; the trainer keeps its workers.
func (n *Network) Predict(x *ops.Tensor) (*ops.Tensor, error) {
	want := withBatch(x.Shape()[0], n.Input)
	if x.DType() != ops.Float32 || !x.Shape().Equal(want) {
		return nil, fmt.Errorf("models: Predict input is %s%v, want float32%v", x.DType(), x.Shape(), want)
	}
	w := newWorker(n, 0)
	p, err := w.pass(x.Shape()[0])
	if err != nil {
		return nil, err
	}
	copy(p.x.Float32s(), x.Float32s())
	y, err := w.forward(p, false)
	if err != nil {
		return nil, err
	}
	return y.Clone(), nil
}

// worker runs forward and backward passes for one shard of a batch on one goroutine. It owns its kernels
// (one set per batch size it has seen), activations, scratch memory and parameter gradients.
type worker struct {
	net    *Network
	ctx    *ops.ExecContext
	grads  [][]float32   // one per parameter, written by the backward pass
	gradT  []*ops.Tensor // the same memory as tensors
	rng    *rand.Rand    // dropout masks
	rngSrc *rand.PCG     // rng's state, saved in checkpoints
	passes map[int]*pass
	labels []uint8 // the labels of the shard being trained
}

// pass is a worker's steps for one batch size.
type pass struct {
	batch   int
	x       *ops.Tensor // the input batch, filled by the caller
	steps   []step
	dlogits *ops.Tensor
}

func newWorker(n *Network, seed uint64) *worker {
	src := rand.NewPCG(seed, 0x64726f706f7574) // "dropout"
	w := &worker{net: n, ctx: ops.SerialContext(), rng: rand.New(src), rngSrc: src, passes: map[int]*pass{}}
	for _, p := range n.params {
		g := make([]float32, len(p.Value))
		w.grads = append(w.grads, g)
		w.gradT = append(w.gradT, ops.FromSlice(p.Shape, g))
	}
	return w
}

// pass returns the steps for batches of size batch, preparing them the first time.
func (w *worker) pass(batch int) (*pass, error) {
	if p, ok := w.passes[batch]; ok {
		return p, nil
	}
	p := &pass{batch: batch, x: ops.New(ops.Float32, withBatch(batch, w.net.Input)),
		dlogits: ops.New(ops.Float32, withBatch(batch, w.net.Output()))}
	scratch := len(w.ctx.Scratch)
	for i, l := range w.net.Layers {
		first := w.net.layerParams[i]
		s, err := l.newStep(batch, w.gradT[first:first+len(l.params())], w.rng)
		if err != nil {
			return nil, fmt.Errorf("models: layer %s: %w", l.Name(), err)
		}
		for _, nd := range s.nodes() {
			scratch = max(scratch, nd.scratch)
		}
		p.steps = append(p.steps, s)
	}
	if scratch > len(w.ctx.Scratch) {
		w.ctx.Scratch = make([]float32, scratch)
	}
	w.passes[batch] = p
	return p, nil
}

func (w *worker) forward(p *pass, train bool) (*ops.Tensor, error) {
	x := p.x
	for i, s := range p.steps {
		y, err := s.forward(w.ctx, x, train)
		if err != nil {
			return nil, fmt.Errorf("models: layer %s forward: %w", w.net.Layers[i].Name(), err)
		}
		x = y
	}
	return x, nil
}

// backward propagates p.dlogits back through every layer, leaving the parameter gradients in w.grads.
func (w *worker) backward(p *pass) error {
	dy := p.dlogits
	for i := len(p.steps) - 1; i >= 0; i-- {
		dx, err := p.steps[i].backward(w.ctx, dy, i > 0)
		if err != nil {
			return fmt.Errorf("models: layer %s backward: %w", w.net.Layers[i].Name(), err)
		}
		dy = dx
	}
	return nil
}
