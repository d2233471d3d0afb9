package array

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// Range outputs start, start+delta, ... up to limit (exclusive): max(ceil((limit-start)/delta), 0) values.
// https://onnx.ai/onnx/operators/onnx__Range.html — opsets 11, 27.
//
// Integer ranges are exact. Floating-point values are start + i*delta computed in float64 and rounded once
// to the output type, which for float16 and bfloat16 is at least as precise as opset 27's float32
// stash_type asks for.
func init() {
	ops.Register("", "Range",
		ops.Since(11, buildRange),
		ops.Since(27, buildRange), // opset 27: stash_type attribute; float16 and bfloat16
	)
}

type rangeOp struct{}

func buildRange(n ops.NodeInfo) (ops.Op, error) {
	// stash_type (opset 27) needs no reading: the kernels already compute in more than float32 precision.
	return rangeOp{}, nil
}

// ShapeInputs reports that all three inputs must be known to plan: they fix the output length.
func (rangeOp) ShapeInputs() []int { return []int{0, 1, 2} }

func (rangeOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 3, 3); err != nil {
		return nil, err
	}
	dt := in[0].DType
	names := [3]string{"start", "limit", "delta"}
	for i, v := range in {
		if v.DType != dt {
			return nil, ops.Invalidf("%s has dtype %s, start has %s", names[i], v.DType, dt)
		}
		if v.Shape.Size() != 1 || len(v.Shape) > 1 {
			return nil, ops.Invalidf("%s has shape %v, want a scalar", names[i], v.Shape)
		}
	}
	if _, ok := rangeFuncFor(dt); !ok {
		return nil, unsupportedDType(dt)
	}
	for i, v := range in {
		if v.Const == nil {
			return nil, ops.Dynamicf("%s is not a constant", names[i])
		}
	}
	n, err := rangeLen(dt, in[0].Const, in[1].Const, in[2].Const)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: dt, Shape: ops.Shape{n}}}, nil
}

// rangeLen is max(ceil((limit-start)/delta), 0), exact for integers.
func rangeLen(dt ops.DType, start, limit, delta *ops.Tensor) (int, error) {
	if dt.IsInteger() {
		s, l, d := start.AsInt64s()[0], limit.AsInt64s()[0], delta.AsInt64s()[0]
		if d == 0 {
			return 0, ops.Invalidf("delta is 0")
		}
		span := l - s
		if (span > 0) != (d > 0) || span == 0 {
			return 0, nil
		}
		if d < 0 {
			span, d = -span, -d
		}
		return int(ceilDiv(span, d)), nil
	}
	s, l, d := start.AsFloat64s()[0], limit.AsFloat64s()[0], delta.AsFloat64s()[0]
	if d == 0 || math.IsNaN(d) {
		return 0, ops.Invalidf("delta is %v", d)
	}
	n := math.Ceil((l - s) / d)
	if math.IsNaN(n) || n > 1<<40 {
		return 0, ops.Invalidf("range from %v to %v by %v has too many elements", s, l, d)
	}
	return int(max(n, 0)), nil
}

type rangeKernel struct{ run func(out, start, delta any) }

func (k rangeKernel) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	k.run(out[0].Data(), in[0].Data(), in[2].Data())
	return nil
}

func (rangeOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	f, ok := rangeFuncFor(in[0].DType)
	if !ok {
		return nil, unsupportedDType(in[0].DType)
	}
	return rangeKernel{f}, nil
}

func rangeFuncFor(dt ops.DType) (func(out, start, delta any), bool) {
	switch dt {
	case ops.Float32:
		return rangeFloat[float32], true
	case ops.Float64:
		return rangeFloat[float64], true
	case ops.Int8:
		return rangeInt[int8], true
	case ops.Int16:
		return rangeInt[int16], true
	case ops.Int32:
		return rangeInt[int32], true
	case ops.Int64:
		return rangeInt[int64], true
	case ops.Uint8:
		return rangeInt[uint8], true
	case ops.Uint16:
		return rangeInt[uint16], true
	case ops.Uint32:
		return rangeInt[uint32], true
	case ops.Uint64:
		return rangeInt[uint64], true
	case ops.Float16:
		return rangeHalf(ops.Float16Bits.Float32, ops.Float16FromFloat32), true
	case ops.BFloat16:
		return rangeHalf(ops.BFloat16Bits.Float32, ops.BFloat16FromFloat32), true
	}
	return nil, false
}

func rangeInt[T ops.Integer](outData, startData, deltaData any) {
	out, s, d := outData.([]T), startData.([]T)[0], deltaData.([]T)[0]
	v := s
	for i := range out {
		out[i] = v
		v += d
	}
}

func rangeFloat[T ops.Float](outData, startData, deltaData any) {
	out, s, d := outData.([]T), float64(startData.([]T)[0]), float64(deltaData.([]T)[0])
	for i := range out {
		out[i] = T(s + float64(i)*d)
	}
}

func rangeHalf[H ~uint16](widen func(H) float32, narrow func(float32) H) func(out, start, delta any) {
	return func(outData, startData, deltaData any) {
		out := outData.([]H)
		s, d := float64(widen(startData.([]H)[0])), float64(widen(deltaData.([]H)[0]))
		for i := range out {
			out[i] = narrow(float32(s + float64(i)*d))
		}
	}
}
