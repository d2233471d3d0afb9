package elementwise

import (
	"strconv"

	"github.com/onnxrun/onnxrun/ops"
)

// Cast and CastLike for the narrow storage types of opsets 19 to 25 (float8, float4e2m1, float8e8m0, the
// 4-bit and 2-bit integers). Every element goes through one intermediate: int64 when both sides are
// integers (so integers keep their low bits, as a C cast does), float64 otherwise; the narrow floats are
// exact in float64, so a conversion rounds once, into the target.

// narrowParams are the attributes that shape a conversion into a narrow float type.
type narrowParams struct {
	saturate bool
	round    ops.E8M0Rounding
}

// narrowCodec converts to and from a narrow element type.
type narrowCodec[T ops.NarrowElem] struct {
	isInt     bool
	toFloat   func(T) float64
	fromFloat func(float64) T // rounds (floats) or truncates towards zero, then wraps (integers)
	fromInt   func(int64) T   // wraps (integers) or converts exactly before rounding (floats)
}

func codecOf[T ops.NarrowElem](p narrowParams) narrowCodec[T] {
	c := narrowCodec[T]{toFloat: ops.NarrowToFloat64[T]()}
	var enc any
	switch any(T(0)).(type) {
	case ops.Float8E4M3FNBits:
		enc = func(x float64) ops.Float8E4M3FNBits { return ops.Float8E4M3FNFromFloat64(x, p.saturate) }
	case ops.Float8E4M3FNUZBits:
		enc = func(x float64) ops.Float8E4M3FNUZBits { return ops.Float8E4M3FNUZFromFloat64(x, p.saturate) }
	case ops.Float8E5M2Bits:
		enc = func(x float64) ops.Float8E5M2Bits { return ops.Float8E5M2FromFloat64(x, p.saturate) }
	case ops.Float8E5M2FNUZBits:
		enc = func(x float64) ops.Float8E5M2FNUZBits { return ops.Float8E5M2FNUZFromFloat64(x, p.saturate) }
	case ops.Float4E2M1Bits:
		enc = ops.Float4E2M1FromFloat64
	case ops.Float8E8M0Bits:
		enc = func(x float64) ops.Float8E8M0Bits { return ops.Float8E8M0FromFloat64(x, p.saturate, p.round) }
	case ops.Uint4Value:
		enc = ops.Uint4FromInt64
	case ops.Int4Value:
		enc = ops.Int4FromInt64
	case ops.Uint2Value:
		enc = ops.Uint2FromInt64
	case ops.Int2Value:
		enc = ops.Int2FromInt64
	}
	switch e := enc.(type) {
	case func(float64) T:
		c.fromFloat = e
		c.fromInt = func(i int64) T { return e(float64(i)) }
	case func(int64) T:
		c.isInt = true
		c.fromInt = e
		c.fromFloat = func(x float64) T { return e(int64(x)) }
	}
	return c
}

// castNarrow returns the kernel for a cast whose source or target is a narrow type, or nil.
func castNarrow(src, dst ops.DType, p narrowParams) ops.Kernel {
	switch src {
	case ops.Float8E4M3FN:
		return castFromNarrow[ops.Float8E4M3FNBits](dst, p)
	case ops.Float8E4M3FNUZ:
		return castFromNarrow[ops.Float8E4M3FNUZBits](dst, p)
	case ops.Float8E5M2:
		return castFromNarrow[ops.Float8E5M2Bits](dst, p)
	case ops.Float8E5M2FNUZ:
		return castFromNarrow[ops.Float8E5M2FNUZBits](dst, p)
	case ops.Float4E2M1:
		return castFromNarrow[ops.Float4E2M1Bits](dst, p)
	case ops.Float8E8M0:
		return castFromNarrow[ops.Float8E8M0Bits](dst, p)
	case ops.Uint4:
		return castFromNarrow[ops.Uint4Value](dst, p)
	case ops.Int4:
		return castFromNarrow[ops.Int4Value](dst, p)
	case ops.Uint2:
		return castFromNarrow[ops.Uint2Value](dst, p)
	case ops.Int2:
		return castFromNarrow[ops.Int2Value](dst, p)
	}
	switch dst {
	case ops.Float8E4M3FN:
		return castToNarrow[ops.Float8E4M3FNBits](src, p)
	case ops.Float8E4M3FNUZ:
		return castToNarrow[ops.Float8E4M3FNUZBits](src, p)
	case ops.Float8E5M2:
		return castToNarrow[ops.Float8E5M2Bits](src, p)
	case ops.Float8E5M2FNUZ:
		return castToNarrow[ops.Float8E5M2FNUZBits](src, p)
	case ops.Float4E2M1:
		return castToNarrow[ops.Float4E2M1Bits](src, p)
	case ops.Float8E8M0:
		return castToNarrow[ops.Float8E8M0Bits](src, p)
	case ops.Uint4:
		return castToNarrow[ops.Uint4Value](src, p)
	case ops.Int4:
		return castToNarrow[ops.Int4Value](src, p)
	case ops.Uint2:
		return castToNarrow[ops.Uint2Value](src, p)
	case ops.Int2:
		return castToNarrow[ops.Int2Value](src, p)
	}
	return nil
}

