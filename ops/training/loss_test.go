package training

import (
	"math"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// The operator documentation's examples: N, C, d1 = 2, 3, 2.
var (
	lossInput  = opstest.F32(ops.Shape{2, 3, 2}, 1, 2, 2, 2, 3, 2, 0, 1, 2, 2, 1, 2)
	lossTarget = ops.FromSlice(ops.Shape{2, 2}, []int64{2, 1, 0, 2})
	lossWeight = opstest.F32(ops.Shape{3}, 0.2, 0.3, 0.1)
)

func TestNegativeLogLikelihoodLoss(t *testing.T) {
	reduction := func(r string) ops.AttrMap { return ops.AttrMap{"reduction": ops.StringAttr(r)} }
	cases := []struct {
		name  string
		attrs ops.AttrMap
		in    []*ops.Tensor
		want  *ops.Tensor
	}{
		// Example 1: loss[n][d1] = -input[n][target[n][d1]][d1].
		{"none", reduction("none"), []*ops.Tensor{lossInput, lossTarget}, opstest.F32(ops.Shape{2, 2}, -3, -2, 0, -2)},
		// Example 2: weighted, summed: -(3·0.1 + 2·0.3 + 0·0.2 + 2·0.1).
		{"sum weighted", reduction("sum"), []*ops.Tensor{lossInput, lossTarget, lossWeight}, opstest.F32(ops.Shape{}, -1.1)},
		// Weighted mean: the sum over the sum of the samples' weights, 0.1 + 0.3 + 0.2 + 0.1.
		{"mean weighted", nil, []*ops.Tensor{lossInput, lossTarget, lossWeight}, opstest.F32(ops.Shape{}, float32(-1.1/0.7))},
		// ignore_index 2 drops two samples: the mean of the two left, -2 and -0.
		{"mean ignored", ops.AttrMap{"ignore_index": ops.IntAttr(2)}, []*ops.Tensor{lossInput, lossTarget}, opstest.F32(ops.Shape{}, -1)},
		// Every sample ignored: 0/0.
		{"mean all ignored", ops.AttrMap{"ignore_index": ops.IntAttr(7)}, []*ops.Tensor{lossInput, ops.FromSlice(ops.Shape{2, 2}, []int64{7, 7, 7, 7})}, opstest.F32(ops.Shape{}, float32(math.NaN()))},
	}
	for _, c := range cases {
		got := opstest.MustRun(t, opstest.Node{OpType: "NegativeLogLikelihoodLoss", Opset: 13, Attrs: c.attrs, Inputs: c.in})
		if err := opstest.Close(got[0], c.want, 1e-6, 1e-6); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// SoftmaxCrossEntropyLoss is NegativeLogLikelihoodLoss of the log-softmax over the classes, which it
// also returns.
func TestSoftmaxCrossEntropyLoss(t *testing.T) {
	attrs := ops.AttrMap{"reduction": ops.StringAttr("none"), "ignore_index": ops.IntAttr(0)}
	got := opstest.MustRun(t, opstest.Node{OpType: "SoftmaxCrossEntropyLoss", Opset: 13, Attrs: attrs, Inputs: []*ops.Tensor{lossInput, lossTarget, lossWeight}, NumOutputs: 2})
	x := lossInput.Float32s()
	logp := make([]float64, len(x))
	for n := 0; n < 2; n++ {
		for d := 0; d < 2; d++ {
			sum := 0.0
			for c := 0; c < 3; c++ {
				sum += math.Exp(float64(x[(n*3+c)*2+d]))
			}
			for c := 0; c < 3; c++ {
				logp[(n*3+c)*2+d] = float64(x[(n*3+c)*2+d]) - math.Log(sum)
			}
		}
	}
	if err := opstest.CloseTo(got[1].Float32s(), logp, 1e-6, 1e-7); err != nil {
		t.Errorf("log_prob: %v", err)
	}
	target := lossTarget.Int64s()
	w := lossWeight.Float32s()
	want := make([]float64, 4)
	for i, c := range target {
		if c != 0 { // ignore_index 0
			n, d := i/2, i%2
			want[i] = -logp[(n*3+int(c))*2+d] * float64(w[c])
		}
	}
	if err := opstest.CloseTo(got[0].Float32s(), want, 1e-6, 1e-7); err != nil {
		t.Errorf("loss: %v", err)
	}
}

func TestLossErrors(t *testing.T) {
	_, err := opstest.Run(opstest.Node{OpType: "NegativeLogLikelihoodLoss", Opset: 13, Inputs: []*ops.Tensor{lossInput, ops.FromSlice(ops.Shape{2, 2}, []int64{2, 3, 0, 1})}})
	if err == nil || !strings.Contains(err.Error(), "label 3 at sample 1 is outside the 3 classes") {
		t.Errorf("label out of range: got %v", err)
	}
	_, err = opstest.Run(opstest.Node{OpType: "SoftmaxCrossEntropyLoss", Opset: 13, Attrs: ops.AttrMap{"reduction": ops.StringAttr("max")}, Inputs: []*ops.Tensor{lossInput, lossTarget}})
	if err == nil || !strings.Contains(err.Error(), `"max"`) {
		t.Errorf("bad reduction: got %v", err)
	}
	_, err = opstest.Run(opstest.Node{OpType: "SoftmaxCrossEntropyLoss", Opset: 13, Inputs: []*ops.Tensor{lossInput, ops.FromSlice(ops.Shape{2, 3}, []int64{0, 0, 0, 0, 0, 0})}})
	if err == nil || !strings.Contains(err.Error(), "the labels have shape [2,3], want [2,2]") {
		t.Errorf("label shape: got %v", err)
	}
	_, err = opstest.Run(opstest.Node{OpType: "NegativeLogLikelihoodLoss", Opset: 13, Inputs: []*ops.Tensor{lossInput, lossTarget, opstest.F32(ops.Shape{2}, 1, 1)}})
	if err == nil || !strings.Contains(err.Error(), "weights are float32[2], want float32[3]") {
		t.Errorf("weights: got %v", err)
	}
}
