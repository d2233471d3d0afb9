package vecmath

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// reference is a function's float64 value and its error bound: maxULP ULPs of the float32 result where
// |ref| ≥ relFrom (with ULP measured at the float64 result's magnitude), and maxAbs below.
type reference struct {
	name    string
	kernel  func() Kernel // the chosen kernel (the tests also run every variant)
	family  *family
	f       func(float64) float64
	maxULP  float64
	relFrom float64
	maxAbs  float64
	lo, hi  float64 // the useful range samples are drawn from (and beyond it, 10%)
}

func gelu64(x float64) float64 { return 0.5 * x * math.Erfc(-x/math.Sqrt2) }

func geluTanh64(x float64) float64 {
	u := math.Sqrt(2/math.Pi) * (x + 0.044715*x*x*x)
	return x / (1 + math.Exp(-2*u))
}

func sigmoid64(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

var references = []reference{
	{name: "exp", family: expFamily, f: math.Exp, maxULP: 1, relFrom: 0x1p-126, maxAbs: 0x1p-149, lo: -104, hi: 89},
	{name: "log", family: logFamily, f: math.Log, maxULP: 1.5, relFrom: 0, maxAbs: 0, lo: 0, hi: 1e6},
	{name: "sigmoid", family: sigmoidFamily, f: sigmoid64, maxULP: 3, relFrom: 0x1p-126, maxAbs: 0x1p-126, lo: -100, hi: 30},
	{name: "silu", family: siluFamily, f: func(x float64) float64 { return x * sigmoid64(x) }, maxULP: 3, relFrom: 0x1p-120, maxAbs: 0x1p-120, lo: -100, hi: 100},
	{name: "tanh", family: tanhFamily, f: math.Tanh, maxULP: 1.5, relFrom: 0, maxAbs: 0, lo: -12, hi: 12},
	{name: "erf", family: erfFamily, f: math.Erf, maxULP: 3, relFrom: 0, maxAbs: 0, lo: -5, hi: 5},
	{name: "gelu_erf", family: geluErfFamily, f: gelu64, maxULP: 24, relFrom: 1e-3, maxAbs: 5e-8, lo: -8, hi: 8},
	{name: "gelu_tanh", family: geluTanhFamily, f: geluTanh64, maxULP: 14, relFrom: 1e-3, maxAbs: 2e-9, lo: -20, hi: 20},
}

// ulp is the spacing of float32 values at |v| (v a float64 result), denormals included.
func ulp(v float64) float64 {
	a := math.Abs(v)
	if a < 0x1p-126 {
		return 0x1p-149
	}
	_, e := math.Frexp(a) // a = f·2^e, f in [0.5, 1)
	return math.Ldexp(1, e-24)
}

// errorStats accumulates the largest error seen, in ULPs (where relative) and absolute (below relFrom).
type errorStats struct {
	maxULP, maxAbs     float64
	worstULP, worstAbs float32
}

// check returns an error message for a result outside the bound, "" otherwise.
func (r *reference) check(x, got float32, st *errorStats) string {
	want := r.f(float64(x))
	if math.IsNaN(want) || math.IsNaN(float64(got)) {
		if math.IsNaN(want) != math.IsNaN(float64(got)) {
			return fmt.Sprintf("%s(%g) = %g, want %g", r.name, x, got, want)
		}
		return ""
	}
	if math.IsInf(want, 0) || math.IsInf(float64(got), 0) {
		if float64(got) != want && float32(want) != got {
			return fmt.Sprintf("%s(%g) = %g, want %g", r.name, x, got, want)
		}
		return ""
	}
	diff := math.Abs(float64(got) - want)
	if math.Abs(want) >= r.relFrom && math.Abs(want) > 0 {
		u := diff / ulp(want)
		if u > st.maxULP {
			st.maxULP, st.worstULP = u, x
		}
		if u > r.maxULP {
			return fmt.Sprintf("%s(%g) = %g, want %g: %.2f ULP > %g", r.name, x, got, want, u, r.maxULP)
		}
		return ""
	}
	if diff > st.maxAbs {
		st.maxAbs, st.worstAbs = diff, x
	}
	if diff > r.maxAbs {
		return fmt.Sprintf("%s(%g) = %g, want %g: |error| %.3g > %g", r.name, x, got, want, diff, r.maxAbs)
	}
	return ""
}

// samples draws n seeded inputs: uniform over [lo, hi] widened by 10% each side, a share log-uniform in
// magnitude (both signs) to reach tiny and huge values, and the edge values.
func samples(r reference, n int) []float32 {
	rng := rand.New(rand.NewPCG(15, uint64(len(r.name))))
	xs := edgeValues()
	width := r.hi - r.lo
	for len(xs) < n {
		switch rng.IntN(4) {
		case 0:
			mag := math.Exp2(rng.Float64()*280 - 149)
			if rng.IntN(2) == 0 {
				mag = -mag
			}
			xs = append(xs, float32(mag))
		default:
			xs = append(xs, float32(r.lo-0.1*width+1.2*width*rng.Float64()))
		}
	}
	return xs
}

func edgeValues() []float32 {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	negZero := float32(math.Copysign(0, -1))
	xs := []float32{0, negZero, 0x1p-149, -0x1p-149, 0x1p-127, -0x1p-127, 0x1p-126, 0x1.fffffep-127,
		inf, -inf, nan, 1, -1, 0.5, -0.5, math.MaxFloat32, -math.MaxFloat32, 88.7, -88.7, 88.72283, 88.72284,
		-87.33654, -87.34, -103.97, -103.98, -104, 89, -89, 0.625, -0.625, 0.62499997, 4, -4, 3.9999998,
		1.4142135, -1.4142135, 5.656854, -5.656854, 9, -9, 10, -10, 20, -20, 44, -44, 100, -100, 1e10, -1e10,
		1e30, -1e30, 0.3466, -0.3466, 1e-4, -1e-4, 1e-20, -1e-20}
	return xs
}

// TestAccuracy checks every runnable variant of every function against float64 math on a million
// samples and the edge values, within the bound its doc comment states.
func TestAccuracy(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 50_000
	}
	for _, r := range references {
		xs := samples(r, n)
		got := make([]float32, len(xs))
		for _, v := range runnable(r.family) {
			t.Run(r.name+"/"+v.Name, func(t *testing.T) {
				v.Fn(got, xs)
				var st errorStats
				failures := 0
				for i, x := range xs {
					if msg := r.check(x, got[i], &st); msg != "" {
						failures++
						if failures <= 5 {
							t.Error(msg)
						}
					}
				}
				if failures > 5 {
					t.Errorf("... %d failures in all", failures)
				}
				t.Logf("%s %s: max %.3f ULP (at %g), max abs %.3g below the relative range (at %g)",
					r.name, v.Name, st.maxULP, st.worstULP, st.maxAbs, st.worstAbs)
			})
		}
	}
}
