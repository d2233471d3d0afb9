package ops

import (
	"fmt"
	"strings"
)

// Instantiating an operator is one path from a node to a kernel ready to run: Lookup → Builder →
// InferShapes → Prepare. The runtime takes it in two halves (Build once per node, then InferOutputs and
// Prepare per set of input shapes, folding constants in between); the trainer (models) and the kernel tests
// (opstest) take it whole through Instantiate.

// NotRegisteredError is a node whose op type no registration covers at its opset.
type NotRegisteredError struct {
	Domain string
	OpType string
	Opset  int
	Have   []OpsetRange // the opsets registered for this op type, nil when it has none
}

func (e *NotRegisteredError) Error() string {
	op := e.OpType
	if e.Domain != "" {
		op = e.Domain + "::" + e.OpType
	}
	if len(e.Have) == 0 {
		return fmt.Sprintf("%s (opset %d): not registered: no kernel for this op type", op, e.Opset)
	}
	ranges := make([]string, len(e.Have))
	for i, r := range e.Have {
		ranges[i] = r.String()
	}
	return fmt.Sprintf("%s (opset %d): not registered: implemented only for opsets %s", op, e.Opset, strings.Join(ranges, ", "))
}

// Unwrap makes a NotRegisteredError match ErrUnsupported.
func (e *NotRegisteredError) Unwrap() error { return ErrUnsupported }

// StageError is an error from one stage of Instantiate: "build", "infer shapes" or "prepare".
type StageError struct {
	Stage string
	Err   error
}

func (e *StageError) Error() string { return e.Stage + ": " + e.Err.Error() }

// Unwrap gives the stage's own error.
func (e *StageError) Unwrap() error { return e.Err }

// Build looks the node's op up in the registry (the highest-priority registration covering its opset)
// and builds it; a node nothing covers gets a *NotRegisteredError. Builder errors come back unwrapped.
func Build(n NodeInfo) (Op, error) {
	build, have, ok := Lookup(n.Domain, n.OpType, n.Opset)
	if !ok {
		return nil, &NotRegisteredError{Domain: NormalizeDomain(n.Domain), OpType: n.OpType, Opset: n.Opset, Have: have}
	}
	return build(n)
}

// InferOutputs calls op.InferShapes and checks what it gives: at least numOutputs values (the node's
// declared outputs, which it returns, dropping any extra), each with a dtype and a shape whose size is
// a non-negative int. An op error comes back unwrapped.
func InferOutputs(op Op, in []ValueInfo, numOutputs int) ([]ValueInfo, error) {
	outs, err := op.InferShapes(in)
	if err != nil {
		return nil, err
	}
	if len(outs) < numOutputs {
		return nil, fmt.Errorf("the op gives %d outputs, the node declares %d", len(outs), numOutputs)
	}
	outs = outs[:numOutputs]
	for i, o := range outs {
		if o.DType == Undefined {
			return nil, fmt.Errorf("output %d has no dtype", i)
		}
		if _, err := o.Shape.CheckedSize(0); err != nil { // negative dims and int overflow: the model is wrong
			return nil, fmt.Errorf("output %d: %w", i, err)
		}
	}
	return outs, nil
}

// Instance is an operator instantiated for one set of inputs: the op, its outputs' dtypes and shapes,
// and the prepared kernel.
type Instance struct {
	Op      Op
	Outputs []ValueInfo
	Kernel  Kernel
}

// Instantiate builds the node's op and prepares a kernel for inputs in (one per node input; an absent
// optional input is a zero ValueInfo, and inputs with Const set are constants the kernel may prepack).
// NumInputs and InputPresent are taken from in; NumOutputs 0 means 1. Errors are *StageError, naming
// the stage that failed.
func Instantiate(n NodeInfo, in []ValueInfo) (*Instance, error) {
	if n.NumOutputs == 0 {
		n.NumOutputs = 1
	}
	n.NumInputs = len(in)
	n.InputPresent = make([]bool, len(in))
	for i, v := range in {
		n.InputPresent[i] = v.Present()
	}
	op, err := Build(n)
	if err != nil {
		return nil, &StageError{Stage: "build", Err: err}
	}
	outs, err := InferOutputs(op, in, n.NumOutputs)
	if err != nil {
		return nil, &StageError{Stage: "infer shapes", Err: err}
	}
	k, err := op.Prepare(in, outs)
	if err != nil {
		return nil, &StageError{Stage: "prepare", Err: err}
	}
	return &Instance{Op: op, Outputs: outs, Kernel: k}, nil
}
