package conformance

import (
	"math"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// draws returns n Bernoulli outputs with exactly ones ones, as float32.
func draws(n, ones int) *ops.Tensor {
	v := make([]float32, n)
	for i := range ones {
		v[i] = 1
	}
	return ops.FromSlice(ops.Shape{n}, v)
}

func TestCheckBernoulli(t *testing.T) {
	const n = 400
	p := make([]float32, n)
	for i := range p {
		p[i] = 0.25
	}
	probs := ops.FromSlice(ops.Shape{n}, p)
	want := draws(n, 0) // the reference's values never matter, only its dtype and shape
	sigma := math.Sqrt(n * 0.25 * 0.75)
	fiveOff := int(n*0.25 + 5*sigma)
	twoValued := draws(n, 100)
	twoValued.Float32s()[3] = 2
	tests := []struct {
		name   string
		got    *ops.Tensor
		rule   DrawRule
		errSub string
	}{
		{name: "the expected count", got: draws(n, 100), rule: BernoulliDraws},
		{name: "3.9 sigma above", got: draws(n, int(n*0.25+3.9*sigma)), rule: BernoulliDraws},
		{name: "5 sigma above", got: draws(n, fiveOff), rule: BernoulliDraws, errSub: "ones in 400 draws, expected 100 within 4 sigma"},
		{name: "5 sigma below", got: draws(n, int(n*0.25-5*sigma)), rule: BernoulliDraws, errSub: "within 4 sigma"},
		{name: "a 2", got: twoValued, rule: BernoulliDraws, errSub: "element 3 is 2, want 0 or 1"},
		{name: "wrong dtype", got: ops.FromSlice(ops.Shape{n}, make([]float64, n)), rule: BernoulliDraws, errSub: "got float64[400], want float32[400]"},
		{name: "wrong shape", got: draws(n-1, 100), rule: BernoulliDraws, errSub: "want float32[400]"},
		// With probability 1-p = 0.75, the count p leads to expect is far out, and the complement's is fine.
		{name: "complement expects 1-p", got: draws(n, 300), rule: ComplementBernoulliDraws},
		{name: "complement refuses p", got: draws(n, 100), rule: ComplementBernoulliDraws, errSub: "bernoulli-1-p rule: 100 ones"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckBernoulli(tt.got, want, probs, tt.rule)
			switch {
			case tt.errSub == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.errSub != "" && (err == nil || !strings.Contains(err.Error(), tt.errSub)):
				t.Fatalf("error %v, want one containing %q", err, tt.errSub)
			}
		})
	}
	// Certain outcomes have no variance: one draw off is out.
	certain := ops.FromSlice(ops.Shape{3}, []float64{0, 1, 1})
	if err := CheckBernoulli(ops.FromSlice(ops.Shape{3}, []bool{false, true, true}), ops.New(ops.Bool, ops.Shape{3}), certain, BernoulliDraws); err != nil {
		t.Errorf("certain draws refused: %v", err)
	}
	if err := CheckBernoulli(ops.FromSlice(ops.Shape{3}, []bool{true, true, true}), ops.New(ops.Bool, ops.Shape{3}), certain, BernoulliDraws); err == nil {
		t.Error("a 1 drawn with probability 0 passes")
	}
	if err := CheckBernoulli(draws(2, 1), draws(2, 0), ops.FromSlice(ops.Shape{2}, []float32{0.5, float32(math.NaN())}), BernoulliDraws); err == nil {
		t.Error("a NaN probability passes")
	}
}

// TestBernoulliRuleInOverrides checks that the Bernoulli node tests are under the rule, the expanded ones
// under its complement.
func TestBernoulliRuleInOverrides(t *testing.T) {
	for name, rule := range map[string]DrawRule{"test_bernoulli": BernoulliDraws, "test_bernoulli_seed": BernoulliDraws,
		"test_bernoulli_expanded": ComplementBernoulliDraws, "test_bernoulli_seed_expanded": ComplementBernoulliDraws} {
		if got := ToleranceFor(name).Draws; got != rule {
			t.Errorf("%s is checked by the %s rule, want %s", name, got, rule)
		}
	}
}
