package conformance

// overrides are the cases that need a tolerance other than ONNX's default, each with its reason.
var overrides = map[string]struct {
	tol    Tolerance
	reason string
}{}

// ToleranceFor returns the tolerance a case is checked with.
func ToleranceFor(name string) Tolerance {
	if o, ok := overrides[name]; ok {
		return o.tol
	}
	return DefaultTolerance
}
