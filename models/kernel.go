package models

import (
	"fmt"

	"github.com/onnxrun/onnxrun/ops"
	_ "github.com/onnxrun/onnxrun/ops/cnn"         // Conv, pools and the gradient kernels
	_ "github.com/onnxrun/onnxrun/ops/elementwise" // Relu, Sigmoid, Tanh
	_ "github.com/onnxrun/onnxrun/ops/linalg"      // Gemm
)

// kernelOpset is the default-domain opset whose kernels the trainer runs (the export opset is separate).
const kernelOpset = 13

// node is one operator bound to fixed input shapes through the registry by ops.Instantiate, as the runtime
// binds a graph node. Its outputs are allocated once and reused by every run.
type node struct {
	name    string
	kernel  ops.Kernel
	outs    []*ops.Tensor
	scratch int
}

// newNode prepares opType for inputs of the given dtypes and shapes. The inputs are given without
// contents (no Const), so no kernel prepacks weights that the optimizer changes between steps.
func newNode(domain, opType string, attrs ops.AttrMap, nout int, in ...ops.ValueInfo) (*node, error) {
	opset := kernelOpset
	if domain == ops.TrainingDomain {
		opset = 1
	}
	inst, err := ops.Instantiate(ops.NodeInfo{Name: opType, Domain: domain, OpType: opType, Opset: opset, Attrs: attrs,
		NumOutputs: nout}, in)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", opType, err)
	}
	k, info := inst.Kernel, inst.Outputs
	n := &node{name: opType, kernel: k, outs: make([]*ops.Tensor, nout)}
	for i, vi := range info {
		n.outs[i] = ops.New(vi.DType, vi.Shape)
	}
	if s, ok := k.(ops.Scratcher); ok {
		n.scratch = s.ScratchSize()
	}
	return n, nil
}

// run computes the node's outputs and returns the first.
func (n *node) run(ctx *ops.ExecContext, in ...*ops.Tensor) (*ops.Tensor, error) {
	if err := n.kernel.Run(ctx, in, n.outs); err != nil {
		return nil, fmt.Errorf("%s: %w", n.name, err)
	}
	return n.outs[0], nil
}

// runInto computes the node into caller-given outputs; a nil output is one the caller does not want
// (gradient kernels skip it).
func (n *node) runInto(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	if err := n.kernel.Run(ctx, in, out); err != nil {
		return fmt.Errorf("%s: %w", n.name, err)
	}
	return nil
}

func f32(shape ops.Shape) ops.ValueInfo { return ops.ValueInfo{DType: ops.Float32, Shape: shape} }

func ints(v ...int) ops.Attr {
	a := ops.Attr{Type: ops.AttrInts, Ints: make([]int64, len(v))}
	for i, x := range v {
		a.Ints[i] = int64(x)
	}
	return a
}
