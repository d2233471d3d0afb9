package ops

import (
	"math"
	"testing"
)

// narrowFormat bundles one float format's conversions for table tests.
type narrowFormat struct {
	name   string
	n      int // number of bit patterns
	decode func(b uint8) float32
	encode func(x float64, saturate bool) uint8
	max    float64
}

var narrowFormats = []narrowFormat{
	{"e4m3fn", 256, func(b uint8) float32 { return Float8E4M3FNBits(b).Float32() },
		func(x float64, s bool) uint8 { return uint8(Float8E4M3FNFromFloat64(x, s)) }, 448},
	{"e4m3fnuz", 256, func(b uint8) float32 { return Float8E4M3FNUZBits(b).Float32() },
		func(x float64, s bool) uint8 { return uint8(Float8E4M3FNUZFromFloat64(x, s)) }, 240},
	{"e5m2", 256, func(b uint8) float32 { return Float8E5M2Bits(b).Float32() },
		func(x float64, s bool) uint8 { return uint8(Float8E5M2FromFloat64(x, s)) }, 57344},
	{"e5m2fnuz", 256, func(b uint8) float32 { return Float8E5M2FNUZBits(b).Float32() },
		func(x float64, s bool) uint8 { return uint8(Float8E5M2FNUZFromFloat64(x, s)) }, 57344},
	{"e2m1", 16, func(b uint8) float32 { return Float4E2M1Bits(b).Float32() },
		func(x float64, _ bool) uint8 { return uint8(Float4E2M1FromFloat64(x)) }, 6},
}

func TestNarrowFloatKnownValues(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		format string
		bits   uint8
		value  float64
	}{
		{"e4m3fn", 0x00, 0}, {"e4m3fn", 0x38, 1}, {"e4m3fn", 0x40, 2}, {"e4m3fn", 0xb8, -1}, {"e4m3fn", 0x7e, 448},
		{"e4m3fn", 0xfe, -448}, {"e4m3fn", 0x01, 0x1p-9}, {"e4m3fn", 0x08, 0x1p-6}, {"e4m3fn", 0x07, 7 * 0x1p-9},
		{"e4m3fn", 0x7f, nan}, {"e4m3fn", 0xff, nan}, {"e4m3fn", 0x77, 240},
		{"e4m3fnuz", 0x40, 1}, {"e4m3fnuz", 0x7f, 240}, {"e4m3fnuz", 0xff, -240}, {"e4m3fnuz", 0x80, nan},
		{"e4m3fnuz", 0x01, 0x1p-10},
		{"e5m2", 0x3c, 1}, {"e5m2", 0x7b, 57344}, {"e5m2", 0x7c, inf}, {"e5m2", 0xfc, -inf}, {"e5m2", 0x7d, nan},
		{"e5m2", 0x7e, nan}, {"e5m2", 0xff, nan}, {"e5m2", 0x01, 0x1p-16}, {"e5m2", 0x80, 0},
		{"e5m2fnuz", 0x40, 1}, {"e5m2fnuz", 0x7f, 57344}, {"e5m2fnuz", 0x80, nan}, {"e5m2fnuz", 0x01, 0x1p-17},
		{"e2m1", 0x0, 0}, {"e2m1", 0x1, 0.5}, {"e2m1", 0x2, 1}, {"e2m1", 0x3, 1.5}, {"e2m1", 0x4, 2}, {"e2m1", 0x5, 3},
		{"e2m1", 0x6, 4}, {"e2m1", 0x7, 6}, {"e2m1", 0xf, -6}, {"e2m1", 0x9, -0.5},
	}
	for _, tt := range tests {
		f := findFormat(t, tt.format)
		got := float64(f.decode(tt.bits))
		if got != tt.value && !(math.IsNaN(got) && math.IsNaN(tt.value)) {
			t.Errorf("%s 0x%02x = %v, want %v", tt.format, tt.bits, got, tt.value)
		}
	}
}

func findFormat(t *testing.T, name string) narrowFormat {
	for _, f := range narrowFormats {
		if f.name == name {
			return f
		}
	}
	t.Fatalf("no format %s", name)
	return narrowFormat{}
}

