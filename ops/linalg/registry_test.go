package linalg

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// TestRegistrations checks that every op resolves at each opset from its first version (Operators.md's
// "since version" lists) up to ops.MaxOpset, and at none before.
func TestRegistrations(t *testing.T) {
	for op, first := range map[string]int{"MatMul": 1, "Gemm": 1, "Einsum": 12, "Det": 11} {
		for v := 1; v <= ops.MaxOpset; v++ {
			_, _, ok := ops.Lookup("", op, v)
			if ok != (v >= first) {
				t.Errorf("%s opset %d: registered=%t, want %t", op, v, ok, v >= first)
			}
		}
	}
}
