package elementwise_test

import (
	"math"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

func TestCastNarrow(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	// The float8 node tests' inputs.
	f8in := f32(nil, 0.47892547, 1000000, 1e-7, nan, inf, -inf, -0.0000001, -1000000)
	noSat := ops.AttrMap{"to": attr(int64(ops.Float8E4M3FN)), "saturate": attr(0)}
	e8m0 := func(mode string, saturate int64) ops.AttrMap {
		return ops.AttrMap{"to": attr(int64(ops.Float8E8M0)), "round_mode": sattr(mode), "saturate": attr(saturate)}
	}
	runCases(t, []tcase{
		{name: "float to e4m3fn", op: "Cast", opset: 19, attrs: castTo(ops.Float8E4M3FN), inputs: in(f8in),
			want: tensor[ops.Float8E4M3FNBits](nil, 0x2f, 0x7e, 0x00, 0x7f, 0x7e, 0xfe, 0x80, 0xfe)},
		{name: "float to e4m3fn no saturate", op: "Cast", opset: 19, attrs: noSat, inputs: in(f8in),
			want: tensor[ops.Float8E4M3FNBits](nil, 0x2f, 0x7f, 0x00, 0x7f, 0x7f, 0xff, 0x80, 0xff)},
		{name: "float16 to e5m2 no saturate", op: "Cast", opset: 19, attrs: ops.AttrMap{"to": attr(int64(ops.Float8E5M2)), "saturate": attr(0)},
			inputs: in(f16(nil, 0.5, 63000, -inf, nan)), want: tensor[ops.Float8E5M2Bits](nil, 0x38, 0x7c, 0xfc, 0x7f)},
		{name: "double to e5m2fnuz", op: "Cast", opset: 19, attrs: castTo(ops.Float8E5M2FNUZ), inputs: in(f64(nil, 1, -1e9, math.Copysign(0, -1))),
			want: tensor[ops.Float8E5M2FNUZBits](nil, 0x40, 0xff, 0x00)},
		{name: "e4m3fnuz to float", op: "Cast", opset: 19, attrs: castTo(ops.Float32), inputs: in(tensor[ops.Float8E4M3FNUZBits](nil, 0x40, 0x7f, 0x80, 0x01)),
			want: f32(nil, 1, 240, nan, 0x1p-10)},
		{name: "e5m2 to float16", op: "Cast", opset: 19, attrs: castTo(ops.Float16), inputs: in(tensor[ops.Float8E5M2Bits](nil, 0x7b, 0xfc, 0x01)),
			want: f16(nil, 57344, -inf, 0x1p-16)},
		{name: "e4m3fn to int32 truncates", op: "Cast", opset: 19, attrs: castTo(ops.Int32), inputs: in(tensor[ops.Float8E4M3FNBits](nil, 0x3c, 0xbc, 0x7e)),
			want: i32(nil, 1, -1, 448)},
		{name: "e4m3fn to e5m2 rounds", op: "Cast", opset: 19, attrs: castTo(ops.Float8E5M2), inputs: in(tensor[ops.Float8E4M3FNBits](nil, 0x3c, 0x39, 0x7e)),
			// 1.5 stays, 1.125 ties to 1.0 (even), 448 is exact.
			want: tensor[ops.Float8E5M2Bits](nil, 0x3e, 0x3c, 0x5f)},
		{name: "e4m3fn to bool", op: "Cast", opset: 19, attrs: castTo(ops.Bool), inputs: in(tensor[ops.Float8E4M3FNBits](nil, 0x00, 0x80, 0x7f, 0x01)),
			want: b(nil, false, false, true, true)},
		{name: "e4m3fn to string", op: "Cast", opset: 19, attrs: castTo(ops.String), inputs: in(tensor[ops.Float8E4M3FNBits](nil, 0x3c, 0x7f)),
			want: str(nil, "1.5", "NaN")},
		{name: "string to e4m3fn", op: "Cast", opset: 19, attrs: castTo(ops.Float8E4M3FN), inputs: in(str(nil, "1.5", "1e9")),
			want: tensor[ops.Float8E4M3FNBits](nil, 0x3c, 0x7e)},
		{name: "bool to e5m2", op: "Cast", opset: 19, attrs: castTo(ops.Float8E5M2), inputs: in(b(nil, true, false)),
			want: tensor[ops.Float8E5M2Bits](nil, 0x3c, 0x00)},
		// int4 and uint4 wrap, as the node tests do: -9 -> 7, 8 -> -8, 15 -> -1.
		{name: "float to int4", op: "Cast", opset: 21, attrs: castTo(ops.Int4), inputs: in(f32(nil, -9, -8, 7, 8, 15, 2.7, -2.7)),
			want: tensor[ops.Int4Value](nil, 7, -8, 7, -8, -1, 2, -2)},
		{name: "int64 to uint4", op: "Cast", opset: 21, attrs: castTo(ops.Uint4), inputs: in(i64(nil, -9, 16, 15, 1<<40+3)),
			want: tensor[ops.Uint4Value](nil, 7, 0, 15, 3)},
		{name: "int4 to int8", op: "Cast", opset: 21, attrs: castTo(ops.Int8), inputs: in(tensor[ops.Int4Value](nil, -8, 7, -1)), want: tensor[int8](nil, -8, 7, -1)},
		{name: "uint4 to float16", op: "Cast", opset: 21, attrs: castTo(ops.Float16), inputs: in(tensor[ops.Uint4Value](nil, 15, 0)), want: f16(nil, 15, 0)},
		{name: "int4 to uint4", op: "Cast", opset: 21, attrs: castTo(ops.Uint4), inputs: in(tensor[ops.Int4Value](nil, -1, 3)), want: tensor[ops.Uint4Value](nil, 15, 3)},
		{name: "int4 to string", op: "Cast", opset: 21, attrs: castTo(ops.String), inputs: in(tensor[ops.Int4Value](nil, -8)), want: str(nil, "-8")},
		{name: "float to int2", op: "Cast", opset: 25, attrs: castTo(ops.Int2), inputs: in(f32(nil, -3, -2, -1, 0, 1, 2, 3)),
			want: tensor[ops.Int2Value](nil, 1, -2, -1, 0, 1, -2, -1)},
		{name: "float16 to uint2", op: "Cast", opset: 25, attrs: castTo(ops.Uint2), inputs: in(f16(nil, -3, -1, 3)), want: tensor[ops.Uint2Value](nil, 1, 3, 3)},
		{name: "uint2 to uint8", op: "Cast", opset: 25, attrs: castTo(ops.Uint8), inputs: in(tensor[ops.Uint2Value](nil, 3, 1)), want: tensor[uint8](nil, 3, 1)},
		{name: "float to float4e2m1", op: "Cast", opset: 23, attrs: castTo(ops.Float4E2M1), inputs: in(f32(nil, 0.48, 0.25, 1.05, -3.5, -8, 1e6, nan, -inf, 0.01)),
			want: tensor[ops.Float4E2M1Bits](nil, 0x1, 0x0, 0x2, 0xe, 0xf, 0x7, 0x8, 0xf, 0x0)},
		{name: "float4e2m1 to float", op: "Cast", opset: 23, attrs: castTo(ops.Float32), inputs: in(tensor[ops.Float4E2M1Bits](nil, 0x7, 0xb, 0x1)), want: f32(nil, 6, -1.5, 0.5)},
		{name: "float to e8m0 up", op: "Cast", opset: 24, attrs: e8m0("up", 1), inputs: in(f32(nil, 0, 0.124, 0.25, 1.1, 8, inf)),
			want: tensor[ops.Float8E8M0Bits](nil, 0x00, 0x7c, 0x7d, 0x80, 0x82, 0xfe)},
		{name: "float to e8m0 nearest no saturate", op: "Cast", opset: 24, attrs: e8m0("nearest", 0), inputs: in(f32(nil, 0, 1.4, 1.5, inf)),
			want: tensor[ops.Float8E8M0Bits](nil, 0xff, 0x7f, 0x80, 0xff)},
		{name: "float to e8m0 down", op: "Cast", opset: 24, attrs: e8m0("down", 1), inputs: in(f32(nil, 1.9, 0.3)), want: tensor[ops.Float8E8M0Bits](nil, 0x7f, 0x7d)},
		{name: "e8m0 to float16", op: "Cast", opset: 24, attrs: castTo(ops.Float16), inputs: in(tensor[ops.Float8E8M0Bits](nil, 0x7f, 0x80, 0xff, 0xfe)),
			want: f16(nil, 1, 2, nan, inf)},
		{name: "CastLike to e4m3fn no saturate", op: "CastLike", opset: 19, attrs: ops.AttrMap{"saturate": attr(0)},
			inputs: in(f32(nil, 1, 1e6), tensor[ops.Float8E4M3FNBits](ops.Shape{0})), want: tensor[ops.Float8E4M3FNBits](nil, 0x38, 0x7f)},
		{name: "CastLike from int4", op: "CastLike", opset: 21, inputs: in(tensor[ops.Int4Value](nil, -3), f32(ops.Shape{0})), want: f32(nil, -3)},
	})
}
