package ops

import "math"

// The narrow element types of ONNX opsets 19 to 25. Each is held one element per byte in memory; the onnx
// package packs the 4-bit and 2-bit ones two and four to a byte in files. The float types are held as their
// bit patterns and convert exactly to float32; conversions from float64 round to nearest even (E8M0 as its
// rounding mode says) with the out-of-range behaviour of the Cast operator's saturate attribute.
type (
	// Float8E4M3FNBits is a float8 E4M3FN: 1 sign, 4 exponent (bias 7), 3 mantissa bits; no infinities,
	// NaN is S.1111.111, the largest finite value is 448.
	Float8E4M3FNBits uint8
	// Float8E4M3FNUZBits is a float8 E4M3FNUZ: bias 8, no infinities, no negative zero, NaN is 0x80, the largest
	// finite value is 240.
	Float8E4M3FNUZBits uint8
	// Float8E5M2Bits is a float8 E5M2 (bias 15), laid out like the top byte of an IEEE half: it has infinities
	// (S.11111.00) and NaNs (S.11111.xx), the largest finite value is 57344.
	Float8E5M2Bits uint8
	// Float8E5M2FNUZBits is a float8 E5M2FNUZ: bias 16, no infinities, no negative zero, NaN is 0x80, the
	// largest finite value is 57344.
	Float8E5M2FNUZBits uint8
	// Float4E2M1Bits is a float4 E2M1 in the low 4 bits: 1 sign, 2 exponent (bias 1), 1 mantissa bit; values
	// ±{0, 0.5, 1, 1.5, 2, 3, 4, 6}, no infinities or NaNs.
	Float4E2M1Bits uint8
	// Float8E8M0Bits is the unsigned power of two 2^(b-127) of the MX formats; 0xFF is NaN, there is no zero.
	Float8E8M0Bits uint8
	// Uint4Value is a 4-bit unsigned integer, 0 to 15.
	Uint4Value uint8
	// Int4Value is a 4-bit two's-complement integer, -8 to 7, held sign-extended.
	Int4Value int8
	// Uint2Value is a 2-bit unsigned integer, 0 to 3.
	Uint2Value uint8
	// Int2Value is a 2-bit two's-complement integer, -2 to 1, held sign-extended.
	Int2Value int8
)

// miniFloat describes a small binary floating-point format with a sign bit, for encoding and decoding.
type miniFloat struct {
	mantBits  uint
	bias      int
	signBit   uint8
	maxFinite uint8 // magnitude bits of the largest finite value
	infMag    uint8 // magnitude bits of infinity; 0 when the format has none
	nanMag    uint8 // magnitude bits at and above which values are NaN; 0 when none (FNUZ: only 0x80)
	fnuz      bool  // no negative zero: 0x80 is the only NaN
}

var (
	formatE4M3FN   = miniFloat{mantBits: 3, bias: 7, signBit: 0x80, maxFinite: 0x7e, nanMag: 0x7f}
	formatE4M3FNUZ = miniFloat{mantBits: 3, bias: 8, signBit: 0x80, maxFinite: 0x7f, fnuz: true}
	formatE5M2     = miniFloat{mantBits: 2, bias: 15, signBit: 0x80, maxFinite: 0x7b, infMag: 0x7c, nanMag: 0x7d}
	formatE5M2FNUZ = miniFloat{mantBits: 2, bias: 16, signBit: 0x80, maxFinite: 0x7f, fnuz: true}
	formatE2M1     = miniFloat{mantBits: 1, bias: 1, signBit: 0x08, maxFinite: 0x07}
)

// decode converts a bit pattern to float32, exactly.
func (f *miniFloat) decode(b uint8) float32 {
	neg := b&f.signBit != 0
	mag := b &^ f.signBit
	switch {
	case f.fnuz && b == 0x80:
		return float32(math.NaN())
	case f.nanMag != 0 && mag >= f.nanMag:
		return float32(math.NaN())
	case f.infMag != 0 && mag == f.infMag:
		if neg {
			return float32(math.Inf(-1))
		}
		return float32(math.Inf(1))
	}
	exp := int(mag >> f.mantBits)
	mant := int(mag) & (1<<f.mantBits - 1)
	var v float64
	if exp == 0 { // subnormal: no implicit bit, exponent of the smallest normal
		v = math.Ldexp(float64(mant), 1-f.bias-int(f.mantBits))
	} else {
		v = math.Ldexp(float64(mant|1<<f.mantBits), exp-f.bias-int(f.mantBits))
	}
	if neg {
		v = -v
	}
	return float32(v)
}

