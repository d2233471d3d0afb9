package elementwise_test

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

func castTo(dt ops.DType) ops.AttrMap { return ops.AttrMap{"to": attr(int64(dt))} }

func TestCast(t *testing.T) {
	var cases []tcase
	for _, v := range versionsOf("Cast") {
		attrs := castTo(ops.Int32)
		if v < 6 {
			attrs = ops.AttrMap{"to": sattr("INT32")} // Cast-1 names the type
		}
		cases = append(cases, tcase{name: "float32 to int32", op: "Cast", opset: v, attrs: attrs,
			inputs: in(f32(nil, 1.9, -1.9, 0.5, -0.5)), want: i32(nil, 1, -1, 0, 0)})
	}
	x16 := 1 + 1.0/(1<<11) + 1.0/(1<<40) // rounds up to a half only if rounded once
	cases = append(cases,
		tcase{name: "float32 to uint8", op: "Cast", opset: 13, attrs: castTo(ops.Uint8), inputs: in(f32(nil, 255, 3.7, 0)), want: tensor[uint8](nil, 255, 3, 0)},
		// Integers narrow by dropping high bits: the spec's 200 (int16) -> -56 (int8).
		tcase{name: "int16 to int8", op: "Cast", opset: 13, attrs: castTo(ops.Int8), inputs: in(tensor[int16](nil, 200, -129, 5)), want: tensor[int8](nil, -56, 127, 5)},
		tcase{name: "int64 to uint16", op: "Cast", opset: 13, attrs: castTo(ops.Uint16), inputs: in(i64(nil, -1, 65537)), want: tensor[uint16](nil, 65535, 1)},
		tcase{name: "int64 to float32 rounds", op: "Cast", opset: 13, attrs: castTo(ops.Float32), inputs: in(i64(nil, 16777217, -3)), want: f32(nil, 16777216, -3)},
		tcase{name: "uint64 to float64", op: "Cast", opset: 13, attrs: castTo(ops.Float64), inputs: in(tensor[uint64](nil, 18446744073709551615)), want: f64(nil, 18446744073709551615)},
		tcase{name: "float64 to float32", op: "Cast", opset: 13, attrs: castTo(ops.Float32), inputs: in(f64(nil, 0.1, 1e300, -1e-300)), want: f32(nil, 0.1, inf, 0)},
		tcase{name: "float32 to float16", op: "Cast", opset: 13, attrs: castTo(ops.Float16), inputs: in(f32(nil, 0.1, 65504, 70000, 1e-8, nan)),
			want: f16(nil, 0.1, 65504, inf, 0, nan), rtol: 1e-3},
		tcase{name: "float64 to float16 rounds once", op: "Cast", opset: 13, attrs: castTo(ops.Float16), inputs: in(f64(nil, x16)),
			want: f16(nil, 1+1.0/(1<<10))},
		tcase{name: "float16 to float64", op: "Cast", opset: 13, attrs: castTo(ops.Float64), inputs: in(f16(nil, 0.1, -inf)), want: f64(nil, 0.0999755859375, float64(-inf))},
		tcase{name: "float32 to bfloat16", op: "Cast", opset: 13, attrs: castTo(ops.BFloat16), inputs: in(f32(nil, 1.00390625, 1.01171875, 3)),
			want: bf16(nil, 1, 1.015625, 3)},
		tcase{name: "bfloat16 to int32", op: "Cast", opset: 13, attrs: castTo(ops.Int32), inputs: in(bf16(nil, -2.5, 300)), want: i32(nil, -2, 300)},
		tcase{name: "float16 to bfloat16", op: "Cast", opset: 13, attrs: castTo(ops.BFloat16), inputs: in(f16(nil, 0.5, 1000)), want: bf16(nil, 0.5, 1000)},
		tcase{name: "float to bool", op: "Cast", opset: 13, attrs: castTo(ops.Bool), inputs: in(f32(nil, 0, -0.0, nan, 0.1)), want: b(nil, false, false, true, true)},
		tcase{name: "float16 to bool", op: "Cast", opset: 13, attrs: castTo(ops.Bool), inputs: in(f16(nil, 0, 2)), want: b(nil, false, true)},
		tcase{name: "int to bool", op: "Cast", opset: 13, attrs: castTo(ops.Bool), inputs: in(i64(nil, 0, 36, -1)), want: b(nil, false, true, true)},
		tcase{name: "bool to float16", op: "Cast", opset: 13, attrs: castTo(ops.Float16), inputs: in(b(nil, true, false)), want: f16(nil, 1, 0)},
		tcase{name: "bool to int64", op: "Cast", opset: 13, attrs: castTo(ops.Int64), inputs: in(b(nil, true, false)), want: i64(nil, 1, 0)},
		tcase{name: "same type", op: "Cast", opset: 13, attrs: castTo(ops.Int64), inputs: in(i64(nil, -9223372036854775808)), want: i64(nil, -9223372036854775808)},
		// Strings, formatted and parsed as ONNX Runtime does.
		tcase{name: "float32 to string", op: "Cast", opset: 13, attrs: castTo(ops.String),
			inputs: in(f32(nil, 0.1, 1e20, nan, inf, -inf, 3, 1.0/3, -0.00001, 123456789, 0.0001234)),
			// Python's '%.8g' % float(numpy.float32(v)), which is C's printf.
			want: str(nil, "0.1", "1e+20", "NaN", "INF", "-INF", "3", "0.33333334", "-9.9999997e-06", "1.2345679e+08", "0.00012339999")},
		tcase{name: "int to string", op: "Cast", opset: 9, attrs: castTo(ops.String), inputs: in(tensor[int8](nil, -5, 0)), want: str(nil, "-5", "0")},
		tcase{name: "uint64 to string", op: "Cast", opset: 13, attrs: castTo(ops.String), inputs: in(tensor[uint64](nil, 18446744073709551615)), want: str(nil, "18446744073709551615")},
		tcase{name: "bool to string", op: "Cast", opset: 13, attrs: castTo(ops.String), inputs: in(b(nil, true, false)), want: str(nil, "1", "0")},
		tcase{name: "string to float32", op: "Cast", opset: 13, attrs: castTo(ops.Float32),
			inputs: in(str(nil, "3.14", "1e-5", "1E8", "INF", "+INF", "-inf", "NaN", " 7")),
			want:   f32(nil, 3.14, 1e-5, 1e8, inf, inf, -inf, nan, 7)},
		tcase{name: "string to float16", op: "Cast", opset: 13, attrs: castTo(ops.Float16), inputs: in(str(nil, "0.5", "1e9")), want: f16(nil, 0.5, inf)},
		tcase{name: "string to int64", op: "Cast", opset: 13, attrs: castTo(ops.Int64), inputs: in(str(nil, "100.5", "-7", "42abc", " +3")), want: i64(nil, 100, -7, 42, 3)},
		tcase{name: "string to uint8", op: "Cast", opset: 13, attrs: castTo(ops.Uint8), inputs: in(str(nil, "300", "-1")), want: tensor[uint8](nil, 44, 255)},
		tcase{name: "string to bool", op: "Cast", opset: 13, attrs: castTo(ops.Bool), inputs: in(str(nil, "0", "1", "true", "2", "False")), want: b(nil, false, true, true, true, false)},
		tcase{name: "string to string", op: "Cast", opset: 9, attrs: castTo(ops.String), inputs: in(str(nil, "a")), want: str(nil, "a")},
		tcase{name: "Cast-1 name", op: "Cast", opset: 1, attrs: ops.AttrMap{"to": sattr("DOUBLE")}, inputs: in(i32(nil, 3)), want: f64(nil, 3)},
	)
	for _, v := range versionsOf("CastLike") {
		cases = append(cases, tcase{name: "CastLike", op: "CastLike", opset: v, inputs: in(f32(nil, 1.5, -2), i64(ops.Shape{0})), want: i64(nil, 1, -2)})
	}
	runCases(t, cases)
}

