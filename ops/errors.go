package ops

import (
	"errors"
	"fmt"
)

// ErrDynamicShape is wrapped by InferShapes when an output shape depends on input contents that are not known
// at plan time. It is not a failure: the runtime falls back to planning at each Run with the actual values.
var ErrDynamicShape = errors.New("output shape depends on input values not known at plan time")

// ErrUnsupported is wrapped by errors for valid ONNX the engine does not implement (an attribute value, a
// dtype), so callers can tell "your model is wrong" from "we can't run it yet".
var ErrUnsupported = errors.New("unsupported")

// ErrInvalid is wrapped by errors for a node that breaks the ONNX spec (a bad attribute, inputs whose shapes
// cannot work together).
var ErrInvalid = errors.New("invalid")

// AttrError is a bad or missing attribute.
type AttrError struct {
	Name string
	Msg  string
}

func (e *AttrError) Error() string { return fmt.Sprintf("attribute %q %s", e.Name, e.Msg) }

// Unwrap makes an AttrError match ErrInvalid.
func (e *AttrError) Unwrap() error { return ErrInvalid }

// Invalidf formats an error that wraps ErrInvalid.
func Invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Unsupportedf formats an error that wraps ErrUnsupported.
func Unsupportedf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnsupported, fmt.Sprintf(format, args...))
}

// Dynamicf formats an error that wraps ErrDynamicShape.
func Dynamicf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrDynamicShape, fmt.Sprintf(format, args...))
}

// Internal invariants: only these panic, and only on programming errors, never on model or input data.
const (
	errSliceShapeMismatch = "ops: slice length does not match shape"
	errViewSizeMismatch   = "ops: view shape has a different number of elements"
	errUnknownDType       = "ops: unknown dtype"
	errRangeOverlap       = "ops: registration overlaps an existing opset range"
	errBadRange           = "ops: opset range is empty (a version history out of order?)"
	errDroppedData        = "ops: Tensor.Clone: the tensor's data was dropped (DropData)"
	errPackLayoutReused   = "ops: Prepack: one layout string names packed forms of two types"
	errTooManyWidened     = "ops: a Widener narrows at most maxWidenedOutputs outputs"
	errUnknownDomain      = "ops: registration in a domain ops/registry.go does not declare"
)