// nan is the pattern a NaN input becomes. E2M1 has no NaN; like ONNX's reference implementation it gives the
// sign-only pattern (-0).
func (f *miniFloat) nan(sign uint8) uint8 {
	switch {
	case f.fnuz:
		return 0x80
	case f.nanMag == 0:
		return f.signBit
	}
	return sign | 0x7f
}

// encode rounds x to the nearest representable value, ties to even. Out of range values (infinities
// included) become ±maxFinite when saturate is set, else infinity if the format has one, else NaN.
func (f *miniFloat) encode(x float64, saturate bool) uint8 {
	bits := math.Float64bits(x)
	var sign uint8
	if bits>>63 != 0 {
		sign = f.signBit
	}
	overflow := func() uint8 {
		switch {
		case saturate:
			return sign | f.maxFinite
		case f.infMag != 0:
			return sign | f.infMag
		}
		return f.nan(sign)
	}
	switch {
	case math.IsNaN(x):
		return f.nan(sign)
	case math.IsInf(x, 0):
		return overflow()
	}
	exp := int(bits>>52) & 0x7ff
	if exp == 0 { // zero, or a float64 subnormal: far below every format's smallest value
		if f.fnuz {
			return 0
		}
		return sign
	}
	mant := bits&(1<<52-1) | 1<<52
	exp -= 1023
	minExp := 1 - f.bias
	shift := 52 - int(f.mantBits)
	if exp < minExp {
		shift += minExp - exp // subnormal: fewer mantissa bits survive
	}
	var q uint64
	if shift < 54 {
		q = mant >> shift
		rem, half := mant&(1<<shift-1), uint64(1)<<(shift-1)
		if rem > half || (rem == half && q&1 == 1) {
			q++
		}
	}
	var mag uint64
	if exp < minExp {
		mag = q // a carry into the implicit bit makes it the smallest normal, as it should
	} else {
		mag = uint64(exp+f.bias)<<f.mantBits + q - 1<<f.mantBits // a mantissa carry bumps the exponent
	}
	if mag > uint64(f.maxFinite) {
		return overflow()
	}
	if mag == 0 && f.fnuz {
		return 0
	}
	return sign | uint8(mag)
}

// decodeTable returns the float32 value of every pattern of f.
func decodeTable(f *miniFloat, n int) []float32 {
	t := make([]float32, n)
	for i := range t {
		t[i] = f.decode(uint8(i))
	}
	return t
}

var (
	e4m3fnValues   = decodeTable(&formatE4M3FN, 256)
	e4m3fnuzValues = decodeTable(&formatE4M3FNUZ, 256)
	e5m2Values     = decodeTable(&formatE5M2, 256)
	e5m2fnuzValues = decodeTable(&formatE5M2FNUZ, 256)
	e2m1Values     = decodeTable(&formatE2M1, 16)
)

// Float32 converts the float8 to float32 exactly.
func (b Float8E4M3FNBits) Float32() float32 { return e4m3fnValues[b] }

// Float32 converts the float8 to float32 exactly.
func (b Float8E4M3FNUZBits) Float32() float32 { return e4m3fnuzValues[b] }

// Float32 converts the float8 to float32 exactly.
func (b Float8E5M2Bits) Float32() float32 { return e5m2Values[b] }

// Float32 converts the float8 to float32 exactly.
func (b Float8E5M2FNUZBits) Float32() float32 { return e5m2fnuzValues[b] }

// Float32 converts the float4 (its low 4 bits) to float32 exactly.
func (b Float4E2M1Bits) Float32() float32 { return e2m1Values[b&0xf] }

// Float32 converts the power of two to float32 exactly (2^-127 is a float32 subnormal); 0xFF is NaN.
func (b Float8E8M0Bits) Float32() float32 {
	if b == 0xff {
		return float32(math.NaN())
	}
	return float32(math.Ldexp(1, int(b)-127))
}

// Float8E4M3FNFromFloat64 rounds x to E4M3FN. Out of range values and infinities become ±448 when saturate
// is set, NaN otherwise.
func Float8E4M3FNFromFloat64(x float64, saturate bool) Float8E4M3FNBits {
	return Float8E4M3FNBits(formatE4M3FN.encode(x, saturate))
}