func TestCastErrors(t *testing.T) {
	runCases(t, []tcase{
		{name: "float8 before 19", op: "Cast", opset: 13, attrs: ops.AttrMap{"to": attr(17)}, inputs: in(f32(nil, 1)),
			wantErr: "cannot cast to float8e4m3fn", kind: ops.ErrInvalid},
		{name: "int2 before 25", op: "Cast", opset: 24, attrs: castTo(ops.Float32), inputs: in(tensor[ops.Int2Value](nil, 1)),
			wantErr: "input input has type int2", kind: ops.ErrInvalid},
		{name: "complex", op: "Cast", opset: 13, attrs: castTo(ops.Complex64), inputs: in(f32(nil, 1)), wantErr: "cannot cast to complex64", kind: ops.ErrInvalid},
		{name: "unknown type", op: "Cast", opset: 13, attrs: ops.AttrMap{"to": attr(99)}, inputs: in(f32(nil, 1)), wantErr: `attribute "to" is 99, not a tensor DataType`},
		{name: "no to", op: "Cast", opset: 13, inputs: in(f32(nil, 1)), wantErr: `attribute "to" is required`},
		{name: "bad name", op: "Cast", opset: 1, attrs: ops.AttrMap{"to": sattr("FLOAT32")}, inputs: in(f32(nil, 1)), wantErr: `"FLOAT32", not a tensor type name`},
		{name: "string before 9", op: "Cast", opset: 6, attrs: castTo(ops.String), inputs: in(f32(nil, 1)), wantErr: "cannot cast to string"},
		{name: "bfloat16 before 13", op: "Cast", opset: 9, attrs: castTo(ops.Float32), inputs: in(bf16(nil, 1)), wantErr: "input input has type bfloat16"},
		{name: "bad round_mode", op: "Cast", opset: 24, attrs: ops.AttrMap{"to": attr(1), "round_mode": sattr("zero")}, inputs: in(f32(nil, 1)),
			wantErr: `attribute "round_mode" is "zero"`},
		{name: "unparsable string", op: "Cast", opset: 13, attrs: castTo(ops.Float32), inputs: in(str(nil, "1", "Hello")), wantErr: `element 1, "Hello", is not a float32`},
		{name: "unparsable int", op: "Cast", opset: 13, attrs: castTo(ops.Int32), inputs: in(str(nil, "x1")), wantErr: `element 0, "x1", is not a int32`},
		{name: "CastLike one input", op: "CastLike", opset: 19, inputs: in(f32(nil, 1)), wantErr: "CastLike-19 takes 2 inputs, node has 1"},
	})
}
