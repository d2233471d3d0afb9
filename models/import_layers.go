package models

// Layers that only an imported ONNX network (ImportONNX) uses: each wraps one ONNX node (or MatMul+Add)
// with the node's own attributes, so the forward pass computes what onnxrun's inference of the original
// model computes. They export nothing themselves: an imported network is written back as its source
// model with the trained initializers (Network.Export, import_export.go).

import (
	"fmt"
	"math/rand/v2"

	"github.com/onnxrun/onnxrun/ops"
)

// errImportedExport is returned by the export method of the layers below: the network's source model
// is the export.
func errImportedExport(layer string) error {
	return fmt.Errorf("layer %s comes from an imported ONNX model and is exported with it", layer)
}

// importedLayer holds what every imported layer has: the ONNX node's name and op type, and the shapes.
type importedLayer struct {
	LayerName string
	OpType    string
	in, out   ops.Shape
}

func (l *importedLayer) Name() string     { return l.LayerName }
func (l *importedLayer) Type() string     { return l.OpType }
func (l *importedLayer) setName(n string) { l.LayerName = n }
func (l *importedLayer) export(_ *exportState, _ string) (string, error) {
	return "", errImportedExport(l.LayerName)
}

// linearLayer is Conv, Gemm, or MatMul followed by Add of a bias (run as Gemm with transB=0). Weight and
// bias are named after the model's initializers. A missing bias is a zero one kept frozen, since the
// source graph has nowhere to put it.
type linearLayer struct {
	importedLayer
	attrs        ops.AttrMap // Conv's, or Gemm's transB/alpha/beta
	weight, bias *Param
	weightShape  ops.Shape
	units        int  // output features (Gemm) or filters (Conv)
	hasBias      bool // the model holds the bias (as the node's input, or as the Add after a Conv)
}

func (l *linearLayer) params() []*Param { return []*Param{l.weight, l.bias} }

func (l *linearLayer) isConv() bool { return l.OpType == "Conv" }

func (l *linearLayer) build(in ops.Shape) (ops.Shape, error) {
	w := l.weightShape
	var out ops.Shape
	if l.isConv() {
		if len(in) != 3 || len(w) != 4 {
			return nil, fmt.Errorf("layer %s (Conv): input %v and weight %v, want a 2-D convolution of [C H W] by [F C kh kw]", l.LayerName, in, w)
		}
		inst, err := ops.Instantiate(ops.NodeInfo{Name: l.LayerName, OpType: "Conv", Opset: kernelOpset, Attrs: l.attrs, NumOutputs: 1},
			[]ops.ValueInfo{f32(withBatch(1, in)), f32(w)})
		if err != nil {
			return nil, fmt.Errorf("layer %s (Conv): %w", l.LayerName, err)
		}
		out = inst.Outputs[0].Shape[1:]
		l.units = w[0]
		taps := w[2] * w[3]
		l.weight = newParam(l.weight.Name, w, w[1]*taps, w[0]*taps)
	} else {
		if len(in) != 1 || len(w) != 2 {
			return nil, fmt.Errorf("layer %s (%s): input %v and weight %v, want a vector times a matrix (Flatten first)", l.LayerName, l.OpType, in, w)
		}
		inner, units := w[0], w[1]
		if l.attrs["transB"].Int != 0 {
			inner, units = units, inner
		}
		if inner != in[0] {
			return nil, fmt.Errorf("layer %s (%s): input has %d features, weight %v takes %d", l.LayerName, l.OpType, in[0], w, inner)
		}
		l.units = units
		out = ops.Shape{units}
		l.weight = newParam(l.weight.Name, w, inner, units)
	}
	l.bias = newParam(l.bias.Name, ops.Shape{l.units}, 0, 0)
	l.in, l.out = in.Clone(), out
	return out, nil
}

func (l *linearLayer) newStep(batch int, grads []*ops.Tensor, _ *rand.Rand) (step, error) {
	opType, gradType := "Gemm", "GemmGrad"
	if l.isConv() {
		opType, gradType = "Conv", "ConvGrad"
	}
	return newWeightedStep(opType, gradType, l.attrs, l.weight, l.bias, Linear, withBatch(batch, l.in), withBatch(batch, l.out), grads)
}

