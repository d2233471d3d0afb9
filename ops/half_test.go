package ops

import (
	"testing"
)

// addScaled is a stand-in float32 routine: y = a + 0.1*b.
func addScaled(a, b, y []float32) {
	for i := range y {
		y[i] = a[i] + 0.1*b[i]
	}
}

func TestWidenerComputesInFloat32AndRoundsOnce(t *testing.T) {
	values := []float32{1, -2.5, 3.14159, 65504, 1e-7, -0, 7.0e-5, 1000.5}
	for _, dt := range []DType{Float16, BFloat16} {
		a, b, y := New(dt, Shape{len(values)}), New(dt, Shape{len(values)}), New(dt, Shape{len(values)})
		NarrowFromFloat32(a.Data(), values)
		reversed := make([]float32, len(values))
		for i, v := range values {
			reversed[len(values)-1-i] = v
		}
		NarrowFromFloat32(b.Data(), reversed)

		// The reference: the same routine on exact float32 copies, rounded at the end.
		a32, b32, y32 := make([]float32, len(values)), make([]float32, len(values)), make([]float32, len(values))
		WidenToFloat32(a32, a.Data())
		WidenToFloat32(b32, b.Data())
		addScaled(a32, b32, y32)
		want := New(dt, Shape{len(values)})
		NarrowFromFloat32(want.Data(), y32)

		scratch := make([]float32, HalfScratch(dt, a.Len(), b.Len(), y.Len()))
		w := NewWidener(scratch)
		addScaled(w.In(a), w.In(b), w.Out(y))
		w.Narrow()
		for i := range values {
			if got, exp := y.AsFloat64s()[i], want.AsFloat64s()[i]; got != exp {
				t.Errorf("%s: y[%d] = %v, want %v", dt, i, got, exp)
			}
		}
	}
}

func TestWidenerSkipsAbsentOperandsAndDoesNotAllocate(t *testing.T) {
	x, y := New(Float16, Shape{64}), New(Float16, Shape{64})
	scratch := make([]float32, HalfScratch(Float16, x.Len(), y.Len()))
	allocs := testing.AllocsPerRun(20, func() {
		w := NewWidener(scratch)
		xs, absent, ys := w.In(x), w.In(nil), w.Out(y)
		if absent != nil || len(xs) != 64 || len(ys) != 64 {
			t.Fatalf("In(nil) = %v, len(In(x)) = %d, len(Out(y)) = %d", absent, len(xs), len(ys))
		}
		copy(ys, xs)
		w.Narrow()
	})
	if allocs != 0 {
		t.Errorf("a Run through a Widener allocates %v times", allocs)
	}
	if n := HalfScratch(Float32, 10, 20); n != 0 {
		t.Errorf("HalfScratch(float32) = %d, want 0: float32 computes in place", n)
	}
}
