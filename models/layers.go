package models

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/onnxrun/onnxrun/ops"
)

// Param is one trainable tensor of a layer. Value is the tensor's data, row-major; kernels read it in place,
// so the optimizer's updates are seen by the next step without copying.
type Param struct {
	Name  string // "conv1.weight", as the initializer is named in the exported model
	Shape ops.Shape
	Value []float32
	// fanIn and fanOut size the Glorot-uniform range; both are 0 for a bias or a BatchNorm tensor, which
	// starts at initial (0, or 1 for a scale or a variance).
	fanIn, fanOut int
	initial       float32
	// frozen parameters get no optimizer updates (Network.Freeze).
	frozen bool
}

func newParam(name string, shape ops.Shape, fanIn, fanOut int) *Param {
	return &Param{Name: name, Shape: shape, Value: make([]float32, shape.Size()), fanIn: fanIn, fanOut: fanOut}
}

// Activation is the element-wise function a Conv2D or Dense layer applies to its output, as Keras's
// activation argument.
type Activation string

// Activations. The zero value is Linear.
const (
	Linear  Activation = ""
	ReLU    Activation = "relu"
	Sigmoid Activation = "sigmoid"
	Tanh    Activation = "tanh"
	// GELU is x·Φ(x), Φ the standard normal's CDF (the exact form, PyTorch's default); SiLU (swish) is
	// x·sigmoid(x). Their gradients need x, not y, so they run as plain loops here (plainActivation).
	GELU Activation = "gelu"
	SiLU Activation = "silu"
)

// ParseActivation reads an activation name: relu, sigmoid, tanh, gelu, silu (also "swish"), or linear
// (also "none" or "").
func ParseActivation(s string) (Activation, error) {
	switch strings.ToLower(s) {
	case "", "linear", "none":
		return Linear, nil
	case "relu":
		return ReLU, nil
	case "sigmoid":
		return Sigmoid, nil
	case "tanh":
		return Tanh, nil
	case "gelu":
		return GELU, nil
	case "silu", "swish":
		return SiLU, nil
	}
	return Linear, fmt.Errorf("activation %q: want relu, sigmoid, tanh, gelu, silu or linear", s)
}

func (a Activation) String() string {
	if a == Linear {
		return "linear"
	}
	return string(a)
}

// opTypes are the forward op and its gradient op; "" for Linear.
func (a Activation) opTypes() (fwd, grad string) {
	switch a {
	case ReLU:
		return "Relu", "ReluGrad"
	case Sigmoid:
		return "Sigmoid", "SigmoidGrad"
	case Tanh:
		return "Tanh", "TanhGrad"
	}
	return "", ""
}

func (a Activation) check() error {
	switch a {
	case Linear, ReLU, Sigmoid, Tanh, GELU, SiLU:
		return nil
	}
	return fmt.Errorf("activation %q: want relu, sigmoid, tanh, gelu, silu or linear", string(a))
}

// PoolKind selects max or average pooling.
type PoolKind string

// Pool kinds.
const (
	MaxPool     PoolKind = "max"
	AveragePool PoolKind = "average"
)

// ParsePoolKind reads "max" or "average" (also "avg").
func ParsePoolKind(s string) (PoolKind, error) {
	switch strings.ToLower(s) {
	case "max":
		return MaxPool, nil
	case "average", "avg", "mean":
		return AveragePool, nil
	}
	return "", fmt.Errorf("pooling %q: want max or average", s)
}

// Layer is one stage of a network. The implementations are Conv2D, Pool2D, GlobalAveragePool, Flatten,
// Dense, BatchNorm, Dropout and Add (which reads several outputs); shapes are per example (no batch axis).
type Layer interface {
	// Name is the layer's name in summaries, in Graph.Layer's from and in the exported graph, set when the
	// network is built if empty.
	Name() string
	// Type is the kind of layer, as Keras's summary prints it.
	Type() string
	setName(string)
	// build fixes the layer to an input shape and creates its parameters; it returns the output shape.
	build(in ops.Shape) (ops.Shape, error)
	params() []*Param
	// newStep makes the layer's executor for batches of `batch` examples, writing parameter gradients
	// into grads (one per parameter, in params order).
	newStep(batch int, grads []*ops.Tensor, rng *rand.Rand) (step, error)
	export(e *exportState, x string) (string, error)
}

