package cnn

// MaxUnpool: https://onnx.ai/onnx/operators/onnx__MaxUnpool.html, opsets 9, 11 and 22.

import (
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
)

func init() {
	ops.Register("", "MaxUnpool",
		ops.Since(9, buildMaxUnpool),
		// opset 11: default strides documented; I and output_shape marked non-differentiable.
		ops.Since(11, buildMaxUnpool),
		// opset 22: bfloat16.
		ops.Since(22, buildMaxUnpool),
	)
}

type maxUnpoolOp struct{ win windowAttrs }

func buildMaxUnpool(n ops.NodeInfo) (ops.Op, error) {
	win, err := readWindowAttrs(ops.NewAttrReader(n.Attrs), false)
	if err != nil {
		return nil, err
	}
	if win.kernel == nil {
		return nil, &ops.AttrError{Name: "kernel_shape", Msg: "is required"}
	}
	return &maxUnpoolOp{win: win}, nil
}

// ShapeInputs says the output shape may come from input 2 (output_shape).
func (op *maxUnpoolOp) ShapeInputs() []int { return []int{2} }

// shapes returns the shape the unpooling window gives, (in - 1)*stride + kernel - padBegin - padEnd along
// each spatial axis, and the output shape: output_shape when present, else the same.
func (op *maxUnpoolOp) shapes(in []ops.ValueInfo) (inferred, out ops.Shape, err error) {
	if err := ops.CheckInputCount(in, 2, 3); err != nil {
		return nil, nil, err
	}
	x, idx := in[0], in[1]
	if err := kernelutil.CheckFloat("X", x.DType); err != nil {
		return nil, nil, err
	}
	if idx.DType != ops.Int64 {
		return nil, nil, ops.Invalidf("I has dtype %s, want int64", idx.DType)
	}
	if !idx.Shape.Equal(x.Shape) {
		return nil, nil, ops.Invalidf("I has shape %v, X has %v: they must match", idx.Shape, x.Shape)
	}
	if len(x.Shape) < 3 {
		return nil, nil, ops.Invalidf("X has shape %v, want rank >= 3 (N x C x D1 ...)", x.Shape)
	}
	rank := len(x.Shape) - 2
	if len(op.win.kernel) != rank {
		return nil, nil, ops.Invalidf("kernel_shape %v has %d axes, X %v has %d spatial axes", op.win.kernel, len(op.win.kernel), x.Shape, rank)
	}
	strides, err := listFor("strides", op.win.strides, rank, 1)
	if err != nil {
		return nil, nil, err
	}
	pads := op.win.pads
	if pads == nil {
		pads = make([]int, 2*rank)
	}
	if len(pads) != 2*rank {
		return nil, nil, ops.Invalidf("pads has %d values %v, want %d", len(pads), pads, 2*rank)
	}
	inferred = ops.Shape{x.Shape[0], x.Shape[1]}
	for i := 0; i < rank; i++ {
		d := (x.Shape[2+i]-1)*strides[i] + op.win.kernel[i] - pads[i] - pads[rank+i]
		if d <= 0 {
			return nil, nil, ops.Invalidf("axis %d: input size %d gives an empty output (kernel %d, stride %d, pads %d+%d)",
				i, x.Shape[2+i], op.win.kernel[i], strides[i], pads[i], pads[rank+i])
		}
		inferred = append(inferred, d)
	}
	s := ops.Input(in, 2)
	if !s.Present() {
		return inferred, inferred, nil
	}
	if s.DType != ops.Int64 || len(s.Shape) != 1 || s.Shape[0] != len(x.Shape) {
		return nil, nil, ops.Invalidf("output_shape is %s%v, want int64[%d]", s.DType, s.Shape, len(x.Shape))
	}
	if s.Const == nil {
		return nil, nil, ops.Dynamicf("output_shape is not a constant")
	}
	dims := s.Const.Int64s()
	out = make(ops.Shape, len(dims))
	for i, d := range dims {
		if d < int64(inferred[i]) || (i < 2 && d != int64(inferred[i])) {
			return nil, nil, ops.Invalidf("output_shape %v must keep N and C and be at least the unpooled shape %v", dims, inferred)
		}
		out[i] = int(d)
	}
	return inferred, out, nil
}

// InferShapes gives the output shape (see shapes).
func (op *maxUnpoolOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	_, out, err := op.shapes(in)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: out}}, nil
}

func (op *maxUnpoolOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	inferred, out, err := op.shapes(in)
	if err != nil {
		return nil, err
	}
	k := &maxUnpoolKernel{inferred: inferred, outStrides: out.Strides()}
	if out.Equal(inferred) {
		k.outStrides = nil
	}
	return k, nil
}

// maxUnpoolKernel scatters X into a zeroed output. Indices are flat positions in the unpooled shape
// (inferred); when output_shape is larger, that result sits at the start of each axis of the output, as
// ONNX's reference pads it, and outStrides maps the positions across.
type maxUnpoolKernel struct {
	inferred   ops.Shape
	outStrides []int // nil when the output has the inferred shape
}

func (k *maxUnpoolKernel) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	idx := in[1].Int64s()
	switch x := in[0].Data().(type) {
	case []float32:
		return unpool(k, x, out[0].Float32s(), idx)
	case []float64:
		return unpool(k, x, out[0].Float64s(), idx)
	case []ops.Float16Bits:
		return unpool(k, x, out[0].Data().([]ops.Float16Bits), idx)
	case []ops.BFloat16Bits:
		return unpool(k, x, out[0].Data().([]ops.BFloat16Bits), idx)
	}
	return nil
}

// outputOffset maps a flat position in the inferred shape to the output.
func (k *maxUnpoolKernel) outputOffset(at int) int {
	if k.outStrides == nil {
		return at
	}
	off := 0
	for a := len(k.inferred) - 1; a >= 0; a-- {
		off += at % k.inferred[a] * k.outStrides[a]
		at /= k.inferred[a]
	}
	return off
}

// unpool zeroes y and puts each x[j] at the output position of I[j]. Indices are data, so one outside the
// unpooled shape is reported, not trusted.
func unpool[T ops.Elem](k *maxUnpoolKernel, x, y []T, idx []int64) error {
	var zero T
	for i := range y {
		y[i] = zero
	}
	size := int64(k.inferred.Size())
	for j, at := range idx {
		if at < 0 || at >= size {
			return ops.Invalidf("MaxUnpool index %d (position %d of I) is outside the unpooled shape %v", at, j, k.inferred)
		}
		y[k.outputOffset(int(at))] = x[j]
	}
	return nil
}
