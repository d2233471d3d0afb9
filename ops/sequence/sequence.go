package sequence

import (
	"github.com/onnxrun/onnxrun/ops"
)

// The sequence operators, all at opset 11 (none has changed since):
// https://onnx.ai/onnx/operators/onnx__SequenceEmpty.html, SequenceConstruct, SequenceInsert, SequenceErase,
// SequenceAt and SequenceLength.
func init() {
	ops.Register("", "SequenceEmpty", ops.Since(11, buildSequenceEmpty))
	ops.Register("", "SequenceConstruct", ops.Since(11, simple(sequenceConstructOp{})))
	ops.Register("", "SequenceInsert", ops.Since(11, simple(sequenceInsertOp{})))
	ops.Register("", "SequenceErase", ops.Since(11, simple(sequenceEraseOp{})))
	ops.Register("", "SequenceAt", ops.Since(11, simple(sequenceAtOp{})))
	ops.Register("", "SequenceLength", ops.Since(11, simple(sequenceLengthOp{})))
}

// simple builds an op that has no attributes.
func simple(op ops.Op) ops.Builder {
	return func(ops.NodeInfo) (ops.Op, error) { return op, nil }
}

// takesValues is embedded by every op here: they read sequences and optionals.
type takesValues struct{}

// AcceptsNonTensors reports that the op reads sequences or optionals.
func (takesValues) AcceptsNonTensors() bool { return true }

// sequenceInput checks that input i is a sequence of tensors and returns its element type.
func sequenceInput(in []ops.ValueInfo, i int) (ops.ValueType, error) {
	v := ops.Input(in, i)
	if v.Kind() != ops.KindSequence || v.Type.Elem == nil {
		return ops.ValueType{}, ops.Invalidf("input %d is a %s, not a sequence", i, typeOf(v))
	}
	return *v.Type.Elem, nil
}

// typeOf names a ValueInfo's type for messages.
func typeOf(v ops.ValueInfo) ops.ValueType {
	if v.Type != nil {
		return *v.Type
	}
	return ops.TensorType(v.DType)
}

// checkPositionInput checks a position input's type: an int32 or int64 scalar (one element).
func checkPositionInput(in []ops.ValueInfo, i int) error {
	v := ops.Input(in, i)
	if !v.Present() {
		return nil
	}
	if v.Kind() != ops.KindTensor || (v.DType != ops.Int32 && v.DType != ops.Int64) || v.Shape.Size() != 1 {
		return ops.Invalidf("input %d (position) must be an int32 or int64 scalar, is %s%v", i, typeOf(v), v.Shape)
	}
	return nil
}

// position reads a position tensor for a sequence of n elements: in [-n, n-1], or [-n, n] with atEnd
// (SequenceInsert may append). A negative position counts from the back.
func position(p *ops.Tensor, n int, atEnd bool) (int, error) {
	if p.Kind() != ops.KindTensor || p.Len() != 1 || (p.DType() != ops.Int32 && p.DType() != ops.Int64) {
		return 0, ops.Invalidf("position must be an int32 or int64 scalar, is %v", p)
	}
	pos := p.AsInt64s()[0]
	hi := int64(n) - 1
	if atEnd {
		hi = int64(n)
	}
	if pos < -int64(n) || pos > hi {
		return 0, ops.Invalidf("position %d is out of range [%d, %d] for a sequence of %d elements", pos, -n, hi, n)
	}
	if pos < 0 {
		pos += int64(n)
	}
	return int(pos), nil
}

// constPosition checks a constant position input at plan time, when the sequence is known too.
func constPosition(in []ops.ValueInfo, i int, atEnd bool) error {
	seq, p := in[0].Const, ops.Input(in, i).Const
	if seq == nil || p == nil {
		return nil
	}
	_, err := position(p, len(seq.Elements()), atEnd)
	return err
}

// SequenceEmpty makes an empty sequence of tensors of the dtype attribute (float by default).
type sequenceEmptyOp struct{ elem ops.ValueType }

func buildSequenceEmpty(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	dt := ops.DType(r.Int("dtype", int64(ops.Float32)))
	if err := r.Err(); err != nil {
		return nil, err
	}
	if dt.Size() == 0 { // Undefined, or a number no dtype has
		return nil, &ops.AttrError{Name: "dtype", Msg: "is not a tensor element type: " + dt.String()}
	}
	return sequenceEmptyOp{elem: ops.TensorType(dt)}, nil
}

func (o sequenceEmptyOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 0, 0); err != nil {
		return nil, err
	}
	return []ops.ValueInfo{ops.InfoOf(ops.SequenceOf(o.elem))}, nil
}

func (o sequenceEmptyOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	return ops.KernelFunc(func(_ *ops.ExecContext, _, out []*ops.Tensor) error {
		out[0].SetValue(ops.NewSequence(o.elem, nil))
		return nil
	}), nil
}

// SequenceConstruct makes a sequence of its inputs, tensors of one dtype.
type sequenceConstructOp struct{}

func (sequenceConstructOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if len(in) == 0 {
		return nil, ops.Invalidf("SequenceConstruct needs at least one input")
	}
	if err := ops.CheckInputCount(in, len(in), len(in)); err != nil {
		return nil, err
	}
	for i, v := range in {
		if v.Kind() != ops.KindTensor {
			return nil, ops.Invalidf("input %d is a %s, SequenceConstruct takes tensors", i, typeOf(v))
		}
		if v.DType != in[0].DType {
			return nil, ops.Invalidf("input %d has dtype %s, input 0 has %s: a sequence holds one dtype", i, v.DType, in[0].DType)
		}
	}
	return []ops.ValueInfo{ops.InfoOf(ops.SequenceOf(ops.TensorType(in[0].DType)))}, nil
}

