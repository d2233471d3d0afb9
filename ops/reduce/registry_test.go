package reduce

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// TestRegistrations checks that every op resolves at each opset from its first version (Operators.md's
// "since version" lists) up to ops.MaxOpset, and at none before.
func TestRegistrations(t *testing.T) {
	first := map[string]int{"ArgMax": 1, "ArgMin": 1, "TopK": 1, "CumSum": 11, "Softmax": 1, "LogSoftmax": 1, "Hardmax": 1}
	for _, op := range reduceOpNames {
		first[op] = 1
	}
	for op, f := range first {
		for v := 1; v <= ops.MaxOpset; v++ {
			_, _, ok := ops.Lookup("", op, v)
			if ok != (v >= f) {
				t.Errorf("%s opset %d: registered=%t, want %t", op, v, ok, v >= f)
			}
		}
	}
}
