package runtime_test

import (
	"math/rand"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/onnx"
)

// batchNorm adds a BatchNormalization of x over c channels; its four statistics are initializers or, as
// some exporters write them, Constant nodes.
func batchNorm(b *exporter.Graph, rng *rand.Rand, x string, c int64, asConstantNodes bool) string {
	inputs := []string{x}
	for _, a := range []*onnx.Array{randArray(rng, c), randArray(rng, c), randArray(rng, c), positiveArray(rng, c)} {
		if asConstantNodes {
			inputs = append(inputs, b.Node("Constant", nil, exporter.Attrs{"value": a}))
		} else {
			inputs = append(inputs, b.Initializer("", a))
		}
	}
	return b.Node("BatchNormalization", inputs, exporter.Attrs{"epsilon": float32(1e-3)})
}

// Conv → BatchNormalization folds into the Conv also when the statistics and the Conv's weights are
// Constant nodes (an OCR model has 49 such).
func TestPassFoldBatchNormFromConstantNodes(t *testing.T) {
	rng := rand.New(rand.NewSource(31))
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, "N", 3, 8, 8)
	w := b.Node("Constant", nil, exporter.Attrs{"value": randArray(rng, 4, 3, 3, 3)})
	c := b.Node("Conv", []string{x, w}, exporter.Attrs{"pads": []int{1, 1, 1, 1}})
	b.Output(batchNorm(b, rng, c, 4, true), f32, "N", 4, 8, 8)
	checkPass(t, b, 13, []string{"Conv"}, 1, 3, 8, 8)
}

// A BatchNormalization with no Conv before it becomes a per-channel scale-and-shift, which fuses with the
// element-wise nodes around it; with statistics from initializers or Constant nodes, on 4-D and 2-D inputs.
func TestPassBatchNormToScaleShift(t *testing.T) {
	for _, constantNodes := range []bool{false, true} {
		rng := rand.New(rand.NewSource(32))
		b := exporter.NewGraph("g")
		x := b.Input("x", f32, "N", 5, 6, 7)
		b.Output(batchNorm(b, rng, x, 5, constantNodes), f32, "N", 5, 6, 7)
		checkPass(t, b, 13, []string{"FusedElementwise"}, 1, 5, 6, 7)

		b = exporter.NewGraph("g")
		x = b.Input("x", f32, "N", 5, 6, 7)
		y := b.Node("Relu", []string{batchNorm(b, rng, b.Node("MaxPool", []string{x}, exporter.Attrs{"kernel_shape": []int{2, 2}}), 5, constantNodes)}, nil)
		b.Output(y, f32, "N", 5, 5, 6)
		checkPass(t, b, 13, []string{"MaxPool", "FusedElementwise"}, 1, 5, 6, 7)

		b = exporter.NewGraph("g")
		x = b.Input("x", f32, "N", 9)
		b.Output(batchNorm(b, rng, x, 9, constantNodes), f32, "N", 9)
		checkPass(t, b, 13, []string{"FusedElementwise"}, 1, 9)
	}
}

// A BatchNormalization in training mode, or whose statistics are computed at run time, stays.
func TestPassBatchNormToScaleShiftLeavesOthers(t *testing.T) {
	rng := rand.New(rand.NewSource(33))
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, "N", 5, 4, 4)
	stats := []string{x}
	for i := 0; i < 4; i++ {
		stats = append(stats, b.Initializer("", positiveArray(rng, 5)))
	}
	stats[3] = b.Node("ReduceMean", []string{x}, exporter.Attrs{"axes": []int{0, 2, 3}, "keepdims": 0})
	b.Output(b.Node("BatchNormalization", stats, nil), f32, "N", 5, 4, 4)
	checkPass(t, b, 13, []string{"ReduceMean", "BatchNormalization"}, 1, 5, 4, 4)
}
