package vecarith

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/onnxrun/onnxrun/ops/internal/isa"
)

// special values every operand span mixes in, so that NaN handling, signed zeros and infinities of each
// variant are compared with the twin's.
var specials = []float32{0, float32(math.Copysign(0, -1)), 1, -1, 6, -6, 3, -3, 0.5, float32(math.Inf(1)),
	float32(math.Inf(-1)), float32(math.NaN()), 1e-40, -1e-40, math.MaxFloat32, -math.MaxFloat32}

func operand(seed uint64, n int) []float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	x := make([]float32, n)
	for i := range x {
		if r.IntN(5) == 0 {
			x[i] = specials[r.IntN(len(specials))]
		} else {
			x[i] = float32(r.NormFloat64() * 4)
		}
	}
	return x
}

// sameBits compares results: equal bits, or both NaN (the payload of a NaN is not promised).
func sameBits(got, want []float32) error {
	if len(got) != len(want) {
		return fmt.Errorf("length %d, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if math.Float32bits(g) != math.Float32bits(w) && !(g != g && w != w) {
			return fmt.Errorf("[%d] = %v (%#08x), want %v (%#08x)", i, g, math.Float32bits(g), w, math.Float32bits(w))
		}
	}
	return nil
}

// odd lengths around the vector widths and unrolled rounds, so every variant runs its rounds, its
// single vectors and hands a tail to the twin.
var lengths = []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 127, 129, 1000, 1031}

var binNames = [numBinOps]string{"Add", "Sub", "Mul", "Div", "Max", "Min", "PRelu"}

func TestVariantsMatchTwin(t *testing.T) {
	for _, v := range isa.Runnable(variants()...) {
		k := v.Fn
		for _, n := range lengths {
			a, b := operand(1, n), operand(2, n)
			for _, s := range specials {
				for op := range numBinOps {
					want, got := make([]float32, n), make([]float32, n+1)
					got[n] = 42 // a guard: nothing past the span is written
					twin.vv[op](want, a, b)
					vvWith(k, op, got, a, b)
					check(t, fmt.Sprintf("%s VV %s n=%d", v.Name, binNames[op], n), got, want)
					twin.vs[op](want, a, s)
					vsWith(k, op, got, a, s)
					check(t, fmt.Sprintf("%s VS %s n=%d s=%v", v.Name, binNames[op], n, s), got, want)
					if twin.sv[op] != nil { // else SV is VS
						twin.sv[op](want, a, s)
						svWith(k, op, got, s, a)
						check(t, fmt.Sprintf("%s SV %s n=%d s=%v", v.Name, binNames[op], n, s), got, want)
					}
				}
			}
			for _, c := range []struct {
				name   string
				op     unOp
				c0, c1 float32
			}{
				{"Relu", opClamp, 0, float32(math.Inf(1))}, {"Relu6", opClamp, 0, 6}, {"Clip lo>hi", opClamp, 2, -1},
				{"LeakyRelu", opLeakyRelu, 0.01, 0}, {"HardSigmoid", opHardSigmoid, 0.2, 0.5},
				{"HardSwish", opHardSwish, 1.0 / 6, 0.5}, {"Abs", opAbs, math.Float32frombits(0x7fffffff), 0},
				{"Neg", opNeg, math.Float32frombits(0x80000000), 0}, {"Sqrt", opSqrt, 0, 0},
				{"Reciprocal", opReciprocal, 0, 0}, {"Square", opSquare, 0, 0}, {"Cube", opCube, 0, 0},
			} {
				want, got := make([]float32, n), make([]float32, n+1)
				got[n] = 42
				twin.un[c.op](want, a, c.c0, c.c1)
				unWith(k, c.op, got, a, c.c0, c.c1)
				check(t, fmt.Sprintf("%s %s n=%d", v.Name, c.name, n), got, want)
			}
		}
	}
}

func check(t *testing.T, name string, got, want []float32) {
	t.Helper()
	if got[len(want)] != 42 {
		t.Errorf("%s: wrote past the span", name)
	}
	if err := sameBits(got[:len(want)], want); err != nil {
		t.Errorf("%s: %v", name, err)
	}
}

