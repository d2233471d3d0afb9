package array

import (
	"fmt"

	"github.com/onnxrun/onnxrun/ops"
)

// TensorScatter writes update into a copy of past_cache along axis (the sequence axis of a KV cache),
// starting for batch entry b at write_indices[b] (0 when absent); in "circular" mode the positions wrap
// around the cache's length, in "linear" mode they must fit in it.
// https://onnx.ai/onnx/operators/onnx__TensorScatter.html — opset 24.
func init() {
	ops.Register("", "TensorScatter", ops.Since(24, buildTensorScatter))
}

type tensorScatterOp struct {
	axis     int
	circular bool
}

func buildTensorScatter(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	op := &tensorScatterOp{axis: int(r.Int("axis", -2))}
	mode := r.String("mode", "linear")
	if err := r.Err(); err != nil {
		return nil, err
	}
	switch mode {
	case "linear":
	case "circular":
		op.circular = true
	default:
		return nil, &ops.AttrError{Name: "mode", Msg: fmt.Sprintf("is %q, want linear or circular", mode)}
	}
	return op, nil
}

// scatterShape is the cache seen as [outer, cacheLen, inner] and the update as [outer, seqLen, inner];
// perBatch is how many outer rows one batch entry spans.
type scatterShape struct {
	outer, cacheLen, seqLen, inner, perBatch, batch int
}

func (op *tensorScatterOp) shape(in []ops.ValueInfo) (scatterShape, error) {
	if err := ops.CheckInputCount(in, 2, 3); err != nil {
		return scatterShape{}, err
	}
	past, update := in[0], in[1]
	if update.DType != past.DType {
		return scatterShape{}, ops.Invalidf("update has dtype %s, past_cache has %s", update.DType, past.DType)
	}
	rank := len(past.Shape)
	axis := op.axis
	if axis < 0 {
		axis += rank
	}
	if rank < 2 || axis <= 0 || axis >= rank {
		return scatterShape{}, ops.Invalidf("axis %d does not name a sequence axis of past_cache %v (not the batch axis 0)", op.axis, past.Shape)
	}
	if len(update.Shape) != rank {
		return scatterShape{}, ops.Invalidf("update has shape %v, past_cache %v: ranks differ", update.Shape, past.Shape)
	}
	for i := range past.Shape {
		if i != axis && update.Shape[i] != past.Shape[i] {
			return scatterShape{}, ops.Invalidf("update has shape %v, past_cache %v: they may differ only on axis %d", update.Shape, past.Shape, axis)
		}
	}
	s := scatterShape{outer: past.Shape[:axis].Size(), cacheLen: past.Shape[axis], seqLen: update.Shape[axis],
		inner: past.Shape[axis+1:].Size(), batch: past.Shape[0]}
	if s.seqLen > s.cacheLen {
		return s, ops.Invalidf("update's sequence length %d is longer than the cache's %d", s.seqLen, s.cacheLen)
	}
	if s.batch > 0 {
		s.perBatch = s.outer / s.batch
	}
	if w := ops.Input(in, 2); w.Present() && (w.DType != ops.Int64 || !w.Shape.Equal(ops.Shape{s.batch})) {
		return s, ops.Invalidf("write_indices is %s%v, want int64[%d]", w.DType, w.Shape, s.batch)
	}
	if _, ok := copyFuncs.of(past.DType); !ok {
		return s, unsupportedDType(past.DType)
	}
	return s, nil
}

func (op *tensorScatterOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if _, err := op.shape(in); err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: in[0].Shape}}, nil
}

func (op *tensorScatterOp) Prepare(in, _ []ops.ValueInfo) (ops.Kernel, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	row := newCopyPlan([]planAxis{{n: s.inner, dstStride: 1, srcStride: 1}}, 0, 0)
	copyRow, _ := copyFuncs.of(in[0].DType)
	return &tensorScatterKernel{op: op, s: s, row: row, copyRow: copyRow}, nil
}

type tensorScatterKernel struct {
	op      *tensorScatterOp
	s       scatterShape
	row     *copyPlan // one inner row, offsets set per row
	copyRow func(p *copyPlan, dst, src any)
}

func (k *tensorScatterKernel) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	s := &k.s
	ops.CopyData(out[0], in[0])
	var write []int64
	if len(in) > 2 && in[2] != nil {
		write = in[2].Int64s()
	}
	p := *k.row
	for o := 0; o < s.outer; o++ {
		b := 0
		if s.perBatch > 0 {
			b = o / s.perBatch
		}
		start := int64(0)
		if write != nil {
			start = write[b]
		}
		for i := 0; i < s.seqLen; i++ {
			pos := start + int64(i)
			if k.op.circular && s.cacheLen > 0 {
				pos = (pos%int64(s.cacheLen) + int64(s.cacheLen)) % int64(s.cacheLen)
			}
			if pos < 0 || pos >= int64(s.cacheLen) {
				return ops.Invalidf("write_indices[%d] is %d: position %d is outside the cache's %d (linear mode)", b, start, pos, s.cacheLen)
			}
			p.dstOff = (o*s.cacheLen + int(pos)) * s.inner
			p.srcOff = (o*s.seqLen + i) * s.inner
			k.copyRow(&p, out[0].Data(), in[1].Data())
		}
	}
	return nil
}
