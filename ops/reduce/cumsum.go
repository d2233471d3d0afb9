package reduce

import (
	"fmt"

	"github.com/onnxrun/onnxrun/ops"
)

// CumSum is the running sum along an axis: https://onnx.ai/onnx/operators/onnx__CumSum.html. Opsets 11
// and 14. CumProd (cumprod.go) is the running product and shares this file's op and kernel.
//
// exclusive=1 leaves each element out of its own sum (the first output is 0, 1 for a product); reverse=1
// sums from the end. The axis is an input (int32 or int64, one element). It does not change the output
// shape, so when it is not a constant the kernel reads and checks it at each Run, instead of making the
// whole plan dynamic.
func init() {
	ops.Register("", "CumSum",
		// opset 11: uint32, uint64, int32, int64, float32, float64.
		ops.Since(11, buildCumulative("CumSum", false, ops.DTypes(ops.Uint32, ops.Uint64, ops.Int32, ops.Int64, ops.Float32, ops.Float64))),
		// opset 14: adds float16 and bfloat16.
		ops.Since(14, buildCumulative("CumSum", false, ops.DTypes(ops.Uint32, ops.Uint64, ops.Int32, ops.Int64, ops.Float16, ops.Float32, ops.Float64, ops.BFloat16))),
	)
}

// buildCumulative builds CumSum, or CumProd when product is set.
func buildCumulative(opType string, product bool, types ops.DTypeSet) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		r := ops.NewAttrReader(n.Attrs)
		o := &cumSumOp{opType: opType, product: product, opset: n.Opset, types: types,
			exclusive: r.Int("exclusive", 0) != 0, reverse: r.Int("reverse", 0) != 0}
		if err := r.Err(); err != nil {
			return nil, err
		}
		if n.NumInputs != 2 {
			return nil, ops.Invalidf("%s takes 2 inputs (x, axis), the node has %d", opType, n.NumInputs)
		}
		return o, nil
	}
}

type cumSumOp struct {
	opType             string
	product            bool // CumProd: multiply instead of add
	opset              int
	types              ops.DTypeSet
	exclusive, reverse bool
}

func (o *cumSumOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := o.check(in); err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: in[0].Shape.Clone()}}, nil
}

func (o *cumSumOp) check(in []ops.ValueInfo) error {
	if err := o.types.Check(o.opType, o.opset, "x", in[0].DType); err != nil {
		return err
	}
	a := in[1]
	if a.DType != ops.Int32 && a.DType != ops.Int64 {
		return ops.Invalidf("%s input axis has dtype %s, want int32 or int64", o.opType, a.DType)
	}
	if a.Shape.Size() != 1 || len(a.Shape) > 1 {
		return ops.Invalidf("%s input axis has shape %v, want a scalar", o.opType, a.Shape)
	}
	if a.Const != nil {
		if _, err := cumSumAxis(o.opType, a.Const, in[0].Shape); err != nil {
			return err
		}
	}
	return nil
}

// cumSumAxis reads the axis tensor and normalises it against shape.
func cumSumAxis(opType string, t *ops.Tensor, shape ops.Shape) (int, error) {
	var v int64
	switch d := t.Data().(type) {
	case []int32:
		v = int64(d[0])
	case []int64:
		v = d[0]
	}
	axis, err := ops.NormalizeAxis(int(v), len(shape))
	if err != nil {
		return 0, ops.Invalidf("%s of an input of shape %v: %v", opType, shape, err)
	}
	return axis, nil
}

func (o *cumSumOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	if err := o.check(in); err != nil {
		return nil, err
	}
	k := &cumSumKernel{opType: o.opType, product: o.product, exclusive: o.exclusive, reverse: o.reverse, axis: -1}
	if in[1].Const != nil {
		k.axis, _ = cumSumAxis(o.opType, in[1].Const, in[0].Shape)
	}
	if widensToFloat32(in[0].DType) {
		k.scratch = 2 * in[0].Shape.Size()
	}
	return k, nil
}

type cumSumKernel struct {
	opType             string
	product            bool
	exclusive, reverse bool
	axis               int // -1 when the axis is only known at run time
	scratch            int
}

func (k *cumSumKernel) ScratchSize() int { return k.scratch }

func (k *cumSumKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	shape := in[0].Shape()
	axis := k.axis
	if axis < 0 {
		// Reading the axis directly (not through cumSumAxis) keeps Run free of allocations.
		var v int64
		switch d := in[1].Data().(type) {
		case []int32:
			v = int64(d[0])
		case []int64:
			v = d[0]
		}
		r := int64(len(shape))
		if v < -r || v >= r {
			return fmt.Errorf("%w: %s axis %d is out of range [%d, %d] for an input of shape %v", ops.ErrInvalid, k.opType, v, -r, r-1, shape)
		}
		axis = int((v + r) % r)
	}
	outer, n, inner := axisExtents(shape, axis)
	switch x := in[0].Data().(type) {
	case []float32:
		cumSumRun(k, x, out[0].Float32s(), outer, n, inner)
	case []float64:
		cumSumRun(k, x, out[0].Float64s(), outer, n, inner)
	case []int32:
		cumSumRun(k, x, ops.Data[int32](out[0]), outer, n, inner)
	case []int64:
		cumSumRun(k, x, ops.Data[int64](out[0]), outer, n, inner)
	case []uint32:
		cumSumRun(k, x, ops.Data[uint32](out[0]), outer, n, inner)
	case []uint64:
		cumSumRun(k, x, ops.Data[uint64](out[0]), outer, n, inner)
	default: // float16, bfloat16
		size := in[0].Len()
		xf, yf := ctx.Scratch[:size], ctx.Scratch[size:2*size]
		ops.WidenToFloat32(xf, in[0].Data())
		cumSumRun(k, xf, yf, outer, n, inner)
		ops.NarrowFromFloat32(out[0].Data(), yf)
	}
	return nil
}

// cumSumRun adds (multiplies, for CumProd) whole rows of inner elements at a time: output row i is output
// row i-1 (the previous step, in the summing direction) plus input row i, or input row i-1 when exclusive.
func cumSumRun[T ops.Number](k *cumSumKernel, x, y []T, outer, n, inner int) {
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
					identity := T(0)
					if k.product {
						identity = 1
					}
					for j := range row {
						row[j] = identity
					}
				} else {
					copy(row, x[base+i*inner:])
				}
				continue
			}
			prevRow := y[base+prev*inner:]
			src := x[base+i*inner:] // inclusive: this row's own input
			if k.exclusive {
				src = x[base+prev*inner:] // exclusive: the previous row's input
			}
			if k.product {
				for j := range row {
					row[j] = prevRow[j] * src[j]
				}
				continue
			}
			for j := range row {
				row[j] = prevRow[j] + src[j]
			}
		}
	}
}
