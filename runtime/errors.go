package runtime

import (
	"errors"
	"fmt"
	"strings"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/ops"
)

// Sentinels that every runtime error matches with errors.Is, so callers can sort failures into three kinds
// (the CLI maps all three to exit status 1, with a one-line message).
var (
	// ErrInvalidModel: the model breaks the ONNX spec (a cycle, a value nobody produces, a bad attribute).
	ErrInvalidModel = errors.New("invalid model")
	// ErrUnsupported: a valid model uses something onnxrun does not implement (an op, an opset, a dtype).
	ErrUnsupported = ops.ErrUnsupported
	// ErrBadInput: the caller's tensors do not fit the model (count, dtype, shape).
	ErrBadInput = errors.New("bad input")
)

// ModelError is a structural problem with the graph.
type ModelError struct{ Msg string }

func (e *ModelError) Error() string { return e.Msg }

// Unwrap makes a ModelError match ErrInvalidModel.
func (e *ModelError) Unwrap() error { return ErrInvalidModel }

func modelErrorf(format string, args ...any) error {
	return &ModelError{Msg: fmt.Sprintf(format, args...)}
}

// UnsupportedNode names one node no registered kernel covers.
type UnsupportedNode struct {
	Name   string
	Domain string
	OpType string
	Opset  int
	Have   []ops.OpsetRange // the opsets that are implemented for this op type, if any
}

func (u UnsupportedNode) String() string {
	op := u.OpType
	if u.Domain != "" {
		op = u.Domain + "::" + u.OpType
	}
	s := fmt.Sprintf("node %q (%s, opset %d)", u.Name, op, u.Opset)
	if len(u.Have) > 0 {
		rs := make([]string, len(u.Have))
		for i, r := range u.Have {
			rs[i] = r.String()
		}
		return s + ": implemented only for opsets " + strings.Join(rs, ", ")
	}
	if pkg, ok := OptInKernels[u.OpType]; ok && u.Domain == "" {
		return s + ": no kernel registered; its kernel is opt-in: import _ \"" + pkg + "\" to register it"
	}
	return s + ": no kernel for this op type"
}

// UnsupportedError lists every node of a model that onnxrun cannot run, found at compile time in one pass.
type UnsupportedError struct {
	Nodes []UnsupportedNode
}

func (e *UnsupportedError) Error() string {
	var b strings.Builder
	if len(e.Nodes) == 1 {
		b.WriteString("unsupported operator: ")
	} else {
		fmt.Fprintf(&b, "%d unsupported operators: ", len(e.Nodes))
	}
	for i, n := range e.Nodes {
		if i > 0 {
			b.WriteString("; ")
		}
		if i == 8 {
			fmt.Fprintf(&b, "and %d more", len(e.Nodes)-8)
			break
		}
		b.WriteString(n.String())
	}
	return b.String()
}

// Unwrap makes an UnsupportedError match ErrUnsupported.
func (e *UnsupportedError) Unwrap() error { return ErrUnsupported }

// NodeError is an error that one node raised while being built, planned or run.
type NodeError struct {
	Node   string
	OpType string
	Opset  int
	Stage  string // "build", "infer shapes", "prepare", "fold" (constant folding at plan time), "run", "run: infer shapes" (a plan made at Run from input values)
	Err    error
}

// newNodeError is how the runtime makes every NodeError: the node's label (see Node.label), op type and
// opset come from the node, so no message can name one node and the type of another.
func newNodeError(label string, n *Node, stage string, err error) *NodeError {
	return &NodeError{Node: label, OpType: n.OpType, Opset: n.Opset, Stage: stage, Err: err}
}

func (e *NodeError) Error() string {
	return fmt.Sprintf("node %q (%s, opset %d): %s: %v", e.Node, e.OpType, e.Opset, e.Stage, e.Err)
}

// Unwrap gives the op's own error; an op error that is neither unsupported nor a dynamic-shape request
// also matches ErrInvalidModel, or ErrBadInput when a kernel raised it while running on the caller's
// tensors (stage "run"): everything about the model was checked while planning, so what is left is the
// values fed, such as an index out of range.
func (e *NodeError) Unwrap() []error {
	if errors.Is(e.Err, ops.ErrUnsupported) || errors.Is(e.Err, ops.ErrDynamicShape) || errors.Is(e.Err, ErrBadInput) {
		return []error{e.Err}
	}
	if strings.HasPrefix(e.Stage, "run") {
		return []error{e.Err, ErrBadInput}
	}
	return []error{e.Err, ErrInvalidModel}
}

// IterationLimitError is a Loop that ran Options.MaxLoopIterations iterations in one Run without its trip
// count or condition ending it. It matches ErrUnsupported, as going over the other limits does.
type IterationLimitError struct {
	Node  string // the Loop node's label
	Limit int64
}

func (e *IterationLimitError) Error() string {
	return fmt.Sprintf("Loop %q did not end within %d iterations (Options.MaxLoopIterations)", e.Node, e.Limit)
}

// Unwrap makes an IterationLimitError match ErrUnsupported.
func (e *IterationLimitError) Unwrap() error { return ErrUnsupported }

// InputError is a caller's tensor that does not fit the model's input.
type InputError struct {
	Input string // the model's input name
	Msg   string
}

func (e *InputError) Error() string {
	if e.Input == "" { // about the inputs as a whole (their count)
		return e.Msg
	}
	return fmt.Sprintf("input %q: %s", e.Input, e.Msg)
}

// Unwrap makes an InputError match ErrBadInput.
func (e *InputError) Unwrap() error { return ErrBadInput }

// kindError gives an error from another package (the decoder's *onnx.FormatError and *onnx.UnsupportedError)
// one of the runtime's kinds, keeping its message and its own type reachable with errors.As.
type kindError struct {
	err  error
	kind error
}

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.err, e.kind} }

// classifyDecodeError makes a decoder error match ErrInvalidModel (a *onnx.FormatError) or ErrUnsupported
// (a *onnx.UnsupportedError), so that callers sort Load and Compile failures with the same three sentinels.
// Other errors (a file that cannot be opened) pass through unchanged.
func classifyDecodeError(err error) error {
	if err == nil || errors.Is(err, ErrInvalidModel) || errors.Is(err, ErrUnsupported) {
		return err
	}
	var format *onnx.FormatError
	var unsupported *onnx.UnsupportedError
	switch {
	case errors.As(err, &unsupported):
		return &kindError{err: err, kind: ErrUnsupported}
	case errors.As(err, &format):
		return &kindError{err: err, kind: ErrInvalidModel}
	}
	return err
}
