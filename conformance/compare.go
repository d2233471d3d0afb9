package conformance

import (
	"fmt"
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// Tolerance is ONNX's comparison rule |got - want| <= ATol + RTol*|want| for floating-point outputs.
// Integers, bools and strings are always compared exactly, and NaN matches NaN. Draws, when set, replaces
// the element-wise comparison with a statistical rule for random outputs (CheckBernoulli). Levels, when
// above 0, lets integer elements differ by up to that many units (a "levels" line of overrides.txt).
type Tolerance struct {
	RTol, ATol float64
	Draws      DrawRule
	Levels     int
}

// DefaultTolerance is ONNX's: onnx/backend/test/loader/__init__.py (load_model_tests) gives every node test
// rtol 1e-3 and atol 1e-7, and Runner.assert_similar_outputs (onnx/backend/test/runner/__init__.py) checks
// them with np.testing.assert_allclose, |got - want| <= atol + rtol*|want|, after asserting that the
// backend gave exactly as many outputs as the reference has. onnxrun follows ONNX.
//
// ONNX Runtime's onnx_test_runner is looser, and is not what onnxrun follows. As read in microsoft/onnxruntime
// on main (onnx_backend_test_series_overrides.jsonc at commit 310f81f0, and test/onnx/main.cc in its version
// that parses flags in command_args_parser.cc; the stored copies pin no release number), it compares
// |got - want| <= atol + rtol*|want| (CompareFloatResult in onnxruntime/test/util/compare_ortvalue.cc, NaN
// equal to NaN, infinities equal when of the same sign) with
//   - rtol 1e-3 and atol 1e-5, the rtol_default and atol_default of
//     onnxruntime/test/testdata/onnx_backend_test_series_overrides.jsonc, and atol 1e-4 for test_dft and
//     test_dft_axis (its atol_overrides), as LoadTestTolerances in onnxruntime/test/onnx/main.cc reads them;
//   - rtol 1e-3 and atol 1e-3 when that file is missing (LoadTestTolerances' fallback; rtol 0.017 with
//     CUDA, 0.009 with OpenVINO), which is also all that older releases' main.cc had (per_sample_tolerance
//     and relative_per_sample_tolerance, 1e-3 each);
//   - a test folder's config.txt may set per_sample_tolerance and relative_per_sample_tolerance
//     (OnnxTestCase's constructor in onnxruntime/test/onnx/TestCase.cc).
//
// It also checks only the outputs the reference has, looked up by name, and ignores any other output of
// the session (DataTaskRequestContext::RunImpl in onnxruntime/test/onnx/dataitem_request.cc).
var DefaultTolerance = Tolerance{RTol: 1e-3, ATol: 1e-7}

func (t Tolerance) String() string {
	if t.Levels > 0 {
		return fmt.Sprintf("integers within %d, rtol %g, atol %g", t.Levels, t.RTol, t.ATol)
	}
	if t.Draws != NoDrawRule {
		return fmt.Sprintf("%s rule: dtype, shape, values in {0, 1}, ones within %d sigma", t.Draws, BernoulliSigmas)
	}
	return fmt.Sprintf("rtol %g, atol %g", t.RTol, t.ATol)
}

// Diff is how one output compares with its reference, element by element.
type Diff struct {
	Elements   int // elements compared
	Mismatches int // elements beyond tolerance (or unequal, for exact types)
	// WorstAbs is the largest finite |got - want| over the floating-point elements (0 for exact types, and for
	// integers unless Tolerance.Levels allows them to differ).
	WorstAbs float64
	// WorstRatio is the largest |got - want| / (ATol + RTol*|want|): above 1 means out of tolerance. An exact
	// mismatch, or a NaN or infinity where the reference differs, counts as +Inf.
	WorstRatio float64
	// At is the flat index of the worst element (the first mismatching one among equally bad ones), -1 if
	// no element was compared; Got and Want are its values as text.
	At        int
	Got, Want string
}

// OK reports whether every element is within tolerance.
func (d Diff) OK() bool { return d.Mismatches == 0 }

func (d Diff) String() string {
	if d.OK() {
		return fmt.Sprintf("worst |diff| %.3g", d.WorstAbs)
	}
	s := fmt.Sprintf("%d of %d elements differ; worst at element %d: got %s, want %s", d.Mismatches, d.Elements, d.At, d.Got, d.Want)
	if !math.IsInf(d.WorstRatio, 1) {
		s += fmt.Sprintf(" (|diff| %.3g is %.3g times the tolerance)", d.WorstAbs, d.WorstRatio)
	}
	return s
}

// ShapeError is an output whose dtype or shape differs from the reference, so no element can be compared.
type ShapeError struct{ Got, Want string }

func (e *ShapeError) Error() string { return fmt.Sprintf("got %s, want %s", e.Got, e.Want) }

// Compare checks got against want under tol. It returns a *ShapeError when dtypes or shapes differ.
// Sequences are compared element by element (their lengths first), optionals by presence and then by
// value, maps by keys and then values; the Diff adds up the elements' and the error names the element.
func Compare(got, want *ops.Tensor, tol Tolerance) (Diff, error) {
	if got.Kind() != ops.KindTensor || want.Kind() != ops.KindTensor {
		return compareValues(got, want, tol)
	}
	if got.DType() != want.DType() || !got.Shape().Equal(want.Shape()) {
		return Diff{}, &ShapeError{
			Got:  fmt.Sprintf("%s%v", got.DType(), got.Shape()),
			Want: fmt.Sprintf("%s%v", want.DType(), want.Shape()),
		}
	}
	d := Diff{Elements: want.Len(), At: -1}
	switch w := want.Data().(type) {
	case []float32:
		compareFloats(&d, got.Float32s(), w, tol)
	case []float64:
		compareFloats(&d, got.Float64s(), w, tol)
	case []ops.Float16Bits, []ops.BFloat16Bits:
		compareFloats(&d, got.AsFloat64s(), want.AsFloat64s(), tol)
	case []ops.Float8E4M3FNBits, []ops.Float8E4M3FNUZBits, []ops.Float8E5M2Bits, []ops.Float8E5M2FNUZBits,
		[]ops.Float4E2M1Bits, []ops.Float8E8M0Bits, []ops.Uint4Value, []ops.Int4Value, []ops.Uint2Value, []ops.Int2Value:
		// Every value of these narrow types is exact in float64: they compare exactly, NaN matching NaN.
		compareFloats(&d, got.AsFloat64s(), want.AsFloat64s(), Tolerance{})
	case []complex64:
		compareComplex(&d, ops.Data[complex64](got), w, tol)
	case []complex128:
		compareComplex(&d, ops.Data[complex128](got), w, tol)
	case []int8:
		compareIntegers(&d, ops.Data[int8](got), w, tol.Levels)
	case []int16:
		compareIntegers(&d, ops.Data[int16](got), w, tol.Levels)
	case []int32:
		compareIntegers(&d, ops.Data[int32](got), w, tol.Levels)
	case []int64:
		compareIntegers(&d, ops.Data[int64](got), w, tol.Levels)
	case []uint8:
		compareIntegers(&d, ops.Data[uint8](got), w, tol.Levels)
	case []uint16:
		compareIntegers(&d, ops.Data[uint16](got), w, tol.Levels)
	case []uint32:
		compareIntegers(&d, ops.Data[uint32](got), w, tol.Levels)
	case []uint64:
		compareIntegers(&d, ops.Data[uint64](got), w, tol.Levels)
	case []bool:
		compareExact(&d, got.Bools(), w)
	case []string:
		compareExact(&d, ops.Data[string](got), w)
	default:
		return Diff{}, fmt.Errorf("cannot compare %s tensors", want.DType())
	}
	return d, nil
}

// ratio is how far got is from want in units of the tolerance: 0 when equal, above 1 when out of tolerance.
// NaN matches NaN, an infinity matches only itself, and a NaN or infinity against a finite reference is
// +Inf.
func ratio(got, want float64, tol Tolerance) (r, abs float64) {
	switch {
	case math.IsNaN(want) || math.IsNaN(got):
		if math.IsNaN(want) && math.IsNaN(got) {
			return 0, 0
		}
		return math.Inf(1), 0
	case math.IsInf(want, 0) || math.IsInf(got, 0):
		if got == want {
			return 0, 0
		}
		return math.Inf(1), 0
	}
	abs = math.Abs(got - want)
	if abs == 0 {
		return 0, 0
	}
	bound := tol.ATol + tol.RTol*math.Abs(want)
	if bound == 0 {
		return math.Inf(1), abs
	}
	return abs / bound, abs
}

func (d *Diff) note(i int, r, abs float64, got, want any) {
	d.WorstAbs = math.Max(d.WorstAbs, abs)
	if r > 1 {
		d.Mismatches++
	}
	if d.At < 0 || r > d.WorstRatio {
		d.WorstRatio, d.At = r, i
		d.Got, d.Want = fmt.Sprint(got), fmt.Sprint(want)
	}
}

func compareFloats[G, W float32 | float64](d *Diff, got []G, want []W, tol Tolerance) {
	for i := range want {
		r, abs := ratio(float64(got[i]), float64(want[i]), tol)
		d.note(i, r, abs, got[i], want[i])
	}
}

func compareComplex[C complex64 | complex128](d *Diff, got, want []C, tol Tolerance) {
	for i := range want {
		rr, ra := ratio(real(complex128(got[i])), real(complex128(want[i])), tol)
		ir, ia := ratio(imag(complex128(got[i])), imag(complex128(want[i])), tol)
		d.note(i, math.Max(rr, ir), math.Max(ra, ia), got[i], want[i])
	}
}

func compareExact[T comparable](d *Diff, got, want []T) {
	for i := range want {
		r := 0.0
		if got[i] != want[i] {
			r = math.Inf(1)
		}
		d.note(i, r, 0, got[i], want[i])
	}
}

// compareValues compares sequences, optionals and maps (see Compare).
func compareValues(got, want *ops.Tensor, tol Tolerance) (Diff, error) {
	if got.Kind() != want.Kind() {
		return Diff{}, &ShapeError{Got: got.Type().String(), Want: want.Type().String()}
	}
	ge, we := got.Elements(), want.Elements()
	if len(ge) != len(we) {
		what := "elements"
		if got.Kind() == ops.KindOptional {
			return Diff{}, &ShapeError{Got: got.String(), Want: want.String()}
		}
		return Diff{}, &ShapeError{Got: fmt.Sprintf("%s of %d %s", got.Type(), len(ge), what), Want: fmt.Sprintf("%s of %d %s", want.Type(), len(we), what)}
	}
	total := Diff{At: -1}
	for i := range ge {
		d, err := Compare(ge[i], we[i], tol)
		if err != nil {
			return Diff{}, fmt.Errorf("element %d: %w", i, err)
		}
		if d.WorstRatio > total.WorstRatio || (total.At < 0 && d.At >= 0) {
			total.WorstRatio, total.At, total.Got, total.Want = d.WorstRatio, total.Elements+d.At, d.Got, d.Want
		}
		total.Elements += d.Elements
		total.Mismatches += d.Mismatches
		total.WorstAbs = math.Max(total.WorstAbs, d.WorstAbs)
	}
	return total, nil
}

// compareIntegers compares exactly, or within levels units when levels > 0 (and then records the
// differences in WorstAbs).
func compareIntegers[T ops.Integer](d *Diff, got, want []T, levels int) {
	if levels <= 0 {
		compareExact(d, got, want)
		return
	}
	for i := range want {
		abs := math.Abs(float64(got[i]) - float64(want[i]))
		r := abs / float64(levels)
		if abs > float64(levels) {
			r = math.Inf(1)
		}
		d.note(i, r, abs, got[i], want[i])
	}
}
