package elementwise

import (
	"github.com/onnxrun/onnxrun/ops"
)

// PRelu: https://onnx.ai/onnx/operators/onnx__PRelu.html, opsets 1, 6, 7, 9, 16.
// y = x < 0 ? slope*x : x, with slope broadcast to x's shape.
func init() {
	// opset 1: slope of size 1 is shared, otherwise per channel (legacy consumed_inputs attribute)
	// opset 6: consumed_inputs removed
	// opset 7: slope broadcasts to X unidirectionally (Broadcasting.md)
	// opset 9: int32, int64, uint32, uint64 added
	// opset 16: bfloat16 added
	ops.Register("", "PRelu", ops.SameBuilder(buildPRelu, 1, 6, 7, 9, 16)...)
}

func buildPRelu(n ops.NodeInfo) (ops.Op, error) {
	types := typeSince{{1, floatsNoBF16}, {9, floatsNoBF16 | i32to64}, {16, floats | i32to64}}.at(n.Opset)
	o, err := newBinaryOp(n, 0, types, ops.Undefined, func(dt, _ ops.DType, plan *bcastPlan) ops.Kernel {
		return arithKernel(dt, opPRelu, plan)
	})
	if err != nil {
		return nil, err
	}
	o.names = [2]string{"X", "slope"}
	o.unidirectional = true
	if n.Opset < 7 {
		o.legacy, o.legacyChannelSlopes = true, true
	}
	return o, nil
}

// legacySlopeShape gives the shape PRelu-1 and PRelu-6 use for slope: a one-element slope is shared, a
// 1-D slope with one value per channel (X's dimension 1) applies along that axis, and anything that
// broadcasts to X unidirectionally is taken as is.
func legacySlopeShape(n *nodeMeta, x, slope ops.Shape) (ops.Shape, error) {
	if slope.Size() == 1 {
		return ops.Shape{}, nil
	}
	if out, err := ops.BroadcastShapes(x, slope); err == nil && out.Equal(x) {
		return slope, nil
	}
	if len(slope) == 1 && len(x) >= 2 && slope[0] == x[1] {
		s := make(ops.Shape, len(x)-1)
		for i := range s {
			s[i] = 1
		}
		s[0] = slope[0]
		return s, nil
	}
	return nil, ops.Invalidf("%s-%d: slope %v is neither one value, one per channel of X %v, nor broadcastable to it",
		n.opType, n.opset, slope, x)
}
