package vecmath

import (
	"fmt"
	"math"
	"testing"
)

func softplus64(x float64) float64 { return math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))) }

// TestComposites checks Softplus and Swish (alpha ≠ 1), built from every runnable variant of the
// functions they call (exp and log, sigmoid), against float64 math on a million samples and the edge
// values within the bounds their doc comments state, in place and into another slice, on lengths that
// leave a partial block.
func TestComposites(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 50_000
	}
	exps, logs, sigmoids := runnable(expFamily), runnable(logFamily), runnable(sigmoidFamily)
	type composite struct {
		ref     reference
		variant string
		run     func(dst, src []float32)
	}
	var cases []composite
	for i := range exps {
		exp, log := exps[i].Fn, logs[i].Fn
		cases = append(cases, composite{
			reference{name: "softplus", f: softplus64, maxULP: 4, relFrom: 0x1p-126, maxAbs: 0x1p-148, lo: -110, hi: 100},
			exps[i].Name, func(dst, src []float32) { softplus(dst, src, exp, log) }})
	}
	for _, v := range sigmoids {
		for _, alpha := range []float32{1.702, 0.5, -0.75} {
			sigmoid := v.Fn
			// The reference takes alpha·x rounded to float32, as the bound is stated.
			f := func(x float64) float64 { return x * sigmoid64(float64(alpha*float32(x))) }
			cases = append(cases, composite{
				reference{name: fmt.Sprintf("swish(alpha=%g)", alpha), f: f, maxULP: 4, relFrom: 0x1p-120, maxAbs: 0x1p-120, lo: -100, hi: 100},
				v.Name, func(dst, src []float32) { swish(dst, src, alpha, sigmoid) }})
		}
	}
	for _, c := range cases {
		t.Run(c.ref.name+"/"+c.variant, func(t *testing.T) {
			xs := samples(c.ref, n+compositeBlock/2)
			got := make([]float32, len(xs))
			c.run(got, xs)
			inPlace := append([]float32(nil), xs...)
			c.run(inPlace, inPlace)
			var st errorStats
			failures := 0
			for i, x := range xs {
				if math.Float32bits(inPlace[i]) != math.Float32bits(got[i]) && !(got[i] != got[i] && inPlace[i] != inPlace[i]) {
					t.Fatalf("%s(%g) in place = %g, into another slice %g", c.ref.name, x, inPlace[i], got[i])
				}
				if msg := c.ref.check(x, got[i], &st); msg != "" {
					if failures++; failures <= 5 {
						t.Error(msg)
					}
				}
			}
			if failures > 5 {
				t.Errorf("... %d failures in all", failures)
			}
			t.Logf("%s %s: max %.3f ULP (at %g), max abs %.3g below the relative range (at %g)",
				c.ref.name, c.variant, st.maxULP, st.worstULP, st.maxAbs, st.worstAbs)
		})
	}
}

// Softplus and Swish allocate nothing once their scratch pool is warm.
func TestCompositesAllocateNothing(t *testing.T) {
	x := make([]float32, 3*compositeBlock+5)
	Softplus(x, x)
	if allocs := testing.AllocsPerRun(20, func() { Softplus(x, x); Swish(x, x, 1.5) }); allocs != 0 {
		t.Errorf("Softplus and Swish allocate %v times a call", allocs)
	}
}
