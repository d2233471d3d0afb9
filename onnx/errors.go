package onnx

// FormatError reports a malformed model or tensor: bytes that do not parse, or a message that breaks the
// ONNX specification (a missing graph, dims that do not match the data, an external data location that
// leaves the model's folder). Match it with errors.As.
type FormatError struct {
	// Where names the offending item, e.g. `tensor "W"` or "model.opset_import[1]".
	Where string
	// What says what is wrong, with the values involved.
	What string
	// Err is the underlying cause, if any (a protobuf or file system error).
	Err error
}

func (e *FormatError) Error() string { return describe("malformed", e.Where, e.What, e.Err) }

// Unwrap returns the underlying cause.
func (e *FormatError) Unwrap() error { return e.Err }

// UnsupportedError reports valid ONNX that this package does not handle: an IR version outside the
// accepted range, an element type with no Go slice type (a data type number this build does not know), segmented tensors. Match it
// with errors.As.
type UnsupportedError struct {
	// Where names the offending item, e.g. `tensor "scale"` or "model.ir_version".
	Where string
	// What says what is not supported, with the values involved.
	What string
}

func (e *UnsupportedError) Error() string { return describe("unsupported", e.Where, e.What, nil) }

func describe(kind, where, what string, err error) string {
	s := "onnx: " + kind
	if where != "" {
		s += ": " + where
	}
	s += ": " + what
	if err != nil {
		s += ": " + err.Error()
	}
	return s
}

func formatErr(where, what string) error { return &FormatError{Where: where, What: what} }

func unsupportedErr(where, what string) error { return &UnsupportedError{Where: where, What: what} }

// Broken internal invariants: only these panic, never model data.
const (
	errNoArrayForm = "onnx: internal: data type without an Array form reached a converter"
)
