package runtime

import (
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/tensorconv"
)

// arrayToTensor converts an initializer or a Constant's value, as a malformed-model error when its data
// does not fit its type and shape.
func arrayToTensor(a *onnx.Array) (*ops.Tensor, error) {
	t, err := tensorconv.FromArray(a)
	if err != nil {
		return nil, modelErrorf("tensor: %v", err)
	}
	return t, nil
}
