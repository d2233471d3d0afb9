package quant

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// The com.microsoft QLinear* operators (QLinearAdd, QLinearMul, QLinearConcat, QLinearGlobalAveragePool,
// QLinearAveragePool, QLinearSigmoid, QLinearLeakyRelu, QLinearSoftmax) quantize every tensor per tensor,
// with a float32 scale and an optional zero point of the tensor's own type (uint8 or int8; absent means
// 0). This file holds what they share: the checks of those scalars, reading them, and the rounding.
//
// Rounding: every operator computes a float32 value v (the quantized result before the zero point, as
// its doc comment gives it), then y = saturate(round_half_to_even(v) + zero_point), as ONNX's
// QuantizeLinear does; a NaN v gives the zero point.

// q8 is a uint8 or int8 quantized element.
type q8 interface{ uint8 | int8 }

// bounds8 is the saturation range of T.
func bounds8[T q8]() (lo, hi float32) {
	var probe T = 0
	probe--
	if probe > 0 { // unsigned
		return 0, 255
	}
	return -128, 127
}

// quantize8 is saturate(round_half_to_even(v) + zp) to T's range: v is clamped first, so that the 1.5*2^23
// trick rounds exactly (it is exact for |v| < 2^22 in float32's default rounding mode, half to even).
func quantize8[T q8](v, zp, lo, hi float32) T {
	if v != v {
		return T(int32(zp))
	}
	v = min(max(v, lo-zp), hi-zp)
	const magic = 1.5 * (1 << 23)
	r := (v + magic) - magic
	return T(int32(r + zp))
}

// qParam is one per-tensor (scale, zero point) pair: the input index of the scale and of the zero point
// (which may be absent).
type qParam struct {
	name      string // the tensor it quantizes, for messages: "A", "x", "y"
	scale, zp int
}

// checkQParam checks that p's scale is a float32 scalar (or one-element 1-D tensor, as exporters write)
// and that its zero point, if present, is a scalar of type t.
func checkQParam(op string, in []ops.ValueInfo, p qParam, t ops.DType) error {
	s := ops.Input(in, p.scale)
	if !s.Present() {
		return ops.Invalidf("%s %s_scale (input %d) is missing", op, p.name, p.scale)
	}
	if s.DType != ops.Float32 {
		return ops.Invalidf("%s %s_scale has dtype %s, want float32", op, p.name, s.DType)
	}
	if !perTensorShape(s.Shape) {
		return ops.Invalidf("%s %s_scale has shape %v, want a scalar (per-tensor quantization)", op, p.name, s.Shape)
	}
	zp := ops.Input(in, p.zp)
	if !zp.Present() {
		return nil
	}
	if zp.DType != t {
		return ops.Invalidf("%s %s_zero_point has dtype %s, want %s like the quantized tensor", op, p.name, zp.DType, t)
	}
	if !perTensorShape(zp.Shape) {
		return ops.Invalidf("%s %s_zero_point has shape %v, want a scalar (per-tensor quantization)", op, p.name, zp.Shape)
	}
	return nil
}

// checkInputs checks the input count against [minIn, maxIn] and that every input in required is present
// (the zero points in between are optional, so ops.CheckInputCount's prefix rule does not fit).
func checkInputs(op string, in []ops.ValueInfo, minIn, maxIn int, required ...int) error {
	if len(in) < minIn || len(in) > maxIn {
		return ops.Invalidf("%s takes %d to %d inputs, the node has %d", op, minIn, maxIn, len(in))
	}
	for _, i := range required {
		if !ops.Input(in, i).Present() {
			return ops.Invalidf("%s input %d is required but missing", op, i)
		}
	}
	return nil
}

// perTensorShape is a scalar or a one-element 1-D tensor.
func perTensorShape(s ops.Shape) bool { return len(s) == 0 || (len(s) == 1 && s[0] == 1) }

// checkQ8 checks that the quantized tensor x (input i) is uint8 or int8.
func checkQ8(op string, in []ops.ValueInfo, i int, name string) (ops.DType, error) {
	x := ops.Input(in, i)
	if x.DType != ops.Uint8 && x.DType != ops.Int8 {
		return 0, ops.Invalidf("%s %s has dtype %s, want uint8 or int8", op, name, x.DType)
	}
	return x.DType, nil
}

// constQParam reports whether p's scale and zero point are known at plan time.
func constQParam(in []ops.ValueInfo, p qParam) bool {
	if ops.Input(in, p.scale).Const == nil {
		return false
	}
	zp := ops.Input(in, p.zp)
	return !zp.Present() || zp.Const != nil
}

// readQParam reads p's scale and zero point (0 when absent) from the tensors.
func readQParam(in []*ops.Tensor, p qParam) (scale, zp float32) {
	scale = in[p.scale].Float32s()[0]
	if t := ops.TensorAt(in, p.zp); t != nil {
		switch d := t.Data().(type) {
		case []uint8:
			zp = float32(d[0])
		case []int8:
			zp = float32(d[0])
		}
	}
	return scale, zp
}

// readQParamInfo is readQParam on plan-time constants (constQParam must hold).
func readQParamInfo(in []ops.ValueInfo, p qParam) (scale, zp float32) {
	ts := make([]*ops.Tensor, max(p.scale, p.zp)+1)
	ts[p.scale] = in[p.scale].Const
	if p.zp < len(in) {
		ts[p.zp] = in[p.zp].Const
	}
	return readQParam(ts, p)
}

// lookupTable is the 256-entry table of a unary quantized operator, indexed by the input's byte (its
// uint8 value, or its int8 value's two's-complement bits).
type lookupTable [256]byte

// floatFn is the float function a table-driven operator applies to the dequantized value (a value, not
// a func, so that building a table at run time allocates nothing).
type floatFn struct {
	kind  floatFnKind
	alpha float32 // LeakyRelu's slope
}

type floatFnKind uint8

const (
	fnIdentity  floatFnKind = iota // x: requantization (QLinearConcat)
	fnSigmoid                      // 1/(1+e^-x)
	fnLeakyRelu                    // x < 0 ? alpha*x : x
)

func (f floatFn) apply(x float32) float32 {
	switch f.kind {
	case fnSigmoid:
		return sigmoid32(x)
	case fnLeakyRelu:
		if x < 0 {
			return f.alpha * x
		}
	}
	return x
}

// buildTable fills t with y = saturate(round(f((x - xzp) * xs) / ys) + yzp) for every x of type T.
func buildTable[T q8](t *lookupTable, f floatFn, xs, xzp, ys, yzp float32) {
	lo, hi := bounds8[T]()
	for i := range t {
		x := float32(T(uint8(i)))
		t[i] = byte(quantize8[T](f.apply((x-xzp)*xs)/ys, yzp, lo, hi))
	}
}

// applyTable writes dst[i] = t[src[i]].
func applyTable[T q8](t *lookupTable, dst, src []T) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = T(t[uint8(v)])
	}
}

// sigmoid32 is 1/(1+e^-x) in float32 (through float64 exp, rounded once).
func sigmoid32(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }
