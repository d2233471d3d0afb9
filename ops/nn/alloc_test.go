package nn

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
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race (sync.Pool drops items)")
	}
	x := randF32(1, 2, 4, 6, 6)
	w := randF32(2, 4, 2, 3, 3)
	b := randF32(3, 4)
	c4 := randF32(4, 4)
	yes := ops.FromSlice(ops.Shape{}, []bool{true})
	k33 := ops.AttrMap{"kernel_shape": ints(3, 3), "pads": ints(1, 1, 1, 1), "strides": ints(2, 1)}
	nodes := map[string]opstest.Node{
		"Conv f32":                      node("Conv", 22, ops.AttrMap{"group": ops.IntAttr(2), "pads": ints(1, 0, 1, 2)}, x, w, b),
		"Conv f64":                      node("Conv", 22, ops.AttrMap{"group": ops.IntAttr(2)}, toF64(x), toF64(w), toF64(b)),
		"Conv f16":                      node("Conv", 22, ops.AttrMap{"group": ops.IntAttr(2)}, toHalf(x), toHalf(w), toHalf(b)),
		"Conv 1x1":                      node("Conv", 22, nil, x, randF32(5, 3, 4, 1, 1)),
		"ConvTranspose f32":             node("ConvTranspose", 22, ops.AttrMap{"strides": ints(2, 2), "group": ops.IntAttr(2)}, x, randF32(6, 4, 3, 2, 2)),
		"ConvTranspose f64":             node("ConvTranspose", 22, nil, toF64(x), toF64(randF32(6, 4, 3, 2, 2))),
		"MaxPool indices":               {OpType: "MaxPool", Opset: 22, Attrs: ops.AttrMap{"kernel_shape": ints(3, 3), "storage_order": ops.IntAttr(1)}, Inputs: []*ops.Tensor{x}, NumOutputs: 2},
		"MaxPool uint8":                 node("MaxPool", 22, k33, ops.New(ops.Uint8, ops.Shape{1, 1, 5, 5})),
		"AveragePool":                   node("AveragePool", 22, k33, x),
		"AveragePool f16":               node("AveragePool", 22, k33, toHalf(x)),
		"LpPool":                        node("LpPool", 22, k33, toF64(x)),
		"GlobalAveragePool":             node("GlobalAveragePool", 22, nil, x),
		"GlobalLpPool f16":              node("GlobalLpPool", 22, nil, toHalf(x)),
		"BatchNormalization":            node("BatchNormalization", 15, nil, x, c4, c4, c4, ops.FromSlice(ops.Shape{4}, []float32{1, 2, 3, 4})),
		"SoftmaxCrossEntropyLoss":       {OpType: "SoftmaxCrossEntropyLoss", Opset: 13, Inputs: []*ops.Tensor{randF32(7, 3, 4, 2), ops.FromSlice(ops.Shape{3, 2}, []int64{0, 1, 2, 3, 1, 0})}, NumOutputs: 2},
		"NegativeLogLikelihoodLoss f16": node("NegativeLogLikelihoodLoss", 22, ops.AttrMap{"reduction": ops.StringAttr("none")}, toHalf(randF32(7, 3, 4)), ops.FromSlice(ops.Shape{3}, []int32{0, 3, 2})),
		"Attention causal mask":         {OpType: "Attention", Opset: 24, Attrs: ops.AttrMap{"is_causal": ops.IntAttr(1)}, Inputs: []*ops.Tensor{randF32(7, 1, 2, 3, 4), randF32(8, 1, 2, 5, 4), randF32(9, 1, 2, 5, 4), ops.FromSlice(ops.Shape{5}, []bool{true, true, false, true, true})}, NumOutputs: 4},
		"RotaryEmbedding":               node("RotaryEmbedding", 23, ops.AttrMap{"interleaved": ops.IntAttr(1)}, randF32(7, 1, 2, 3, 4), randF32(8, 1, 3, 2), randF32(9, 1, 3, 2)),
		"LSTM bidirectional":            {OpType: "LSTM", Opset: 22, Attrs: ops.AttrMap{"hidden_size": ops.IntAttr(3), "direction": ops.StringAttr("bidirectional")}, Inputs: []*ops.Tensor{randF32(7, 4, 2, 5), randF32(8, 2, 12, 5), randF32(9, 2, 12, 3)}, NumOutputs: 3},
		"GRU f16":                       {OpType: "GRU", Opset: 22, Attrs: ops.AttrMap{"hidden_size": ops.IntAttr(3)}, Inputs: []*ops.Tensor{toHalf(randF32(7, 4, 2, 5)), toHalf(randF32(8, 1, 9, 5)), toHalf(randF32(9, 1, 9, 3))}, NumOutputs: 2},
		"RNN f64":                       {OpType: "RNN", Opset: 22, Attrs: ops.AttrMap{"hidden_size": ops.IntAttr(3), "layout": ops.IntAttr(1)}, Inputs: []*ops.Tensor{toF64(randF32(7, 2, 4, 5)), toF64(randF32(8, 1, 3, 5)), toF64(randF32(9, 1, 3, 3))}, NumOutputs: 2},
		"BatchNorm training":            {OpType: "BatchNormalization", Opset: 15, Attrs: ops.AttrMap{"training_mode": ops.IntAttr(1)}, Inputs: []*ops.Tensor{x, c4, c4, c4, c4}, NumOutputs: 3},
		"InstanceNorm":                  node("InstanceNormalization", 22, nil, x, c4, c4),
		"LayerNorm":                     {OpType: "LayerNormalization", Opset: 17, Inputs: []*ops.Tensor{x, randF32(7, 6), randF32(8, 6)}, NumOutputs: 3},
		"LayerNorm f16":                 node("LayerNormalization", 17, nil, toHalf(x), toHalf(randF32(7, 6))),
		"GroupNorm":                     node("GroupNormalization", 21, ops.AttrMap{"num_groups": ops.IntAttr(2)}, x, c4, c4),
		"LRN":                           node("LRN", 13, ops.AttrMap{"size": ops.IntAttr(3)}, x),
		"MVN":                           node("MeanVarianceNormalization", 13, nil, x),
		"Dropout inference":             {OpType: "Dropout", Opset: 22, Inputs: []*ops.Tensor{x}, NumOutputs: 2},
		"Dropout training":              {OpType: "Dropout", Opset: 22, Attrs: ops.AttrMap{"seed": ops.IntAttr(3)}, Inputs: []*ops.Tensor{x, f32(ops.Shape{}, 0.3), yes}, NumOutputs: 2},
		"DFT complex prime (Bluestein)": dftNode(nil, randF32(7, 2, 257, 2)),
		"DFT real f64":                  dftNode(nil, toF64(randF32(7, 2, 48, 1))),
		"DFT irfft f16":                 dftNode(ops.AttrMap{"onesided": ops.IntAttr(1), "inverse": ops.IntAttr(1)}, toHalf(randF32(7, 3, 9, 2))),
		"STFT window":                   node("STFT", 17, nil, randF32(7, 1, 1000, 1), ops.Scalar(int64(160)), randF32(8, 400)),
		"Dropout training f16":          {OpType: "Dropout", Opset: 22, Inputs: []*ops.Tensor{toHalf(x), f32(ops.Shape{}, 0.3), yes}},
	}
	for name, n := range nodes {
		t.Run(name, func(t *testing.T) {
			p := prepare(t, n)
			allocs := testing.AllocsPerRun(5, func() {
				if err := p.kernel.Run(p.ctx, p.in, p.out); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("Run allocates %v times per call", allocs)
			}
		})
	}
}
