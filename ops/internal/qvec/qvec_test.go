package qvec

import (
	"math"
	"math/big"
	"math/rand"
	"testing"

	"github.com/onnxrun/onnxrun/ops/internal/isa"
)

// specials are the values where conversions go wrong: ties of both parities, the edges of the byte
// ranges and just beyond, NaN, infinities and values beyond int32.
var specials = []float32{0, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 126.5, 127.5, 128.5, -127.5, -128.5, -129.5, 254.5, 255.5, 256,
	float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 3e9, -3e9, 1e38, -1e38, 1e-40}

// testInput is n values: the specials, then random ones over a range wider than the bytes'.
func testInput(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		if i < len(specials) {
			x[i] = specials[i]
			continue
		}
		x[i] = float32(rng.NormFloat64() * 150)
		if i%7 == 0 {
			x[i] = float32(math.Round(float64(x[i]))) + 0.5 // a tie
		}
	}
	return x
}

// referenceQuantize is ONNX's formula in float64 on the float32 quotient.
func referenceQuantize(x, scale float32, zp, lo, hi float64) float64 {
	r := math.RoundToEven(float64(x / scale))
	if r != r {
		r = 0
	}
	return max(lo, min(hi, r+zp))
}

func TestVariantsMatchReference(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, v := range isa.Runnable(variants()...) {
		for _, n := range []int{0, 1, 15, 16, 17, 31, 33, 100, 1029} {
			x := testInput(rng, n)
			for _, scale := range []float32{1, 0.5, 0.0137} {
				for _, zp := range []int32{0, 3, 128, 255} {
					got := make([]byte, n+1)
					got[n] = 0xAB // guard: nothing past n is written
					quantizeWith(v.Fn, got[:n], x, scale, 0, 255, zp)
					for i := range x {
						if want := referenceQuantize(x[i], scale, float64(zp), 0, 255); float64(got[i]) != want {
							t.Fatalf("%s uint8 n=%d scale=%v zp=%d: x=%v gives %d, want %v", v.Name, n, scale, zp, x[i], got[i], want)
						}
					}
					if got[n] != 0xAB {
						t.Fatalf("%s: wrote past the end", v.Name)
					}
					szp := zp - 128
					quantizeWith(v.Fn, got[:n], x, scale, -128, 127, szp)
					for i := range x {
						if want := referenceQuantize(x[i], scale, float64(szp), -128, 127); float64(int8(got[i])) != want {
							t.Fatalf("%s int8 n=%d scale=%v zp=%d: x=%v gives %d, want %v", v.Name, n, scale, szp, x[i], int8(got[i]), want)
						}
					}
				}
			}
			u, s := make([]uint8, n), make([]int8, n)
			for i := range u {
				u[i], s[i] = uint8(rng.Intn(256)), int8(rng.Intn(256)-128)
			}
			got, want := make([]float32, n), make([]float32, n)
			m := split(v.Fn, n)
			v.Fn.dequantizeU8(got[:m], u[:m], 0.031, 131)
			twin.dequantizeU8(want, u, 0.031, 131)
			for i := 0; i < m; i++ {
				if got[i] != want[i] {
					t.Fatalf("%s dequantize uint8 n=%d: element %d is %v, want %v", v.Name, n, i, got[i], want[i])
				}
			}
			v.Fn.dequantizeS8(got[:m], s[:m], 0.031, -7)
			twin.dequantizeS8(want, s, 0.031, -7)
			for i := 0; i < m; i++ {
				if got[i] != want[i] {
					t.Fatalf("%s dequantize int8 n=%d: element %d is %v, want %v", v.Name, n, i, got[i], want[i])
				}
			}
		}
	}
}

func BenchmarkQuantizeU8(b *testing.B) {
	x := testInput(rand.New(rand.NewSource(1)), 1<<16)
	dst := make([]uint8, len(x))
	b.SetBytes(int64(4 * len(x)))
	for i := 0; i < b.N; i++ {
		QuantizeU8(dst, x, 0.0137, 128)
	}
}

func BenchmarkQuantizeU8Twin(b *testing.B) {
	x := testInput(rand.New(rand.NewSource(1)), 1<<16)
	dst := make([]uint8, len(x))
	b.SetBytes(int64(4 * len(x)))
	for i := 0; i < b.N; i++ {
		quantizeWith(twin, dst, x, 0.0137, 0, 255, 128)
	}
}

func BenchmarkDequantizeS8(b *testing.B) {
	x := make([]int8, 1<<16)
	dst := make([]float32, len(x))
	b.SetBytes(int64(len(x)))
	for i := 0; i < b.N; i++ {
		DequantizeS8(dst, x, 0.0137, 3)
	}
}

func TestAddVariantsMatchTwin(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for _, v := range isa.Runnable(variants()...) {
		for _, n := range []int{0, 1, 15, 16, 17, 33, 1029} {
			a, b := make([]byte, n), make([]byte, n)
			for i := range a {
				a[i], b[i] = byte(rng.Intn(256)), byte(rng.Intn(256))
			}
			for _, signed := range []bool{false, true} {
				for _, p := range []AddParams{
					AddQuant{0.05, 128, 0.02, 120, 0.04, 131}.Params(),
					AddQuant{0.04344618, 131, 0.041741185, 128, 0.0524576, 123}.Params(),     // MobileNetV2's near-ties
					AddQuant{3.7, -3, 0.001, 7, 1, -9}.Params(),                              // saturates
					{RatioA: float32(math.Inf(1)), RatioB: float32(math.Inf(-1)), Offset: 5}, // NaN where both are nonzero
					{RatioA: 0.5, RatioB: 0.5, Offset: -1.5},                                 // ties
					AddQuant{0.05, 128, 0.02, 120, 0.04, 131}.ConstantA(17),
					AddQuant{0.05, 128, 0.02, 120, 0.04, 131}.ConstantB(201),
				} {
					lo, hi := float32(0), float32(255)
					if signed {
						lo, hi = -128, 127
					}
					got, want := make([]byte, n+1), make([]byte, n)
					got[n] = 0xAB
					addWith(v.Fn, got[:n], a, b, signed, p)
					addTwin(want, a, b, signed, p, lo, hi)
					for i := range want {
						if got[i] != want[i] {
							t.Fatalf("%s n=%d signed=%v %+v: element %d (a=%d b=%d) is %d, want %d", v.Name, n, signed, p, i, a[i], b[i], got[i], want[i])
						}
					}
					if got[n] != 0xAB {
						t.Fatalf("%s: wrote past the end", v.Name)
					}
				}
			}
		}
	}
}

