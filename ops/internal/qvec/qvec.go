package qvec

import (
	"math"
	"unsafe"

	"github.com/onnxrun/onnxrun/ops/internal/isa"
)

// ParallelMin is the span length above which callers split a conversion across threads: below it,
// handing ranges to the workers costs more than the conversion.
const ParallelMin = 1 << 15

// impl is one variant: quantize and dequantize take spans whose length is a multiple of lanes (the
// twin, with lanes 1, does the rest). lo and hi are the saturation bounds minus the zero point.
type impl struct {
	lanes        int
	quantize     func(dst []byte, src []float32, scale, lo, hi float32, zp int32)
	dequantizeU8 func(dst []float32, src []uint8, scale float32, zp int32)
	dequantizeS8 func(dst []float32, src []int8, scale float32, zp int32)
	// add is AddU8/AddS8 (nil: the twin does it all); lo and hi are the saturation bounds.
	add func(c, a, b []byte, signed bool, p AddParams, lo, hi float32)
	// minMax (nil: the twin does it all) takes a span whose length is a multiple of 16 and returns the
	// least and greatest of 0 and the elements of each lane (lane i: src[i], src[i+16], ...), and whether
	// any element is NaN. The lanes come back by value: pointers would escape through the function value.
	minMax func(src []float32) (lo, hi [16]float32, nan bool)
	// requantizeF32 is RequantizeF32's vector span (nil: none); lo and hi are the bounds minus yZero.
	requantizeF32 func(dst []byte, acc []float32, bias int32, mult, lo, hi float32, yZero int32)
}

var active = isa.PickAt(isa.Max(), variants()...).Fn

// VariantName names the variant in use, for onnxrun --version.
func VariantName() string { return isa.Pick(variants()...).Name }

// HasAsm reports whether the variant in use is assembly.
func HasAsm() bool { return isa.Pick(variants()...).Level > isa.PureGo }

// QuantizeU8 computes dst[i] = saturate(round_half_to_even(src[i] / scale) + zp) to [0, 255] for
// i < len(src).
func QuantizeU8(dst []uint8, src []float32, scale float32, zp uint8) {
	quantizeWith(active, dst[:len(src)], src, scale, 0, 255, int32(zp))
}

// QuantizeS8 is QuantizeU8 saturating to [-128, 127].
func QuantizeS8(dst []int8, src []float32, scale float32, zp int8) {
	quantizeWith(active, bytesOf(dst[:len(src)]), src, scale, -128, 127, int32(zp))
}

// DequantizeU8 computes dst[i] = float32(src[i] - zp) * scale for i < len(src).
func DequantizeU8(dst []float32, src []uint8, scale float32, zp uint8) {
	n := split(active, len(src))
	if n > 0 {
		active.dequantizeU8(dst[:n], src[:n], scale, int32(zp))
	}
	twin.dequantizeU8(dst[n:len(src)], src[n:], scale, int32(zp))
}

// DequantizeS8 is DequantizeU8 for int8.
func DequantizeS8(dst []float32, src []int8, scale float32, zp int8) {
	n := split(active, len(src))
	if n > 0 {
		active.dequantizeS8(dst[:n], src[:n], scale, int32(zp))
	}
	twin.dequantizeS8(dst[n:len(src)], src[n:], scale, int32(zp))
}

// MinMax returns the least and greatest of src and 0 (DynamicQuantizeLinear's range always holds 0); a NaN
// makes both NaN, as Go's min and max would.
func MinMax(src []float32) (lo, hi float32) { return minMaxWith(active, src) }

// minMaxWith is MinMax on v's minMax over the largest multiple of 16 elements and the twin over the rest
// and the lanes. A zero bound may be -0 or +0 (VMINPS keeps either); DynamicQuantizeLinear's scale and
// zero point are the same for both.
func minMaxWith(v *impl, src []float32) (lo, hi float32) {
	n := 0
	if v.minMax != nil {
		n = len(src) - len(src)%16
	}
	if n > 0 {
		los, his, sawNaN := v.minMax(src[:n])
		if sawNaN {
			return float32(math.NaN()), float32(math.NaN())
		}
		lo, _ = minMaxTwin(los[:])
		_, hi = minMaxTwin(his[:])
	}
	tailLo, tailHi := minMaxTwin(src[n:])
	return min(lo, tailLo), max(hi, tailHi)
}

// minMaxTwin is the pure-Go MinMax. Plain comparisons and one NaN flag: Go's min and max, which order
// signed zeros and propagate NaN on every call, make the loop several times slower.
func minMaxTwin(src []float32) (lo, hi float32) {
	nan := false
	for _, v := range src {
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
		nan = nan || v != v
	}
	if nan {
		return float32(math.NaN()), float32(math.NaN())
	}
	return lo, hi
}

// quantizeWith runs v's quantize over the whole span, the twin over the tail.
func quantizeWith(v *impl, dst []byte, src []float32, scale, lo, hi float32, zp int32) {
	lo, hi = lo-float32(zp), hi-float32(zp)
	n := split(v, len(src))
	if n > 0 {
		v.quantize(dst[:n], src[:n], scale, lo, hi, zp)
	}
	twin.quantize(dst[n:], src[n:], scale, lo, hi, zp)
}

// RequantizeF32 requantises the leading part of acc that the vector variant in use takes, a multiple
// of its lanes, and returns its length (0 without one); the caller's scalar loop, which it matches
// bit for bit, does the rest. acc holds int32 accumulators as float32 integers (exact below 2^24);
// for i < the returned count,
//
//	dst[i] = saturate(round_half_to_even(float32(int32(acc[i]) + bias) · mult) + yZero)
//
// to [0, 255], or [-128, 127] when signed (dst then holds int8 bits), with a NaN product giving yZero.
func RequantizeF32(dst []byte, acc []float32, bias int32, mult float32, yZero int32, signed bool) int {
	return requantizeF32With(active, dst, acc, bias, mult, yZero, signed)
}

func requantizeF32With(v *impl, dst []byte, acc []float32, bias int32, mult float32, yZero int32, signed bool) int {
	n := split(v, len(acc))
	if v.requantizeF32 == nil || n == 0 {
		return 0
	}
	lo, hi := float32(-yZero), float32(255-yZero)
	if signed {
		lo, hi = float32(-128-yZero), float32(127-yZero)
	}
	v.requantizeF32(dst[:n], acc[:n], bias, mult, lo, hi, yZero)
	return n
}

// split is the part of an n-element span v's assembly takes.
func split(v *impl, n int) int { return n - n%v.lanes }

// bytesOf views an int8 slice as bytes (the quantized bits are the same; only the bounds differ).
func bytesOf(s []int8) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}
