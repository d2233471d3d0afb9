package ml

import (
	"fmt"
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// Domain is ONNX's traditional machine-learning operator domain.
const Domain = "ai.onnx.ml"

// newestOpset is the highest ai.onnx.ml opset (ONNX 1.16 added TreeEnsemble-5).
const newestOpset = 5

// The domain is declared in a package-level initializer, which Go runs before every init function of
// the package, so the registrations in the init functions of each file find it whatever their order.
var _ = declareDomain()

func declareDomain() bool {
	ops.DeclareDomain(Domain, newestOpset)
	return true
}

// postTransform is what a classifier or regressor applies to each row of scores.
type postTransform uint8

const (
	transformNone postTransform = iota
	transformSoftmax
	transformLogistic
	transformSoftmaxZero
	transformProbit
)

// postTransformNames are the attribute's string values, in the order TreeEnsemble-5 numbers them.
var postTransformNames = []string{"NONE", "SOFTMAX", "LOGISTIC", "SOFTMAX_ZERO", "PROBIT"}

func parsePostTransform(s string) (postTransform, error) {
	for i, name := range postTransformNames {
		if s == name {
			return postTransform(i), nil
		}
	}
	return 0, &ops.AttrError{Name: "post_transform", Msg: fmt.Sprintf("is %q, want one of %q", s, postTransformNames)}
}

// apply transforms one row of scores in place.
func (p postTransform) apply(row []float64) {
	switch p {
	case transformLogistic:
		for i, v := range row {
			row[i] = logistic(v)
		}
	case transformSoftmax:
		softmax(row)
	case transformSoftmaxZero:
		softmaxZero(row)
	case transformProbit:
		for i, v := range row {
			row[i] = probit(v)
		}
	}
}

// logistic is 1/(1+e^-x), computed from e^-|x| so that neither side overflows.
func logistic(x float64) float64 {
	e := math.Exp(-math.Abs(x))
	if x < 0 {
		return e / (1 + e)
	}
	return 1 / (1 + e)
}

// probit is the standard normal quantile √2·erfinv(2p-1). ONNX Runtime uses an approximation of erfinv
// good to about 2e-3; this is the exact one.
func probit(p float64) float64 { return math.Sqrt2 * math.Erfinv(2*p-1) }

func softmax(row []float64) {
	if len(row) == 0 {
		return
	}
	hi := row[0]
	for _, v := range row {
		hi = math.Max(hi, v)
	}
	sum := 0.0
	for i, v := range row {
		row[i] = math.Exp(v - hi)
		sum += row[i]
	}
	for i := range row {
		row[i] /= sum
	}
}

// softmaxZero is a softmax in which the scores that are exactly zero (no vote) stay zero; a row with
// nothing left is written as 0.5 everywhere, as ONNX's reference does.
func softmaxZero(row []float64) {
	if len(row) == 0 {
		return
	}
	hi := row[0]
	for _, v := range row {
		hi = math.Max(hi, v)
	}
	sum := 0.0
	for i, v := range row {
		if v > 1e-7 || v < -1e-7 {
			row[i] = math.Exp(v - hi)
		} else {
			row[i] = 0
		}
		sum += row[i]
	}
	for i := range row {
		if sum == 0 {
			row[i] = 0.5
		} else {
			row[i] /= sum
		}
	}
}

// classLabels are a classifier's labels: int64s or strings, exactly one of the two.
type classLabels struct {
	ints    []int64
	strings []string
}

// readClassLabels reads the pair of attributes intName/"classlabels_strings".
func readClassLabels(r *ops.AttrReader, intName string) (classLabels, error) {
	l := classLabels{ints: r.Ints(intName, nil), strings: r.Strings("classlabels_strings", nil)}
	if err := r.Err(); err != nil {
		return l, err
	}
	switch {
	case len(l.ints) > 0 && len(l.strings) > 0:
		return l, &ops.AttrError{Name: intName, Msg: "and classlabels_strings are both set, want one of them"}
	case len(l.ints) == 0 && len(l.strings) == 0:
		return l, &ops.AttrError{Name: intName, Msg: "and classlabels_strings are both empty, want one of them"}
	}
	return l, nil
}

func (l classLabels) len() int { return max(len(l.ints), len(l.strings)) }

func (l classLabels) dtype() ops.DType {
	if l.strings != nil {
		return ops.String
	}
	return ops.Int64
}

// write stores the label of class index c as element i of the label output.
func (l classLabels) write(out *ops.Tensor, i, c int) {
	if l.strings != nil {
		ops.Data[string](out)[i] = l.strings[c]
		return
	}
	ops.Data[int64](out)[i] = l.ints[c]
}

// numericInputs are the feature types the classifiers, regressors and transforms read.
var numericInputs = ops.DTypes(ops.Float32, ops.Float64, ops.Int32, ops.Int64)

// featureMatrix checks a feature input of shape [N, C] or [C] (one row) and returns N and C.
func featureMatrix(v ops.ValueInfo, allowed ops.DTypeSet) (n, c int, err error) {
	if !allowed.Has(v.DType) {
		return 0, 0, ops.Invalidf("input X has dtype %s, want one of %s", v.DType, allowed)
	}
	switch len(v.Shape) {
	case 1:
		return 1, v.Shape[0], nil
	case 2:
		return v.Shape[0], v.Shape[1], nil
	}
	return 0, 0, ops.Invalidf("input X has shape %v, want [N, C] or [C]", v.Shape)
}

// features reads the elements of a numeric tensor as float64 without converting the whole tensor first.
type features struct {
	f32 []float32
	f64 []float64
	i32 []int32
	i64 []int64
}

func readFeatures(t *ops.Tensor) features {
	switch d := t.Data().(type) {
	case []float32:
		return features{f32: d}
	case []float64:
		return features{f64: d}
	case []int32:
		return features{i32: d}
	case []int64:
		return features{i64: d}
	}
	panic(errFeatureType)
}

func (f *features) at(i int) float64 {
	switch {
	case f.f32 != nil:
		return float64(f.f32[i])
	case f.f64 != nil:
		return f.f64[i]
	case f.i32 != nil:
		return float64(f.i32[i])
	}
	return float64(f.i64[i])
}

// row copies row r of a [N, C] matrix into dst (len C).
func (f *features) row(dst []float64, r int) {
	base := r * len(dst)
	for j := range dst {
		dst[j] = f.at(base + j)
	}
}

// Internal invariants (checked at plan time, so reaching them is a bug).
const errFeatureType = "ml: a feature input of a dtype InferShapes refused"

// checkLen returns an error when attribute name has n elements and want is not n.
func checkLen(name string, n, want int, what string) error {
	if n != want {
		return &ops.AttrError{Name: name, Msg: fmt.Sprintf("has %d elements, want %d (%s)", n, want, what)}
	}
	return nil
}
