package array

import "github.com/onnxrun/onnxrun/ops"

// Squeeze removes dimensions of size 1; Unsqueeze inserts them.
// https://onnx.ai/onnx/operators/onnx__Squeeze.html and https://onnx.ai/onnx/operators/onnx__Unsqueeze.html
// — opsets 1, 11, 13, 21, 23, 24, 25 for both.
func init() {
	for _, op := range []struct {
		name      string
		unsqueeze bool
	}{{"Squeeze", false}, {"Unsqueeze", true}} {
		ops.Register("", op.name,
			ops.Since(1, buildSqueeze(op.unsqueeze, false)),  // axes is an attribute
			ops.Since(11, buildSqueeze(op.unsqueeze, false)), // opset 11: negative axes (accepted at every opset here)
			ops.Since(13, buildSqueeze(op.unsqueeze, true)),  // opset 13: axes moved from the attribute to input 1
			ops.Since(21, buildSqueeze(op.unsqueeze, true)),  // opset 21: int4/uint4 (not held by ops.Tensor)
			ops.Since(23, buildSqueeze(op.unsqueeze, true)),  // opset 23: float4e2m1 (not held)
			ops.Since(24, buildSqueeze(op.unsqueeze, true)),  // opset 24: float8e8m0 (not held)
			ops.Since(25, buildSqueeze(op.unsqueeze, true)),  // opset 25: int2/uint2 (not held)
		)
	}
}

type squeezeOp struct {
	aliasInput0
	unsqueeze bool
	fromInput bool
	axes      []int64 // the attribute form; nil when absent
}

func buildSqueeze(unsqueeze, fromInput bool) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		r := ops.NewAttrReader(n.Attrs)
		o := &squeezeOp{unsqueeze: unsqueeze, fromInput: fromInput}
		if !fromInput {
			o.axes = r.Ints("axes", nil)
			if unsqueeze && !r.Has("axes") {
				return nil, &ops.AttrError{Name: "axes", Msg: "is required before opset 13"}
			}
		}
		return o, r.Err()
	}
}

// ShapeInputs reports that the axes (input 1 from opset 13) must be known to plan.
func (o *squeezeOp) ShapeInputs() []int {
	if o.fromInput {
		return []int{1}
	}
	return nil
}

func (o *squeezeOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	required, maxIn := 1, 1
	if o.fromInput {
		maxIn = 2
		if o.unsqueeze {
			required = 2
		}
	}
	if err := ops.CheckInputCount(in, required, maxIn); err != nil {
		return nil, err
	}
	axes, hasAxes := o.axes, o.axes != nil
	if o.fromInput && ops.Input(in, 1).Present() {
		var err error
		if axes, err = ops.ConstInts(in[1], "axes"); err != nil {
			return nil, err
		}
		hasAxes = true
	}
	var out ops.Shape
	var err error
	if o.unsqueeze {
		out, err = unsqueezeShape(in[0].Shape, axes)
	} else {
		out, err = squeezeShape(in[0].Shape, axes, hasAxes)
	}
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: out}}, nil
}

func (o *squeezeOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) { return copyKernel, nil }

func squeezeShape(s ops.Shape, axes []int64, hasAxes bool) (ops.Shape, error) {
	drop := make([]bool, len(s))
	if hasAxes {
		norm, err := ops.NormalizeAxes(axes, len(s), "axes")
		if err != nil {
			return nil, err
		}
		for _, a := range norm {
			if s[a] != 1 {
				return nil, ops.Invalidf("cannot squeeze axis %d of shape %v: its size is %d, not 1", a, s, s[a])
			}
			drop[a] = true
		}
	} else {
		for i, d := range s {
			drop[i] = d == 1
		}
	}
	out := ops.Shape{}
	for i, d := range s {
		if !drop[i] {
			out = append(out, d)
		}
	}
	return out, nil
}

func unsqueezeShape(s ops.Shape, axes []int64) (ops.Shape, error) {
	rank := len(s) + len(axes)
	norm, err := ops.NormalizeAxes(axes, rank, "axes")
	if err != nil {
		return nil, err
	}
	out := make(ops.Shape, rank)
	for _, a := range norm {
		out[a] = -1
	}
	next := 0
	for i := range out {
		if out[i] == -1 {
			out[i] = 1
			continue
		}
		out[i] = s[next]
		next++
	}
	return out, nil
}