// activationLayer is an element-wise activation node: Relu, Sigmoid and Tanh run their kernels and
// gradient kernels; LeakyRelu and Clip are plain loops.
type activationLayer struct {
	importedLayer
	alpha    float32 // LeakyRelu's slope
	min, max float32 // Clip's bounds
}

func (l *activationLayer) params() []*Param { return nil }

func (l *activationLayer) build(in ops.Shape) (ops.Shape, error) {
	l.in, l.out = in.Clone(), in.Clone()
	return l.out, nil
}

func (l *activationLayer) newStep(batch int, _ []*ops.Tensor, _ *rand.Rand) (step, error) {
	shape := withBatch(batch, l.in)
	switch l.OpType {
	case "Relu", "Sigmoid", "Tanh":
		s, err := newActivationStep(map[string]Activation{"Relu": ReLU, "Sigmoid": Sigmoid, "Tanh": Tanh}[l.OpType], shape)
		if err != nil {
			return nil, err
		}
		return &kernelActivationStep{s}, nil
	}
	return &loopActivationStep{layer: l, y: ops.New(ops.Float32, shape), dx: ops.New(ops.Float32, shape)}, nil
}

// kernelActivationStep adapts activationStep to the step interface.
type kernelActivationStep struct{ *activationStep }

func (s *kernelActivationStep) forward(ctx *ops.ExecContext, x *ops.Tensor, _ bool) (*ops.Tensor, error) {
	return s.activationStep.forward(ctx, x)
}

func (s *kernelActivationStep) backward(ctx *ops.ExecContext, dy *ops.Tensor, wantDX bool) (*ops.Tensor, error) {
	if !wantDX {
		return nil, nil
	}
	return s.activationStep.backward(ctx, dy)
}

// loopActivationStep runs LeakyRelu or Clip; the gradient passes where the input was in the function's
// linear part (Clip's gradient is 0 outside [min, max], as PyTorch's clamp).
type loopActivationStep struct {
	layer *activationLayer
	x     *ops.Tensor
	y, dx *ops.Tensor
}

func (s *loopActivationStep) forward(_ *ops.ExecContext, x *ops.Tensor, _ bool) (*ops.Tensor, error) {
	s.x = x
	ys := s.y.Float32s()
	for i, v := range x.Float32s() {
		ys[i] = s.layer.apply(v)
	}
	return s.y, nil
}

func (l *activationLayer) apply(v float32) float32 {
	if l.OpType == "LeakyRelu" {
		if v < 0 {
			return l.alpha * v
		}
		return v
	}
	return min(max(v, l.min), l.max)
}

func (l *activationLayer) slope(v float32) float32 {
	if l.OpType == "LeakyRelu" {
		if v < 0 {
			return l.alpha
		}
		return 1
	}
	if v < l.min || v > l.max {
		return 0
	}
	return 1
}

func (s *loopActivationStep) backward(_ *ops.ExecContext, dy *ops.Tensor, wantDX bool) (*ops.Tensor, error) {
	if !wantDX {
		return nil, nil
	}
	xs, dys, dxs := s.x.Float32s(), dy.Float32s(), s.dx.Float32s()
	for i, v := range xs {
		dxs[i] = dys[i] * s.layer.slope(v)
	}
	return s.dx, nil
}

func (s *loopActivationStep) nodes() []*node { return nil }

// poolLayer is MaxPool or AveragePool with the node's attributes (kernel, strides, pads, ceil_mode, ...).
type poolLayer struct {
	importedLayer
	attrs ops.AttrMap
}

func (l *poolLayer) params() []*Param { return nil }

func (l *poolLayer) build(in ops.Shape) (ops.Shape, error) {
	inst, err := ops.Instantiate(ops.NodeInfo{Name: l.LayerName, OpType: l.OpType, Opset: kernelOpset, Attrs: l.attrs, NumOutputs: 1},
		[]ops.ValueInfo{f32(withBatch(1, in))})
	if err != nil {
		return nil, fmt.Errorf("layer %s (%s): %w", l.LayerName, l.OpType, err)
	}
	l.in, l.out = in.Clone(), inst.Outputs[0].Shape[1:]
	return l.out, nil
}

