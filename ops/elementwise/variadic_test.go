package elementwise_test

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

func TestVariadic(t *testing.T) {
	x0, x1, x2 := f32(nil, 3, 2, 1), f32(nil, 1, 4, 4), f32(nil, 2, 5, 0)
	var cases []tcase
	for _, op := range []struct {
		name      string
		one, want *ops.Tensor
	}{
		{"Max", f32(nil, 3, 2, 1), f32(nil, 3, 5, 4)},
		{"Min", f32(nil, 3, 2, 1), f32(nil, 1, 2, 0)},
		{"Sum", f32(nil, 3, 2, 1), f32(nil, 6, 11, 5)},
		{"Mean", f32(nil, 3, 2, 1), f32(nil, 2, 11.0/3, 5.0/3)},
	} {
		for _, v := range versionsOf(op.name) {
			cases = append(cases,
				tcase{name: op.name + "/three", op: op.name, opset: v, inputs: in(x0, x1, x2), want: op.want},
				tcase{name: op.name + "/one", op: op.name, opset: v, inputs: in(x0), want: op.one})
		}
	}
	cases = append(cases,
		tcase{name: "Sum/bcast", op: "Sum", opset: 13, inputs: in(f32(ops.Shape{2, 1}, 1, 2), f32(ops.Shape{3}, 10, 20, 30), f32(ops.Shape{}, 100)),
			want: f32(ops.Shape{2, 3}, 111, 121, 131, 112, 122, 132)},
		// The first input may be the one that broadcasts.
		tcase{name: "Max/bcast first", op: "Max", opset: 8, inputs: in(f32(ops.Shape{}, 2), f32(ops.Shape{2, 2}, 1, 3, 2, 0), f32(ops.Shape{2}, 0, 5)),
			want: f32(ops.Shape{2, 2}, 2, 5, 2, 5)},
		tcase{name: "Mean/bcast", op: "Mean", opset: 13, inputs: in(f32(ops.Shape{2, 1}, 1, 2), f32(ops.Shape{2}, 3, 5)), want: f32(ops.Shape{2, 2}, 2, 3, 2.5, 3.5)},
		tcase{name: "Max/nan", op: "Max", opset: 13, inputs: in(f32(nil, nan, 1, 2), f32(nil, 1, nan, 3)), want: f32(nil, nan, nan, 3)},
		tcase{name: "Min/nan", op: "Min", opset: 13, inputs: in(f32(nil, nan, 1, 2), f32(nil, 1, nan, 3)), want: f32(nil, nan, nan, 2)},
		tcase{name: "Max/int8", op: "Max", opset: 12, inputs: in(tensor[int8](nil, -128, 5), tensor[int8](nil, 127, -5)), want: tensor[int8](nil, 127, 5)},
		tcase{name: "Min/uint64", op: "Min", opset: 13, inputs: in(tensor[uint64](nil, 1<<63, 5), tensor[uint64](nil, 7, 1<<63)), want: tensor[uint64](nil, 7, 5)},
		tcase{name: "Max/float16", op: "Max", opset: 13, inputs: in(f16(nil, 0.5, -1), f16(nil, 0.25, -2)), want: f16(nil, 0.5, -1)},
		tcase{name: "Mean/bfloat16", op: "Mean", opset: 13, inputs: in(bf16(nil, 1, 2), bf16(nil, 2, 4)), want: bf16(nil, 1.5, 3)},
		tcase{name: "Sum/float64", op: "Sum", opset: 13, inputs: in(f64(nil, 0.1), f64(nil, 0.2), f64(nil, 0.3)), want: f64(nil, 0.6000000000000001), rtol: 1e-16},
	)
	runCases(t, cases)
	runCases(t, []tcase{
		{name: "no broadcast before 8", op: "Sum", opset: 6, inputs: in(f32(ops.Shape{2, 2}, 1, 2, 3, 4), f32(ops.Shape{2}, 1, 2)),
			wantErr: "inputs data_0 [2,2], data_1 [2] must have the same shape"},
		{name: "shapes", op: "Max", opset: 13, inputs: in(f32(nil, 1, 2), f32(nil, 1, 2, 3), f32(nil, 1)),
			wantErr: "inputs data_0 [2], data_1 [3], data_2 [1] do not broadcast"},
		{name: "int Sum", op: "Sum", opset: 13, inputs: in(i32(nil, 1), i32(nil, 1)), wantErr: "input data_0 has type int32"},
		{name: "int Max before 12", op: "Max", opset: 8, inputs: in(i32(nil, 1), i32(nil, 1)), wantErr: "input data_0 has type int32"},
		{name: "types differ", op: "Min", opset: 13, inputs: in(f32(nil, 1), f64(nil, 1)), wantErr: "input data_1 is float64 but data_0 is float32"},
		{name: "no inputs", op: "Mean", opset: 13, inputs: in(), wantErr: "Mean-13 takes at least 1 input, node has 0"},
	})
}

