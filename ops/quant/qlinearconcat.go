package quant

import (
	"github.com/onnxrun/onnxrun/ops"
)

// QLinearConcat (com.microsoft, opset 1, ONNX Runtime's contrib operator): inputs Y_scale, Y_zero_point,
// then one (X, X_scale, X_zero_point) triple per tensor to join; attribute axis (required). Every X and Y
// are uint8 or int8 of one type, quantized per tensor. Each element is requantized to Y's parameters:
//
//	Y = saturate(round_half_to_even((X - X_zero_point) * X_scale / Y_scale) + Y_zero_point)
//
// in float32, through a 256-entry table per input (built at Prepare when its parameters are constants);
// an input quantized exactly as Y is copied.
func init() {
	ops.Register(ops.MicrosoftDomain, "QLinearConcat", ops.Since(1, buildQLinearConcat))
}

type qlinearConcatOp struct{ axis int64 }

func buildQLinearConcat(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	if !r.Has("axis") {
		return nil, &ops.AttrError{Name: "axis", Msg: "is required"}
	}
	axis := r.Int("axis", 0)
	if err := r.Err(); err != nil {
		return nil, err
	}
	return &qlinearConcatOp{axis: axis}, nil
}

var concatY = qParam{name: "Y", scale: 0, zp: 1}

// concatX is the parameters of the i-th tensor joined.
func concatX(i int) qParam { return qParam{name: "X" + itoa(int64(i)), scale: 3 + 3*i, zp: 4 + 3*i} }

func (o *qlinearConcatOp) check(in []ops.ValueInfo) (ops.Shape, int, error) {
	const op = "QLinearConcat"
	if len(in) < 5 || (len(in)-2)%3 != 0 {
		return nil, 0, ops.Invalidf("%s takes Y_scale, Y_zero_point and (X, X_scale, X_zero_point) triples, the node has %d inputs", op, len(in))
	}
	t, err := checkQ8(op, in, 2, "X0")
	if err != nil {
		return nil, 0, err
	}
	if err := checkQParam(op, in, concatY, t); err != nil {
		return nil, 0, err
	}
	first := in[2].Shape
	ax, err := ops.NormalizeAxis(int(o.axis), len(first))
	if err != nil {
		return nil, 0, ops.Invalidf("%s attribute axis: %v (X0 has shape %v)", op, err, first)
	}
	out := first.Clone()
	out[ax] = 0
	for i := 0; 2+3*i < len(in); i++ {
		x := in[2+3*i]
		if x.DType != t {
			return nil, 0, ops.Invalidf("%s X%d has dtype %s, X0 %s: they must match", op, i, x.DType, t)
		}
		if err := checkQParam(op, in, concatX(i), t); err != nil {
			return nil, 0, err
		}
		if len(x.Shape) != len(first) {
			return nil, 0, ops.Invalidf("%s X%d has shape %v, X0 %v: ranks differ", op, i, x.Shape, first)
		}
		for d := range first {
			if d != ax && x.Shape[d] != first[d] {
				return nil, 0, ops.Invalidf("%s X%d has shape %v, X0 %v: they differ off axis %d", op, i, x.Shape, first, ax)
			}
		}
		out[ax] += x.Shape[ax]
	}
	return out, ax, nil
}

func (o *qlinearConcatOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	out, _, err := o.check(in)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: in[2].DType, Shape: out}}, nil
}

func (o *qlinearConcatOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	shape, ax, err := o.check(in)
	if err != nil {
		return nil, err
	}
	if in[2].DType == ops.Int8 {
		return newConcatKernel[int8](in, shape, ax), nil
	}
	return newConcatKernel[uint8](in, shape, ax), nil
}

type qlinearConcatKernel[T q8] struct {
	outer, outRow int             // rows before the axis; elements of Y per row
	parts         []concatPart[T] // one per joined tensor
}

// concatPart is one joined tensor: its elements per row and where they start in Y's row.
type concatPart[T q8] struct {
	row, offset int
	table       *lookupTable // set at Prepare when the parameters are constant and differ from Y's
	constParams bool
}

func newConcatKernel[T q8](in []ops.ValueInfo, shape ops.Shape, ax int) *qlinearConcatKernel[T] {
	inner := shape[ax+1:].Size()
	k := &qlinearConcatKernel[T]{outer: shape[:ax].Size(), outRow: shape[ax] * inner}
	yConst := constQParam(in, concatY)
	var ys, yzp float32
	if yConst {
		ys, yzp = readQParamInfo(in, concatY)
	}
	offset := 0
	for i := 0; 2+3*i < len(in); i++ {
		p := concatPart[T]{row: in[2+3*i].Shape[ax] * inner, offset: offset}
		offset += p.row
		if px := concatX(i); yConst && constQParam(in, px) {
			p.constParams = true
			if xs, xzp := readQParamInfo(in, px); xs != ys || xzp != yzp {
				p.table = new(lookupTable)
				buildTable[T](p.table, floatFn{kind: fnIdentity}, xs, xzp, ys, yzp)
			}
		}
		k.parts = append(k.parts, p)
	}
	return k
}

func (k *qlinearConcatKernel[T]) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	y := ops.Data[T](out[0])
	var local lookupTable
	ys, yzp := readQParam(in, concatY)
	for i := range k.parts {
		p := &k.parts[i]
		x := ops.Data[T](in[2+3*i])
		table := p.table
		if !p.constParams {
			if xs, xzp := readQParam(in, concatX(i)); xs != ys || xzp != yzp {
				buildTable[T](&local, floatFn{kind: fnIdentity}, xs, xzp, ys, yzp)
				table = &local
			}
		}
		for r := 0; r < k.outer; r++ {
			src, dst := x[r*p.row:(r+1)*p.row], y[r*k.outRow+p.offset:][:p.row]
			if table == nil {
				copy(dst, src)
			} else {
				applyTable(table, dst, src)
			}
		}
	}
	return nil
}