func (l *poolLayer) newStep(batch int, _ []*ops.Tensor, _ *rand.Rand) (step, error) {
	x, y := withBatch(batch, l.in), withBatch(batch, l.out)
	s := &poolStep{}
	var err error
	if s.pool, err = newNode("", l.OpType, l.attrs, 1, f32(x)); err != nil {
		return nil, err
	}
	if s.grad, err = newNode(ops.TrainingDomain, l.OpType+"Grad", l.attrs, 1, f32(y), f32(x)); err != nil {
		return nil, err
	}
	return s, nil
}

// globalAveragePoolLayer averages each channel over its spatial positions: [C H W] to [C 1 1].
type globalAveragePoolLayer struct{ importedLayer }

func (l *globalAveragePoolLayer) params() []*Param { return nil }

func (l *globalAveragePoolLayer) build(in ops.Shape) (ops.Shape, error) {
	if len(in) < 2 {
		return nil, fmt.Errorf("layer %s (GlobalAveragePool): input %v, want [C spatial...]", l.LayerName, in)
	}
	l.in = in.Clone()
	l.out = ops.Shape{in[0]}
	for range in[1:] {
		l.out = append(l.out, 1)
	}
	return l.out, nil
}

type globalAveragePoolStep struct {
	planes, area int
	y, dx        *ops.Tensor
}

func (l *globalAveragePoolLayer) newStep(batch int, _ []*ops.Tensor, _ *rand.Rand) (step, error) {
	area := l.in[1:].Size()
	return &globalAveragePoolStep{planes: batch * l.in[0], area: area,
		y: ops.New(ops.Float32, withBatch(batch, l.out)), dx: ops.New(ops.Float32, withBatch(batch, l.in))}, nil
}

func (s *globalAveragePoolStep) forward(_ *ops.ExecContext, x *ops.Tensor, _ bool) (*ops.Tensor, error) {
	xs, ys := x.Float32s(), s.y.Float32s()
	for p := range s.planes {
		var sum float32
		for _, v := range xs[p*s.area : (p+1)*s.area] {
			sum += v
		}
		ys[p] = sum / float32(s.area)
	}
	return s.y, nil
}

func (s *globalAveragePoolStep) backward(_ *ops.ExecContext, dy *ops.Tensor, wantDX bool) (*ops.Tensor, error) {
	if !wantDX {
		return nil, nil
	}
	dys, dxs := dy.Float32s(), s.dx.Float32s()
	for p := range s.planes {
		g := dys[p] / float32(s.area)
		for i := p * s.area; i < (p+1)*s.area; i++ {
			dxs[i] = g
		}
	}
	return s.dx, nil
}

func (s *globalAveragePoolStep) nodes() []*node { return nil }

// reshapeLayer is Flatten (axis 1) or a Reshape that keeps the batch axis: a view, no copy.
type reshapeLayer struct {
	importedLayer
	target ops.Shape // per example
}

func (l *reshapeLayer) params() []*Param { return nil }

func (l *reshapeLayer) build(in ops.Shape) (ops.Shape, error) {
	if l.target.Size() != in.Size() {
		return nil, fmt.Errorf("layer %s (%s): %v has %d elements per example, the target %v has %d", l.LayerName, l.OpType, in, in.Size(), l.target, l.target.Size())
	}
	l.in, l.out = in.Clone(), l.target.Clone()
	return l.out, nil
}

func (l *reshapeLayer) newStep(batch int, _ []*ops.Tensor, _ *rand.Rand) (step, error) {
	return &flattenStep{x: withBatch(batch, l.in), y: withBatch(batch, l.out)}, nil
}

// transposeLayer permutes the axes of each example (perm[0] is the batch axis and must stay 0): Keras
// models exported by tf2onnx keep NHWC tensors around NCHW convolutions this way.
type transposeLayer struct {
	importedLayer
	perm []int64 // with the batch axis
}

func (l *transposeLayer) params() []*Param { return nil }