// Float8E4M3FNUZFromFloat64 rounds x to E4M3FNUZ (-0 becomes 0). Out of range values and infinities become
// ±240 when saturate is set, NaN otherwise.
func Float8E4M3FNUZFromFloat64(x float64, saturate bool) Float8E4M3FNUZBits {
	return Float8E4M3FNUZBits(formatE4M3FNUZ.encode(x, saturate))
}

// Float8E5M2FromFloat64 rounds x to E5M2. Out of range values and infinities become ±57344 when saturate is
// set, ±Inf otherwise.
func Float8E5M2FromFloat64(x float64, saturate bool) Float8E5M2Bits {
	return Float8E5M2Bits(formatE5M2.encode(x, saturate))
}

// Float8E5M2FNUZFromFloat64 rounds x to E5M2FNUZ (-0 becomes 0). Out of range values and infinities become
// ±57344 when saturate is set, NaN otherwise.
func Float8E5M2FNUZFromFloat64(x float64, saturate bool) Float8E5M2FNUZBits {
	return Float8E5M2FNUZBits(formatE5M2FNUZ.encode(x, saturate))
}

// Float4E2M1FromFloat64 rounds x to E2M1, always saturating to ±6 (the format has no infinity or NaN; NaN
// gives -0, as in ONNX's reference implementation).
func Float4E2M1FromFloat64(x float64) Float4E2M1Bits {
	return Float4E2M1Bits(formatE2M1.encode(x, true))
}

// E8M0Rounding is how a value between two powers of two rounds to Float8E8M0 (Cast's round_mode).
type E8M0Rounding uint8

const (
	// E8M0RoundUp rounds away from zero, to the next power of two ("up", Cast's default).
	E8M0RoundUp E8M0Rounding = iota
	// E8M0RoundDown rounds towards zero ("down").
	E8M0RoundDown
	// E8M0RoundNearest rounds to the nearer power of two, 1.5*2^k and above rounding up ("nearest").
	E8M0RoundNearest
)

// Float8E8M0FromFloat64 rounds |x| (negative values are unspecified in ONNX) to a power of two between 2^-127
// and 2^127. Values outside that range, zero and infinities included, become the nearest end when saturate is
// set and NaN otherwise; NaN stays NaN.
func Float8E8M0FromFloat64(x float64, saturate bool, mode E8M0Rounding) Float8E8M0Bits {
	const nan = 0xff
	x = math.Abs(x)
	switch {
	case math.IsNaN(x):
		return nan
	case math.IsInf(x, 0):
		if saturate {
			return 0xfe
		}
		return nan
	case x == 0:
		if saturate {
			return 0
		}
		return nan
	}
	frac, e := math.Frexp(x) // x = frac * 2^e, frac in [0.5, 1)
	k := e - 1               // x = (2*frac) * 2^k
	switch r := 2 * frac; mode {
	case E8M0RoundUp:
		if r > 1 {
			k++
		}
	case E8M0RoundNearest:
		if r >= 1.5 {
			k++
		}
	}
	switch {
	case k > 127:
		if saturate {
			return 0xfe
		}
		return nan
	case k < -127:
		if saturate {
			return 0
		}
		return nan
	}
	return Float8E8M0Bits(k + 127)
}

// Uint4FromInt64 keeps the low 4 bits of v, as a C cast to a narrower unsigned type does.
func Uint4FromInt64(v int64) Uint4Value { return Uint4Value(uint8(v) & 0xf) }

// Int4FromInt64 keeps the low 4 bits of v as a two's-complement number (so 8 becomes -8 and -9 becomes 7).
func Int4FromInt64(v int64) Int4Value { return Int4Value(int8(uint8(v)<<4) >> 4) }

// Uint2FromInt64 keeps the low 2 bits of v.
func Uint2FromInt64(v int64) Uint2Value { return Uint2Value(uint8(v) & 0x3) }

// Int2FromInt64 keeps the low 2 bits of v as a two's-complement number (so 2 becomes -2 and -3 becomes 1).
func Int2FromInt64(v int64) Int2Value { return Int2Value(int8(uint8(v)<<6) >> 6) }

