package elementwise_test

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// Reference values from numpy (float32 inputs, float32 results).
var unaryFloat32 = []struct {
	op      string
	x, want *ops.Tensor
}{
	{"Exp", f32(nil, -2.0, -0.5, 0.0, 0.5, 1.0, 3.0), f32(nil, 0.1353352814912796, 0.6065306663513184, 1.0, 1.6487212181091309, 2.7182819843292236, 20.08553695678711)},
	{"Log", f32(nil, 0.25, 0.5, 1.0, 2.0, 4.0, 9.0), f32(nil, -1.3862943649291992, -0.6931471824645996, 0.0, 0.6931471824645996, 1.3862943649291992, 2.1972246170043945)},
	{"Sqrt", f32(nil, 0.25, 0.5, 1.0, 2.0, 4.0, 9.0), f32(nil, 0.5, 0.7071067690849304, 1.0, 1.4142135381698608, 2.0, 3.0)},
	{"Reciprocal", f32(nil, 0.25, 0.5, 1.0, 2.0, 4.0, 9.0), f32(nil, 4.0, 2.0, 1.0, 0.5, 0.25, 0.1111111119389534)},
	{"Floor", f32(nil, -1.5, -0.5, 0.0, 0.5, 1.5, 2.700000047683716), f32(nil, -2.0, -1.0, 0.0, 0.0, 1.0, 2.0)},
	{"Ceil", f32(nil, -1.5, -0.5, 0.0, 0.5, 1.5, 2.700000047683716), f32(nil, -1.0, -0.0, 0.0, 1.0, 2.0, 3.0)},
	{"Round", f32(nil, 0.8999999761581421, 2.5, 2.299999952316284, 1.5, -4.5, -0.5), f32(nil, 1.0, 2.0, 2.0, 2.0, -4.0, -0.0)},
	{"Erf", f32(nil, -2.0, -0.5, 0.0, 0.5, 1.0, 3.0), f32(nil, -0.9953222870826721, -0.5204998850822449, 0.0, 0.5204998850822449, 0.8427007794380188, 0.9999778866767883)},
	{"Sin", f32(nil, -2.0, -0.5, 0.0, 0.5, 1.0, 3.0), f32(nil, -0.9092974066734314, -0.4794255495071411, 0.0, 0.4794255495071411, 0.8414710164070129, 0.14112000167369843)},
	{"Cos", f32(nil, -2.0, -0.5, 0.0, 0.5, 1.0, 3.0), f32(nil, -0.41614681482315063, 0.8775825500488281, 1.0, 0.8775825500488281, 0.5403022766113281, -0.9899924993515015)},
	{"Tan", f32(nil, -2.0, -0.5, 0.0, 0.5, 1.0, 3.0), f32(nil, 2.185039758682251, -0.5463024973869324, 0.0, 0.5463024973869324, 1.5574077367782593, -0.14254654943943024)},
	{"Asin", f32(nil, -0.8999999761581421, -0.5, 0.0, 0.30000001192092896, 0.5, 0.9900000095367432), f32(nil, -1.1197694540023804, -0.5235987901687622, 0.0, 0.30469265580177307, 0.5235987901687622, 1.4292569160461426)},
	{"Acos", f32(nil, -0.8999999761581421, -0.5, 0.0, 0.30000001192092896, 0.5, 0.9900000095367432), f32(nil, 2.690565824508667, 2.094395160675049, 1.5707963705062866, 1.2661036252975464, 1.0471975803375244, 0.14153940975666046)},
	{"Atan", f32(nil, -2.0, -0.5, 0.0, 0.5, 1.0, 3.0), f32(nil, -1.1071487665176392, -0.46364760398864746, 0.0, 0.46364760398864746, 0.7853981852531433, 1.249045729637146)},
	{"Sinh", f32(nil, -2.0, -0.5, 0.0, 0.5, 1.0, 3.0), f32(nil, -3.6268603801727295, -0.5210952758789062, 0.0, 0.5210952758789062, 1.175201177597046, 10.017874717712402)},
	{"Cosh", f32(nil, -2.0, -0.5, 0.0, 0.5, 1.0, 3.0), f32(nil, 3.7621958255767822, 1.1276259422302246, 1.0, 1.1276259422302246, 1.5430805683135986, 10.067662239074707)},
	{"Asinh", f32(nil, -2.0, -0.5, 0.0, 0.5, 1.0, 3.0), f32(nil, -1.4436354637145996, -0.4812118411064148, 0.0, 0.4812118411064148, 0.8813735842704773, 1.8184465169906616)},
	{"Acosh", f32(nil, 1.0, 1.5, 2.0, 3.0, 10.0, 100.0), f32(nil, 0.0, 0.9624236822128296, 1.316957950592041, 1.7627471685409546, 2.993222951889038, 5.29829216003418)},
	{"Atanh", f32(nil, -0.8999999761581421, -0.5, 0.0, 0.30000001192092896, 0.5, 0.9900000095367432), f32(nil, -1.4722193479537964, -0.5493061542510986, 0.0, 0.30951961874961853, 0.5493061542510986, 2.646652936935425)},
	{"Abs", f32(nil, -2.0, -0.5, 0.0, 0.5, 1.0, 3.0), f32(nil, 2.0, 0.5, 0.0, 0.5, 1.0, 3.0)},
	{"Neg", f32(nil, -2.0, -0.5, 0.0, 0.5, 1.0, 3.0), f32(nil, 2.0, 0.5, -0.0, -0.5, -1.0, -3.0)},
	{"Sign", f32(nil, -2.0, -0.5, 0.0, 0.5, 1.0, 3.0), f32(nil, -1.0, -1.0, 0.0, 1.0, 1.0, 1.0)},
}

