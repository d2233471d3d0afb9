package cnn

// FusedConv (domain "onnxrun", opset 1) is a Conv followed by an optional residual Add and an activation,
// run as one kernel: the graph pass runtime/pass_fuse_activation.go writes it, after ONNX Runtime's
// com.microsoft FusedConv:
//
//	Y = activation(Conv(X, W, B) + Z)
//
// Inputs X, W, B (optional) are Conv's; Z (optional) has Y's shape. Attributes are Conv's plus activation
// and activation_params as ops/internal/activation reads them (Relu, Clip [min, max], Sigmoid, SiLU,
// HardSigmoid [alpha, beta], HardSwish [alpha, beta], LeakyRelu [alpha], Tanh, Gelu, GeluTanh; absent
// means none). Relu and Clip run in the convolution's epilogue (the GEMM's, or Winograd's output
// transform) while the values are in registers; the others on each unit's output (an image's group, a
// depthwise row) right after the unit computed it, so neither the Add nor the activation makes a
// separate pass over Y. float32 only: the pass fuses float32
// graphs and other types keep their separate nodes.

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/activation"
	"github.com/onnxrun/onnxrun/ops/internal/gemm"
)

func init() {
	ops.Register(ops.FusedDomain, "FusedConv", ops.Since(1, buildFusedConv))
}

type fusedConvOp struct {
	conv *convOp
	epi  convEpilogue
}

func buildFusedConv(n ops.NodeInfo) (ops.Op, error) {
	conv, err := buildConv(n)
	if err != nil {
		return nil, err
	}
	epi, err := readActivation(ops.NewAttrReader(n.Attrs))
	if err != nil {
		return nil, err
	}
	epi.sum = n.NumInputs > 3 && (len(n.InputPresent) <= 3 || n.InputPresent[3])
	return &fusedConvOp{conv: conv.(*convOp), epi: epi}, nil
}

// readActivation reads a fused node's activation and activation_params: Relu and Clip become the
// kernels' clamp, the others (ops/internal/activation) the post activation.
func readActivation(r *ops.AttrReader) (convEpilogue, error) {
	var e convEpilogue
	name := r.String("activation", "")
	params := r.Floats("activation_params", nil)
	if err := r.Err(); err != nil {
		return e, err
	}
	f, err := activation.Parse(name, params)
	if err != nil {
		return e, err
	}
	switch f.Kind {
	case activation.None:
	case activation.Relu:
		e.act, e.lo, e.hi = gemm.ActReLU, 0, float32(math.Inf(1))
	case activation.Clip:
		e.act, e.lo, e.hi = gemm.ActClip, f.Alpha, f.Beta
	default:
		e.post = f
	}
	return e, nil
}

func (op *fusedConvOp) shape(in []ops.ValueInfo) (convShape, error) {
	if len(in) > 4 {
		return convShape{}, ops.Invalidf("%d inputs, at most 4 allowed (X, W, B, Z)", len(in))
	}
	s, err := op.conv.shape(in[:min(len(in), 3)])
	if err != nil {
		return s, err
	}
	if in[0].DType != ops.Float32 {
		return s, ops.Unsupportedf("FusedConv computes float32, X is %s", in[0].DType)
	}
	if z := ops.Input(in, 3); z.Present() {
		if z.DType != ops.Float32 || !z.Shape.Equal(s.outShape) {
			return s, ops.Invalidf("Z is %s%v, want float32%v (Y's shape)", z.DType, z.Shape, s.outShape)
		}
	}
	return s, nil
}

func (op *fusedConvOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: ops.Float32, Shape: s.outShape}}, nil
}

func (op *fusedConvOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	epi := op.epi
	epi.sum = ops.Input(in, 3).Present()
	return prepareFastConv(s, in[1].Const, op.conv.packsFor(in[1]), epi), nil
}