// TestNarrowFloatRoundTrip decodes every bit pattern and encodes it back: finite values and zeros must give the
// same pattern (FNUZ has no -0), NaNs a NaN, infinities themselves (or the largest value when saturating).
func TestNarrowFloatRoundTrip(t *testing.T) {
	for _, f := range narrowFormats {
		for i := range f.n {
			b := uint8(i)
			v := f.decode(b)
			for _, saturate := range []bool{false, true} {
				got := f.encode(float64(v), saturate)
				back := f.decode(got)
				switch {
				case math.IsNaN(float64(v)):
					if f.name != "e2m1" && !math.IsNaN(float64(back)) {
						t.Errorf("%s saturate=%v: NaN 0x%02x encodes to 0x%02x = %v", f.name, saturate, b, got, back)
					}
				case math.IsInf(float64(v), 0):
					want := v
					if saturate {
						want = float32(math.Copysign(f.max, float64(v)))
					}
					if back != want {
						t.Errorf("%s saturate=%v: %v encodes to %v, want %v", f.name, saturate, v, back, want)
					}
				case got != b:
					t.Errorf("%s saturate=%v: 0x%02x = %v encodes to 0x%02x", f.name, saturate, b, v, got)
				}
			}
		}
	}
}

// TestNarrowFloatRounding compares the encoder with a brute-force search of the nearest pattern (ties to the
// even pattern) over a sweep of float32 values inside the finite range.
func TestNarrowFloatRounding(t *testing.T) {
	for _, f := range narrowFormats {
		for _, x := range sweep(f.max) {
			got := f.decode(f.encode(x, true))
			want := nearest(f, x)
			if got != want || math.Signbit(float64(got)) != math.Signbit(float64(want)) {
				t.Fatalf("%s: %v (0x%08x) rounds to %v, want %v", f.name, x, math.Float32bits(float32(x)), got, want)
			}
		}
	}
}

// sweep returns float32 values of both signs from tiny to max, with midpoints between them.
func sweep(max float64) []float64 {
	var xs []float64
	for e := -30; e <= 16; e++ {
		for m := 0; m < 64; m++ {
			x := math.Ldexp(1+float64(m)/64, e)
			if x > max {
				break
			}
			xs = append(xs, x, -x, float64(float32(x*1.0000001)))
		}
	}
	return append(xs, 0, math.Copysign(0, -1), max, -max)
}

func nearest(f narrowFormat, x float64) float32 {
	best, bestBits := float32(math.NaN()), -1
	for i := range f.n {
		v := f.decode(uint8(i))
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			continue
		}
		d, bd := math.Abs(float64(v)-x), math.Abs(float64(best)-x)
		switch {
		case bestBits < 0 || d < bd:
			best, bestBits = v, i
		case d == bd && v == best && math.Signbit(float64(v)) == math.Signbit(x):
			best, bestBits = v, i // ±0: keep the input's sign
		case d == bd && v != best && i&1 == 0:
			best, bestBits = v, i
		}
	}
	if best == 0 && !math.Signbit(float64(best)) && math.Signbit(x) && f.encode(math.Copysign(0, -1), true) != 0 {
		best = float32(math.Copysign(0, -1))
	}
	return best
}

