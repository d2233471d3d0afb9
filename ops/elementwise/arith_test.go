package elementwise_test

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

func TestArithmetic(t *testing.T) {
	a := f32(ops.Shape{2, 3}, 1, 2, 3, 4, 5, 6)
	row := f32(ops.Shape{3}, 10, 20, 30)
	var cases []tcase
	for _, op := range []struct {
		name string
		want *ops.Tensor
	}{
		{"Add", f32(ops.Shape{2, 3}, 11, 22, 33, 14, 25, 36)},
		{"Sub", f32(ops.Shape{2, 3}, -9, -18, -27, -6, -15, -24)},
		{"Mul", f32(ops.Shape{2, 3}, 10, 40, 90, 40, 100, 180)},
		{"Div", f32(ops.Shape{2, 3}, 0.1, 0.1, 0.1, 0.4, 0.25, 0.2)},
	} {
		for _, v := range versionsOf(op.name) {
			var attrs ops.AttrMap
			if v < 7 { // before opset 7, B broadcasts onto A only when asked
				attrs = ops.AttrMap{"broadcast": attr(1)}
			}
			cases = append(cases, tcase{name: op.name, op: op.name, opset: v, attrs: attrs, inputs: in(a, row), want: op.want})
		}
	}
	cases = append(cases,
		tcase{name: "Add/scalar", op: "Add", opset: 14, inputs: in(f32(ops.Shape{}, 1), a), want: f32(ops.Shape{2, 3}, 2, 3, 4, 5, 6, 7)},
		tcase{name: "Add/column", op: "Add", opset: 14, inputs: in(a, f32(ops.Shape{2, 1}, 100, 200)), want: f32(ops.Shape{2, 3}, 101, 102, 103, 204, 205, 206)},
		tcase{name: "Add/outer", op: "Add", opset: 14, inputs: in(f32(ops.Shape{2, 1}, 1, 2), f32(ops.Shape{1, 3}, 10, 20, 30)),
			want: f32(ops.Shape{2, 3}, 11, 21, 31, 12, 22, 32)},
		tcase{name: "Add/uint8 wraps", op: "Add", opset: 14, inputs: in(tensor[uint8](nil, 250, 1), tensor[uint8](nil, 10, 1)), want: tensor[uint8](nil, 4, 2)},
		tcase{name: "Sub/uint32 wraps", op: "Sub", opset: 14, inputs: in(tensor[uint32](nil, 1), tensor[uint32](nil, 2)), want: tensor[uint32](nil, 4294967295)},
		tcase{name: "Mul/int16", op: "Mul", opset: 14, inputs: in(tensor[int16](nil, -3, 300), tensor[int16](nil, 7, 300)), want: tensor[int16](nil, -21, 24464)},
		// Integer division truncates towards zero, as C does; division by zero gives 0 instead of trapping.
		tcase{name: "Div/int32 truncates", op: "Div", opset: 14, inputs: in(i32(nil, 7, -7, 7, -7, 5), i32(nil, 2, 2, -2, -2, 0)), want: i32(nil, 3, -3, -3, 3, 0)},
		tcase{name: "Div/int64 min by -1", op: "Div", opset: 14, inputs: in(i64(nil, -9223372036854775808), i64(nil, -1)), want: i64(nil, -9223372036854775808)},
		tcase{name: "Div/float by zero", op: "Div", opset: 14, inputs: in(f32(nil, 1, -1, 0), f32(nil, 0, 0, 0)), want: f32(nil, inf, -inf, nan)},
		tcase{name: "Div/uint64", op: "Div", opset: 14, inputs: in(tensor[uint64](nil, 18446744073709551615), tensor[uint64](nil, 2)), want: tensor[uint64](nil, 9223372036854775807)},
		// float16: numpy float16 arithmetic rounds each result to half precision.
		tcase{name: "Add/float16", op: "Add", opset: 14, inputs: in(f16(nil, 0.1, 1000, 2048), f16(nil, 0.2, 0.3, 1)), want: f16(nil, 0.2998, 1000.5, 2048)},
		tcase{name: "Mul/bfloat16", op: "Mul", opset: 13, inputs: in(bf16(nil, 3, 1.5), bf16(nil, 7, -2)), want: bf16(nil, 21, -3)},
		tcase{name: "Sub/float64", op: "Sub", opset: 7, inputs: in(f64(nil, 0.3), f64(nil, 0.1)), want: f64(nil, 0.19999999999999998), rtol: 1e-16},
		// Legacy broadcasting: B matches A's dimensions from axis.
		tcase{name: "Add/legacy axis", op: "Add", opset: 6, attrs: ops.AttrMap{"broadcast": attr(1), "axis": attr(0)},
			inputs: in(a, f32(ops.Shape{2}, 10, 20)), want: f32(ops.Shape{2, 3}, 11, 12, 13, 24, 25, 26)},
		tcase{name: "Add/legacy scalar", op: "Add", opset: 1, attrs: ops.AttrMap{"broadcast": attr(1)},
			inputs: in(a, f32(ops.Shape{1, 1}, 1)), want: f32(ops.Shape{2, 3}, 2, 3, 4, 5, 6, 7)},
		tcase{name: "Mul/legacy same shape", op: "Mul", opset: 6, inputs: in(a, a), want: f32(ops.Shape{2, 3}, 1, 4, 9, 16, 25, 36)},
		tcase{name: "Add/empty", op: "Add", opset: 14, inputs: in(f32(ops.Shape{0, 3}), row), want: f32(ops.Shape{0, 3})},
	)
	runCases(t, cases)
}