func TestClip(t *testing.T) {
	x := f32(nil, -2, -1, 0, 1, 2, nan)
	var cases []tcase
	for _, v := range versionsOf("Clip") {
		c := tcase{name: "bounds", op: "Clip", opset: v, want: f32(nil, -1, -1, 0, 1, 1.5, nan)}
		if v < 11 {
			c.attrs = ops.AttrMap{"min": fattr(-1), "max": fattr(1.5)}
			c.inputs = in(x)
		} else {
			c.inputs = in(x, f32(ops.Shape{}, -1), f32(ops.Shape{}, 1.5))
		}
		cases = append(cases, c)
	}
	cases = append(cases,
		tcase{name: "no bounds", op: "Clip", opset: 13, inputs: in(f32(nil, -inf, 3, inf)), want: f32(nil, -inf, 3, inf)},
		tcase{name: "min only", op: "Clip", opset: 13, inputs: in(x, f32(ops.Shape{}, 0.5)), want: f32(nil, 0.5, 0.5, 0.5, 1, 2, nan)},
		tcase{name: "max only", op: "Clip", opset: 13, inputs: in(x, nil, f32(ops.Shape{}, 0)), want: f32(nil, -2, -1, 0, 0, 0, nan)},
		// min > max: every value becomes max, as Min(max, Max(input, min)).
		tcase{name: "min above max", op: "Clip", opset: 13, inputs: in(x, f32(ops.Shape{}, 2), f32(ops.Shape{}, 1)), want: f32(nil, 1, 1, 1, 1, 1, nan)},
		tcase{name: "one-element bounds", op: "Clip", opset: 13, inputs: in(x, f32(ops.Shape{1}, 0), f32(ops.Shape{1}, 1)), want: f32(nil, 0, 0, 0, 1, 1, nan)},
		tcase{name: "int8", op: "Clip", opset: 12, inputs: in(tensor[int8](nil, -128, -5, 5, 127), tensor[int8](ops.Shape{}, -10), tensor[int8](ops.Shape{}, 10)),
			want: tensor[int8](nil, -10, -5, 5, 10)},
		tcase{name: "uint32 max only", op: "Clip", opset: 13, inputs: in(tensor[uint32](nil, 0, 5, 4294967295), nil, tensor[uint32](ops.Shape{}, 6)),
			want: tensor[uint32](nil, 0, 5, 6)},
		tcase{name: "int64 no bounds", op: "Clip", opset: 13, inputs: in(i64(nil, -9223372036854775808, 9223372036854775807)),
			want: i64(nil, -9223372036854775808, 9223372036854775807)},
		tcase{name: "float16", op: "Clip", opset: 13, inputs: in(f16(nil, -3, 0.1, 3, nan), f16(ops.Shape{}, -1), f16(ops.Shape{}, 2)),
			want: f16(nil, -1, 0.1, 2, nan)},
		tcase{name: "bfloat16 above", op: "Clip", opset: 13, inputs: in(bf16(nil, -3, 0.1, 3), bf16(ops.Shape{}, 2), bf16(ops.Shape{}, 1)),
			want: bf16(nil, 1, 1, 1)},
		// Clip-6's defaults are +-3.402823e+38, so infinities clamp to them; Clip-1 has no default bounds.
		tcase{name: "opset 6 defaults", op: "Clip", opset: 6, inputs: in(f32(nil, -inf, 0, inf)), want: f32(nil, -3.402823e+38, 0, 3.402823e+38)},
		tcase{name: "opset 1 defaults", op: "Clip", opset: 1, inputs: in(f32(nil, -inf, 0, inf)), want: f32(nil, -inf, 0, inf)},
		tcase{name: "opset 1 min", op: "Clip", opset: 1, attrs: ops.AttrMap{"min": fattr(0)}, inputs: in(f32(nil, -inf, 0, inf)), want: f32(nil, 0, 0, inf)},
	)
	runCases(t, cases)
	runCases(t, []tcase{
		{name: "bound shape", op: "Clip", opset: 13, inputs: in(x, f32(ops.Shape{2}, 0, 1)), wantErr: "min must be a scalar, has shape [2]"},
		{name: "bound type", op: "Clip", opset: 13, inputs: in(x, nil, f64(ops.Shape{}, 1)), wantErr: "max is float64 but input is float32"},
		{name: "int before 12", op: "Clip", opset: 11, inputs: in(i32(nil, 1)), wantErr: "input input has type int32"},
		{name: "too many inputs", op: "Clip", opset: 13, inputs: in(x, x, x, x), wantErr: "Clip-13 takes 1 to 3 inputs, node has 4"},
		{name: "inputs before 11", op: "Clip", opset: 6, inputs: in(x, f32(ops.Shape{}, 0)), wantErr: "Clip-6 takes 1 input, node has 2"},
	})
}
