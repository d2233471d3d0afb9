package bench

import (
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

func spec(name string, dt ops.DType, dims ...any) runtime.ValueSpec {
	s := runtime.ValueSpec{Name: name, DType: dt, HasShape: true}
	for _, d := range dims {
		switch d := d.(type) {
		case int:
			s.Dims = append(s.Dims, runtime.Dim{Value: int64(d)})
		case string:
			s.Dims = append(s.Dims, runtime.Dim{Value: -1, Param: d})
		}
	}
	return s
}

func TestInputShapes(t *testing.T) {
	image := spec("input", ops.Float32, "N", 3, 32, 32)
	fixed := spec("x", ops.Float32, 1, 1, 28, 28)
	tokens := spec("ids", ops.Int64, "batch", "seq")
	tests := []struct {
		name      string
		specs     []runtime.ValueSpec
		batch     int
		overrides map[string]ops.Shape
		want      []ops.Shape
		wantErr   string
	}{
		{"symbolic batch", []runtime.ValueSpec{image}, 8, nil, []ops.Shape{{8, 3, 32, 32}}, ""},
		{"fixed batch at 1", []runtime.ValueSpec{fixed}, 1, nil, []ops.Shape{{1, 1, 28, 28}}, ""},
		{"override", []runtime.ValueSpec{tokens}, 4, map[string]ops.Shape{"ids": {4, 128}}, []ops.Shape{{4, 128}}, ""},
		{"two inputs", []runtime.ValueSpec{image, fixed}, 2, nil, []ops.Shape{{2, 3, 32, 32}, {1, 1, 28, 28}}, `input "x" has its batch fixed to 1 by the model ([1,1,28,28]), so it cannot take --batch 2`},
		{"other symbolic dimension", []runtime.ValueSpec{tokens}, 4, nil, nil, `dimension 1 (seq) of input "ids" [batch,seq] is symbolic; give its shape with --shape ids=`},
		{"no shape", []runtime.ValueSpec{{Name: "blob", DType: ops.Float32}}, 1, nil, nil, `input "blob" declares no shape`},
		{"unknown override", []runtime.ValueSpec{image}, 1, map[string]ops.Shape{"img": {1}}, nil, `no such input; its inputs are "input" float32[N,3,32,32]`},
		{"zero batch", []runtime.ValueSpec{image}, 0, nil, nil, "batch must be 1 or more, got 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := InputShapes(tc.specs, tc.batch, tc.overrides)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if !got[i].Equal(tc.want[i]) {
					t.Errorf("input %d: got %v, want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestRandomInputs(t *testing.T) {
	specs := []runtime.ValueSpec{spec("x", ops.Float32, "N", 4), spec("ids", ops.Int64, "N"),
		spec("d", ops.Float64, 3), spec("h", ops.Float16, 2)}
	shapes := []ops.Shape{{2, 4}, {2}, {3}, {2}}
	a, err := RandomInputs(specs, shapes, 7)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := RandomInputs(specs, shapes, 7)
	c, _ := RandomInputs(specs, shapes, 8)
	for i, x := range a[0].Float32s() {
		if x < 0 || x >= 1 {
			t.Errorf("x[%d] = %v, outside [0,1)", i, x)
		}
		if x != b[0].Float32s()[i] {
			t.Errorf("the same seed gave different inputs at %d: %v and %v", i, x, b[0].Float32s()[i])
		}
	}
	if a[0].Float32s()[0] == c[0].Float32s()[0] && a[0].Float32s()[1] == c[0].Float32s()[1] {
		t.Errorf("seeds 7 and 8 gave the same inputs")
	}
	for i, v := range a[1].Int64s() {
		if v != 0 {
			t.Errorf("integer input[%d] = %d, want 0", i, v)
		}
	}
	for i, v := range a[2].Float64s() {
		if v < 0 || v >= 1 {
			t.Errorf("float64 input[%d] = %v, outside [0,1)", i, v)
		}
	}
	for i, v := range ops.Data[ops.Float16Bits](a[3]) {
		if f := v.Float32(); f < 0 || f > 1 {
			t.Errorf("float16 input[%d] = %v, outside [0,1]", i, f)
		}
	}
	for i, want := range shapes {
		if !a[i].Shape().Equal(want) || a[i].DType() != specs[i].DType {
			t.Errorf("input %d: %s%v, want %s%v", i, a[i].DType(), a[i].Shape(), specs[i].DType, want)
		}
	}
	if _, err := RandomInputs(specs, shapes[:1], 1); err == nil || !strings.Contains(err.Error(), "1 shapes for 4 inputs") {
		t.Errorf("error %v, want a count mismatch", err)
	}
}

func TestParseShapes(t *testing.T) {
	tests := []struct {
		in      []string
		want    map[string]ops.Shape
		wantErr string
	}{
		{[]string{"input=8,3,32,32", "ids=1, 128"}, map[string]ops.Shape{"input": {8, 3, 32, 32}, "ids": {1, 128}}, ""},
		{[]string{"scalar="}, map[string]ops.Shape{"scalar": {}}, ""},
		{nil, map[string]ops.Shape{}, ""},
		{[]string{"8,3,32,32"}, nil, "want NAME=D0,D1,..."},
		{[]string{"x=1,two"}, nil, `dimension "two" is not a size`},
		{[]string{"x=1,-3"}, nil, `dimension "-3" is not a size`},
		{[]string{"x=1", "x=2"}, nil, `the shape of "x" is given twice`},
	}
	for _, tc := range tests {
		got, err := ParseShapes(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseShapes(%q): error %v, want one containing %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseShapes(%q): %v", tc.in, err)
			continue
		}
		if len(got) != len(tc.want) {
			t.Errorf("ParseShapes(%q) = %v, want %v", tc.in, got, tc.want)
		}
		for k, v := range tc.want {
			if !got[k].Equal(v) {
				t.Errorf("ParseShapes(%q)[%q] = %v, want %v", tc.in, k, got[k], v)
			}
		}
	}
}
