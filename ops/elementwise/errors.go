package elementwise

// Broken internal invariants: the only panics in this package, never caused by model or input data.
const (
	errUnknownOp = "elementwise: unknown operation code"
)
