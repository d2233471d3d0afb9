package elementwise_test

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// Reference values from numpy on x = [-3, -1, -0.25, 0, 0.25, 1, 3] (float32), following each operator's
// formula in the spec.
var activationFloat32 = []struct {
	op    string
	attrs ops.AttrMap
	want  *ops.Tensor
}{
	{"LeakyRelu", nil, f32(nil, -0.029999999329447746, -0.009999999776482582, -0.0024999999441206455, 0.0, 0.25, 1.0, 3.0)},
	{"LeakyRelu", ops.AttrMap{"alpha": fattr(0.1)}, f32(nil, -0.30000001192092896, -0.10000000149011612, -0.02500000037252903, 0.0, 0.25, 1.0, 3.0)},
	{"Elu", nil, f32(nil, -0.9502129554748535, -0.6321206092834473, -0.22119927406311035, 0.0, 0.25, 1.0, 3.0)},
	{"Elu", ops.AttrMap{"alpha": fattr(2)}, f32(nil, -1.900425910949707, -1.2642412185668945, -0.4423985481262207, 0.0, 0.25, 1.0, 3.0)},
	{"Celu", nil, f32(nil, -0.9502129554748535, -0.6321206092834473, -0.22119927406311035, 0.0, 0.25, 1.0, 3.0)},
	{"Celu", ops.AttrMap{"alpha": fattr(2)}, f32(nil, -1.5537396669387817, -0.7869386672973633, -0.2350062131881714, 0.0, 0.25, 1.0, 3.0)},
	{"HardSigmoid", nil, f32(nil, 0.0, 0.30000001192092896, 0.44999998807907104, 0.5, 0.550000011920929, 0.699999988079071, 1.0)},
	{"HardSigmoid", ops.AttrMap{"alpha": fattr(0.5), "beta": fattr(0.6)}, f32(nil, 0.0, 0.10000002384185791, 0.4750000238418579, 0.6000000238418579, 0.7250000238418579, 1.0, 1.0)},
	{"HardSwish", nil, f32(nil, -0.0, -0.3333333134651184, -0.1145833358168602, 0.0, 0.1354166716337204, 0.6666666865348816, 3.0)},
	{"Softplus", nil, f32(nil, 0.04858735203742981, 0.3132616877555847, 0.575939416885376, 0.6931471824645996, 0.825939416885376, 1.31326162815094, 3.0485873222351074)},
	{"Softsign", nil, f32(nil, -0.75, -0.5, -0.20000000298023224, 0.0, 0.20000000298023224, 0.5, 0.75)},
	{"Mish", nil, f32(nil, -0.14564746618270874, -0.30340147018432617, -0.12992696464061737, 0.0, 0.16957241296768188, 0.8650984168052673, 2.98653507232666)},
	{"Gelu", nil, f32(nil, -0.004049691371619701, -0.15865525603294373, -0.10032341629266739, 0.0, 0.14967657625675201, 0.8413447141647339, 2.995950222015381)},
	{"Gelu", ops.AttrMap{"approximate": sattr("tanh")}, f32(nil, -0.003637343645095825, -0.15880799293518066, -0.10032464563846588, 0.0, 0.14967535436153412, 0.8411920070648193, 2.9963626861572266)},
	{"Sigmoid", nil, f32(nil, 0.04742587357759476, 0.2689414322376251, 0.43782350420951843, 0.5, 0.562176525592804, 0.7310585975646973, 0.9525741338729858)},
	{"Tanh", nil, f32(nil, -0.9950547814369202, -0.7615941762924194, -0.24491865932941437, 0.0, 0.24491865932941437, 0.7615941762924194, 0.9950547814369202)},
	{"ThresholdedRelu", nil, f32(nil, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0)},
	{"ThresholdedRelu", ops.AttrMap{"alpha": fattr(0.2)}, f32(nil, 0.0, 0.0, 0.0, 0.0, 0.25, 1.0, 3.0)},
	{"Shrink", nil, f32(nil, -3.0, -1.0, 0.0, 0.0, 0.0, 1.0, 3.0)},
	{"Shrink", ops.AttrMap{"lambd": fattr(0.2), "bias": fattr(0.1)}, f32(nil, -2.9000000953674316, -0.8999999761581421, -0.15000000596046448, 0.0, 0.15000000596046448, 0.8999999761581421, 2.9000000953674316)},
	{"Relu", nil, f32(nil, 0.0, 0.0, 0.0, 0.0, 0.25, 1.0, 3.0)},
}