// step runs one layer for a fixed batch size on one worker. Its buffers (outputs, gradients) are reused by
// every call, so a result is valid until the same step runs again.
type step interface {
	forward(ctx *ops.ExecContext, x *ops.Tensor, train bool) (*ops.Tensor, error)
	// backward takes dL/dy of the last forward and returns dL/dx (nil when wantDX is false), writing the
	// layer's parameter gradients.
	backward(ctx *ops.ExecContext, dy *ops.Tensor, wantDX bool) (*ops.Tensor, error)
	nodes() []*node
}

func withBatch(batch int, s ops.Shape) ops.Shape { return append(ops.Shape{batch}, s...) }

// activationStep applies an activation and its gradient; a Linear one passes tensors through.
type activationStep struct {
	fwd, grad *node
	y         *ops.Tensor
	plain     *plainActivation // GELU and SiLU
}

func newActivationStep(a Activation, shape ops.Shape) (*activationStep, error) {
	if a == GELU || a == SiLU {
		return &activationStep{plain: newPlainActivation(a, shape)}, nil
	}
	fwdOp, gradOp := a.opTypes()
	s := &activationStep{}
	if fwdOp == "" {
		return s, nil
	}
	var err error
	if s.fwd, err = newNode("", fwdOp, nil, 1, f32(shape)); err != nil {
		return nil, err
	}
	if s.grad, err = newNode(ops.TrainingDomain, gradOp, nil, 1, f32(shape), f32(shape)); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *activationStep) forward(ctx *ops.ExecContext, z *ops.Tensor) (*ops.Tensor, error) {
	if s.plain != nil {
		return s.plain.forward(z), nil
	}
	if s.fwd == nil {
		return z, nil
	}
	y, err := s.fwd.run(ctx, z)
	s.y = y
	return y, err
}

func (s *activationStep) backward(ctx *ops.ExecContext, dy *ops.Tensor) (*ops.Tensor, error) {
	if s.plain != nil {
		return s.plain.backward(dy), nil
	}
	if s.grad == nil {
		return dy, nil
	}
	return s.grad.run(ctx, dy, s.y)
}

func (s *activationStep) nodes() []*node {
	if s.fwd == nil {
		return nil
	}
	return []*node{s.fwd, s.grad}
}

// Padding is a Conv2D's border handling, as Keras's padding argument.
type Padding string

// Paddings: Valid adds none (the output shrinks by kernel-1), Same pads so the output keeps the input size
// (the odd cell, for an even kernel, goes at the end as in Keras and ONNX's SAME_UPPER).
const (
	Valid Padding = ""
	Same  Padding = "same"
)

// Conv2D is a 2-D convolution (cross-correlation) with a bias and an activation: Keras's Conv2D.
type Conv2D struct {
	Filters    int
	Kernel     int // square kernel size
	Stride     int // step in both directions; 0 means 1
	Padding    Padding
	Activation Activation
	LayerName  string

	in, out          ops.Shape
	padBegin, padEnd int
	weight, bias     *Param
	attrs            ops.AttrMap
}

func (l *Conv2D) Name() string     { return l.LayerName }
func (l *Conv2D) Type() string     { return "Conv2D" }
func (l *Conv2D) setName(n string) { l.LayerName = n }
func (l *Conv2D) params() []*Param { return []*Param{l.weight, l.bias} }
func (l *Conv2D) String() string {
	return fmt.Sprintf("Conv2D(%d@%dx%d/%d, %s)", l.Filters, l.Kernel, l.Kernel, l.stride(), l.Activation)
}

func (l *Conv2D) stride() int { return max(l.Stride, 1) }

