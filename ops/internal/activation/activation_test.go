package activation

import (
	"math"
	"testing"
)

// Row computes Apply within the vectorised functions' error on values across their range, and Parse
// reads back what Name and Params write.
func TestRowMatchesApply(t *testing.T) {
	src := make([]float32, 1001)
	for i := range src {
		src[i] = float32(i-500) / 50
	}
	for k := range names {
		f, err := Parse(names[k], nil)
		if Kind(k) == Clip {
			f, err = Parse("Clip", []float32{-1.5, 2})
		}
		if err != nil {
			t.Fatalf("%q: %v", names[k], err)
		}
		if f.Kind != Kind(k) {
			t.Fatalf("Parse(%q) is kind %d, want %d", names[k], f.Kind, k)
		}
		if back, err := Parse(f.Name(), f.Params()); err != nil || back != f {
			t.Errorf("%q: Parse(Name, Params) = %+v, %v; want %+v", names[k], back, err, f)
		}
		dst := make([]float32, len(src))
		f.Row(dst, src)
		for i, x := range src {
			want := f.Apply(float64(x))
			if math.Abs(float64(dst[i])-want) > 1e-5*(1+math.Abs(want)) {
				t.Fatalf("%q(%v) = %v, want %v", names[k], x, dst[i], want)
			}
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, c := range []struct {
		name   string
		params []float32
	}{{"Softplus", nil}, {"Clip", nil}, {"Clip", []float32{2, 1}}, {"LeakyRelu", []float32{1, 2}}, {"HardSwish", []float32{1}}} {
		if _, err := Parse(c.name, c.params); err == nil {
			t.Errorf("Parse(%q, %v) accepted", c.name, c.params)
		}
	}
}
