package elementwise_test

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

func TestLogical(t *testing.T) {
	a := b(ops.Shape{2, 2}, true, true, false, false)
	c := b(ops.Shape{2}, true, false)
	var cases []tcase
	for _, op := range []struct {
		name string
		want *ops.Tensor
	}{
		{"And", b(ops.Shape{2, 2}, true, false, false, false)},
		{"Or", b(ops.Shape{2, 2}, true, true, true, false)},
		{"Xor", b(ops.Shape{2, 2}, false, true, true, false)},
	} {
		cases = append(cases,
			tcase{name: op.name, op: op.name, opset: 7, inputs: in(a, c), want: op.want},
			tcase{name: op.name + "/legacy", op: op.name, opset: 1, attrs: ops.AttrMap{"broadcast": attr(1)}, inputs: in(a, c), want: op.want})
	}
	cases = append(cases,
		tcase{name: "BitwiseAnd/int32", op: "BitwiseAnd", opset: 18, inputs: in(i32(nil, 12, -1, 5), i32(nil, 10, 7, 0)), want: i32(nil, 8, 7, 0)},
		tcase{name: "BitwiseOr/uint8", op: "BitwiseOr", opset: 18, inputs: in(tensor[uint8](ops.Shape{2, 2}, 1, 2, 4, 8), tensor[uint8](nil, 16, 128)),
			want: tensor[uint8](ops.Shape{2, 2}, 17, 130, 20, 136)},
		tcase{name: "BitwiseXor/int64", op: "BitwiseXor", opset: 18, inputs: in(i64(nil, 12, -1), i64(nil, 10, 1)), want: i64(nil, 6, -2)},
		tcase{name: "BitShift/left", op: "BitShift", opset: 11, attrs: ops.AttrMap{"direction": sattr("LEFT")},
			inputs: in(tensor[uint8](nil, 1, 2, 255, 1), tensor[uint8](nil, 1, 2, 1, 9)), want: tensor[uint8](nil, 2, 8, 254, 0)},
		tcase{name: "BitShift/right", op: "BitShift", opset: 11, attrs: ops.AttrMap{"direction": sattr("RIGHT")},
			inputs: in(tensor[uint64](nil, 16, 4, 1<<63), tensor[uint64](nil, 1, 2, 64)), want: tensor[uint64](nil, 8, 1, 0)},
		tcase{name: "BitShift/bcast", op: "BitShift", opset: 11, attrs: ops.AttrMap{"direction": sattr("LEFT")},
			inputs: in(tensor[uint32](nil, 1, 3), tensor[uint32](ops.Shape{}, 4)), want: tensor[uint32](nil, 16, 48)},
	)
	runCases(t, cases)
	runCases(t, []tcase{
		{name: "And ints", op: "And", opset: 7, inputs: in(i32(nil, 1), i32(nil, 1)), wantErr: "input A has type int32, want one of {bool}"},
		{name: "And shapes", op: "And", opset: 7, inputs: in(b(nil, true, false), b(nil, true, true, false)), wantErr: "inputs A [2], B [3] do not broadcast"},
		{name: "BitwiseAnd float", op: "BitwiseAnd", opset: 18, inputs: in(f32(nil, 1), f32(nil, 1)), wantErr: "has type float32"},
		{name: "BitShift signed", op: "BitShift", opset: 11, attrs: ops.AttrMap{"direction": sattr("LEFT")},
			inputs: in(i32(nil, 1), i32(nil, 1)), wantErr: "input X has type int32"},
		{name: "BitShift no direction", op: "BitShift", opset: 11, inputs: in(tensor[uint8](nil, 1), tensor[uint8](nil, 1)),
			wantErr: `attribute "direction" is required`},
		{name: "BitShift bad direction", op: "BitShift", opset: 11, attrs: ops.AttrMap{"direction": sattr("left")},
			inputs: in(tensor[uint8](nil, 1), tensor[uint8](nil, 1)), wantErr: `attribute "direction" is "left", want "LEFT" or "RIGHT"`},
	})
}