// TestUnaryFloat32 runs every unary function at every opset it is registered for (all take float32).
func TestUnaryFloat32(t *testing.T) {
	var cases []tcase
	for _, u := range unaryFloat32 {
		for _, v := range versionsOf(u.op) {
			cases = append(cases, tcase{op: u.op, opset: v, inputs: in(u.x), want: u.want})
		}
	}
	runCases(t, cases)
}

func TestUnaryTypes(t *testing.T) {
	x := []float32{-2, -0.5, 0, 0.5, 1, 3}
	runCases(t, []tcase{
		{name: "Exp/float64", op: "Exp", opset: 13, inputs: in(f64(nil, -2, -0.5, 0, 0.5, 1, 3)),
			want: f64(nil, 0.1353352832366127, 0.6065306597126334, 1.0, 1.6487212707001282, 2.718281828459045, 20.085536923187668), rtol: 1e-15},
		// numpy.exp on float16 values
		{name: "Exp/float16", op: "Exp", opset: 13, inputs: in(f16(nil, x...)),
			want: f16(nil, 0.1353759765625, 0.6064453125, 1.0, 1.6484375, 2.71875, 20.078125), rtol: 1e-3},
		{name: "Exp/bfloat16", op: "Exp", opset: 13, inputs: in(bf16(nil, x...)),
			want: bf16(nil, 0.1353352814912796, 0.6065306663513184, 1.0, 1.6487212181091309, 2.7182819843292236, 20.08553695678711), rtol: 1e-2},
		{name: "Abs/int8", op: "Abs", opset: 13, inputs: in(tensor[int8](nil, -128, -5, 0, 7)), want: tensor[int8](nil, -128, 5, 0, 7)},
		{name: "Abs/uint16", op: "Abs", opset: 13, inputs: in(tensor[uint16](nil, 0, 65535)), want: tensor[uint16](nil, 0, 65535)},
		{name: "Neg/int32", op: "Neg", opset: 13, inputs: in(i32(nil, -3, 0, 4)), want: i32(nil, 3, 0, -4)},
		{name: "Sign/int64", op: "Sign", opset: 13, inputs: in(i64(nil, -9, 0, 9)), want: i64(nil, -1, 0, 1)},
		{name: "Sign/uint8", op: "Sign", opset: 13, inputs: in(tensor[uint8](nil, 0, 1, 200)), want: tensor[uint8](nil, 0, 1, 1)},
		{name: "Sign/nan", op: "Sign", opset: 13, inputs: in(f32(nil, nan, -inf, inf)), want: f32(nil, nan, -1, 1)},
		{name: "Round/halves", op: "Round", opset: 22, inputs: in(f64(nil, 0.5, 1.5, -2.5, 3.5000001)), want: f64(nil, 0, 2, -2, 4)},
		// Erf-9 took integers: erf of an integer, truncated.
		{name: "Erf/int32", op: "Erf", opset: 9, inputs: in(i32(nil, -3, 0, 2)), want: i32(nil, 0, 0, 0)},
		{name: "BitwiseNot/uint8", op: "BitwiseNot", opset: 18, inputs: in(tensor[uint8](nil, 0, 1, 255)), want: tensor[uint8](nil, 255, 254, 0)},
		{name: "BitwiseNot/int16", op: "BitwiseNot", opset: 18, inputs: in(tensor[int16](nil, 0, -1, 5)), want: tensor[int16](nil, -1, 0, -6)},
		{name: "Not", op: "Not", opset: 1, inputs: in(b(ops.Shape{2, 2}, true, false, false, true)), want: b(ops.Shape{2, 2}, false, true, true, false)},
		{name: "IsNaN", op: "IsNaN", opset: 20, inputs: in(f32(nil, nan, inf, 0, -1)), want: b(nil, true, false, false, false)},
		{name: "IsNaN/float16", op: "IsNaN", opset: 13, inputs: in(f16(nil, nan, inf, 0)), want: b(nil, true, false, false)},
		{name: "IsInf", op: "IsInf", opset: 10, inputs: in(f64(nil, 1, float64(inf), float64(-inf), float64(nan))), want: b(nil, false, true, true, false)},
		{name: "IsInf/positive", op: "IsInf", opset: 20, attrs: ops.AttrMap{"detect_negative": attr(0)},
			inputs: in(f32(nil, 1, inf, -inf)), want: b(nil, false, true, false)},
		{name: "IsInf/negative", op: "IsInf", opset: 20, attrs: ops.AttrMap{"detect_positive": attr(0)},
			inputs: in(bf16(nil, 1, inf, -inf)), want: b(nil, false, false, true)},
		{name: "scalar", op: "Sqrt", opset: 13, inputs: in(f32(ops.Shape{}, 16)), want: f32(ops.Shape{}, 4)},
		{name: "empty", op: "Exp", opset: 13, inputs: in(f32(ops.Shape{0, 3})), want: f32(ops.Shape{0, 3})},
	})
}

