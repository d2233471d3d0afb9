package tensorio

// FormatError reports a malformed tensor file: a bad magic string, a header that does not parse, a shape
// that does not match the bytes present. Match it with errors.As.
type FormatError struct {
	// File is the path read, or "" when reading from an io.Reader.
	File string
	// Format is the file format: "npy" or "pb".
	Format string
	// What says what is wrong, with the values involved.
	What string
	// Err is the underlying cause, if any (an I/O error).
	Err error
}

func (e *FormatError) Error() string { return describe(e.File, "malformed ."+e.Format, e.What, e.Err) }

// Unwrap returns the underlying cause.
func (e *FormatError) Unwrap() error { return e.Err }

// UnsupportedError reports a well-formed file holding something onnxrun tensors cannot represent: a
// string, object, complex or structured .npy dtype, an unknown format version, an unknown file extension.
type UnsupportedError struct {
	// File is the path read or written, or "" for an io.Reader or io.Writer.
	File string
	// What says what is not supported, with the values involved.
	What string
}

func (e *UnsupportedError) Error() string { return describe(e.File, "unsupported", e.What, nil) }

func describe(file, kind, what string, err error) string {
	s := kind + ": " + what
	if file != "" {
		s = file + ": " + s
	}
	if err != nil {
		s += ": " + err.Error()
	}
	return s
}
