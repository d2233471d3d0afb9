package elementwise

import (
	"fmt"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// TestPlanMergesDimensions checks that the plan turns the common cases into few, long spans: that is what
// makes same-shape, scalar and row broadcasting a single tight loop.
func TestPlanMergesDimensions(t *testing.T) {
	cases := []struct {
		a, b         ops.Shape
		dims         []int
		stepA, stepB []int
	}{
		{ops.Shape{2, 3, 4}, ops.Shape{2, 3, 4}, []int{24}, []int{1}, []int{1}},
		{ops.Shape{2, 3, 4}, ops.Shape{}, []int{24}, []int{1}, []int{0}},
		{ops.Shape{2, 3, 4}, ops.Shape{1, 1, 1}, []int{24}, []int{1}, []int{0}},
		{ops.Shape{2, 3, 4}, ops.Shape{4}, []int{6, 4}, []int{4, 1}, []int{0, 1}},
		{ops.Shape{2, 3, 4}, ops.Shape{3, 1}, []int{2, 3, 4}, []int{12, 4, 1}, []int{0, 1, 0}},
		{ops.Shape{8, 3, 5, 5}, ops.Shape{3, 1, 1}, []int{8, 3, 25}, []int{75, 25, 1}, []int{0, 1, 0}},
		{ops.Shape{1, 4}, ops.Shape{3, 1}, []int{3, 4}, []int{0, 1}, []int{1, 0}},
		{ops.Shape{}, ops.Shape{}, []int{1}, []int{0}, []int{0}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%v,%v", c.a, c.b), func(t *testing.T) {
			out, err := ops.BroadcastShapes(c.a, c.b)
			if err != nil {
				t.Fatal(err)
			}
			p := newBcastPlan(out, c.a, c.b)
			got := fmt.Sprint(p.dims, p.inStep[0], p.inStep[1])
			if want := fmt.Sprint(c.dims, c.stepA, c.stepB); got != want {
				t.Errorf("dims, steps = %s, want %s", got, want)
			}
		})
	}
}

// TestHalfFromFloat64 checks the float64 to float16 narrowing on values where rounding through float32 to
// nearest would round twice and land on the wrong half.
func TestHalfFromFloat64(t *testing.T) {
	to16 := halfFromF64[ops.Float16Bits]()
	// 1 + 2^-11 + 2^-40 is just above the midpoint between the halves 1 and 1+2^-10: it must round up.
	// Rounding to float32 first drops the 2^-40 and leaves an exact tie, which rounds to even (1).
	x := 1 + 1.0/(1<<11) + 1.0/(1<<40)
	if got, want := to16(x).Float32(), float32(1+1.0/(1<<10)); got != want {
		t.Errorf("float16(%v) = %v, want %v", x, got, want)
	}
	if got := to16(1 + 1.0/(1<<11)); got.Float32() != 1 {
		t.Errorf("exact tie rounds to %v, want 1 (even)", got.Float32())
	}
	if got := to16(-(1 + 1.0/(1<<11) + 1.0/(1<<40))).Float32(); got != -float32(1+1.0/(1<<10)) {
		t.Errorf("negative: got %v", got)
	}
	if got := to16(1e6).Float32(); got <= 65504 {
		t.Errorf("overflow gives %v, want +Inf", got)
	}
}
