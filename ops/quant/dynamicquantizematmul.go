package quant

import (
	"unsafe"

	"github.com/onnxrun/onnxrun/ops"
)

// DynamicQuantizeMatMul is ONNX Runtime's MatMul with a float input quantized at run time (com.microsoft,
// opset 1), which its dynamic quantizer writes for MatMul nodes with constant weights:
//
//	A_q, a_scale, a_zero_point = DynamicQuantizeLinear(A)          (uint8, per tensor, over all of A)
//	Y = MatMulIntegerToFloat(A_q, B, a_scale, b_scale, a_zero_point, b_zero_point, bias)
//
// Inputs: A (float32), B (uint8/int8), b_scale (float32: one value, [N], or B's shape with K set to 1),
// b_zero_point (optional, B's type, shaped as b_scale allows), bias (optional float32 [N]). Output float32.
// A is quantized exactly as the DynamicQuantizeLinear kernel does, into the kernel's scratch.
func init() {
	ops.Register(ops.MicrosoftDomain, "DynamicQuantizeMatMul",
		// opset 1: the only version of the contrib operator.
		ops.Since(1, buildDynamicQuantizeMatMul),
	)
}

type dynamicQuantizeMatMulOp struct{ opset int }

func buildDynamicQuantizeMatMul(n ops.NodeInfo) (ops.Op, error) {
	if n.NumInputs < 3 || n.NumInputs > 5 {
		return nil, ops.Invalidf("DynamicQuantizeMatMul takes 3 to 5 inputs, the node has %d", n.NumInputs)
	}
	return &dynamicQuantizeMatMulOp{opset: n.Opset}, nil
}

var dqmmNames = []string{"A", "B", "b_scale", "b_zero_point", "bias"}

func (o *dynamicQuantizeMatMulOp) check(in []ops.ValueInfo) (*dynamicQuantizeMatMulKernel, error) {
	const op = "DynamicQuantizeMatMul"
	if err := ops.CheckInputCount(in, 3, 5); err != nil {
		return nil, err
	}
	for i, name := range dqmmNames {
		v := ops.Input(in, i)
		if !v.Present() {
			continue
		}
		set := ops.DTypes(ops.Float32)
		if i == 1 || i == 3 {
			set = quant8
		}
		if err := set.Check(op, o.opset, name, v.DType); err != nil {
			return nil, err
		}
	}
	if zp := ops.Input(in, 3); zp.Present() && zp.DType != in[1].DType {
		return nil, ops.Invalidf("%s b_zero_point has dtype %s, B is %s: they must match", op, zp.DType, in[1].DType)
	}
	k, err := newIntToFloatKernel(op, in[0].Shape, in[1].Shape, in[2].Shape, ops.Input(in, 3), ops.Input(in, 4))
	if err != nil {
		return nil, err
	}
	return &dynamicQuantizeMatMulKernel{intToFloatKernel: k, aSize: in[0].Shape.Size()}, nil
}

func (o *dynamicQuantizeMatMulOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	k, err := o.check(in)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: ops.Float32, Shape: k.plan.out.Clone()}}, nil
}

func (o *dynamicQuantizeMatMulOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	return o.check(in)
}

type dynamicQuantizeMatMulKernel struct {
	*intToFloatKernel
	aSize int
}

// ScratchSize holds quantized A: one byte per element, in float32 words.
func (k *dynamicQuantizeMatMulKernel) ScratchSize() int { return (k.aSize + 3) / 4 }

func (k *dynamicQuantizeMatMulKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	var aq []uint8
	if k.aSize > 0 {
		aq = unsafe.Slice((*uint8)(unsafe.Pointer(&ctx.Scratch[0])), k.aSize)
	}
	aScale, aZP := quantizeDynamicU8(in[0].Float32s(), aq)
	k.run(int8Matrix{u8: aq, colStride: 1}, int32(aZP), aScale, in[1], in[2].Float32s(), ops.TensorAt(in, 3), ops.TensorAt(in, 4), out[0].Float32s())
	return nil
}