func (l *transposeLayer) build(in ops.Shape) (ops.Shape, error) {
	if len(l.perm) != len(in)+1 || l.perm[0] != 0 {
		return nil, fmt.Errorf("layer %s (Transpose): perm %v does not keep the batch axis first of a rank-%d input", l.LayerName, l.perm, len(in)+1)
	}
	l.in = in.Clone()
	l.out = make(ops.Shape, len(in))
	for i, p := range l.perm[1:] {
		if p < 1 || int(p) > len(in) {
			return nil, fmt.Errorf("layer %s (Transpose): perm %v is not a permutation", l.LayerName, l.perm)
		}
		l.out[i] = in[p-1]
	}
	return l.out, nil
}

type transposeStep struct{ fwd, back *node }

func (l *transposeLayer) newStep(batch int, _ []*ops.Tensor, _ *rand.Rand) (step, error) {
	inverse := make([]int64, len(l.perm))
	for i, p := range l.perm {
		inverse[p] = int64(i)
	}
	s := &transposeStep{}
	var err error
	if s.fwd, err = newNode("", "Transpose", ops.AttrMap{"perm": ops.IntsAttr(l.perm...)}, 1, f32(withBatch(batch, l.in))); err != nil {
		return nil, err
	}
	if s.back, err = newNode("", "Transpose", ops.AttrMap{"perm": ops.IntsAttr(inverse...)}, 1, f32(withBatch(batch, l.out))); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *transposeStep) forward(ctx *ops.ExecContext, x *ops.Tensor, _ bool) (*ops.Tensor, error) {
	return s.fwd.run(ctx, x)
}

func (s *transposeStep) backward(ctx *ops.ExecContext, dy *ops.Tensor, wantDX bool) (*ops.Tensor, error) {
	if !wantDX {
		return nil, nil
	}
	return s.back.run(ctx, dy)
}

func (s *transposeStep) nodes() []*node { return []*node{s.fwd, s.back} }

// padLayer is a constant Pad of a [C H W] example (pads on the batch and channel axes must be 0; pads
// are not negative). The backward pass crops the gradient.
type padLayer struct {
	importedLayer
	value                    float32
	top, left, bottom, right int
}

func (l *padLayer) params() []*Param { return nil }

func (l *padLayer) build(in ops.Shape) (ops.Shape, error) {
	if len(in) != 3 {
		return nil, fmt.Errorf("layer %s (Pad): input %v, want [C H W]", l.LayerName, in)
	}
	l.in = in.Clone()
	l.out = ops.Shape{in[0], in[1] + l.top + l.bottom, in[2] + l.left + l.right}
	return l.out, nil
}

type padStep struct {
	l     *padLayer
	batch int
	y, dx *ops.Tensor
}

func (l *padLayer) newStep(batch int, _ []*ops.Tensor, _ *rand.Rand) (step, error) {
	return &padStep{l: l, batch: batch, y: ops.New(ops.Float32, withBatch(batch, l.out)), dx: ops.New(ops.Float32, withBatch(batch, l.in))}, nil
}

// rows calls f for every input row: its offset in the input and in the padded output.
func (s *padStep) rows(f func(in, out int)) {
	h, w := s.l.in[1], s.l.in[2]
	oh, ow := s.l.out[1], s.l.out[2]
	for p := range s.batch * s.l.in[0] {
		for r := range h {
			f((p*h+r)*w, (p*oh+r+s.l.top)*ow+s.l.left)
		}
	}
}

func (s *padStep) forward(_ *ops.ExecContext, x *ops.Tensor, _ bool) (*ops.Tensor, error) {
	xs, ys := x.Float32s(), s.y.Float32s()
	for i := range ys {
		ys[i] = s.l.value
	}
	w := s.l.in[2]
	s.rows(func(in, out int) { copy(ys[out:out+w], xs[in:in+w]) })
	return s.y, nil
}

func (s *padStep) backward(_ *ops.ExecContext, dy *ops.Tensor, wantDX bool) (*ops.Tensor, error) {
	if !wantDX {
		return nil, nil
	}
	dys, dxs := dy.Float32s(), s.dx.Float32s()
	w := s.l.in[2]
	s.rows(func(in, out int) { copy(dxs[in:in+w], dys[out:out+w]) })
	return s.dx, nil
}

func (s *padStep) nodes() []*node { return nil }
