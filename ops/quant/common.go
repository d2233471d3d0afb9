package quant

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// Type sets by the opset that introduced them (see the QuantizeLinear/DequantizeLinear changelog).
var (
	quant8    = ops.DTypes(ops.Int8, ops.Uint8)                                                       // opset 10
	quantF8   = quant8.With(ops.Float8E4M3FN, ops.Float8E4M3FNUZ, ops.Float8E5M2, ops.Float8E5M2FNUZ) // opset 19
	quant16x4 = quantF8.With(ops.Int16, ops.Uint16, ops.Int4, ops.Uint4)                              // opset 21
	quantF4   = quant16x4.With(ops.Float4E2M1)                                                        // opset 23
	quant2    = quantF4.With(ops.Int2, ops.Uint2)                                                     // opset 25
)

// quantTypesAt returns the quantized types opset allows.
func quantTypesAt(opset int) ops.DTypeSet {
	switch {
	case opset >= 25:
		return quant2
	case opset >= 23:
		return quantF4
	case opset >= 21:
		return quant16x4
	case opset >= 19:
		return quantF8
	}
	return quant8
}

// scaleTypesAt returns the scale types opset allows.
func scaleTypesAt(opset int) ops.DTypeSet {
	switch {
	case opset >= 24:
		return ops.DTypes(ops.Float32, ops.Float16, ops.BFloat16, ops.Float8E8M0)
	case opset >= 19:
		return ops.DTypes(ops.Float32, ops.Float16, ops.BFloat16)
	}
	return ops.DTypes(ops.Float32)
}

// load reads element i of any numeric tensor data as float64 (exactly, for every type but uint64/int64
// beyond 2^53).
func load(data any, i int) float64 {
	switch d := data.(type) {
	case []float32:
		return float64(d[i])
	case []float64:
		return d[i]
	case []ops.Float16Bits:
		return float64(d[i].Float32())
	case []ops.BFloat16Bits:
		return float64(d[i].Float32())
	case []int8:
		return float64(d[i])
	case []uint8:
		return float64(d[i])
	case []int16:
		return float64(d[i])
	case []uint16:
		return float64(d[i])
	case []int32:
		return float64(d[i])
	case []uint32:
		return float64(d[i])
	case []int64:
		return float64(d[i])
	case []uint64:
		return float64(d[i])
	case []ops.Float8E4M3FNBits:
		return float64(d[i].Float32())
	case []ops.Float8E4M3FNUZBits:
		return float64(d[i].Float32())
	case []ops.Float8E5M2Bits:
		return float64(d[i].Float32())
	case []ops.Float8E5M2FNUZBits:
		return float64(d[i].Float32())
	case []ops.Float8E8M0Bits:
		return float64(d[i].Float32())
	case []ops.Float4E2M1Bits:
		return float64(d[i].Float32())
	case []ops.Int4Value:
		return float64(d[i])
	case []ops.Uint4Value:
		return float64(d[i])
	case []ops.Int2Value:
		return float64(d[i])
	case []ops.Uint2Value:
		return float64(d[i])
	}
	return math.NaN()
}

// intRange is the saturation range of an integer quantized type.
func intRange(dt ops.DType) (lo, hi float64, ok bool) {
	switch dt {
	case ops.Int8:
		return -128, 127, true
	case ops.Uint8:
		return 0, 255, true
	case ops.Int16:
		return -32768, 32767, true
	case ops.Uint16:
		return 0, 65535, true
	case ops.Int4:
		return -8, 7, true
	case ops.Uint4:
		return 0, 15, true
	case ops.Int2:
		return -2, 1, true
	case ops.Uint2:
		return 0, 3, true
	case ops.Int32:
		return math.MinInt32, math.MaxInt32, true
	}
	return 0, 0, false
}

// storeQuantized writes v (already divided by the scale, zero point not yet added for floats) into element i
// of a quantized tensor: integers are rounded half to even, shifted by zp and saturated; the float8 and
// float4 types get v+zp converted with their own rounding, saturating when asked.
func storeQuantized(data any, i int, v, zp float64, saturate bool) {
	switch d := data.(type) {
	case []int8:
		d[i] = int8(roundClamp(v, zp, -128, 127))
	case []uint8:
		d[i] = uint8(roundClamp(v, zp, 0, 255))
	case []int16:
		d[i] = int16(roundClamp(v, zp, -32768, 32767))
	case []uint16:
		d[i] = uint16(roundClamp(v, zp, 0, 65535))
	case []ops.Int4Value:
		d[i] = ops.Int4Value(roundClamp(v, zp, -8, 7))
	case []ops.Uint4Value:
		d[i] = ops.Uint4Value(roundClamp(v, zp, 0, 15))
	case []ops.Int2Value:
		d[i] = ops.Int2Value(roundClamp(v, zp, -2, 1))
	case []ops.Uint2Value:
		d[i] = ops.Uint2Value(roundClamp(v, zp, 0, 3))
	case []ops.Float8E4M3FNBits:
		d[i] = ops.Float8E4M3FNFromFloat64(v+zp, saturate)
	case []ops.Float8E4M3FNUZBits:
		d[i] = ops.Float8E4M3FNUZFromFloat64(v+zp, saturate)
	case []ops.Float8E5M2Bits:
		d[i] = ops.Float8E5M2FromFloat64(v+zp, saturate)
	case []ops.Float8E5M2FNUZBits:
		d[i] = ops.Float8E5M2FNUZFromFloat64(v+zp, saturate)
	case []ops.Float4E2M1Bits:
		d[i] = ops.Float4E2M1FromFloat64(v + zp)
	}
}

