package cnn

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// The depthwise cases of the strategy tests with square 3x3 and 5x5 windows, strides 1 and 2 and no
// dilation run on the vector path (and the others on the gather loop), so that TestFastConvStrategies
// compares the vector path with the reference.
func TestDepthwiseVectorPathIsTaken(t *testing.T) {
	vectorCases := 0
	for _, c := range oddConvCases {
		op, err := buildConv(ops.NodeInfo{OpType: "Conv", Opset: 22, Attrs: c.attr, NumInputs: 2, NumOutputs: 1})
		if err != nil {
			t.Fatal(err)
		}
		s, err := op.(*convOp).shape([]ops.ValueInfo{{DType: ops.Float32, Shape: c.x}, {DType: ops.Float32, Shape: c.w}})
		if err != nil || !isDepthwise(&s) {
			continue
		}
		win := &s.win
		want := win.kernel[0] == win.kernel[1] && (win.kernel[0] == 3 || win.kernel[0] == 5) &&
			win.stride[0] == win.stride[1] && win.stride[0] <= 2 && win.dilation[0] == 1 && win.dilation[1] == 1
		if got := newConvDepthwise(&s, convWeights{}).vec != nil; got != want {
			t.Errorf("%s: vector path %v, want %v", c.name, got, want)
		}
		if want {
			vectorCases++
		}
	}
	if vectorCases < 6 {
		t.Errorf("%d depthwise cases run on the vector path, want at least 6", vectorCases)
	}
}
