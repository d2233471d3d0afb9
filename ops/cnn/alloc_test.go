package cnn

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// prepared is a kernel ready to run outside opstest, so a test can measure Run alone.
type prepared struct {
	kernel  ops.Kernel
	ctx     *ops.ExecContext
	in, out []*ops.Tensor
}

func prepare(t testing.TB, n opstest.Node) prepared {
	t.Helper()
	p := opstest.MustPrepare(t, n)
	return prepared{kernel: p.Kernel, ctx: p.Ctx, in: p.In, out: p.Out}
}

// TestRunAllocatesNothing holds every kernel to the contract that Run does no heap allocation.
func TestRunAllocatesNothing(t *testing.T) {
	x := randF32(1, 2, 4, 6, 6)
	w := randF32(2, 4, 2, 3, 3)
	b := randF32(3, 4)
	yes := ops.FromSlice(ops.Shape{}, []bool{true})
	k33 := ops.AttrMap{"kernel_shape": ints(3, 3), "pads": ints(1, 1, 1, 1), "strides": ints(2, 1)}
	nodes := map[string]opstest.Node{
		"Conv f32":             node("Conv", 22, ops.AttrMap{"group": ops.IntAttr(2), "pads": ints(1, 0, 1, 2)}, x, w, b),
		"Conv f64":             node("Conv", 22, ops.AttrMap{"group": ops.IntAttr(2)}, toF64(x), toF64(w), toF64(b)),
		"Conv f16":             node("Conv", 22, ops.AttrMap{"group": ops.IntAttr(2)}, toHalf(x), toHalf(w), toHalf(b)),
		"Conv 1x1":             node("Conv", 22, nil, x, randF32(5, 3, 4, 1, 1)),
		"ConvTranspose f32":    node("ConvTranspose", 22, ops.AttrMap{"strides": ints(2, 2), "group": ops.IntAttr(2)}, x, randF32(6, 4, 3, 2, 2)),
		"ConvTranspose f64":    node("ConvTranspose", 22, nil, toF64(x), toF64(randF32(6, 4, 3, 2, 2))),
		"MaxPool indices":      {OpType: "MaxPool", Opset: 22, Attrs: ops.AttrMap{"kernel_shape": ints(3, 3), "storage_order": ops.IntAttr(1)}, Inputs: []*ops.Tensor{x}, NumOutputs: 2},
		"MaxPool uint8":        node("MaxPool", 22, k33, ops.New(ops.Uint8, ops.Shape{1, 1, 5, 5})),
		"AveragePool":          node("AveragePool", 22, k33, x),
		"MaxPool separable":    node("MaxPool", 22, ops.AttrMap{"kernel_shape": ints(5, 5), "pads": ints(2, 2, 2, 2)}, x),
		"AveragePool f16":      node("AveragePool", 22, k33, toHalf(x)),
		"LpPool":               node("LpPool", 22, k33, toF64(x)),
		"GlobalAveragePool":    node("GlobalAveragePool", 22, nil, x),
		"GlobalLpPool f16":     node("GlobalLpPool", 22, nil, toHalf(x)),
		"Dropout inference":    {OpType: "Dropout", Opset: 22, Inputs: []*ops.Tensor{x}, NumOutputs: 2},
		"Dropout training":     {OpType: "Dropout", Opset: 22, Attrs: ops.AttrMap{"seed": ops.IntAttr(3)}, Inputs: []*ops.Tensor{x, f32(ops.Shape{}, 0.3), yes}, NumOutputs: 2},
		"QLinearConv im2col":   qconvAllocNode(ops.Shape{1, 4, 7, 7}, ops.Shape{6, 4, 3, 3}, ops.AttrMap{"pads": ints(1, 1, 1, 1)}),
		"QLinearConv 1x1":      qconvAllocNode(ops.Shape{1, 4, 7, 7}, ops.Shape{6, 4, 1, 1}, nil),
		"QLinearConv dw":       qconvAllocNode(ops.Shape{1, 4, 7, 7}, ops.Shape{4, 1, 3, 3}, ops.AttrMap{"group": ops.IntAttr(4), "strides": ints(2, 2)}),
		"ConvInteger dw":       node("ConvInteger", 10, ops.AttrMap{"group": ops.IntAttr(4)}, ops.New(ops.Uint8, ops.Shape{1, 4, 7, 7}), ops.New(ops.Int8, ops.Shape{4, 1, 3, 3})),
		"ConvInteger im2col":   node("ConvInteger", 10, nil, ops.New(ops.Uint8, ops.Shape{1, 4, 7, 7}), ops.New(ops.Uint8, ops.Shape{6, 4, 3, 3}), ops.Scalar[uint8](3)),
		"Dropout training f16": {OpType: "Dropout", Opset: 22, Inputs: []*ops.Tensor{toHalf(x), f32(ops.Shape{}, 0.3), yes}},
	}
	opstest.CheckRunAllocatesNothing(t, nodes)
}

// qconvAllocNode is a QLinearConv of u8 data and s8 per-channel weights with bias.
func qconvAllocNode(x, w ops.Shape, attrs ops.AttrMap) opstest.Node {
	m := w[0]
	return node("QLinearConv", 10, attrs, ops.New(ops.Uint8, x), ops.Scalar[float32](0.1), ops.Scalar[uint8](128),
		ops.New(ops.Int8, w), ops.FromSlice(ops.Shape{m}, make([]float32, m)), ops.New(ops.Int8, ops.Shape{m}),
		ops.Scalar[float32](0.2), ops.Scalar[int8](-3), ops.New(ops.Int32, ops.Shape{m}))
}
