package ops

import "math"

// Float32 converts a half-precision bit pattern to float32 exactly (every half is a float32).
func (h Float16Bits) Float32() float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: renormalise
		e := uint32(127 - 15 + 1)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		mant &= 0x3ff
		return math.Float32frombits(sign | e<<23 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// Float16FromFloat32 rounds f to the nearest half-precision value (ties to even), as numpy's astype does.
func Float16FromFloat32(f float32) Float16Bits {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff { // Inf or NaN; keep NaN quiet and non-zero
		if mant != 0 {
			return Float16Bits(sign | 0x7e00)
		}
		return Float16Bits(sign | 0x7c00)
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return Float16Bits(sign | 0x7c00)
	}
	if e <= 0 { // subnormal or zero in half precision
		if e < -10 {
			return Float16Bits(sign)
		}
		mant |= 0x800000
		shift := uint32(14 - e)
		half := mant >> shift
		rem := mant & (1<<shift - 1)
		mid := uint32(1) << (shift - 1)
		if rem > mid || (rem == mid && half&1 == 1) {
			half++
		}
		return Float16Bits(sign | uint16(half))
	}
	half := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && half&1 == 1) {
		half++ // may carry into the exponent, which is the right rounding (up to Inf)
	}
	return Float16Bits(uint32(sign) | half)
}

// Float32 converts a bfloat16 bit pattern to float32 exactly.
func (h BFloat16Bits) Float32() float32 { return math.Float32frombits(uint32(h) << 16) }

// BFloat16FromFloat32 rounds f to the nearest bfloat16 (ties to even), keeping NaN a NaN.
func BFloat16FromFloat32(f float32) BFloat16Bits {
	b := math.Float32bits(f)
	if f != f {
		return BFloat16Bits(b>>16 | 0x40)
	}
	b += 0x7fff + (b>>16)&1
	return BFloat16Bits(b >> 16)
}