func TestCompare(t *testing.T) {
	x, y := f32(ops.Shape{2, 2}, 1, 2, 3, nan), f32(ops.Shape{2}, 2, 2)
	var cases []tcase
	for _, op := range []struct {
		name string
		want *ops.Tensor
	}{
		{"Equal", b(ops.Shape{2, 2}, false, true, false, false)},
		{"Less", b(ops.Shape{2, 2}, true, false, false, false)},
		{"Greater", b(ops.Shape{2, 2}, false, false, true, false)},
		{"LessOrEqual", b(ops.Shape{2, 2}, true, true, false, false)},
		{"GreaterOrEqual", b(ops.Shape{2, 2}, false, true, true, false)},
	} {
		for _, v := range versionsOf(op.name) {
			var attrs ops.AttrMap
			if v < 7 {
				attrs = ops.AttrMap{"broadcast": attr(1)}
			}
			xx, yy := x, y
			if op.name == "Equal" && v < 11 { // Equal took bool, int32 and int64 only before opset 11
				xx, yy = i32(ops.Shape{2, 2}, 1, 2, 3, 4), i32(ops.Shape{2}, 2, 2)
			}
			cases = append(cases, tcase{name: op.name, op: op.name, opset: v, attrs: attrs, inputs: in(xx, yy), want: op.want})
		}
	}
	cases = append(cases,
		tcase{name: "Equal/string", op: "Equal", opset: 19, inputs: in(str(nil, "a", "b", ""), str(nil, "a", "c", "")), want: b(nil, true, false, true)},
		tcase{name: "Equal/string bcast", op: "Equal", opset: 19, inputs: in(str(ops.Shape{2, 2}, "a", "b", "b", "a"), str(ops.Shape{}, "a")),
			want: b(ops.Shape{2, 2}, true, false, false, true)},
		tcase{name: "Equal/bool", op: "Equal", opset: 11, inputs: in(b(nil, true, false), b(nil, true, true)), want: b(nil, true, false)},
		tcase{name: "Less/uint64", op: "Less", opset: 13, inputs: in(tensor[uint64](nil, 0, 1<<63), tensor[uint64](nil, 1, 1)), want: b(nil, true, false)},
		tcase{name: "Greater/float16", op: "Greater", opset: 13, inputs: in(f16(nil, 1, -2, nan), f16(nil, 0.5, -1, 0)), want: b(nil, true, false, false)},
		tcase{name: "GreaterOrEqual/bfloat16", op: "GreaterOrEqual", opset: 16, inputs: in(bf16(nil, 1, 2), bf16(nil, 1, 3)), want: b(nil, true, false)},
	)
	runCases(t, cases)
	runCases(t, []tcase{
		{name: "Equal string before 19", op: "Equal", opset: 13, inputs: in(str(nil, "a"), str(nil, "a")), wantErr: "input A has type string"},
		{name: "Less bool", op: "Less", opset: 13, inputs: in(b(nil, true), b(nil, true)), wantErr: "input A has type bool"},
		{name: "Less ints before 9", op: "Less", opset: 7, inputs: in(i32(nil, 1), i32(nil, 1)), wantErr: "input A has type int32"},
		{name: "Equal float before 11", op: "Equal", opset: 7, inputs: in(f32(nil, 1), f32(nil, 1)), wantErr: "input A has type float32, want one of {int32, int64, bool}"},
		{name: "types differ", op: "Equal", opset: 19, inputs: in(i32(nil, 1), i64(nil, 1)), wantErr: "input B is int64 but A is int32"},
	})
}

func TestWhere(t *testing.T) {
	cond := b(ops.Shape{2, 2}, true, false, true, true)
	runCases(t, []tcase{
		{name: "float32", op: "Where", opset: 9, inputs: in(cond, f32(ops.Shape{2, 2}, 1, 2, 3, 4), f32(ops.Shape{2, 2}, 9, 8, 7, 6)),
			want: f32(ops.Shape{2, 2}, 1, 8, 3, 4)},
		{name: "int64 bcast", op: "Where", opset: 16, inputs: in(b(ops.Shape{2, 1}, true, false), i64(ops.Shape{1, 3}, 1, 2, 3), i64(ops.Shape{}, 0)),
			want: i64(ops.Shape{2, 3}, 1, 2, 3, 0, 0, 0)},
		{name: "string", op: "Where", opset: 16, inputs: in(b(nil, false, true), str(nil, "x", "y"), str(nil, "p", "q")), want: str(nil, "p", "y")},
		{name: "bool", op: "Where", opset: 16, inputs: in(b(nil, false, true), b(nil, true, true), b(nil, false, false)), want: b(nil, false, true)},
		{name: "bfloat16", op: "Where", opset: 16, inputs: in(b(nil, false, true), bf16(nil, 1, 2), bf16(nil, 3, 4)), want: bf16(nil, 3, 2)},
		{name: "complex64", op: "Where", opset: 16, inputs: in(b(nil, true), tensor[complex64](nil, 1+2i), tensor[complex64](nil, 3)), want: tensor[complex64](nil, 1+2i)},
		{name: "condition not bool", op: "Where", opset: 16, inputs: in(i32(nil, 1), f32(nil, 1), f32(nil, 2)), wantErr: "input condition has type int32, want one of {bool}"},
		{name: "X and Y differ", op: "Where", opset: 16, inputs: in(b(nil, true), f32(nil, 1), f64(nil, 2)), wantErr: "input Y is float64 but X is float32"},
		{name: "bfloat16 before 16", op: "Where", opset: 9, inputs: in(b(nil, true), bf16(nil, 1), bf16(nil, 2)), wantErr: "input X has type bfloat16"},
		{name: "shapes", op: "Where", opset: 16, inputs: in(b(nil, true, false), f32(nil, 1, 2, 3), f32(nil, 1)),
			wantErr: "inputs condition [2], X [3], Y [1] do not broadcast"},
	})
}