func TestArithmeticErrors(t *testing.T) {
	runCases(t, []tcase{
		{name: "shapes", op: "Add", opset: 14, inputs: in(f32(ops.Shape{2, 3}, 1, 2, 3, 4, 5, 6), f32(ops.Shape{2}, 1, 2)),
			wantErr: "inputs A [2,3], B [2] do not broadcast", kind: ops.ErrInvalid},
		{name: "types differ", op: "Mul", opset: 14, inputs: in(f32(nil, 1), i64(nil, 1)), wantErr: "input B is int64 but A is float32"},
		{name: "int8 before 14", op: "Add", opset: 13, inputs: in(tensor[int8](nil, 1), tensor[int8](nil, 1)), wantErr: "input A has type int8"},
		{name: "bool", op: "Add", opset: 14, inputs: in(b(nil, true), b(nil, true)), wantErr: "input A has type bool"},
		{name: "string", op: "Add", opset: 14, inputs: in(str(nil, "a"), str(nil, "b")), wantErr: "input A has type string"},
		{name: "one input", op: "Sub", opset: 14, inputs: in(f32(nil, 1)), wantErr: "Sub-14 takes 2 inputs, node has 1"},
		{name: "legacy needs broadcast", op: "Add", opset: 6, inputs: in(f32(ops.Shape{2, 3}, 1, 2, 3, 4, 5, 6), f32(ops.Shape{3}, 1, 2, 3)),
			wantErr: "A [2,3] and B [3] differ and attribute broadcast is not 1"},
		{name: "legacy mismatch", op: "Add", opset: 6, attrs: ops.AttrMap{"broadcast": attr(1), "axis": attr(1)},
			inputs: in(f32(ops.Shape{2, 3}, 1, 2, 3, 4, 5, 6), f32(ops.Shape{2}, 1, 2)), wantErr: "B [2] does not match A [2,3] from axis 1"},
		{name: "legacy axis out of range", op: "Div", opset: 1, attrs: ops.AttrMap{"broadcast": attr(1), "axis": attr(2)},
			inputs: in(f32(ops.Shape{2, 3}, 1, 2, 3, 4, 5, 6), f32(ops.Shape{3}, 1, 2, 3)), wantErr: "axis 2 does not place B [3] inside A [2,3]"},
	})
}
