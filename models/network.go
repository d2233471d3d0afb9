package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/onnxrun/onnxrun/ops"
)

// Network is a graph of layers over examples of shape Input ([channels height width]). Each layer reads
// the output of earlier layers (the previous one in a Sequential stack; any earlier ones, by name, in a
// Graph), the last layer's output is the network's, and layers run in the order they were added.
type Network struct {
	Input  ops.Shape
	Layers []Layer

	// inputs[i] lists the layers whose outputs layer i reads (networkInput for Input).
	inputs      [][]int
	consumers   []int       // consumers[i] counts the layers reading layer i's output
	shapes      []ops.Shape // shapes[i] is layer i's output shape, per example
	params      []*Param
	buffers     []*Param      // state that is not trained by gradients (BatchNorm's running averages)
	layerParams []int         // layerParams[i] is the index in params of layer i's first parameter
	source      *importSource // the ONNX model ImportONNX built the network from, nil otherwise
}

// networkInput stands for the network's input among a layer's inputs.
const networkInput = -1

// InputName is the name by which a Graph layer reads the network's input.
const InputName = "input"

// NewSequential builds a network where each layer reads the previous one's output: it names unnamed
// layers (conv1, pool1, dense1, ...), checks that each layer fits the previous one's output and creates
// the parameters, all zero until Init. It is a Graph whose layers all read their predecessor.
func NewSequential(input ops.Shape, layers ...Layer) (*Network, error) {
	g := NewGraph(input)
	for _, l := range layers {
		g.Layer(l)
	}
	return g.Build()
}

// Graph collects the layers of a network whose layers may read any earlier layer's output, such as a
// residual block's Add; Build checks and builds it.
type Graph struct {
	input  ops.Shape
	layers []Layer
	from   [][]string
}

// NewGraph starts a graph over examples of shape input ([channels height width]).
func NewGraph(input ops.Shape) *Graph { return &Graph{input: input.Clone()} }

// Layer appends l, reading the outputs of the layers named in from (InputName for the network's input);
// with no from it reads the previous layer's output (the input, for the first layer). Only Add takes more
// than one. Layers referred to by name must be given that name (LayerName).
func (g *Graph) Layer(l Layer, from ...string) *Graph {
	g.layers = append(g.layers, l)
	g.from = append(g.from, from)
	return g
}

// Build names unnamed layers, resolves the names each layer reads, checks that every layer fits its
// inputs and that every layer's output is used, and creates the parameters, all zero until Init.
func (g *Graph) Build() (*Network, error) {
	layers := g.layers
	if len(layers) == 0 {
		return nil, fmt.Errorf("models: a network needs at least one layer")
	}
	n := &Network{Input: g.input.Clone(), Layers: layers}
	if err := nameLayers(layers); err != nil {
		return nil, err
	}
	index := map[string]int{}
	for i, l := range layers {
		if l.Name() == InputName {
			return nil, fmt.Errorf("models: layer %d is named %q, the name of the network's input", i+1, InputName)
		}
		var in []int
		for _, name := range g.from[i] {
			j, ok := index[name]
			if name == InputName {
				j, ok = networkInput, true
			}
			if !ok {
				return nil, fmt.Errorf("models: layer %s reads %q, which is not an earlier layer", l.Name(), name)
			}
			in = append(in, j)
		}
		if len(in) == 0 {
			in = []int{i - 1} // the previous layer; networkInput for the first
		}
		n.inputs = append(n.inputs, in)
		index[l.Name()] = i
	}
	n.consumers = make([]int, len(layers))
	for i, l := range layers {
		shapes := make([]ops.Shape, len(n.inputs[i]))
		for k, j := range n.inputs[i] {
			shapes[k] = n.Input
			if j != networkInput {
				shapes[k] = n.shapes[j]
				n.consumers[j]++
			}
		}
		var out ops.Shape
		var err error
		if m, ok := l.(mergeLayer); ok {
			out, err = m.buildMerge(shapes)
		} else if len(shapes) != 1 {
			err = fmt.Errorf("layer %s (%s) reads %d outputs; only Add reads more than one", l.Name(), l.Type(), len(shapes))
		} else {
			out, err = l.build(shapes[0])
		}
		if err != nil {
			return nil, fmt.Errorf("models: %w", err)
		}
		n.layerParams = append(n.layerParams, len(n.params))
		n.params = append(n.params, l.params()...)
		if b, ok := l.(bufferedLayer); ok {
			n.buffers = append(n.buffers, b.buffers()...)
		}
		n.shapes = append(n.shapes, out)
	}
	for i, l := range layers[:len(layers)-1] {
		if n.consumers[i] == 0 {
			return nil, fmt.Errorf("models: the output of layer %s is not read by any later layer (the last layer's is the network's output)", l.Name())
		}
	}
	return n, nil
}

