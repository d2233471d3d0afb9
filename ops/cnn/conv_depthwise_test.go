package cnn

import (
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

// The depthwise cases of the strategy tests with square 3x3 and 5x5 windows and strides 1 and 2, dilated
// or not, run on the vector path (and the others on the gather loop), so that TestFastConvStrategies
// compares the vector path with the reference.
func TestDepthwiseVectorPathIsTaken(t *testing.T) {
	vectorCases, dilatedCases := 0, 0
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
			win.stride[0] == win.stride[1] && win.stride[0] <= 2
		if got := newConvDepthwise(&s, convWeights{}).vec != nil; got != want {
			t.Errorf("%s: vector path %v, want %v", c.name, got, want)
		}
		if want {
			vectorCases++
			if win.dilation[0] != 1 || win.dilation[1] != 1 {
				dilatedCases++
			}
		}
	}
	if vectorCases < 6 {
		t.Errorf("%d depthwise cases run on the vector path, want at least 6", vectorCases)
	}
	if dilatedCases < 4 {
		t.Errorf("%d dilated depthwise cases run on the vector path, want at least 4", dilatedCases)
	}
}

// TestDepthwiseSmallMapsThread: MobileNetV2's depthwise layers on 7x7 outputs (576 channels stride 2 from
// 14x14, 960 channels stride 1), on whichever depthwise path the CPU gives them, open one parallel section on a 2-thread pool, and give the reference's
// result; the 576-channel one, 254K multiply-adds, stayed on one thread under the GEMM's threshold.
func TestDepthwiseSmallMapsThread(t *testing.T) {
	pool := parallel.NewPool(2)
	defer pool.Close()
	for _, c := range []struct {
		name         string
		channels, in int
		st           int64
	}{{"576ch 14x14 stride 2", 576, 14, 2}, {"960ch 7x7 stride 1", 960, 7, 1}} {
		x, w, b := randF32(1, 1, c.channels, c.in, c.in), randF32(2, c.channels, 1, 3, 3), randF32(3, c.channels)
		s, k, want := prepareAtTwoProcs(t, x, w, b, ops.AttrMap{"group": ops.IntAttr(int64(c.channels)), "pads": ints(1, 1, 1, 1), "strides": ints(c.st, c.st)})
		// Either depthwise path (planes, or channel-interleaved on maps this small) must split over the pool.
		if !strings.HasPrefix(k.Strategy(), "depthwise") || s.outSize != 49 {
			t.Fatalf("%s: strategy %s with %d outputs a plane, want a depthwise one with 49", c.name, k.Strategy(), s.outSize)
		}
		before := pool.Forks()
		got := runOnPool(t, k, pool, s.outShape, x, w, b)
		if forks := pool.Forks() - before; forks != 1 {
			t.Errorf("%s: %d parallel sections, want 1", c.name, forks)
		}
		if err := closeTo(got, want, 2e-4, 2e-4); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}