func BenchmarkAddU8(b *testing.B) {
	x := make([]uint8, 1<<16)
	c := make([]uint8, len(x))
	p := AddQuant{0.05, 128, 0.02, 120, 0.04, 131}.Params()
	b.SetBytes(int64(len(x)))
	for i := 0; i < b.N; i++ {
		AddU8(c, x, x, p)
	}
}

// TestAddRoundsAsONNXRuntime pins bytes ONNX Runtime gives for MobileNetV2's first residual QLinearAdd
// (make quant-models' mobilenet_v2_qop_static): exact sums of 151.49999... and 94.50000... that a rounded
// product and sum, or adding C's zero point after rounding, put on the other side of the tie.
func TestAddRoundsAsONNXRuntime(t *testing.T) {
	p := AddQuant{0.04344618, 131, 0.041741185, 128, 0.0524576, 123}.Params()
	for _, v := range isa.Runnable(variants()...) {
		for _, c := range []struct{ a, b, want uint8 }{{151, 143, 151}, {111, 113, 94}} {
			a, b := make([]uint8, 32), make([]uint8, 32) // through the assembly and the twin's tail
			for i := range a {
				a[i], b[i] = c.a, c.b
			}
			got := make([]uint8, len(a))
			addWith(v.Fn, got, a, b, false, p)
			for i, g := range got {
				if g != c.want {
					t.Fatalf("%s: a=%d b=%d gives %d at %d, ONNX Runtime %d", v.Name, c.a, c.b, g, i, c.want)
				}
			}
		}
	}
}

// TestFMA32RoundsOnce compares fma32 with the exact x*y+z rounded to float32 by math/big, on random
// operands and on ones whose float64 sum lands on a float32 tie (where rounding twice would go wrong).
func TestFMA32RoundsOnce(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	check := func(x, y, z float32) {
		bx, by, bz := new(big.Float).SetFloat64(float64(x)), new(big.Float).SetFloat64(float64(y)), new(big.Float).SetFloat64(float64(z))
		exact := new(big.Float).SetPrec(400).Mul(bx, by)
		exact.Add(exact, bz)
		want, _ := exact.Float32()
		if got := fma32(x, y, z); got != want {
			t.Fatalf("fma32(%g, %g, %g) = %g, want %g", x, y, z, got, want)
		}
	}
	for i := 0; i < 200000; i++ {
		x := float32(rng.Intn(511) - 255)
		y := float32(rng.NormFloat64()) * float32(math.Ldexp(1, rng.Intn(40)-20))
		z := float32(rng.NormFloat64()) * float32(math.Ldexp(1, rng.Intn(80)-40))
		check(x, y, z)
	}
	// x*y = 1 + 2^-24 (a float32 tie, exact in float64), plus a z far below float64's last bit.
	tie := float32(1 + 1.0/(1<<12))
	check(tie, tie, 1e-30)
	check(tie, tie, -1e-30)
	check(1+1.0/(1<<23), 1+1.0/(1<<23), 0x1p-60)
}

func TestMinMaxVariantsMatchTwin(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	nan := float32(math.NaN())
	for _, v := range isa.Runnable(variants()...) {
		for _, n := range []int{0, 1, 15, 16, 17, 33, 1029} {
			for _, kind := range []string{"mixed", "positive", "negative", "nan"} {
				for _, nanAt := range []int{0, n / 2, n - 1} {
					if kind != "nan" && nanAt > 0 || n == 0 && kind == "nan" {
						continue
					}
					x := make([]float32, n)
					for i := range x {
						x[i] = float32(rng.NormFloat64() * 40)
						switch kind {
						case "positive":
							x[i] = float32(math.Abs(float64(x[i]))) + 1
						case "negative":
							x[i] = -float32(math.Abs(float64(x[i]))) - 1
						}
					}
					if kind == "nan" {
						x[nanAt] = nan
					}
					lo, hi := minMaxWith(v.Fn, x)
					wantLo, wantHi := minMaxTwin(x)
					same := func(a, b float32) bool { return a == b || a != a && b != b }
					if !same(lo, wantLo) || !same(hi, wantHi) {
						t.Fatalf("%s n=%d %s (NaN at %d): [%g, %g], want [%g, %g]", v.Name, n, kind, nanAt, lo, hi, wantLo, wantHi)
					}
				}
			}
		}
	}
}

// BenchmarkMinMax is DynamicQuantizeLinear's range scan over MobileNetV2's largest activation.
func BenchmarkMinMax(b *testing.B) {
	x := testInput(rand.New(rand.NewSource(1)), 96*112*112)
	for _, v := range isa.Runnable(variants()...) {
		b.Run(v.Name, func(b *testing.B) {
			b.SetBytes(int64(4 * len(x)))
			for i := 0; i < b.N; i++ {
				minMaxWith(v.Fn, x)
			}
		})
	}
}