// nameLayers checks that given names are unique and names the others after their kind: conv1, pool1, ...
func nameLayers(layers []Layer) error {
	counts := map[string]int{}
	used := map[string]bool{}
	for _, l := range layers {
		if l.Name() != "" {
			if used[l.Name()] {
				return fmt.Errorf("models: two layers are named %q", l.Name())
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
	return nil
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
	case *BatchNorm:
		return "bn"
	case *GlobalAveragePool:
		return "gap"
	case *Add:
		return "add"
	}
	return "layer"
}

// Output is the shape of one example's output.
func (n *Network) Output() ops.Shape { return n.shapes[len(n.shapes)-1] }

// Params lists the trainable tensors in layer order.
func (n *Network) Params() []*Param { return n.params }

// Buffers lists the state that gradients do not train, in layer order: BatchNorm's running mean and
// variance, which the training steps update and inference uses.
func (n *Network) Buffers() []*Param { return n.buffers }

// NumParams is the number of trainable scalars.
func (n *Network) NumParams() int {
	total := 0
	for _, p := range n.params {
		total += len(p.Value)
	}
	return total
}

// Init sets weights to Glorot-uniform values, U(-l, l) with l = sqrt(6 / (fan_in + fan_out)) where a
// convolution's fans count its kernel taps (Keras's glorot_uniform), biases to zero, BatchNorm's scales
// and running variances to one and its shifts and running means to zero.
func (n *Network) Init(seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x676c6f726f74)) // "glorot"
	for _, p := range append(n.params[:len(n.params):len(n.params)], n.buffers...) {
		if p.fanIn+p.fanOut == 0 {
			for i := range p.Value {
				p.Value[i] = p.initial
			}
			continue
		}
		limit := math.Sqrt(6 / float64(p.fanIn+p.fanOut))
		for i := range p.Value {
			p.Value[i] = float32((2*rng.Float64() - 1) * limit)
		}
	}
}

// Summary is a table of the layers, their output shapes and parameter counts, as Keras's model.summary()
// prints it (shapes channels-first); for a network that is not a plain chain, a last column names what
// each layer reads, as Keras's "Connected to".
func (n *Network) Summary() string {
	// Each column is as wide as its longest entry (at least Keras's widths), so that a long layer name
	// such as "stage1_block1_bn1 (BatchNormalization)" does not push its row's later columns out of line.
	names, shapes, counts := make([]string, len(n.Layers)), make([]string, len(n.Layers)), make([]string, len(n.Layers))
	nameWidth, shapeWidth, countWidth := 30, 22, 12
	for i, l := range n.Layers {
		count := 0
		for _, p := range l.params() {
			count += len(p.Value)
		}
		dims := []string{"None"}
		for _, d := range n.shapes[i] {
			dims = append(dims, fmt.Sprint(d))
		}
		names[i], shapes[i], counts[i] = fmt.Sprintf("%s (%s)", l.Name(), l.Type()), "("+strings.Join(dims, ", ")+")", thousands(count)
		nameWidth, shapeWidth, countWidth = max(nameWidth, len(names[i])), max(shapeWidth, len(shapes[i])), max(countWidth, len(counts[i]))
	}
	var b strings.Builder
	line := strings.Repeat("─", nameWidth+shapeWidth+countWidth+2)
	chain := true
	for i, in := range n.inputs {
		chain = chain && len(in) == 1 && in[0] == i-1
	}
	if chain {
		fmt.Fprintf(&b, "%-*s %-*s %*s\n%s\n", nameWidth, "Layer (type)", shapeWidth, "Output Shape", countWidth, "Param #", line)
	} else {
		line += strings.Repeat("─", 32)
		fmt.Fprintf(&b, "%-*s %-*s %*s  %s\n%s\n", nameWidth, "Layer (type)", shapeWidth, "Output Shape", countWidth, "Param #", "Connected to", line)
	}
	for i := range n.Layers {
		row := fmt.Sprintf("%-*s %-*s %*s", nameWidth, names[i], shapeWidth, shapes[i], countWidth, counts[i])
		if !chain {
			var from []string
			for _, j := range n.inputs[i] {
				if j == networkInput {
					from = append(from, InputName)
				} else {
					from = append(from, n.Layers[j].Name())
				}
			}
			row += "  " + strings.Join(from, ", ")
		}
		b.WriteString(row + "\n")
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
	last   *pass   // the pass of the last forward, whose BatchNorm statistics the trainer reads
}

// pass is a worker's steps for one batch size.
type pass struct {
	batch   int
	x       *ops.Tensor // the input batch, filled by the caller
	steps   []step
	dlogits *ops.Tensor
	outs    []*ops.Tensor // outs[i] is layer i's output of the last forward
	// dOuts[i] is dL/d(layer i's output) during backward; sums[i] holds it for a layer read by several
	// others, whose gradients add up (nil for the others, whose dOuts alias their reader's dX).
	dOuts, sums []*ops.Tensor
	augScratch  []float32     // one image, for Config.Augment
	mergeIn     []*ops.Tensor // the inputs of an Add, gathered without allocating
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
	layers := len(w.net.Layers)
	p := &pass{batch: batch, x: ops.New(ops.Float32, withBatch(batch, w.net.Input)),
		dlogits: ops.New(ops.Float32, withBatch(batch, w.net.Output())),
		outs:    make([]*ops.Tensor, layers), dOuts: make([]*ops.Tensor, layers), sums: make([]*ops.Tensor, layers)}
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
		if len(w.net.inputs[i]) > len(p.mergeIn) {
			p.mergeIn = make([]*ops.Tensor, len(w.net.inputs[i]))
		}
		if w.net.consumers[i] > 1 {
			p.sums[i] = ops.New(ops.Float32, withBatch(batch, w.net.shapes[i]))
		}
	}
	if scratch > len(w.ctx.Scratch) {
		w.ctx.Scratch = make([]float32, scratch)
	}
	w.passes[batch] = p
	return p, nil
}