func TestActivationsFloat32(t *testing.T) {
	x := f32(nil, -3, -1, -0.25, 0, 0.25, 1, 3)
	var cases []tcase
	for _, a := range activationFloat32 {
		for _, v := range versionsOf(a.op) {
			cases = append(cases, tcase{op: a.op, opset: v, attrs: a.attrs, inputs: in(x), want: a.want})
		}
	}
	// Selu-1's defaults were the rounded 1.6732 and 1.0507; from opset 6 they are the float32 constants.
	selu6 := f32(nil, -1.6705687046051025, -1.1113307476043701, -0.38889026641845703, 0.0, 0.2626752555370331, 1.0507010221481323, 3.1521029472351074)
	selu1 := f32(nil, -1.670502, -1.1112921, -0.3888768, 0, 0.262675, 1.0507, 3.1521)
	cases = append(cases,
		tcase{name: "Selu", op: "Selu", opset: 6, inputs: in(x), want: selu6},
		tcase{name: "Selu", op: "Selu", opset: 22, inputs: in(x), want: selu6},
		tcase{name: "Selu", op: "Selu", opset: 1, inputs: in(x), want: selu1, rtol: 1e-5},
		tcase{name: "Selu/attrs", op: "Selu", opset: 22, attrs: ops.AttrMap{"alpha": fattr(2), "gamma": fattr(3)},
			inputs: in(f32(nil, -1, 2)), want: f32(nil, -3.7927234, 6)})
	runCases(t, cases)
}

func TestActivationTypes(t *testing.T) {
	runCases(t, []tcase{
		{name: "Relu/int8", op: "Relu", opset: 14, inputs: in(tensor[int8](nil, -128, -1, 0, 127)), want: tensor[int8](nil, 0, 0, 0, 127)},
		{name: "Relu/int64", op: "Relu", opset: 14, inputs: in(i64(nil, -5, 5)), want: i64(nil, 0, 5)},
		{name: "Relu/float16", op: "Relu", opset: 14, inputs: in(f16(nil, -1.5, 0.333, nan)), want: f16(nil, 0, 0.333, nan)},
		{name: "Relu/nan", op: "Relu", opset: 14, inputs: in(f64(nil, float64(nan), -1)), want: f64(nil, float64(nan), 0)},
		{name: "Sigmoid/bfloat16", op: "Sigmoid", opset: 13, inputs: in(bf16(nil, -1, 0, 1)), want: bf16(nil, 0.26894143, 0.5, 0.7310586), rtol: 1e-2},
		{name: "Sigmoid/extremes", op: "Sigmoid", opset: 13, inputs: in(f64(nil, -800, 800)), want: f64(nil, 0, 1)},
		{name: "Softplus/extremes", op: "Softplus", opset: 22, inputs: in(f32(nil, -200, 200)), want: f32(nil, 0, 200)},
		{name: "LeakyRelu/float64", op: "LeakyRelu", opset: 16, inputs: in(f64(nil, -2, 2)), want: f64(nil, -0.019999999552965164, 2)},
		{name: "Shrink/int32", op: "Shrink", opset: 9, attrs: ops.AttrMap{"lambd": fattr(1.5), "bias": fattr(1)},
			inputs: in(i32(nil, -3, -1, 0, 1, 3)), want: i32(nil, -2, 0, 0, 0, 2)},
		{name: "Celu/float16", op: "Celu", opset: 28, inputs: in(f16(nil, -1, 1)), want: f16(nil, -0.6321206, 1), rtol: 1e-3},
	})
}

func TestActivationErrors(t *testing.T) {
	runCases(t, []tcase{
		{name: "Gelu approximate", op: "Gelu", opset: 20, attrs: ops.AttrMap{"approximate": sattr("erf")},
			inputs: in(f32(nil, 1)), wantErr: `attribute "approximate" is "erf", want "none" or "tanh"`, kind: ops.ErrInvalid},
		{name: "alpha type", op: "Elu", opset: 22, attrs: ops.AttrMap{"alpha": sattr("x")},
			inputs: in(f32(nil, 1)), wantErr: `attribute "alpha" is string, want float`},
		{name: "Celu alpha 0", op: "Celu", opset: 12, attrs: ops.AttrMap{"alpha": fattr(0)}, inputs: in(f32(nil, 1)), wantErr: `"alpha" is 0`},
		{name: "Celu double at 12", op: "Celu", opset: 12, inputs: in(f64(nil, 1)), wantErr: "has type float64, want one of {float32}"},
		{name: "Relu int before 14", op: "Relu", opset: 13, inputs: in(i32(nil, 1)), wantErr: "has type int32"},
		{name: "Relu unsigned", op: "Relu", opset: 14, inputs: in(tensor[uint8](nil, 1)), wantErr: "has type uint8"},
		{name: "Sigmoid int", op: "Sigmoid", opset: 13, inputs: in(i64(nil, 1)), wantErr: "has type int64"},
	})
}

