package opstest_test

import (
	"fmt"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	_ "github.com/onnxrun/onnxrun/ops/elementwise" // registers Add
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// recorder is a testing.TB that notes a fatal failure instead of stopping the goroutine, so a test can
// check that AssertClose and Check do fail.
type recorder struct {
	testing.TB
	failure string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Fatal(args ...any)         { r.failure = fmt.Sprint(args...) }
func (r *recorder) Fatalf(f string, a ...any) { r.failure = fmt.Sprintf(f, a...) }

// TestDefaultToleranceIsONNXs holds AssertClose and Check to ONNX's atol of 1e-7: an output of 1e-6 where
// the reference is 0 is a mismatch (it passed under the 1e-5 used before), while 5e-8 is within.
func TestDefaultToleranceIsONNXs(t *testing.T) {
	zero := opstest.F32(ops.Shape{1}, 0)
	for _, tt := range []struct {
		got  float32
		fail bool
	}{{got: 1e-6, fail: true}, {got: 5e-8, fail: false}} {
		r := &recorder{TB: t}
		opstest.AssertClose(r, opstest.F32(ops.Shape{1}, tt.got), zero)
		if (r.failure != "") != tt.fail {
			t.Errorf("AssertClose(%g, 0): failure %q, want failing %v", tt.got, r.failure, tt.fail)
		}

		// Add(x, 0) = x: Check compares the kernel's output with a reference of 0.
		r = &recorder{TB: t}
		n := opstest.Node{OpType: "Add", Opset: 14, Inputs: []*ops.Tensor{opstest.F32(ops.Shape{1}, tt.got), zero}}
		opstest.Check(r, n, []*ops.Tensor{zero}, "", nil)
		if (r.failure != "") != tt.fail {
			t.Errorf("Check(Add(%g, 0)) against 0: failure %q, want failing %v", tt.got, r.failure, tt.fail)
		}
	}
}