// input is the tensor that layer j's output (or the network input, for networkInput) holds in p.
func (p *pass) input(j int) *ops.Tensor {
	if j == networkInput {
		return p.x
	}
	return p.outs[j]
}

func (w *worker) forward(p *pass, train bool) (*ops.Tensor, error) {
	w.last = p
	for i, s := range p.steps {
		in := w.net.inputs[i]
		var y *ops.Tensor
		var err error
		if m, ok := s.(mergeStep); ok {
			xs := p.mergeIn[:len(in)]
			for k, j := range in {
				xs[k] = p.input(j)
			}
			y, err = m.forwardMerge(w.ctx, xs)
		} else {
			y, err = s.forward(w.ctx, p.input(in[0]), train)
		}
		if err != nil {
			return nil, fmt.Errorf("models: layer %s forward: %w", w.net.Layers[i].Name(), err)
		}
		p.outs[i] = y
	}
	return p.outs[len(p.outs)-1], nil
}

// backward propagates p.dlogits back through every layer, leaving the parameter gradients in w.grads.
// Layers run in reverse order, so a layer's output gradient is complete (summed over all its readers, in
// a fixed order) before it runs.
func (w *worker) backward(p *pass) error {
	clear(p.dOuts)
	last := len(p.steps) - 1
	p.dOuts[last] = p.dlogits
	for i := last; i >= 0; i-- {
		dy := p.dOuts[i]
		in := w.net.inputs[i]
		wantDX := false
		for _, j := range in {
			wantDX = wantDX || j != networkInput
		}
		var dxs []*ops.Tensor
		var err error
		if m, ok := p.steps[i].(mergeStep); ok {
			dxs, err = m.backwardMerge(w.ctx, dy)
		} else {
			var dx *ops.Tensor
			dx, err = p.steps[i].backward(w.ctx, dy, wantDX)
			dxs = []*ops.Tensor{dx}
		}
		if err != nil {
			return fmt.Errorf("models: layer %s backward: %w", w.net.Layers[i].Name(), err)
		}
		for k, j := range in {
			if j != networkInput {
				p.addGrad(j, dxs[k])
			}
		}
	}
	return nil
}

// addGrad adds g to the gradient of layer j's output.
func (p *pass) addGrad(j int, g *ops.Tensor) {
	sum := p.sums[j]
	switch {
	case sum == nil:
		p.dOuts[j] = g
	case p.dOuts[j] == nil:
		copy(sum.Float32s(), g.Float32s())
		p.dOuts[j] = sum
	default:
		s := sum.Float32s()
		for i, v := range g.Float32s() {
			s[i] += v
		}
	}
}