func (sequenceConstructOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	return ops.KernelFunc(func(_ *ops.ExecContext, in, out []*ops.Tensor) error {
		elems := make([]*ops.Tensor, len(in))
		for i, t := range in {
			elems[i] = t.Clone() // the input may be an arena buffer: a sequence owns its elements
		}
		out[0].SetValue(ops.NewSequence(ops.TensorType(in[0].DType()), elems))
		return nil
	}), nil
}

// SequenceInsert inserts a tensor at a position (by default at the end).
type sequenceInsertOp struct{ takesValues }

func (sequenceInsertOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 2, 3); err != nil {
		return nil, err
	}
	elem, err := sequenceInput(in, 0)
	if err != nil {
		return nil, err
	}
	if t := in[1]; t.Kind() != ops.KindTensor || !elem.Equal(ops.TensorType(t.DType)) {
		return nil, ops.Invalidf("input 1 is a %s, the sequence holds %s", typeOf(t), elem)
	}
	if err := checkPositionInput(in, 2); err != nil {
		return nil, err
	}
	if err := constPosition(in, 2, true); err != nil {
		return nil, err
	}
	return []ops.ValueInfo{ops.InfoOf(ops.SequenceOf(elem))}, nil
}

func (sequenceInsertOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	return ops.KernelFunc(func(_ *ops.ExecContext, in, out []*ops.Tensor) error {
		seq := in[0]
		old := seq.Elements()
		at := len(old)
		if len(in) > 2 && in[2] != nil {
			var err error
			if at, err = position(in[2], len(old), true); err != nil {
				return err
			}
		}
		elems := make([]*ops.Tensor, 0, len(old)+1)
		elems = append(elems, old[:at]...)
		elems = append(elems, in[1].Clone())
		elems = append(elems, old[at:]...)
		out[0].SetValue(ops.NewSequence(*seq.Type().Elem, elems))
		return nil
	}), nil
}

// SequenceErase removes the element at a position (by default the last).
type sequenceEraseOp struct{ takesValues }

func (sequenceEraseOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 2); err != nil {
		return nil, err
	}
	elem, err := sequenceInput(in, 0)
	if err != nil {
		return nil, err
	}
	if err := checkPositionInput(in, 1); err != nil {
		return nil, err
	}
	if err := constPosition(in, 1, false); err != nil {
		return nil, err
	}
	if c := in[0].Const; c != nil && len(c.Elements()) == 0 {
		return nil, ops.Invalidf("the sequence is empty: there is no element to erase")
	}
	return []ops.ValueInfo{ops.InfoOf(ops.SequenceOf(elem))}, nil
}

func (sequenceEraseOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	return ops.KernelFunc(func(_ *ops.ExecContext, in, out []*ops.Tensor) error {
		seq := in[0]
		old := seq.Elements()
		if len(old) == 0 {
			return ops.Invalidf("the sequence is empty: there is no element to erase")
		}
		at := len(old) - 1
		if len(in) > 1 && in[1] != nil {
			var err error
			if at, err = position(in[1], len(old), false); err != nil {
				return err
			}
		}
		elems := make([]*ops.Tensor, 0, len(old)-1)
		elems = append(elems, old[:at]...)
		elems = append(elems, old[at+1:]...)
		out[0].SetValue(ops.NewSequence(*seq.Type().Elem, elems))
		return nil
	}), nil
}

// SequenceAt returns a copy of the element at a position.
type sequenceAtOp struct{ takesValues }

func (sequenceAtOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 2, 2); err != nil {
		return nil, err
	}
	elem, err := sequenceInput(in, 0)
	if err != nil {
		return nil, err
	}
	if elem.Kind != ops.KindTensor {
		return nil, ops.Unsupportedf("SequenceAt on a sequence of %s", elem)
	}
	if err := checkPositionInput(in, 1); err != nil {
		return nil, err
	}
	seq, pos := in[0].Const, in[1].Const
	if seq == nil || pos == nil {
		return nil, ops.Dynamicf("SequenceAt's output shape is that of the element it picks")
	}
	at, err := position(pos, len(seq.Elements()), false)
	if err != nil {
		return nil, err
	}
	picked := seq.Elements()[at]
	return []ops.ValueInfo{{DType: picked.DType(), Shape: picked.Shape().Clone()}}, nil
}

func (sequenceAtOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	return ops.KernelFunc(func(_ *ops.ExecContext, in, out []*ops.Tensor) error {
		elems := in[0].Elements()
		at, err := position(in[1], len(elems), false)
		if err != nil {
			return err
		}
		return copyInto(out[0], elems[at])
	}), nil
}

// copyInto copies a tensor taken from a sequence or an optional into a preallocated output, checking
// that the plan gave the output the element's dtype and shape.
func copyInto(dst, src *ops.Tensor) error {
	if src.Kind() != ops.KindTensor || src.DType() != dst.DType() || !src.Shape().Equal(dst.Shape()) {
		return ops.Invalidf("the element is a %v, the plan expected %v", src, dst)
	}
	ops.CopyData(dst, src)
	return nil
}

// SequenceLength returns the number of elements as an int64 scalar.
type sequenceLengthOp struct{ takesValues }

func (sequenceLengthOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	if _, err := sequenceInput(in, 0); err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: ops.Int64, Shape: ops.Shape{}}}, nil
}

func (sequenceLengthOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	return ops.KernelFunc(func(_ *ops.ExecContext, in, out []*ops.Tensor) error {
		out[0].Int64s()[0] = int64(len(in[0].Elements()))
		return nil
	}), nil
}
