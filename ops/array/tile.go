package array

import "github.com/onnxrun/onnxrun/ops"

// Tile repeats a tensor: output dimension i is repeats[i] copies of input dimension i.
// https://onnx.ai/onnx/operators/onnx__Tile.html — opsets 1, 6, 13.
func init() {
	ops.Register("", "Tile",
		ops.Since(1, buildTile(true)),   // inputs tiles and axis: repeat along one axis
		ops.Since(6, buildTile(false)),  // opset 6: input repeats gives one count per axis
		ops.Since(13, buildTile(false)), // opset 13: bfloat16
	)
}

type tileOp struct {
	oneAxis bool // opset 1: (tiles, axis) scalars
}

func buildTile(oneAxis bool) ops.Builder {
	return func(ops.NodeInfo) (ops.Op, error) { return &tileOp{oneAxis: oneAxis}, nil }
}

// ShapeInputs reports that the repeat counts must be known to plan.
func (o *tileOp) ShapeInputs() []int {
	if o.oneAxis {
		return []int{1, 2}
	}
	return []int{1}
}

func (o *tileOp) repeats(in []ops.ValueInfo) ([]int, error) {
	rank := len(in[0].Shape)
	reps := make([]int, rank)
	if o.oneAxis {
		tiles, err := constScalarInt(in[1], "tiles")
		if err != nil {
			return nil, err
		}
		axis, err := constScalarInt(in[2], "axis")
		if err != nil {
			return nil, err
		}
		a, err := normalizeAxis(axis, rank, "input \"axis\"")
		if err != nil {
			return nil, err
		}
		if tiles < 0 {
			return nil, ops.Invalidf("tiles is %d, must not be negative", tiles)
		}
		for i := range reps {
			reps[i] = 1
		}
		reps[a] = int(tiles)
		return reps, nil
	}
	r, err := ops.ConstInts(in[1], "repeats")
	if err != nil {
		return nil, err
	}
	if len(r) != rank {
		return nil, ops.Invalidf("repeats %v has %d entries for an input of rank %d", r, len(r), rank)
	}
	for i, v := range r {
		if v < 0 || int64(int(v)) != v {
			return nil, ops.Invalidf("repeats %v has an invalid count %d", r, v)
		}
		reps[i] = int(v)
	}
	return reps, nil
}

func (o *tileOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	nIn := 2
	if o.oneAxis {
		nIn = 3
	}
	if err := ops.CheckInputCount(in, nIn, nIn); err != nil {
		return nil, err
	}
	reps, err := o.repeats(in)
	if err != nil {
		return nil, err
	}
	out := make(ops.Shape, len(reps))
	for i, r := range reps {
		if _, err := (ops.Shape{in[0].Shape[i], r}).CheckedSize(0); err != nil {
			return nil, ops.Invalidf("repeats make dimension %d too large", i)
		}
		out[i] = in[0].Shape[i] * r
	}
	if out, err = checkedShape(out); err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: out}}, nil
}

// Prepare views output dimension i as (repeats[i], dim[i]) in row-major order: the repeat axis reads the
// input with stride 0 and the inner axis with the input's stride, so Tile is one copyPlan.
func (o *tileOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	reps, err := o.repeats(in)
	if err != nil {
		return nil, err
	}
	s := in[0].Shape
	inStrides, outStrides := s.Strides(), out[0].Shape.Strides()
	axes := make([]planAxis, 0, 2*len(s))
	for i, d := range s {
		axes = append(axes,
			planAxis{n: reps[i], dstStride: d * outStrides[i], srcStride: 0},
			planAxis{n: d, dstStride: outStrides[i], srcStride: inStrides[i]})
	}
	return newPlanKernel(in[0].DType, newCopyPlan(axes, 0, 0))
}