func TestPRelu(t *testing.T) {
	x := f32(ops.Shape{2, 3, 1, 2}, -1, 1, -2, 2, -3, 3, -4, 4, -5, 5, -6, 6)
	perChannel := f32(ops.Shape{2, 3, 1, 2}, -0.1, 1, -0.4, 2, -0.9, 3, -0.4, 4, -1, 5, -1.8, 6)
	var cases []tcase
	for _, v := range versionsOf("PRelu") {
		cases = append(cases,
			tcase{name: "scalar slope", op: "PRelu", opset: v, inputs: in(x, f32(ops.Shape{1}, 0.5)),
				want: f32(ops.Shape{2, 3, 1, 2}, -0.5, 1, -1, 2, -1.5, 3, -2, 4, -2.5, 5, -3, 6)})
	}
	cases = append(cases,
		// From opset 7 slope broadcasts numpy-style to X; [3,1,1] is one slope per channel.
		tcase{name: "channel slope", op: "PRelu", opset: 16, inputs: in(x, f32(ops.Shape{3, 1, 1}, 0.1, 0.2, 0.3)), want: perChannel},
		// Before opset 7 a 1-D slope of length C is per channel.
		tcase{name: "legacy 1-D channel slope", op: "PRelu", opset: 6, inputs: in(x, f32(ops.Shape{3}, 0.1, 0.2, 0.3)), want: perChannel},
		tcase{name: "last-axis slope", op: "PRelu", opset: 16, inputs: in(f32(ops.Shape{2, 2}, -1, -1, -2, 2), f32(ops.Shape{2}, 0.5, 2)),
			want: f32(ops.Shape{2, 2}, -0.5, -2, -1, 2)},
		tcase{name: "int32", op: "PRelu", opset: 9, inputs: in(i32(nil, -3, 3), i32(nil, 2, 2)), want: i32(nil, -6, 3)},
		tcase{name: "bfloat16", op: "PRelu", opset: 16, inputs: in(bf16(nil, -3, 3), bf16(nil, 0.5)), want: bf16(nil, -1.5, 3)},
		tcase{name: "slope bigger than X", op: "PRelu", opset: 16, inputs: in(f32(nil, 1, 2, 3), f32(ops.Shape{2, 3}, 1, 2, 3, 4, 5, 6)),
			wantErr: "slope [2,3] does not broadcast to X [3]", kind: ops.ErrInvalid},
		tcase{name: "legacy bad slope", op: "PRelu", opset: 6, inputs: in(x, f32(ops.Shape{4}, 1, 2, 3, 4)),
			wantErr: "slope [4] is neither one value, one per channel of X [2,3,1,2], nor broadcastable"},
		tcase{name: "int before 9", op: "PRelu", opset: 7, inputs: in(i32(nil, 1), i32(nil, 1)), wantErr: "has type int32"},
		tcase{name: "types differ", op: "PRelu", opset: 16, inputs: in(f32(nil, 1), f64(nil, 1)), wantErr: "slope is float64 but X is float32"},
	)
	runCases(t, cases)
}

// TestActivationNaN pins what NaN becomes where the functions disagree: ThresholdedRelu and Shrink give 0
// (their reference is a where(x > alpha, x, 0)), the others keep NaN.
func TestActivationNaN(t *testing.T) {
	var cases []tcase
	for op, want := range map[string]float32{
		"ThresholdedRelu": 0, "Shrink": 0, "Relu": nan, "LeakyRelu": nan, "Elu": nan, "Selu": nan, "Celu": nan,
		"HardSigmoid": nan, "HardSwish": nan, "Softplus": nan, "Softsign": nan, "Mish": nan, "Gelu": nan, "Sigmoid": nan, "Tanh": nan,
	} {
		v := versionsOf(op)
		cases = append(cases, tcase{name: op, op: op, opset: v[len(v)-1], inputs: in(f32(nil, nan)), want: f32(nil, want)})
	}
	runCases(t, cases)
}
