package elementwise_test

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

func TestPow(t *testing.T) {
	x, y := f32(nil, 1, 2, 3), f32(nil, 0.5, -1, 3.5)
	want := f32(nil, 1, 0.5, 46.76537322998047)
	var cases []tcase
	for _, v := range versionsOf("Pow") {
		var attrs ops.AttrMap
		if v < 7 {
			attrs = ops.AttrMap{"broadcast": attr(1)}
		}
		cases = append(cases, tcase{name: "float32", op: "Pow", opset: v, attrs: attrs, inputs: in(x, y), want: want})
	}
	cases = append(cases,
		tcase{name: "bcast scalar", op: "Pow", opset: 15, inputs: in(f32(ops.Shape{2, 2}, 1, 2, 3, 4), f32(ops.Shape{}, 2)), want: f32(ops.Shape{2, 2}, 1, 4, 9, 16)},
		// Integer base and exponent: exact, beyond float64's 53 bits.
		tcase{name: "int64^int64", op: "Pow", opset: 15, inputs: in(i64(nil, 2, -3, 10, 3), i64(nil, 10, 3, 18, 39)),
			want: i64(nil, 1024, -27, 1000000000000000000, 4052555153018976267)},
		tcase{name: "int32^negative", op: "Pow", opset: 15, inputs: in(i32(nil, 1, -1, -1, 2, 0), i32(nil, -5, -3, -2, -1, -1)), want: i32(nil, 1, -1, 1, 0, 0)},
		// Integer base, float exponent: computed in float64 and truncated to the base's type.
		tcase{name: "int32^float32", op: "Pow", opset: 15, inputs: in(i32(nil, 2, 3, 4), f32(nil, 0.5, 1.5, -1)), want: i32(nil, 1, 5, 0)},
		tcase{name: "float32^int64", op: "Pow", opset: 15, inputs: in(f32(nil, 1.5, 2, -2), i64(nil, 2, -2, 3)), want: f32(nil, 2.25, 0.25, -8)},
		tcase{name: "float32^uint8", op: "Pow", opset: 12, inputs: in(f32(nil, 2), tensor[uint8](nil, 8)), want: f32(nil, 256)},
		tcase{name: "float16^float16", op: "Pow", opset: 15, inputs: in(f16(nil, 3), f16(nil, 2)), want: f16(nil, 9)},
		tcase{name: "float64^bfloat16", op: "Pow", opset: 15, inputs: in(f64(nil, 4), bf16(nil, 0.5)), want: f64(nil, 2)},
		tcase{name: "nan", op: "Pow", opset: 15, inputs: in(f32(nil, -8, nan, 1), f32(nil, 1.0/3, 0, nan)), want: f32(nil, nan, 1, 1)},
	)
	runCases(t, cases)
	runCases(t, []tcase{
		{name: "mixed before 12", op: "Pow", opset: 7, inputs: in(f32(nil, 2), i64(nil, 2)), wantErr: "input Y has type int64, want one of {float32, float16, float64}"},
		{name: "int base before 12", op: "Pow", opset: 7, inputs: in(i32(nil, 2), i32(nil, 2)), wantErr: "input X has type int32"},
		{name: "int8 base", op: "Pow", opset: 15, inputs: in(tensor[int8](nil, 2), i32(nil, 2)), wantErr: "input X has type int8"},
		{name: "bf16 exponent before 15", op: "Pow", opset: 13, inputs: in(f32(nil, 2), bf16(nil, 2)), wantErr: "input Y has type bfloat16"},
		{name: "shapes", op: "Pow", opset: 15, inputs: in(f32(nil, 1, 2), f32(nil, 1, 2, 3)), wantErr: "inputs X [2], Y [3] do not broadcast"},
	})
}

func TestMod(t *testing.T) {
	runCases(t, []tcase{
		// fmod=0 takes the divisor's sign, as Python's % and numpy.mod.
		{name: "int32", op: "Mod", opset: 13, inputs: in(i32(nil, -4, 7, 5, -3, 0), i32(nil, 3, -3, 2, 2, 5)), want: i32(nil, 2, -2, 1, 1, 0)},
		{name: "int8 bcast", op: "Mod", opset: 10, inputs: in(tensor[int8](ops.Shape{2, 2}, -7, 7, -8, 8), tensor[int8](nil, 3, -3)),
			want: tensor[int8](ops.Shape{2, 2}, 2, -2, 1, -1)},
		{name: "uint16", op: "Mod", opset: 13, inputs: in(tensor[uint16](nil, 65535, 7), tensor[uint16](nil, 10, 7)), want: tensor[uint16](nil, 5, 0)},
		{name: "int by zero", op: "Mod", opset: 13, inputs: in(i64(nil, 5, -5), i64(nil, 0, 0)), want: i64(nil, 0, 0)},
		// fmod=1 takes the dividend's sign, as C's fmod (and % on integers).
		{name: "int32 fmod", op: "Mod", opset: 13, attrs: ops.AttrMap{"fmod": attr(1)},
			inputs: in(i32(nil, -4, 7, 5, -3), i32(nil, 3, -3, 2, 2)), want: i32(nil, -1, 1, 1, -1)},
		{name: "float32 fmod", op: "Mod", opset: 13, attrs: ops.AttrMap{"fmod": attr(1)},
			inputs: in(f32(nil, -4, 7, 5, -3), f32(nil, 3, -3, 2.5, 2)), want: f32(nil, -1, 1, 0, -1)},
		{name: "float16 fmod", op: "Mod", opset: 13, attrs: ops.AttrMap{"fmod": attr(1)},
			inputs: in(f16(nil, -4.5, 7), f16(nil, 2, -3)), want: f16(nil, -0.5, 1)},
		{name: "float fmod specials", op: "Mod", opset: 13, attrs: ops.AttrMap{"fmod": attr(1)},
			inputs: in(f64(nil, float64(inf), 1, 2.5), f64(nil, 2, 0, float64(inf))), want: f64(nil, float64(nan), float64(nan), 2.5)},
		// fmod=0 on floats is numpy.mod (the reference implementation's choice; the spec reserves it for integers).
		{name: "float32 python mod", op: "Mod", opset: 13, inputs: in(f32(nil, -4, 7, 5, -3), f32(nil, 3, -3, 2.5, 2)), want: f32(nil, 2, -2, 0, 1)},
		{name: "fmod 2", op: "Mod", opset: 13, attrs: ops.AttrMap{"fmod": attr(2)}, inputs: in(i32(nil, 1), i32(nil, 1)), wantErr: `attribute "fmod" is 2, want 0 or 1`},
		{name: "bf16 before 13", op: "Mod", opset: 10, inputs: in(bf16(nil, 1), bf16(nil, 1)), wantErr: "has type bfloat16"},
	})
}
