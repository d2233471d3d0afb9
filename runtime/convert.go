package runtime

import (
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/tensorio"
)

// TensorFromArray converts a decoded ONNX tensor to an ops.Tensor (see tensorio.FromArray).
func TensorFromArray(a *onnx.Array) (*ops.Tensor, error) { return tensorio.FromArray(a) }

// ArrayFromTensor converts an ops.Tensor to the onnx package's form (see tensorio.ToArray).
func ArrayFromTensor(t *ops.Tensor) *onnx.Array { return tensorio.ToArray(t) }

func arrayToTensor(a *onnx.Array) (*ops.Tensor, error) {
	t, err := tensorio.FromArray(a)
	if err != nil {
		return nil, modelErrorf("tensor: %v", err)
	}
	return t, nil
}
