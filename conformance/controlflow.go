package conformance

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// SpecFile is the file beside a backend-test folder's model.onnx that says how its data sets are compared
// when plain output-by-output comparison would not do: scripts/make_controlflow_models.py writes one for
// each control-flow model (.cache/controlflow, `make controlflow-models`).
const SpecFile = "controlflow.json"

// CaseSpec is a SpecFile: data sets that are consecutive chunks carrying state, and outputs that are
// detections after non-maximum suppression.
type CaseSpec struct {
	// Carry pairs an output name with an input name: from the second chunk of a sequence on, the engine's
	// own output is fed in place of the input (whose file holds the reference engine's), so that a state
	// error compounds over the chunks as it would in use.
	Carry [][2]string `json:"carry"`
	// Chunks is how many data sets make one sequence; the first of each starts from its files' state.
	Chunks    int            `json:"chunks"`
	Detection *DetectionSpec `json:"detection"`
	// Tolerance replaces the case's default tolerance when set.
	Tolerance *struct {
		RTol float64 `json:"rtol"`
		ATol float64 `json:"atol"`
	} `json:"tolerance"`
}

// DetectionSpec names the outputs (by index) that hold the boxes, scores and labels after suppression,
// and the score threshold the model applied.
type DetectionSpec struct {
	Boxes          int     `json:"boxes"`
	Scores         int     `json:"scores"`
	Labels         int     `json:"labels"`
	ScoreThreshold float64 `json:"score_threshold"`
}

// ReadCaseSpec reads dir's SpecFile; it returns nil and no error when there is none.
func ReadCaseSpec(dir string) (*CaseSpec, error) {
	data, err := os.ReadFile(filepath.Join(dir, SpecFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var spec CaseSpec
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, SpecFile), err)
	}
	if len(spec.Carry) > 0 && spec.Chunks < 1 {
		return nil, fmt.Errorf("%s: carry without chunks (data sets to a sequence)", filepath.Join(dir, SpecFile))
	}
	return &spec, nil
}

// isDetectionOutput reports whether output i is compared as detections rather than element by element.
func (s *CaseSpec) isDetectionOutput(i int) bool {
	if s == nil || s.Detection == nil {
		return false
	}
	return i == s.Detection.Boxes || i == s.Detection.Scores || i == s.Detection.Labels
}

// carriedInputs returns the inputs of data set n with the carried ones replaced by the engine's outputs
// of data set n-1 (prev, named outNames), or inputs itself at the start of a sequence.
func (s *CaseSpec) carriedInputs(n int, inputs, prev []*ops.Tensor, inNames, outNames []string) ([]*ops.Tensor, error) {
	if s == nil || len(s.Carry) == 0 || n%s.Chunks == 0 || prev == nil {
		return inputs, nil
	}
	out := append([]*ops.Tensor(nil), inputs...)
	for _, pair := range s.Carry {
		from, to := indexOf(outNames, pair[0]), indexOf(inNames, pair[1])
		if from < 0 || to < 0 {
			return nil, fmt.Errorf("%s: carry %s -> %s: the model has no output %q or no input %q", SpecFile, pair[0], pair[1], pair[0], pair[1])
		}
		out[to] = prev[from]
	}
	return out, nil
}

func indexOf(names []string, name string) int {
	for i, n := range names {
		if n == name {
			return i
		}
	}
	return -1
}

// ScoreMargin is how far from the score threshold a detection's score must be for it to be compared: one
// nearer may be kept by one engine and dropped by the other through rounding alone.
const ScoreMargin = 1e-4

// Detection is one box after suppression: corners, score and class.
type Detection struct {
	Box   [4]float64
	Score float64
	Label int64
}

func (d Detection) String() string {
	return fmt.Sprintf("label %d score %.6g box [%.4g %.4g %.4g %.4g]", d.Label, d.Score, d.Box[0], d.Box[1], d.Box[2], d.Box[3])
}