// TestNarrowFloatSpecialValues follows the tables of the Cast operator and its node tests' data.
func TestNarrowFloatSpecialValues(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	inputs := []float64{0.47892547, 0.48033667, 0.49968487, 0.81910545, 0.47031248, 0.7229038, 1000000, 1e-7,
		nan, inf, inf, -inf, -0.0000001, 0.0000001, -1000000}
	tests := []struct {
		format   string
		saturate bool
		want     []uint8
	}{
		{"e4m3fn", true, []uint8{0x2f, 0x2f, 0x30, 0x35, 0x2f, 0x34, 0x7e, 0x00, 0x7f, 0x7e, 0x7e, 0xfe, 0x80, 0x00, 0xfe}},
		{"e4m3fn", false, []uint8{0x2f, 0x2f, 0x30, 0x35, 0x2f, 0x34, 0x7f, 0x00, 0x7f, 0x7f, 0x7f, 0xff, 0x80, 0x00, 0xff}},
		{"e4m3fnuz", true, []uint8{0x37, 0x37, 0x38, 0x3d, 0x37, 0x3c, 0x7f, 0x00, 0x80, 0x7f, 0x7f, 0xff, 0x00, 0x00, 0xff}},
		{"e4m3fnuz", false, []uint8{0x37, 0x37, 0x38, 0x3d, 0x37, 0x3c, 0x80, 0x00, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00, 0x80}},
		{"e5m2", true, []uint8{0x38, 0x38, 0x38, 0x3b, 0x38, 0x3a, 0x7b, 0x00, 0x7f, 0x7b, 0x7b, 0xfb, 0x80, 0x00, 0xfb}},
		{"e5m2", false, []uint8{0x38, 0x38, 0x38, 0x3b, 0x38, 0x3a, 0x7c, 0x00, 0x7f, 0x7c, 0x7c, 0xfc, 0x80, 0x00, 0xfc}},
		{"e5m2fnuz", true, []uint8{0x3c, 0x3c, 0x3c, 0x3f, 0x3c, 0x3e, 0x7f, 0x00, 0x80, 0x7f, 0x7f, 0xff, 0x00, 0x00, 0xff}},
		{"e5m2fnuz", false, []uint8{0x3c, 0x3c, 0x3c, 0x3f, 0x3c, 0x3e, 0x80, 0x00, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00, 0x80}},
	}
	for _, tt := range tests {
		f := findFormat(t, tt.format)
		for i, x := range inputs {
			if got := f.encode(float64(float32(x)), tt.saturate); got != tt.want[i] {
				t.Errorf("%s saturate=%v: %v encodes to 0x%02x, want 0x%02x", tt.format, tt.saturate, x, got, tt.want[i])
			}
		}
	}
	// Ties round to even, at the top of the range too; beyond it non-saturating E4M3FN gives NaN.
	ties := []struct {
		format   string
		saturate bool
		x        float64
		want     uint8
	}{
		{"e4m3fn", true, 1 + 1.0/16, 0x38}, {"e4m3fn", true, 1 + 3.0/16, 0x3a}, {"e4m3fn", true, 0x1p-10, 0x00},
		{"e4m3fn", true, 3 * 0x1p-10, 0x02}, {"e4m3fn", false, 464, 0x7e}, {"e4m3fn", false, 465, 0x7f},
		{"e4m3fn", true, 465, 0x7e}, {"e4m3fn", true, 15.5 * 0x1p-10, 0x08}, {"e5m2", false, 61440, 0x7c},
		{"e5m2", false, 61439, 0x7b}, {"e2m1", true, 0.25, 0x0}, {"e2m1", true, 0.75, 0x2}, {"e2m1", true, -3.5, 0xe},
		{"e2m1", true, 5, 0x6}, {"e2m1", true, 1e6, 0x7}, {"e2m1", true, -inf, 0xf}, {"e2m1", true, nan, 0x8},
		{"e2m1", true, math.Copysign(0, -1), 0x8}, {"e2m1", true, 0.01, 0x0},
	}
	for _, tt := range ties {
		if got := findFormat(t, tt.format).encode(tt.x, tt.saturate); got != tt.want {
			t.Errorf("%s saturate=%v: %v encodes to 0x%02x, want 0x%02x", tt.format, tt.saturate, tt.x, got, tt.want)
		}
	}
}

func TestFloat8E8M0(t *testing.T) {
	for i := range 255 {
		b := Float8E8M0Bits(i)
		v := b.Float32()
		if want := math.Ldexp(1, i-127); float64(v) != want {
			t.Fatalf("0x%02x = %v, want %v", i, v, want)
		}
		for _, mode := range []E8M0Rounding{E8M0RoundUp, E8M0RoundDown, E8M0RoundNearest} {
			for _, saturate := range []bool{false, true} {
				if got := Float8E8M0FromFloat64(float64(v), saturate, mode); got != b {
					t.Fatalf("%v (mode %d, saturate %v) encodes to 0x%02x, want 0x%02x", v, mode, saturate, got, b)
				}
			}
		}
	}
	if v := Float8E8M0Bits(0xff).Float32(); !math.IsNaN(float64(v)) {
		t.Errorf("0xff = %v, want NaN", v)
	}
	tests := []struct {
		x        float64
		saturate bool
		mode     E8M0Rounding
		want     Float8E8M0Bits
	}{
		// The node test's values: saturate, round up.
		{0, true, E8M0RoundUp, 0x00}, {0.124, true, E8M0RoundUp, 0x7c}, {0.25, true, E8M0RoundUp, 0x7d},
		{1.1, true, E8M0RoundUp, 0x80}, {8, true, E8M0RoundUp, 0x82},
		{1.1, true, E8M0RoundDown, 0x7f}, {1.49, true, E8M0RoundNearest, 0x7f}, {1.5, true, E8M0RoundNearest, 0x80},
		{math.NaN(), true, E8M0RoundUp, 0xff}, {math.Inf(1), true, E8M0RoundUp, 0xfe}, {math.Inf(1), false, E8M0RoundUp, 0xff},
		{0, false, E8M0RoundNearest, 0xff}, {0x1p200, true, E8M0RoundDown, 0xfe}, {0x1p200, false, E8M0RoundDown, 0xff},
		{0x1.8p127, true, E8M0RoundUp, 0xfe}, {0x1.8p127, false, E8M0RoundUp, 0xff}, {0x1p-140, true, E8M0RoundUp, 0x00},
	}
	for _, tt := range tests {
		if got := Float8E8M0FromFloat64(tt.x, tt.saturate, tt.mode); got != tt.want {
			t.Errorf("%v (saturate %v, mode %d) = 0x%02x, want 0x%02x", tt.x, tt.saturate, tt.mode, got, tt.want)
		}
	}
}