func TestUnaryErrors(t *testing.T) {
	runCases(t, []tcase{
		// bfloat16 arrived in opset 13.
		{name: "bf16 before 13", op: "Exp", opset: 6, inputs: in(bf16(nil, 1)), wantErr: "input X has type bfloat16, want one of {float32, float16, float64}", kind: ops.ErrInvalid},
		{name: "int before 6", op: "Abs", opset: 1, inputs: in(i32(nil, 1)), wantErr: "input X has type int32", kind: ops.ErrInvalid},
		{name: "unsigned Neg", op: "Neg", opset: 13, inputs: in(tensor[uint8](nil, 1)), wantErr: "input X has type uint8", kind: ops.ErrInvalid},
		{name: "int Erf after 13", op: "Erf", opset: 13, inputs: in(i32(nil, 1)), wantErr: "has type int32"},
		{name: "float BitwiseNot", op: "BitwiseNot", opset: 18, inputs: in(f32(nil, 1)), wantErr: "has type float32"},
		{name: "Not on ints", op: "Not", opset: 1, inputs: in(i64(nil, 1)), wantErr: "has type int64, want one of {bool}"},
		{name: "IsInf float16 before 20", op: "IsInf", opset: 10, inputs: in(f16(nil, 1)), wantErr: "has type float16"},
		{name: "two inputs", op: "Exp", opset: 13, inputs: in(f32(nil, 1), f32(nil, 1)), wantErr: "Exp-13 takes 1 input, node has 2"},
		{name: "not registered", op: "Sin", opset: 6, inputs: in(f32(nil, 1)), wantErr: "not registered"},
	})
}
