package array

import "github.com/onnxrun/onnxrun/ops"

// Identity returns its input. https://onnx.ai/onnx/operators/onnx__Identity.html — opsets 1, 13, 14, 16, 19,
// 21, 23, 24, 25. From opset 14 the input may be a sequence, from 16 an optional: those values are
// passed on as they are (their elements are immutable, see ops/value.go), tensors are copied or aliased.
func init() {
	ops.Register("", "Identity",
		ops.Since(1, buildIdentity),
		ops.Since(13, buildIdentity), // opset 13: bfloat16
		ops.Since(14, buildIdentity), // opset 14: sequence inputs
		ops.Since(16, buildIdentity), // opset 16: optional inputs
		ops.Since(19, buildIdentity), // opset 19: float8 types (not held by ops.Tensor)
		ops.Since(21, buildIdentity), // opset 21: int4/uint4 (not held)
		ops.Since(23, buildIdentity), // opset 23: float4e2m1 (not held)
		ops.Since(24, buildIdentity), // opset 24: float8e8m0 (not held)
		ops.Since(25, buildIdentity), // opset 25: int2/uint2 (not held)
	)
}

type identityOp struct{ aliasInput0 }

func buildIdentity(ops.NodeInfo) (ops.Op, error) { return identityOp{}, nil }

func (identityOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	if in[0].Kind() != ops.KindTensor {
		return []ops.ValueInfo{{DType: in[0].DType, Type: in[0].Type}}, nil
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: in[0].Shape.Clone()}}, nil
}

// AcceptsNonTensors: Identity passes sequences and optionals on.
func (identityOp) AcceptsNonTensors() bool { return true }

func (identityOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	if in[0].Kind() != ops.KindTensor {
		return passValueKernel, nil
	}
	return copyKernel, nil
}

// passValueKernel hands a non-tensor value on: its elements are owned and never written, so sharing them
// is safe.
var passValueKernel = ops.KernelFunc(func(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	out[0].SetValue(in[0])
	return nil
})