func (l *Conv2D) build(in ops.Shape) (ops.Shape, error) {
	if len(in) != 3 {
		return nil, fmt.Errorf("layer %s (Conv2D): input shape %v, want [channels height width]", l.LayerName, in)
	}
	if l.Filters < 1 || l.Kernel < 1 || l.Stride < 0 {
		return nil, fmt.Errorf("layer %s (Conv2D): filters %d, kernel %d and stride %d must be positive", l.LayerName, l.Filters, l.Kernel, l.Stride)
	}
	if err := l.Activation.check(); err != nil {
		return nil, fmt.Errorf("layer %s (Conv2D): %w", l.LayerName, err)
	}
	c, h, w, stride := in[0], in[1], in[2], l.stride()
	var oh, ow int
	switch l.Padding {
	case Valid:
		l.padBegin, l.padEnd = 0, 0
		oh, ow = (h-l.Kernel)/stride+1, (w-l.Kernel)/stride+1
		if h < l.Kernel || w < l.Kernel {
			oh, ow = 0, 0
		}
	case Same:
		// ceil(size/stride) outputs, as Keras and ONNX's SAME_UPPER; the padding is what that needs: kernel-1
		// at stride 1, otherwise a function of the size, the same for both axes only on a square input.
		if h != w && stride > 1 {
			return nil, fmt.Errorf("layer %s (Conv2D): padding same with stride %d needs a square input, have %dx%d", l.LayerName, stride, h, w)
		}
		oh, ow = (h+stride-1)/stride, (w+stride-1)/stride
		total := max((oh-1)*stride+l.Kernel-h, 0)
		l.padBegin = total / 2
		l.padEnd = total - l.padBegin
	default:
		return nil, fmt.Errorf("layer %s (Conv2D): padding %q, want valid or same", l.LayerName, string(l.Padding))
	}
	if oh < 1 || ow < 1 {
		return nil, fmt.Errorf("layer %s (Conv2D): a %dx%d kernel does not fit the %dx%d input (padding %s)", l.LayerName, l.Kernel, l.Kernel, h, w, l.paddingName())
	}
	l.in, l.out = in.Clone(), ops.Shape{l.Filters, oh, ow}
	taps := l.Kernel * l.Kernel
	l.weight = newParam(l.LayerName+".weight", ops.Shape{l.Filters, c, l.Kernel, l.Kernel}, c*taps, l.Filters*taps)
	l.bias = newParam(l.LayerName+".bias", ops.Shape{l.Filters}, 0, 0)
	p, q := l.padBegin, l.padEnd
	l.attrs = ops.AttrMap{"kernel_shape": ints(l.Kernel, l.Kernel), "pads": ints(p, p, q, q), "strides": ints(stride, stride)}
	return l.out, nil
}

func (l *Conv2D) paddingName() string {
	if l.Padding == Valid {
		return "valid"
	}
	return string(l.Padding)
}

func (l *Conv2D) newStep(batch int, grads []*ops.Tensor, _ *rand.Rand) (step, error) {
	return newWeightedStep("Conv", "ConvGrad", l.attrs, l.weight, l.bias, l.Activation,
		withBatch(batch, l.in), withBatch(batch, l.out), grads)
}

// weightedStep runs a layer that multiplies by a weight, adds a bias and applies an activation (Conv2D
// through Conv, Dense through Gemm): forward, the op's gradient kernel (dX, dW, dB) and the activation's.
type weightedStep struct {
	op, grad *node
	act      *activationStep
	w, b     *ops.Tensor
	x        *ops.Tensor
	gradOut  [3]*ops.Tensor // dX (nil when not wanted), dW, dB (nil for a frozen parameter)
	dx       *ops.Tensor
	// weight and bias are the parameters, whose frozen flags say which gradients to skip; dW and dB
	// receive their gradients.
	weight, bias *Param
	dW, dB       *ops.Tensor
}

// newWeightedStep binds opType (default domain) and gradOpType (ops.TrainingDomain) for input shape x and
// output shape y; grads receive dW and dB.
func newWeightedStep(opType, gradOpType string, attrs ops.AttrMap, weight, bias *Param, act Activation, x, y ops.Shape, grads []*ops.Tensor) (step, error) {
	s := &weightedStep{w: ops.FromSlice(weight.Shape, weight.Value), b: ops.FromSlice(bias.Shape, bias.Value)}
	var err error
	if s.op, err = newNode("", opType, attrs, 1, f32(x), f32(weight.Shape), f32(bias.Shape)); err != nil {
		return nil, err
	}
	if s.grad, err = newNode(ops.TrainingDomain, gradOpType, attrs, 3, f32(y), f32(x), f32(weight.Shape)); err != nil {
		return nil, err
	}
	if s.act, err = newActivationStep(act, y); err != nil {
		return nil, err
	}
	s.dx = s.grad.outs[0]
	s.weight, s.bias, s.dW, s.dB = weight, bias, grads[0], grads[1]
	return s, nil
}

func (s *weightedStep) forward(ctx *ops.ExecContext, x *ops.Tensor, _ bool) (*ops.Tensor, error) {
	s.x = x
	z, err := s.op.run(ctx, x, s.w, s.b)
	if err != nil {
		return nil, err
	}
	return s.act.forward(ctx, z)
}

func (s *weightedStep) backward(ctx *ops.ExecContext, dy *ops.Tensor, wantDX bool) (*ops.Tensor, error) {
	dz, err := s.act.backward(ctx, dy)
	if err != nil {
		return nil, err
	}
	s.gradOut = [3]*ops.Tensor{nil, s.dW, s.dB}
	if wantDX {
		s.gradOut[0] = s.dx
	}
	// A frozen parameter's gradient is not needed: the kernel skips a nil output.
	if s.weight.frozen {
		s.gradOut[1] = nil
	}
	if s.bias.frozen {
		s.gradOut[2] = nil
	}
	if err := s.grad.runInto(ctx, []*ops.Tensor{dz, s.x, s.w}, s.gradOut[:]); err != nil {
		return nil, err
	}
	return s.gradOut[0], nil
}