// NarrowToFloat64 returns the exact conversion of a narrow element type to float64 (the integers as their
// value, the floats through Float32).
func NarrowToFloat64[T NarrowElem]() func(T) float64 {
	var f any
	switch any(T(0)).(type) {
	case Float8E4M3FNBits:
		f = func(b Float8E4M3FNBits) float64 { return float64(b.Float32()) }
	case Float8E4M3FNUZBits:
		f = func(b Float8E4M3FNUZBits) float64 { return float64(b.Float32()) }
	case Float8E5M2Bits:
		f = func(b Float8E5M2Bits) float64 { return float64(b.Float32()) }
	case Float8E5M2FNUZBits:
		f = func(b Float8E5M2FNUZBits) float64 { return float64(b.Float32()) }
	case Float4E2M1Bits:
		f = func(b Float4E2M1Bits) float64 { return float64(b.Float32()) }
	case Float8E8M0Bits:
		f = func(b Float8E8M0Bits) float64 { return float64(b.Float32()) }
	case Uint4Value:
		f = func(v Uint4Value) float64 { return float64(v) }
	case Int4Value:
		f = func(v Int4Value) float64 { return float64(v) }
	case Uint2Value:
		f = func(v Uint2Value) float64 { return float64(v) }
	case Int2Value:
		f = func(v Int2Value) float64 { return float64(v) }
	}
	return f.(func(T) float64)
}

// narrowFromBytes converts one-per-byte bit patterns to dt's element type, sign-extending the 4-bit and 2-bit
// integers; it returns d unchanged when dt is not a narrow type, for FromData to report the mismatch.
func narrowFromBytes(dt DType, d []uint8) any {
	switch dt {
	case Float8E4M3FN:
		return bytesAs(d, func(b uint8) Float8E4M3FNBits { return Float8E4M3FNBits(b) })
	case Float8E4M3FNUZ:
		return bytesAs(d, func(b uint8) Float8E4M3FNUZBits { return Float8E4M3FNUZBits(b) })
	case Float8E5M2:
		return bytesAs(d, func(b uint8) Float8E5M2Bits { return Float8E5M2Bits(b) })
	case Float8E5M2FNUZ:
		return bytesAs(d, func(b uint8) Float8E5M2FNUZBits { return Float8E5M2FNUZBits(b) })
	case Float4E2M1:
		return bytesAs(d, func(b uint8) Float4E2M1Bits { return Float4E2M1Bits(b & 0xf) })
	case Float8E8M0:
		return bytesAs(d, func(b uint8) Float8E8M0Bits { return Float8E8M0Bits(b) })
	case Uint4:
		return bytesAs(d, func(b uint8) Uint4Value { return Uint4FromInt64(int64(b)) })
	case Int4:
		return bytesAs(d, func(b uint8) Int4Value { return Int4FromInt64(int64(b)) })
	case Uint2:
		return bytesAs(d, func(b uint8) Uint2Value { return Uint2FromInt64(int64(b)) })
	case Int2:
		return bytesAs(d, func(b uint8) Int2Value { return Int2FromInt64(int64(b)) })
	}
	return d
}

func bytesAs[T NarrowElem](d []uint8, f func(uint8) T) []T {
	out := make([]T, len(d))
	for i, b := range d {
		out[i] = f(b)
	}
	return out
}

// NarrowBytes returns a narrow-type slice's elements as bit patterns, one per byte in the low bits (the 4-bit
// and 2-bit integers in two's complement, without sign extension): the form FromData takes back. ok is false
// when data is not a slice of a narrow type.
func NarrowBytes(data any) (out []uint8, ok bool) {
	switch d := data.(type) {
	case []Float8E4M3FNBits:
		return asBytes(d, 0xff), true
	case []Float8E4M3FNUZBits:
		return asBytes(d, 0xff), true
	case []Float8E5M2Bits:
		return asBytes(d, 0xff), true
	case []Float8E5M2FNUZBits:
		return asBytes(d, 0xff), true
	case []Float4E2M1Bits:
		return asBytes(d, 0xf), true
	case []Float8E8M0Bits:
		return asBytes(d, 0xff), true
	case []Uint4Value:
		return asBytes(d, 0xf), true
	case []Int4Value:
		return asBytes(d, 0xf), true
	case []Uint2Value:
		return asBytes(d, 0x3), true
	case []Int2Value:
		return asBytes(d, 0x3), true
	}
	return nil, false
}

func asBytes[T NarrowElem](s []T, mask uint8) []uint8 {
	out := make([]uint8, len(s))
	for i, v := range s {
		out[i] = uint8(v) & mask
	}
	return out
}
