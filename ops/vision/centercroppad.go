package vision

import (
	"fmt"

	"github.com/onnxrun/onnxrun/ops"
)

// CenterCropPad crops or zero-pads chosen axes to given lengths, keeping the data centred.
// https://onnx.ai/onnx/operators/onnx__CenterCropPad.html — opset 18.
//
// A crop window starts at floor((in-out)/2), so an odd difference shifts it half an element to the left;
// padding puts floor((out-in)/2) zeros before the data and the rest after it. Each axis is then a table
// of source indices (or -1 for padding), which is exactly Resize's gather kernel.
func init() {
	ops.Register("", "CenterCropPad",
		ops.Since(18, buildCenterCropPad),
	)
}

type centerCropPadOp struct {
	axes []int64 // nil: every axis
}

func buildCenterCropPad(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	o := &centerCropPadOp{}
	if r.Has("axes") {
		o.axes = r.Ints("axes", nil)
		if o.axes == nil {
			o.axes = []int64{}
		}
	}
	return o, r.Err()
}

// ShapeInputs reports that the target shape (input 1) must be known to plan.
func (o *centerCropPadOp) ShapeInputs() []int { return []int{1} }

// outShape checks the inputs and returns the output's shape. It allocates nothing in proportion to the
// output, which the runtime has yet to check against its limits (a target length of 2^31 is well formed).
func (o *centerCropPadOp) outShape(in []ops.ValueInfo) (ops.Shape, error) {
	if err := ops.CheckInputCount(in, 2, 2); err != nil {
		return nil, err
	}
	shape := in[0].Shape
	rank := len(shape)
	axes := make([]int, rank)
	for i := range axes {
		axes[i] = i
	}
	note := fmt.Sprintf("the rank of input_data %v", shape)
	if o.axes != nil {
		var err error
		if axes, err = ops.NormalizeAxes(o.axes, rank, "axes"); err != nil {
			return nil, err
		}
		note = fmt.Sprintf("the length of axes %v", o.axes)
	}
	target, err := ops.ConstInts(in[1], "shape")
	if err != nil {
		return nil, err
	}
	if len(target) != len(axes) {
		return nil, ops.Invalidf("shape has %d entries, want %d (%s)", len(target), len(axes), note)
	}
	out := shape.Clone()
	for i, d := range axes {
		if target[i] < 0 || target[i] >= 1<<40 {
			return nil, ops.Invalidf("shape[%d] = %d is not a valid length", i, target[i])
		}
		out[d] = int(target[i])
	}
	if _, err := out.CheckedSize(0); err != nil {
		return nil, ops.Invalidf("output: %v", err)
	}
	return out, nil
}

// maxTableLength bounds an axis of CenterCropPad's output: its index and weight tables take 16 bytes per
// coordinate (1 GiB at this length), far beyond any image or sequence the operator crops.
const maxTableLength = 1 << 26

// tables returns, for each axis, the source index of every output coordinate (-1 for padding). Prepare
// builds them, once the runtime has accepted the output's size.
func (o *centerCropPadOp) tables(in []ops.ValueInfo) ([]axisTable, error) {
	out, err := o.outShape(in)
	if err != nil {
		return nil, err
	}
	shape := in[0].Shape
	tables := make([]axisTable, len(shape))
	for d, n := range shape {
		// A table costs 16 bytes per coordinate of its axis, while the output may hold one byte per
		// element: the runtime's size limit on the output does not bound the tables (FuzzNode: a uint8
		// output of 2^32 elements asked for 64 GiB of tables).
		if out[d] > maxTableLength {
			return nil, ops.Unsupportedf("axis %d of length %d: CenterCropPad supports axes of up to %d", d, out[d], maxTableLength)
		}
		t := axisTable{n: out[d], k: 1, idx: make([]int, out[d]), w: make([]float64, out[d])}
		// Output coordinate o reads input o+shift: a crop shifts right, a pad shifts left.
		shift := (n - out[d]) / 2
		if n < out[d] {
			shift = -((out[d] - n) / 2)
		}
		for i := range t.idx {
			src := i + shift
			if src < 0 || src >= n {
				src = -1
			}
			t.idx[i], t.w[i] = src, 1
		}
		tables[d] = t
	}
	return tables, nil
}

func (o *centerCropPadOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	out, err := o.outShape(in)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: out}}, nil
}

func (o *centerCropPadOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	tables, err := o.tables(in)
	if err != nil {
		return nil, err
	}
	return newTableKernel(in[0].DType, in[0].Shape, tables, 0)
}