func (s *weightedStep) nodes() []*node { return append([]*node{s.op, s.grad}, s.act.nodes()...) }

// Pool2D is non-overlapping max or average pooling over Size x Size windows (Keras's MaxPooling2D and
// AveragePooling2D with their default strides and valid padding: a remainder row or column is dropped).
type Pool2D struct {
	Kind      PoolKind
	Size      int
	LayerName string

	in, out ops.Shape
	attrs   ops.AttrMap
}

func (l *Pool2D) Name() string     { return l.LayerName }
func (l *Pool2D) setName(n string) { l.LayerName = n }
func (l *Pool2D) params() []*Param { return nil }

func (l *Pool2D) Type() string {
	if l.Kind == MaxPool {
		return "MaxPooling2D"
	}
	return "AveragePooling2D"
}

func (l *Pool2D) opType() string {
	if l.Kind == MaxPool {
		return "MaxPool"
	}
	return "AveragePool"
}

func (l *Pool2D) build(in ops.Shape) (ops.Shape, error) {
	if len(in) != 3 {
		return nil, fmt.Errorf("layer %s (%s): input shape %v, want [channels height width]", l.LayerName, l.Type(), in)
	}
	if l.Kind != MaxPool && l.Kind != AveragePool {
		return nil, fmt.Errorf("layer %s: pooling kind %q, want max or average", l.LayerName, string(l.Kind))
	}
	if l.Size < 1 || in[1] < l.Size || in[2] < l.Size {
		return nil, fmt.Errorf("layer %s (%s): pool size %d does not fit the %dx%d input", l.LayerName, l.Type(), l.Size, in[1], in[2])
	}
	l.in, l.out = in.Clone(), ops.Shape{in[0], in[1] / l.Size, in[2] / l.Size}
	l.attrs = ops.AttrMap{"kernel_shape": ints(l.Size, l.Size), "strides": ints(l.Size, l.Size)}
	return l.out, nil
}

type poolStep struct {
	pool, grad *node
	x          *ops.Tensor
}

func (l *Pool2D) newStep(batch int, _ []*ops.Tensor, _ *rand.Rand) (step, error) {
	x, y := withBatch(batch, l.in), withBatch(batch, l.out)
	s := &poolStep{}
	var err error
	if s.pool, err = newNode("", l.opType(), l.attrs, 1, f32(x)); err != nil {
		return nil, err
	}
	if s.grad, err = newNode(ops.TrainingDomain, l.opType()+"Grad", l.attrs, 1, f32(y), f32(x)); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *poolStep) forward(ctx *ops.ExecContext, x *ops.Tensor, _ bool) (*ops.Tensor, error) {
	s.x = x
	return s.pool.run(ctx, x)
}

func (s *poolStep) backward(ctx *ops.ExecContext, dy *ops.Tensor, wantDX bool) (*ops.Tensor, error) {
	if !wantDX {
		return nil, nil
	}
	return s.grad.run(ctx, dy, s.x)
}

func (s *poolStep) nodes() []*node { return []*node{s.pool, s.grad} }

// Flatten turns each example into a vector (row-major, channels first: the order ONNX's Flatten gives
// NCHW data, which differs from Keras's NHWC flattening).
type Flatten struct {
	LayerName string
	in, out   ops.Shape
}

func (l *Flatten) Name() string     { return l.LayerName }
func (l *Flatten) Type() string     { return "Flatten" }
func (l *Flatten) setName(n string) { l.LayerName = n }
func (l *Flatten) params() []*Param { return nil }

func (l *Flatten) build(in ops.Shape) (ops.Shape, error) {
	l.in, l.out = in.Clone(), ops.Shape{in.Size()}
	return l.out, nil
}

type flattenStep struct{ x, y ops.Shape }

func (l *Flatten) newStep(batch int, _ []*ops.Tensor, _ *rand.Rand) (step, error) {
	return &flattenStep{x: withBatch(batch, l.in), y: withBatch(batch, l.out)}, nil
}

func (s *flattenStep) forward(_ *ops.ExecContext, x *ops.Tensor, _ bool) (*ops.Tensor, error) {
	return x.View(s.y), nil
}

