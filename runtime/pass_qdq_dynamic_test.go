package runtime_test

import (
	"testing"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
)

// dynamicMatMul writes what ONNX Runtime's quantize_dynamic writes for x·W (+ bias): x quantized at run
// time, W int8 per column (scales of n values) or per tensor, and the dequantisation as Cast, Mul and Add.
func (b qdqBuilder) dynamicMatMul(x string, k, n int, wScales []float32, withBias bool) string {
	q := b.NodeN("DynamicQuantizeLinear", "", []string{x}, 3, nil)
	w := make([]int8, k*n)
	for i := range w {
		w[i] = int8(b.rng.Intn(255) - 127)
	}
	wq := b.Initializer("", &onnx.Array{DataType: onnxpb.TensorProto_INT8, Dims: []int64{int64(k), int64(n)}, Data: w})
	dims := []int64{int64(len(wScales))}
	ws := b.Initializer("", &onnx.Array{DataType: onnxpb.TensorProto_FLOAT, Dims: dims, Data: wScales})
	wz := b.Initializer("", &onnx.Array{DataType: onnxpb.TensorProto_INT8, Dims: dims, Data: make([]int8, len(wScales))})
	acc := b.Node("MatMulInteger", []string{q[0], wq, q[2], wz}, nil)
	y := b.Node("Mul", []string{b.Node("Cast", []string{acc}, map[string]any{"to": int64(onnxpb.TensorProto_FLOAT)}), b.Node("Mul", []string{q[1], ws}, nil)}, nil)
	if !withBias {
		return y
	}
	bias := make([]float32, n)
	for i := range bias {
		bias[i] = float32(b.rng.NormFloat64())
	}
	return b.Node("Add", []string{b.Initializer("", &onnx.Array{DataType: onnxpb.TensorProto_FLOAT, Dims: []int64{int64(n)}, Data: bias}), y}, nil)
}

// DynamicQuantizeLinear → MatMulInteger → Cast → Mul(scales) [→ Add(bias)] becomes one
// MatMulIntegerToFloat after the DynamicQuantizeLinear, per column and per tensor, with and without bias,
// and computes what the unfused graph does.
func TestPassDynamicMatMul(t *testing.T) {
	b := newQDQBuilder(31)
	x := b.Input("x", f32, "N", 12)
	h := b.dynamicMatMul(x, 12, 5, []float32{0.01, 0.02, 0.015, 0.01, 0.03}, true)
	y := b.dynamicMatMul(h, 5, 4, []float32{0.02}, false)
	b.Output(y, f32, "N", 4)
	checkPassWithin(t, b.Graph, 13, []string{"DynamicQuantizeLinear", "MatMulIntegerToFloat", "DynamicQuantizeLinear", "MatMulIntegerToFloat"}, 0, 1e-6, 1, 12)
}

// The chain stays when the converted sums are read by another node too.
func TestPassDynamicMatMulLeavesSharedValues(t *testing.T) {
	b := newQDQBuilder(32)
	x := b.Input("x", f32, "N", 12)
	q := b.NodeN("DynamicQuantizeLinear", "", []string{x}, 3, nil)
	w := make([]uint8, 12*5)
	for i := range w {
		w[i] = uint8(b.rng.Intn(256))
	}
	wq := b.Initializer("", &onnx.Array{DataType: onnxpb.TensorProto_UINT8, Dims: []int64{12, 5}, Data: w})
	sums := b.Node("Cast", []string{b.Node("MatMulInteger", []string{q[0], wq, q[2]}, nil)}, map[string]any{"to": int64(onnxpb.TensorProto_FLOAT)})
	y := b.Node("Mul", []string{sums, b.Node("Mul", []string{q[1], b.Initializer("", scalarF32(0.01))}, nil)}, nil)
	b.Output(b.Node("Sub", []string{y, sums}, nil), f32, "N", 5)
	checkPassWithin(t, b.Graph, 13, []string{"DynamicQuantizeLinear", "MatMulInteger", "Cast", "Mul", "FusedElementwise"}, 0, 1e-6, 1, 12)
}