// TestTwinSemantics pins the twin to the definitions in doc.go on the special values.
func TestTwinSemantics(t *testing.T) {
	nan := float32(math.NaN())
	for _, c := range []struct {
		op         BinOp
		a, b, want float32
	}{
		{Max, nan, 1, nan}, {Max, 1, nan, nan}, {Max, -1, 2, 2}, {Min, nan, 1, nan}, {Min, 1, nan, nan},
		{Min, -1, 2, -1}, {PRelu, -2, 0.5, -1}, {PRelu, 2, 0.5, 2}, {Div, 1, 0, float32(math.Inf(1))},
	} {
		got := []float32{0}
		VV(c.op, got, []float32{c.a}, []float32{c.b})
		if err := sameBits(got, []float32{c.want}); err != nil {
			t.Errorf("%s(%v, %v): %v", binNames[c.op], c.a, c.b, err)
		}
	}
	x := []float32{-3, nan, 7, 2}
	y := make([]float32, 4)
	Clamp(y, x, 0, 6)
	if err := sameBits(y, []float32{0, nan, 6, 2}); err != nil {
		t.Errorf("Clamp(0, 6): %v", err)
	}
	HardSwish(y, []float32{-4, 4, 0, 1.5})
	if err := sameBits(y, []float32{float32(math.Copysign(0, -1)), 4, 0, 1.5 * (float32(1.5*float32(1.0/6)) + 0.5)}); err != nil {
		t.Errorf("HardSwish: %v", err)
	}
}

func BenchmarkVariants(b *testing.B) {
	for _, n := range []int{16 << 10, 4 << 20} {
		a, c := operand(1, n), operand(2, n)
		dst := make([]float32, n)
		for _, v := range isa.Runnable(variants()...) {
			k := v.Fn
			b.Run(fmt.Sprintf("AddVV/%s/n=%d", v.Name, n), func(b *testing.B) {
				b.SetBytes(int64(12 * n))
				for range b.N {
					vvWith(k, Add, dst, a, c)
				}
			})
			b.Run(fmt.Sprintf("Relu6/%s/n=%d", v.Name, n), func(b *testing.B) {
				b.SetBytes(int64(8 * n))
				for range b.N {
					unWith(k, opClamp, dst, a, 0, 6)
				}
			})
		}
	}
}

// The LayerNorm row routines: every variant gives the twin's bits on odd lengths, with and without beta,
// and rows shifted far from zero.
func TestRowVariantsMatchTwin(t *testing.T) {
	for _, v := range isa.Runnable(variants()...) {
		k := v.Fn
		for _, n := range append(lengths, 768, 799) {
			x, gamma, beta := operand(3, n), operand(4, n), operand(5, n)
			for i := range x { // finite values: the sums of specials are all NaN or Inf
				if f := float64(x[i]); math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e6 {
					x[i] = float32(i%7) - 3
				}
			}
			for _, shift := range []float32{0, 1.5, -1e4} {
				want := rowStatsTwin(x, shift)
				var wantSum, wantSquares float64
				for j := range rowStatsLanes {
					wantSum += float64(want[j])
					wantSquares += float64(want[rowStatsLanes+j])
				}
				sum, squares := rowStatsWith(k, x, shift)
				if sum != wantSum || squares != wantSquares {
					t.Errorf("%s RowStats n=%d shift=%v = %v, %v; want %v, %v", v.Name, n, shift, sum, squares, wantSum, wantSquares)
				}
			}
			for _, b := range [][]float32{beta, nil} {
				want, got := make([]float32, n), make([]float32, n+1)
				got[n] = 42
				normalizeRowTwin(want, x, gamma, b, 1.5, 0.25, 1.75)
				normalizeRowWith(k, got, x, gamma, b, 1.5, 0.25, 1.75)
				check(t, fmt.Sprintf("%s NormalizeRow n=%d beta=%v", v.Name, n, b != nil), got, want)
			}
		}
	}
}

// fma32 rounds once: cases where rounding the product first, or rounding through float64, gives another value.
func TestFMA32RoundsOnce(t *testing.T) {
	// (1+2^-12)² - 1 = 2^-11 + 2^-24, a float32; rounding the product first (a tie, to even) loses the 2^-24.
	e := float32(1 + math.Ldexp(1, -12))
	if got, want := fma32(e, e, -1), float32(math.Ldexp(1, -11)+math.Ldexp(1, -24)); got != want {
		t.Errorf("fma32(%v, %v, -1) = %v, want %v", e, e, got, want)
	}
	// Double rounding: p = 1 + 2^-24 exactly (tie for float32), c = 2^-80 tips it up; float64 would drop c.
	a, b := float32(1+math.Ldexp(1, -12)), float32(1+math.Ldexp(1, -12)) // a*b = 1 + 2^-11 + 2^-24
	c := float32(math.Ldexp(1, -80))
	want := float32(1 + math.Ldexp(1, -11) + math.Ldexp(1, -23)) // the tie broken upward by c
	if got := fma32(a, b, c); got != want {
		t.Errorf("fma32 double rounding: got %v, want %v", got, want)
	}
	if naive := float32(float64(a)*float64(b) + float64(c)); naive == want {
		t.Errorf("the case does not exercise double rounding")
	}
}
