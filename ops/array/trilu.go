package array

import "github.com/onnxrun/onnxrun/ops"

// Trilu keeps the upper (or lower) triangle of the last two dimensions, counted from diagonal k, and zeroes
// the rest. https://onnx.ai/onnx/operators/onnx__Trilu.html — opset 14.
func init() {
	ops.Register("", "Trilu", ops.Since(14, buildTrilu))
}

type triluOp struct{ upper bool }

func buildTrilu(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	u := r.Int("upper", 1)
	if u != 0 && u != 1 {
		return nil, &ops.AttrError{Name: "upper", Msg: "must be 0 or 1, is " + itoa(u)}
	}
	return &triluOp{upper: u == 1}, r.Err()
}

func (o *triluOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 2); err != nil {
		return nil, err
	}
	if len(in[0].Shape) < 2 {
		return nil, ops.Invalidf("input has shape %v, want rank 2 or more", in[0].Shape)
	}
	if k := ops.Input(in, 1); k.Present() && (k.DType != ops.Int64 || k.Shape.Size() != 1) {
		return nil, ops.Invalidf("k is %s%v, want an int64 scalar", k.DType, k.Shape)
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: in[0].Shape.Clone()}}, nil
}

type triluKernel struct {
	upper       bool
	batch, rows int
	cols        int
	run         func(k *triluKernel, dst, src any, diag int64)
}

var triluFuncs = rawSet[func(k *triluKernel, dst, src any, diag int64)]{
	triluRun[uint8], triluRun[uint16], triluRun[uint32], triluRun[uint64], triluRun[[2]uint32],
	triluRun[[2]uint64], triluRun[string],
}

func (o *triluOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	s := in[0].Shape
	run, ok := triluFuncs.of(in[0].DType)
	if !ok {
		return nil, unsupportedDType(in[0].DType)
	}
	r := len(s)
	return &triluKernel{upper: o.upper, batch: s[:r-2].Size(), rows: s[r-2], cols: s[r-1], run: run}, nil
}

func (k *triluKernel) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	diag := int64(0)
	if t := ops.TensorAt(in, 1); t != nil {
		diag = t.Int64s()[0]
	}
	k.run(k, out[0].Data(), in[0].Data(), diag)
	return nil
}

// triluRun keeps, in row i, the columns j with j-i >= diag (upper) or j-i <= diag (lower).
func triluRun[E rawElem](k *triluKernel, dstData, srcData any, diag int64) {
	dst, src := rawAs[E](dstData), rawAs[E](srcData)
	var zero E
	m := int64(k.cols)
	diag = max(-int64(k.rows+k.cols), min(diag, int64(k.rows+k.cols))) // beyond that nothing changes; no overflow
	for b := 0; b < k.batch; b++ {
		for i := 0; i < k.rows; i++ {
			off := (b*k.rows + i) * k.cols
			d, s := dst[off:off+k.cols], src[off:off+k.cols]
			var lo, hi int64 // the kept columns [lo, hi)
			if k.upper {
				lo, hi = max(0, min(int64(i)+diag, m)), m
			} else {
				lo, hi = 0, max(0, min(int64(i)+diag+1, m))
			}
			for j := range d[:lo] {
				d[j] = zero
			}
			copy(d[lo:hi], s[lo:hi])
			for j := hi; j < m; j++ {
				d[j] = zero
			}
		}
	}
}