func TestNarrowIntegers(t *testing.T) {
	for v := int64(-20); v <= 20; v++ {
		if got, want := int64(Int4FromInt64(v)), ((v+8)%16+16)%16-8; got != want {
			t.Errorf("Int4FromInt64(%d) = %d, want %d", v, got, want)
		}
		if got, want := int64(Uint4FromInt64(v)), (v%16+16)%16; got != want {
			t.Errorf("Uint4FromInt64(%d) = %d, want %d", v, got, want)
		}
		if got, want := int64(Int2FromInt64(v)), ((v+2)%4+4)%4-2; got != want {
			t.Errorf("Int2FromInt64(%d) = %d, want %d", v, got, want)
		}
		if got, want := int64(Uint2FromInt64(v)), (v%4+4)%4; got != want {
			t.Errorf("Uint2FromInt64(%d) = %d, want %d", v, got, want)
		}
	}
}

// TestNarrowTensors checks the tensor plumbing: FromData from bit patterns, NarrowBytes back, AsFloat64s.
func TestNarrowTensors(t *testing.T) {
	tests := []struct {
		dt   DType
		in   []uint8
		want []float64
	}{
		{Float8E4M3FN, []uint8{0x38, 0xc0, 0x7e}, []float64{1, -2, 448}},
		{Float8E4M3FNUZ, []uint8{0x40, 0x00}, []float64{1, 0}},
		{Float8E5M2, []uint8{0x3c, 0xfc}, []float64{1, math.Inf(-1)}},
		{Float8E5M2FNUZ, []uint8{0x40, 0xc0}, []float64{1, -1}},
		{Float4E2M1, []uint8{0x7, 0x9}, []float64{6, -0.5}},
		{Float8E8M0, []uint8{0x7f, 0x81}, []float64{1, 4}},
		{Uint4, []uint8{0xf, 0x8}, []float64{15, 8}},
		{Int4, []uint8{0xf, 0x8, 0x7}, []float64{-1, -8, 7}},
		{Uint2, []uint8{0x3, 0x1}, []float64{3, 1}},
		{Int2, []uint8{0x3, 0x2, 0x1}, []float64{-1, -2, 1}},
	}
	for _, tt := range tests {
		x, err := FromData(tt.dt, Shape{len(tt.in)}, tt.in)
		if err != nil {
			t.Fatalf("%s: %v", tt.dt, err)
		}
		if x.DType() != tt.dt || tt.dt.Size() != 1 || x.dtype.String() == "" {
			t.Errorf("%s: dtype %s size %d", tt.dt, x.DType(), tt.dt.Size())
		}
		got := x.AsFloat64s()
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: element %d = %v, want %v", tt.dt, i, got[i], tt.want[i])
			}
		}
		back, ok := NarrowBytes(x.Clone().Data())
		if !ok {
			t.Fatalf("%s: NarrowBytes refused %T", tt.dt, x.Data())
		}
		for i := range back {
			if back[i] != tt.in[i] {
				t.Errorf("%s: NarrowBytes[%d] = 0x%02x, want 0x%02x", tt.dt, i, back[i], tt.in[i])
			}
		}
		if y := New(tt.dt, Shape{2}); sliceDType(y.Data()) != tt.dt || sliceLen(Slice(y.Data(), 0, 1)) != 1 {
			t.Errorf("%s: New/Slice disagree", tt.dt)
		}
	}
	if _, err := FromData(Float8E5M2, Shape{3}, []uint8{1, 2}); err == nil {
		t.Error("FromData accepted 2 elements for shape [3]")
	}
}
