package array

import (
	"fmt"

	"github.com/onnxrun/onnxrun/ops"
)

// ReverseSequence reverses, for each batch entry b, the first sequence_lens[b] steps along the time axis
// and copies the rest: https://onnx.ai/onnx/operators/onnx__ReverseSequence.html. Opset 10.
//
// The time and batch axes are 0 and 1 in either order; sequence_lens is an int64 input of shape
// [batch]. Its values do not change the output shape, so they are read (and range-checked) at each Run.
func init() {
	ops.Register("", "ReverseSequence",
		// opset 10: the only version; every type but the narrow ones.
		ops.Since(10, buildReverseSequence),
	)
}

var reverseSequenceTypes = ops.DTypes(ops.Uint8, ops.Uint16, ops.Uint32, ops.Uint64, ops.Int8, ops.Int16,
	ops.Int32, ops.Int64, ops.Float16, ops.Float32, ops.Float64, ops.String, ops.Bool, ops.Complex64,
	ops.Complex128)

type reverseSequenceOp struct {
	opset               int
	batchAxis, timeAxis int
}

func buildReverseSequence(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	batch, time := r.Int("batch_axis", 1), r.Int("time_axis", 0)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if batch != 0 && batch != 1 {
		return nil, &ops.AttrError{Name: "batch_axis", Msg: "must be 0 or 1, is " + itoa(batch)}
	}
	if time != 0 && time != 1 {
		return nil, &ops.AttrError{Name: "time_axis", Msg: "must be 0 or 1, is " + itoa(time)}
	}
	if batch == time {
		return nil, &ops.AttrError{Name: "time_axis", Msg: "equals batch_axis (" + itoa(batch) + ")"}
	}
	return &reverseSequenceOp{opset: n.Opset, batchAxis: int(batch), timeAxis: int(time)}, nil
}

func (o *reverseSequenceOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 2, 2); err != nil {
		return nil, err
	}
	if err := reverseSequenceTypes.Check("ReverseSequence", o.opset, "input", in[0].DType); err != nil {
		return nil, err
	}
	x, lens := in[0], in[1]
	if len(x.Shape) < 2 {
		return nil, ops.Invalidf("ReverseSequence input has shape %v, want rank 2 or more", x.Shape)
	}
	if lens.DType != ops.Int64 {
		return nil, ops.Invalidf("ReverseSequence sequence_lens has dtype %s, want int64", lens.DType)
	}
	batch := x.Shape[o.batchAxis]
	if len(lens.Shape) != 1 || lens.Shape[0] != batch {
		return nil, ops.Invalidf("ReverseSequence sequence_lens has shape %v, want [%d] (input shape %v, batch_axis %d)",
			lens.Shape, batch, x.Shape, o.batchAxis)
	}
	if lens.Const != nil {
		if err := checkSequenceLens(lens.Const.Int64s(), x.Shape[o.timeAxis]); err != nil {
			return nil, err
		}
	}
	return []ops.ValueInfo{{DType: x.DType, Shape: x.Shape.Clone()}}, nil
}

func checkSequenceLens(lens []int64, steps int) error {
	for b, l := range lens {
		if l < 0 || l > int64(steps) {
			return fmt.Errorf("%w: ReverseSequence sequence_lens[%d] = %d is out of range [0, %d]", ops.ErrInvalid, b, l, steps)
		}
	}
	return nil
}

func (o *reverseSequenceOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	if _, err := o.InferShapes(in); err != nil {
		return nil, err
	}
	run, ok := reverseSequenceFuncs.of(in[0].DType)
	if !ok {
		return nil, ops.Unsupportedf("ReverseSequence of dtype %s", in[0].DType)
	}
	s := in[0].Shape
	k := &reverseSequenceKernel{run: run, steps: s[o.timeAxis], inner: s[2:].Size()}
	// Element offsets of one (time, batch) block: the first axis has stride shape[1]*inner.
	if o.timeAxis == 0 {
		k.timeStride, k.batchStride = s[1]*k.inner, k.inner
	} else {
		k.timeStride, k.batchStride = k.inner, s[1]*k.inner
	}
	return k, nil
}

type reverseSequenceKernel struct {
	run                     func(k *reverseSequenceKernel, dst, src any, lens []int64)
	steps, inner            int
	timeStride, batchStride int
}

var reverseSequenceFuncs = rawSet[func(k *reverseSequenceKernel, dst, src any, lens []int64)]{
	reverseSequenceRun[uint8], reverseSequenceRun[uint16], reverseSequenceRun[uint32], reverseSequenceRun[uint64],
	reverseSequenceRun[[2]uint32], reverseSequenceRun[[2]uint64], reverseSequenceRun[string],
}

func (k *reverseSequenceKernel) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	lens := in[1].Int64s()
	if err := checkSequenceLens(lens, k.steps); err != nil {
		return err
	}
	k.run(k, out[0].Data(), in[0].Data(), lens)
	return nil
}

func reverseSequenceRun[E rawElem](k *reverseSequenceKernel, dstData, srcData any, lens []int64) {
	dst, src := rawAs[E](dstData), rawAs[E](srcData)
	for b, l := range lens {
		n := int(l)
		for t := 0; t < k.steps; t++ {
			from := t
			if t < n {
				from = n - 1 - t
			}
			d := b*k.batchStride + t*k.timeStride
			s := b*k.batchStride + from*k.timeStride
			copy(dst[d:d+k.inner], src[s:s+k.inner])
		}
	}
}
