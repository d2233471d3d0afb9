package array

import (
	"github.com/onnxrun/onnxrun/ops"
)

// EyeLike is a 2-D tensor shaped like its input with ones on diagonal k and zeros elsewhere:
// https://onnx.ai/onnx/operators/onnx__EyeLike.html. Opsets 9 and 22.
func init() {
	ops.Register("", "EyeLike",
		// opset 9: numeric types and bool, no bfloat16.
		ops.Since(9, buildEyeLike(eyeLikeTypes9)),
		// opset 22: adds bfloat16.
		ops.Since(22, buildEyeLike(eyeLikeTypes9.With(ops.BFloat16))),
	)
}

var eyeLikeTypes9 = ops.DTypes(ops.Float16, ops.Float32, ops.Float64, ops.Int8, ops.Int16, ops.Int32, ops.Int64,
	ops.Uint8, ops.Uint16, ops.Uint32, ops.Uint64, ops.Bool)

type eyeLikeOp struct {
	opset int
	types ops.DTypeSet
	dtype ops.DType // Undefined: the input's dtype
	k     int64
}

func buildEyeLike(types ops.DTypeSet) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		r := ops.NewAttrReader(n.Attrs)
		o := &eyeLikeOp{opset: n.Opset, types: types, k: r.Int("k", 0)}
		if r.Has("dtype") {
			dt := r.Int("dtype", 0)
			if dt < 0 || dt > 255 || !types.Has(ops.DType(dt)) {
				return nil, &ops.AttrError{Name: "dtype", Msg: "is " + itoa(dt) + " (" + ops.DType(uint8(dt)).String() +
					"), opset " + itoa(int64(n.Opset)) + " allows " + types.String()}
			}
			o.dtype = ops.DType(dt)
		}
		if err := r.Err(); err != nil {
			return nil, err
		}
		return o, nil
	}
}

func (o *eyeLikeOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	if err := o.types.Check("EyeLike", o.opset, "input", in[0].DType); err != nil {
		return nil, err
	}
	if len(in[0].Shape) != 2 {
		return nil, ops.Invalidf("EyeLike input has shape %v, want rank 2", in[0].Shape)
	}
	dt := o.dtype
	if dt == ops.Undefined {
		dt = in[0].DType
	}
	return []ops.ValueInfo{{DType: dt, Shape: in[0].Shape.Clone()}}, nil
}

func (o *eyeLikeOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	if _, err := o.InferShapes(in); err != nil {
		return nil, err
	}
	rows, cols := in[0].Shape[0], in[0].Shape[1]
	switch dt := out[0].DType; dt {
	case ops.Uint8, ops.Int8, ops.Bool:
		return eyeKernel[uint8]{one: 1, rows: rows, cols: cols, k: o.k}, nil
	case ops.Uint16, ops.Int16:
		return eyeKernel[uint16]{one: 1, rows: rows, cols: cols, k: o.k}, nil
	case ops.Float16:
		return eyeKernel[uint16]{one: 0x3c00, rows: rows, cols: cols, k: o.k}, nil
	case ops.BFloat16:
		return eyeKernel[uint16]{one: 0x3f80, rows: rows, cols: cols, k: o.k}, nil
	case ops.Uint32, ops.Int32:
		return eyeKernel[uint32]{one: 1, rows: rows, cols: cols, k: o.k}, nil
	case ops.Float32:
		return eyeKernel[uint32]{one: 0x3f800000, rows: rows, cols: cols, k: o.k}, nil
	case ops.Uint64, ops.Int64:
		return eyeKernel[uint64]{one: 1, rows: rows, cols: cols, k: o.k}, nil
	case ops.Float64:
		return eyeKernel[uint64]{one: 0x3ff0000000000000, rows: rows, cols: cols, k: o.k}, nil
	default:
		return nil, ops.Unsupportedf("EyeLike output dtype %s", dt)
	}
}

// eyeKernel writes the bit pattern of 1 in the output dtype (one) on the diagonal, zero bits elsewhere.
type eyeKernel[E uint8 | uint16 | uint32 | uint64] struct {
	one        E
	rows, cols int
	k          int64
}

func (e eyeKernel[E]) Run(_ *ops.ExecContext, _, out []*ops.Tensor) error {
	d := rawAs[E](out[0].Data())
	clear(d)
	for i := 0; i < e.rows; i++ {
		j := int64(i) + e.k
		if j >= 0 && j < int64(e.cols) {
			d[i*e.cols+int(j)] = e.one
		}
	}
	return nil
}