// roundClamp is round-half-to-even(v) + zp, saturated to [lo, hi]; NaN becomes zp.
func roundClamp(v, zp, lo, hi float64) int64 {
	r := math.RoundToEven(v)
	if r != r {
		r = 0
	}
	r += zp
	return int64(max(lo, min(hi, r)))
}

// storeFloat writes v into element i of a float32, float16 or bfloat16 tensor.
func storeFloat(data any, i int, v float32) {
	switch d := data.(type) {
	case []float32:
		d[i] = v
	case []ops.Float16Bits:
		d[i] = ops.Float16FromFloat32(v)
	case []ops.BFloat16Bits:
		d[i] = ops.BFloat16FromFloat32(v)
	}
}

// roundTo rounds v to the precision of a float dtype (float16 and bfloat16 through their bit patterns), so
// that products of scales match arithmetic done in that type.
func roundTo(dt ops.DType, v float32) float32 {
	switch dt {
	case ops.Float16:
		return ops.Float16FromFloat32(v).Float32()
	case ops.BFloat16:
		return ops.BFloat16FromFloat32(v).Float32()
	}
	return v
}

// granularity says which scale (and zero point) applies to each element of x, viewed as outer × dim × inner
// around the quantization axis.
type granularity struct {
	outer, dim, inner int
	mode              int // perTensor, perAxis or blocked
	block             int // blocked: elements along the axis per scale
	scaleDim          int // blocked: the scale's extent along the axis
}

const (
	perTensor = iota
	perAxis
	blocked
)

// scaleIndex returns the scale element for x's element at (o, d, i).
func (g *granularity) scaleIndex(o, d, i int) int {
	switch g.mode {
	case perAxis:
		return d
	case blocked:
		return (o*g.scaleDim+d/g.block)*g.inner + i
	}
	return 0
}

// newGranularity checks the scale's shape against x's and picks the granularity, as the QuantizeLinear spec
// describes: a scalar (or one-element 1-D tensor) is per tensor, a 1-D tensor of x's axis length is per axis,
// and a tensor of x's rank whose axis dimension is ceil(D/block_size) is blocked.
func newGranularity(op string, x, scale ops.Shape, axis, blockSize int64) (*granularity, error) {
	g := &granularity{outer: 1, dim: x.Size(), inner: 1}
	if len(scale) == 0 || (len(scale) == 1 && scale[0] == 1 && blockSize == 0) {
		return g, nil
	}
	if len(x) == 0 {
		return nil, ops.Invalidf("%s of a scalar input with a scale of shape %v, want a scalar scale", op, scale)
	}
	ax, err := ops.NormalizeAxis(int(axis), len(x))
	if err != nil {
		return nil, ops.Invalidf("%s attribute axis: %v (input shape %v)", op, err, x)
	}
	g.outer, g.dim, g.inner = x[:ax].Size(), x[ax], x[ax+1:].Size()
	if blockSize <= 0 {
		if len(scale) != 1 || scale[0] != x[ax] {
			return nil, ops.Invalidf("%s scale has shape %v, want a scalar or [%d] (input shape %v, axis %d)", op, scale, x[ax], x, ax)
		}
		g.mode = perAxis
		return g, nil
	}
	if len(scale) != len(x) {
		return nil, ops.Invalidf("%s blocked scale has shape %v, want rank %d like the input %v", op, scale, len(x), x)
	}
	for i := range x {
		if i != ax && scale[i] != x[i] {
			return nil, ops.Invalidf("%s blocked scale has shape %v, want the input's dimensions %v except on axis %d", op, scale, x, ax)
		}
	}
	b := int(blockSize)
	if want := (x[ax] + b - 1) / b; scale[ax] != want {
		return nil, ops.Invalidf("%s blocked scale has %d blocks on axis %d, want ceil(%d/block_size=%d) = %d", op, scale[ax], ax, x[ax], b, want)
	}
	g.mode, g.block, g.scaleDim = blocked, b, scale[ax]
	return g, nil
}

// sameScaleShape reports whether a zero point's shape fits the scale's: equal, or both a single element (a
// scalar and a [1] tensor are both per-tensor, and exporters mix them).
func sameScaleShape(zp, scale ops.Shape) bool {
	return zp.Equal(scale) || (zp.Size() == 1 && scale.Size() == 1 && len(zp) <= 1 && len(scale) <= 1)
}
