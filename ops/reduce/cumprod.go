package reduce

import (
	"fmt"

	"github.com/onnxrun/onnxrun/ops"
)

// CumProd is the running product along an axis: https://onnx.ai/onnx/operators/onnx__CumProd.html. Opset 26.
//
// It mirrors CumSum (cumsum.go): exclusive=1 leaves each element out of its own product (the first output is
// 1), reverse=1 multiplies from the end, and the axis is a scalar int32/int64 input that, when not constant,
// is read and checked at each Run rather than making the plan dynamic.
func init() {
	// opset 26: uint32, uint64, int32, int64, float16, float, double, bfloat16.
	ops.Register("", "CumProd", ops.Opsets(26, ops.MaxOpset),
		buildCumProd(ops.DTypes(ops.Uint32, ops.Uint64, ops.Int32, ops.Int64, ops.Float16, ops.Float32, ops.Float64, ops.BFloat16)))
}

func buildCumProd(types ops.DTypeSet) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		r := ops.NewAttrReader(n.Attrs)
		o := &cumProdOp{opset: n.Opset, types: types, exclusive: r.Int("exclusive", 0) != 0, reverse: r.Int("reverse", 0) != 0}
		if err := r.Err(); err != nil {
			return nil, err
		}
		if n.NumInputs != 2 {
			return nil, ops.Invalidf("CumProd takes 2 inputs (x, axis), the node has %d", n.NumInputs)
		}
		return o, nil
	}
}

type cumProdOp struct {
	opset              int
	types              ops.DTypeSet
	exclusive, reverse bool
}

func (o *cumProdOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := o.check(in); err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: in[0].Shape.Clone()}}, nil
}

func (o *cumProdOp) check(in []ops.ValueInfo) error {
	if err := ops.CheckInputCount(in, 2, 2); err != nil {
		return err
	}
	if err := o.types.Check("CumProd", o.opset, "x", in[0].DType); err != nil {
		return err
	}
	a := in[1]
	if a.DType != ops.Int32 && a.DType != ops.Int64 {
		return ops.Invalidf("CumProd input axis has dtype %s, want int32 or int64", a.DType)
	}
	if a.Shape.Size() != 1 || len(a.Shape) > 1 {
		return ops.Invalidf("CumProd input axis has shape %v, want a scalar", a.Shape)
	}
	if a.Const != nil {
		if _, err := cumProdAxis(a.Const, in[0].Shape); err != nil {
			return err
		}
	}
	return nil
}

func cumProdAxis(t *ops.Tensor, shape ops.Shape) (int, error) {
	v := t.AsInt64s()[0]
	axis, err := ops.NormalizeAxis(int(v), len(shape))
	if err != nil {
		return 0, ops.Invalidf("CumProd of an input of shape %v: %v", shape, err)
	}
	return axis, nil
}

func (o *cumProdOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	if err := o.check(in); err != nil {
		return nil, err
	}
	k := &cumProdKernel{exclusive: o.exclusive, reverse: o.reverse, axis: -1}
	if in[1].Const != nil {
		k.axis, _ = cumProdAxis(in[1].Const, in[0].Shape)
	}
	if widensToFloat32(in[0].DType) {
		k.scratch = 2 * in[0].Shape.Size()
	}
	return k, nil
}

type cumProdKernel struct {
	exclusive, reverse bool
	axis               int // -1 when the axis is only known at run time
	scratch            int
}

func (k *cumProdKernel) ScratchSize() int { return k.scratch }

func (k *cumProdKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	shape := in[0].Shape()
	axis := k.axis
	if axis < 0 {
		var v int64
		switch d := in[1].Data().(type) {
		case []int32:
			v = int64(d[0])
		case []int64:
			v = d[0]
		}
		r := int64(len(shape))
		if v < -r || v >= r {
			return fmt.Errorf("%w: CumProd axis %d is out of range [%d, %d] for an input of shape %v", ops.ErrInvalid, v, -r, r-1, shape)
		}
		axis = int((v + r) % r)
	}
	outer, n, inner := axisExtents(shape, axis)
	switch x := in[0].Data().(type) {
	case []float32:
		cumProdRun(k, x, out[0].Float32s(), outer, n, inner)
	case []float64:
		cumProdRun(k, x, out[0].Float64s(), outer, n, inner)
	case []int32:
		cumProdRun(k, x, ops.Data[int32](out[0]), outer, n, inner)
	case []int64:
		cumProdRun(k, x, ops.Data[int64](out[0]), outer, n, inner)
	case []uint32:
		cumProdRun(k, x, ops.Data[uint32](out[0]), outer, n, inner)
	case []uint64:
		cumProdRun(k, x, ops.Data[uint64](out[0]), outer, n, inner)
	default: // float16, bfloat16
		size := in[0].Len()
		xf, yf := ctx.Scratch[:size], ctx.Scratch[size:2*size]
		ops.WidenToFloat32(xf, in[0].Data())
		cumProdRun(k, xf, yf, outer, n, inner)
		ops.NarrowFromFloat32(out[0].Data(), yf)
	}
	return nil
}

// cumProdRun multiplies whole rows of inner elements at a time: output row i is output row i-1 (in the
// product's direction) times input row i, or input row i-1 when exclusive.
func cumProdRun[T ops.Number](k *cumProdKernel, x, y []T, outer, n, inner int) {
	for o := 0; o < outer; o++ {
		base := o * n * inner
		for step := 0; step < n; step++ {
			i, prev := step, step-1
			if k.reverse {
				i, prev = n-1-step, n-step
			}
			row := y[base+i*inner : base+(i+1)*inner]
			if step == 0 {
				if k.exclusive {
					for j := range row {
						row[j] = 1
					}
				} else {
					copy(row, x[base+i*inner:])
				}
				continue
			}
			prevRow := y[base+prev*inner:]
			src := x[base+i*inner:]
			if k.exclusive {
				src = x[base+prev*inner:]
			}
			for j := range row {
				row[j] = prevRow[j] * src[j]
			}
		}
	}
}
