package ops

import (
	"strings"
	"testing"
)

func TestTensorCheckData(t *testing.T) {
	wrapped := func(dt DType, shape Shape, data any) *Tensor {
		w := new(Tensor)
		w.Wrap(dt, shape, data)
		return w
	}
	cases := []struct {
		name string
		t    *Tensor
		want string // "" for a sound tensor
	}{
		{"sound float32", New(Float32, Shape{2, 3}), ""},
		{"sound float8", New(Float8E4M3FN, Shape{4}), ""},
		{"sound scalar", Scalar(int64(3)), ""},
		{"short data", wrapped(Float32, Shape{2}, []float32{1}), "holds 1 elements for shape [2] (2 elements)"},
		{"another element type", wrapped(Float32, Shape{2}, []float64{1, 2}), "holds []float64 data for dtype float32"},
		{"uint8 bytes for a float8 dtype", wrapped(Float8E5M2, Shape{2}, []uint8{1, 2}), "holds []uint8 data for dtype"},
		{"no data", wrapped(Int64, Shape{1}, nil), "holds no data for dtype int64"},
		{"negative dimension", wrapped(Float32, Shape{-1}, []float32{}), "negative"},
	}
	for _, c := range cases {
		err := c.t.CheckData()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
	sound := New(Float32, Shape{8, 8})
	if allocs := testing.AllocsPerRun(10, func() { _ = sound.CheckData() }); allocs != 0 {
		t.Errorf("CheckData of a sound tensor allocates %v times", allocs)
	}
}
