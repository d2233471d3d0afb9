package conformance

import (
	"fmt"
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// DrawRule is how the outputs of a case drawn at random are checked, in place of an element-wise
// comparison with a reference that another generator drew.
type DrawRule uint8

const (
	NoDrawRule DrawRule = iota // compare element by element
	// BernoulliDraws: "NAME bernoulli REASON" in overrides.txt; each output element is 1 with the
	// probability p of the same element of the case's first input.
	BernoulliDraws
	// ComplementBernoulliDraws: "NAME bernoulli-1-p REASON"; each output element is 1 with probability 1-p.
	// ONNX's function body for Bernoulli, Cast(Greater(RandomUniformLike(p), p)), draws so: its _expanded
	// node tests check that an engine runs that body as written.
	ComplementBernoulliDraws
)

func (r DrawRule) String() string {
	return [...]string{"element-wise", "bernoulli", "bernoulli-1-p"}[r]
}

// parseDrawRule reads the rule word of an overrides.txt line.
func parseDrawRule(word string) (DrawRule, bool) {
	for r := BernoulliDraws; r <= ComplementBernoulliDraws; r++ {
		if word == r.String() {
			return r, true
		}
	}
	return NoDrawRule, false
}

// BernoulliSigmas is how far, in standard deviations, the number of ones a Bernoulli output holds may be
// from the number its probabilities lead to expect under the "bernoulli" rule of overrides.txt.
const BernoulliSigmas = 4

// CheckBernoulli is the "bernoulli" and "bernoulli-1-p" rules of overrides.txt, for outputs drawn at random whose reference was
// drawn from another generator (numpy's global stream, in ONNX's Bernoulli node tests), so that no two
// values need agree. got must have want's dtype and shape, hold only 0 and 1, and its number of ones must
// be within BernoulliSigmas standard deviations of its expectation: with p the probabilities (the case's
// first input, one per element), |sum(got) - sum(p)| <= 4*sqrt(sum(p*(1-p))). Probabilities of exactly
// 0 or 1 have no variance, so their draws must equal them. Under ComplementBernoulliDraws each element is
// 1 with probability 1-p instead. It returns nil when got passes.
func CheckBernoulli(got, want, p *ops.Tensor, rule DrawRule) error {
	if got.DType() != want.DType() || !got.Shape().Equal(want.Shape()) {
		return &ShapeError{Got: fmt.Sprintf("%s%v", got.DType(), got.Shape()), Want: fmt.Sprintf("%s%v", want.DType(), want.Shape())}
	}
	if p.Len() != got.Len() {
		return fmt.Errorf("%s rule: %d probabilities for %d draws", rule, p.Len(), got.Len())
	}
	probs, draws := p.AsFloat64s(), got.AsFloat64s()
	var ones, mean, variance float64
	for i, v := range draws {
		if v != 0 && v != 1 {
			return fmt.Errorf("%s rule: element %d is %v, want 0 or 1", rule, i, v)
		}
		if math.IsNaN(probs[i]) {
			return fmt.Errorf("%s rule: probability %d is NaN", rule, i)
		}
		q := min(max(probs[i], 0), 1) // p <= 0 is drawn as never, p >= 1 as always
		if rule == ComplementBernoulliDraws {
			q = 1 - q
		}
		ones += v
		mean += q
		variance += q * (1 - q)
	}
	// A little slack for the rounding of the sums: with no variance the counts must match exactly.
	if bound := BernoulliSigmas*math.Sqrt(variance) + 1e-9*float64(len(draws)); math.Abs(ones-mean) > bound {
		return fmt.Errorf("%s rule: %v ones in %d draws, expected %.4g within %d sigma (%.4g)",
			rule, ones, len(draws), mean, BernoulliSigmas, bound)
	}
	return nil
}