// DetectionsFrom reads boxes [N,4], scores [N] and labels [N] (any integer type) into detections.
func DetectionsFrom(boxes, scores, labels *ops.Tensor) ([]Detection, error) {
	n := scores.Len()
	if boxes.Rank() != 2 || boxes.Shape()[1] != 4 || boxes.Shape()[0] != n || labels.Len() != n {
		return nil, fmt.Errorf("detections: boxes %v, scores %v and labels %v do not describe the same N boxes [N,4], [N], [N]",
			boxes.Shape(), scores.Shape(), labels.Shape())
	}
	if !boxes.DType().IsFloat() || !scores.DType().IsFloat() || !labels.DType().IsInteger() {
		return nil, fmt.Errorf("detections: boxes %s, scores %s and labels %s: want float boxes and scores and integer labels",
			boxes.DType(), scores.DType(), labels.DType())
	}
	b, s, l := boxes.AsFloat64s(), scores.AsFloat64s(), labels.AsFloat64s()
	out := make([]Detection, n)
	for i := range out {
		out[i] = Detection{Box: [4]float64{b[4*i], b[4*i+1], b[4*i+2], b[4*i+3]}, Score: s[i], Label: int64(l[i])}
	}
	return out, nil
}

// CompareDetections checks detections after suppression: those whose score is more than ScoreMargin from
// threshold must be the same in got and want, in any order, each score and corner within tol and each
// label equal.
func CompareDetections(got, want []Detection, threshold float64, tol Tolerance) error {
	got, want = clearOfThreshold(got, threshold), clearOfThreshold(want, threshold)
	if len(got) != len(want) {
		return fmt.Errorf("detections: %d with a score more than %g from the threshold %g, the reference has %d",
			len(got), ScoreMargin, threshold, len(want))
	}
	used := make([]bool, len(got))
	for _, w := range want {
		match := -1
		for i, g := range got {
			if !used[i] && sameDetection(g, w, tol) {
				match = i
				break
			}
		}
		if match < 0 {
			return fmt.Errorf("detections: the reference's %v has no match within %v; nearest: %v", w, tol, nearestDetection(got, used, w))
		}
		used[match] = true
	}
	return nil
}

// clearOfThreshold returns the detections scoring more than ScoreMargin from threshold, by descending
// score (so that the matching in CompareDetections meets the likely partner first).
func clearOfThreshold(ds []Detection, threshold float64) []Detection {
	var out []Detection
	for _, d := range ds {
		if math.Abs(d.Score-threshold) > ScoreMargin {
			out = append(out, d)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	return out
}

func sameDetection(g, w Detection, tol Tolerance) bool {
	if g.Label != w.Label {
		return false
	}
	if r, _ := ratio(g.Score, w.Score, tol); r > 1 {
		return false
	}
	for k := range w.Box {
		if r, _ := ratio(g.Box[k], w.Box[k], tol); r > 1 {
			return false
		}
	}
	return true
}

// nearestDetection is the unmatched detection of ds with w's label whose corners are nearest w's, for the
// error message; "none" when there is none.
func nearestDetection(ds []Detection, used []bool, w Detection) string {
	best, bestDist := -1, math.Inf(1)
	for i, d := range ds {
		if used[i] || d.Label != w.Label {
			continue
		}
		dist := 0.0
		for k := range w.Box {
			dist = math.Max(dist, math.Abs(d.Box[k]-w.Box[k]))
		}
		if dist < bestDist {
			best, bestDist = i, dist
		}
	}
	if best < 0 {
		return "none with that label"
	}
	return ds[best].String()
}

// compareDetectionOutputs compares the detection outputs that spec names, got against want.
func compareDetectionOutputs(got, want []*ops.Tensor, spec *DetectionSpec, tol Tolerance) error {
	for _, i := range []int{spec.Boxes, spec.Scores, spec.Labels} {
		if i < 0 || i >= len(want) || i >= len(got) {
			return fmt.Errorf("%s: detection output %d: the model has %d outputs", SpecFile, i, len(want))
		}
	}
	g, err := DetectionsFrom(got[spec.Boxes], got[spec.Scores], got[spec.Labels])
	if err != nil {
		return err
	}
	w, err := DetectionsFrom(want[spec.Boxes], want[spec.Scores], want[spec.Labels])
	if err != nil {
		return fmt.Errorf("reference: %w", err)
	}
	return CompareDetections(g, w, spec.ScoreThreshold, tol)
}

func specNames(specs []runtime.ValueSpec) []string {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	return names
}