// castToNarrow converts a wide source type (numbers, bool, string) to the narrow type D.
func castToNarrow[D ops.NarrowElem](src ops.DType, p narrowParams) ops.Kernel {
	c := codecOf[D](p)
	switch src {
	case ops.Float32:
		return floatToNarrow[float32](c)
	case ops.Float64:
		return floatToNarrow[float64](c)
	case ops.Float16:
		return floatToNarrow[ops.Float16Bits](c)
	case ops.BFloat16:
		return floatToNarrow[ops.BFloat16Bits](c)
	case ops.Int8:
		return intToNarrow[int8](c)
	case ops.Int16:
		return intToNarrow[int16](c)
	case ops.Int32:
		return intToNarrow[int32](c)
	case ops.Int64:
		return intToNarrow[int64](c)
	case ops.Uint8:
		return intToNarrow[uint8](c)
	case ops.Uint16:
		return intToNarrow[uint16](c)
	case ops.Uint32:
		return intToNarrow[uint32](c)
	case ops.Uint64:
		return intToNarrow[uint64](c)
	case ops.Bool:
		one, zero := c.fromInt(1), c.fromInt(0)
		return mapKernel[bool, D]{func(b bool) D {
			if b {
				return one
			}
			return zero
		}}
	case ops.String:
		if c.isInt {
			parse := parseNumber[int64]()
			return parseKernel[D]{func(s string) (D, bool) { v, ok := parse(s); return c.fromInt(v), ok }}
		}
		parse := parseNumber[float64]()
		return parseKernel[D]{func(s string) (D, bool) { v, ok := parse(s); return c.fromFloat(v), ok }}
	}
	return nil
}

func floatToNarrow[S numElem, D ops.NarrowElem](c narrowCodec[D]) ops.Kernel {
	to := toF64[S]()
	return mapKernel[S, D]{func(s S) D { return c.fromFloat(to(s)) }}
}

func intToNarrow[S ops.Integer, D ops.NarrowElem](c narrowCodec[D]) ops.Kernel {
	return mapKernel[S, D]{func(s S) D { return c.fromInt(int64(s)) }}
}

// castFromNarrow converts the narrow type S to any target type.
func castFromNarrow[S ops.NarrowElem](dst ops.DType, p narrowParams) ops.Kernel {
	c := codecOf[S](p)
	if narrowTypes.Has(dst) {
		return castNarrowTo[S](dst, c, p)
	}
	switch dst {
	case ops.Float32:
		return narrowToWide[S, float32](c)
	case ops.Float64:
		return narrowToWide[S, float64](c)
	case ops.Float16:
		return narrowToWide[S, ops.Float16Bits](c)
	case ops.BFloat16:
		return narrowToWide[S, ops.BFloat16Bits](c)
	case ops.Int8:
		return narrowToWide[S, int8](c)
	case ops.Int16:
		return narrowToWide[S, int16](c)
	case ops.Int32:
		return narrowToWide[S, int32](c)
	case ops.Int64:
		return narrowToWide[S, int64](c)
	case ops.Uint8:
		return narrowToWide[S, uint8](c)
	case ops.Uint16:
		return narrowToWide[S, uint16](c)
	case ops.Uint32:
		return narrowToWide[S, uint32](c)
	case ops.Uint64:
		return narrowToWide[S, uint64](c)
	case ops.Bool:
		return mapKernel[S, bool]{func(s S) bool { return c.toFloat(s) != 0 }} // NaN is true
	case ops.String:
		if c.isInt {
			return mapKernel[S, string]{func(s S) string { return strconv.FormatInt(int64(c.toFloat(s)), 10) }}
		}
		format := formatNumber[float64]()
		return mapKernel[S, string]{func(s S) string { return format(c.toFloat(s)) }}
	}
	return nil
}

// narrowToWide converts through int64 for a narrow integer source (exact, then wrapping like any integer
// cast) and through float64 for a narrow float (exact, then one rounding or truncation).
func narrowToWide[S ops.NarrowElem, D numElem](c narrowCodec[S]) ops.Kernel {
	if c.isInt {
		conv := convertNum[int64, D]()
		return mapKernel[S, D]{func(s S) D { return conv(int64(c.toFloat(s))) }}
	}
	conv := convertNum[float64, D]()
	return mapKernel[S, D]{func(s S) D { return conv(c.toFloat(s)) }}
}

// castNarrowTo converts between two narrow types.
func castNarrowTo[S ops.NarrowElem](dst ops.DType, c narrowCodec[S], p narrowParams) ops.Kernel {
	switch dst {
	case ops.Float8E4M3FN:
		return narrowToNarrow(c, codecOf[ops.Float8E4M3FNBits](p))
	case ops.Float8E4M3FNUZ:
		return narrowToNarrow(c, codecOf[ops.Float8E4M3FNUZBits](p))
	case ops.Float8E5M2:
		return narrowToNarrow(c, codecOf[ops.Float8E5M2Bits](p))
	case ops.Float8E5M2FNUZ:
		return narrowToNarrow(c, codecOf[ops.Float8E5M2FNUZBits](p))
	case ops.Float4E2M1:
		return narrowToNarrow(c, codecOf[ops.Float4E2M1Bits](p))
	case ops.Float8E8M0:
		return narrowToNarrow(c, codecOf[ops.Float8E8M0Bits](p))
	case ops.Uint4:
		return narrowToNarrow(c, codecOf[ops.Uint4Value](p))
	case ops.Int4:
		return narrowToNarrow(c, codecOf[ops.Int4Value](p))
	case ops.Uint2:
		return narrowToNarrow(c, codecOf[ops.Uint2Value](p))
	case ops.Int2:
		return narrowToNarrow(c, codecOf[ops.Int2Value](p))
	}
	return nil
}

func narrowToNarrow[S, D ops.NarrowElem](from narrowCodec[S], to narrowCodec[D]) ops.Kernel {
	if from.isInt {
		return mapKernel[S, D]{func(s S) D { return to.fromInt(int64(from.toFloat(s))) }}
	}
	return mapKernel[S, D]{func(s S) D { return to.fromFloat(from.toFloat(s)) }}
}