func (s *flattenStep) backward(_ *ops.ExecContext, dy *ops.Tensor, wantDX bool) (*ops.Tensor, error) {
	if !wantDX {
		return nil, nil
	}
	return dy.View(s.x), nil
}

func (s *flattenStep) nodes() []*node { return nil }

// Dense is a fully connected layer, y = activation(x·Wᵀ + b), with W of shape [Units, inputs].
type Dense struct {
	Units      int
	Activation Activation
	LayerName  string

	in, out      ops.Shape
	weight, bias *Param
}

var denseAttrs = ops.AttrMap{"transB": ops.IntAttr(1)}

func (l *Dense) Name() string     { return l.LayerName }
func (l *Dense) Type() string     { return "Dense" }
func (l *Dense) setName(n string) { l.LayerName = n }
func (l *Dense) params() []*Param { return []*Param{l.weight, l.bias} }

func (l *Dense) build(in ops.Shape) (ops.Shape, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("layer %s (Dense): input shape %v, want a vector (put a Flatten before it)", l.LayerName, in)
	}
	if l.Units < 1 {
		return nil, fmt.Errorf("layer %s (Dense): units %d must be positive", l.LayerName, l.Units)
	}
	if err := l.Activation.check(); err != nil {
		return nil, fmt.Errorf("layer %s (Dense): %w", l.LayerName, err)
	}
	l.in, l.out = in.Clone(), ops.Shape{l.Units}
	l.weight = newParam(l.LayerName+".weight", ops.Shape{l.Units, in[0]}, in[0], l.Units)
	l.bias = newParam(l.LayerName+".bias", ops.Shape{l.Units}, 0, 0)
	return l.out, nil
}

func (l *Dense) newStep(batch int, grads []*ops.Tensor, _ *rand.Rand) (step, error) {
	return newWeightedStep("Gemm", "GemmGrad", denseAttrs, l.weight, l.bias, l.Activation,
		withBatch(batch, l.in), withBatch(batch, l.out), grads)
}

// Dropout zeroes each input element with probability Rate while training and scales the rest by
// 1/(1-Rate) (inverted dropout, as Keras and PyTorch do), so inference is the identity and the export
// leaves it out.
type Dropout struct {
	Rate      float64
	LayerName string
	shape     ops.Shape
}

func (l *Dropout) Name() string     { return l.LayerName }
func (l *Dropout) Type() string     { return "Dropout" }
func (l *Dropout) setName(n string) { l.LayerName = n }
func (l *Dropout) params() []*Param { return nil }

func (l *Dropout) build(in ops.Shape) (ops.Shape, error) {
	if !(l.Rate >= 0 && l.Rate < 1) {
		return nil, fmt.Errorf("layer %s (Dropout): rate %g, want 0 <= rate < 1", l.LayerName, l.Rate)
	}
	l.shape = in.Clone()
	return l.shape, nil
}

type dropoutStep struct {
	rate   float32
	rng    *rand.Rand
	mask   []float32 // 0 or 1/(1-rate) per element, drawn at each training forward
	y, dx  *ops.Tensor
	active bool // the last forward was a training one
}

func (l *Dropout) newStep(batch int, _ []*ops.Tensor, rng *rand.Rand) (step, error) {
	shape := withBatch(batch, l.shape)
	return &dropoutStep{rate: float32(l.Rate), rng: rng, mask: make([]float32, shape.Size()),
		y: ops.New(ops.Float32, shape), dx: ops.New(ops.Float32, shape)}, nil
}

func (s *dropoutStep) forward(_ *ops.ExecContext, x *ops.Tensor, train bool) (*ops.Tensor, error) {
	s.active = train && s.rate > 0
	if !s.active {
		return x, nil
	}
	scale := 1 / (1 - s.rate)
	xs, ys := x.Float32s(), s.y.Float32s()
	for i, v := range xs {
		if s.rng.Float32() < s.rate {
			s.mask[i], ys[i] = 0, 0
		} else {
			s.mask[i], ys[i] = scale, v*scale
		}
	}
	return s.y, nil
}

func (s *dropoutStep) backward(_ *ops.ExecContext, dy *ops.Tensor, wantDX bool) (*ops.Tensor, error) {
	if !wantDX {
		return nil, nil
	}
	if !s.active {
		return dy, nil
	}
	dys, dxs := dy.Float32s(), s.dx.Float32s()
	for i, m := range s.mask {
		dxs[i] = dys[i] * m
	}
	return s.dx, nil
}

func (s *dropoutStep) nodes() []*node { return nil }
