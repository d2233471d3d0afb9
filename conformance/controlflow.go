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
	// SuppressionInputs names the outputs that are the tensors a non-maximum suppression reads (candidate
	// boxes, scores, classes). They come ordered by score (TopK), so two candidates whose scores differ by
	// a rounding error may come in either order: see compareSuppressionInputs.
	SuppressionInputs []string `json:"suppression_inputs"`
	// Tolerance replaces the case's default tolerance when set.
	Tolerance *SpecTolerance `json:"tolerance"`
	// OutputTolerance replaces the case's tolerance for the outputs it names (for the detections, the
	// boxes output's applies to the corners). The generating script records why beside it.
	OutputTolerance map[string]SpecTolerance `json:"output_tolerance"`
}

// SpecTolerance is a tolerance as a SpecFile writes it. Levels lets an integer output differ by that many
// units: scripts/make_quant_models.py gives its uint8 outputs 1 (ONNX Runtime requantizes in float32, and
// an exact integer kernel may land one quantization level apart).
type SpecTolerance struct {
	RTol   float64 `json:"rtol"`
	ATol   float64 `json:"atol"`
	Levels int     `json:"levels"`
}

// toleranceFor is the tolerance of the output named name: its OutputTolerance, else def.
func (s *CaseSpec) toleranceFor(name string, def Tolerance) Tolerance {
	if s == nil {
		return def
	}
	if t, ok := s.OutputTolerance[name]; ok {
		return Tolerance{RTol: t.RTol, ATol: t.ATol, Levels: t.Levels}
	}
	return def
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

// isSuppressionInput reports whether the output named name is compared by compareSuppressionInputs rather
// than element by element.
func (s *CaseSpec) isSuppressionInput(name string) bool {
	return s != nil && indexOf(s.SuppressionInputs, name) >= 0
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
// threshold must be the same in got and want, in any order, each score within scoreTol, each corner within
// boxTol and each label equal.
func CompareDetections(got, want []Detection, threshold float64, scoreTol, boxTol Tolerance) error {
	got, want = clearOfThreshold(got, threshold), clearOfThreshold(want, threshold)
	if len(got) != len(want) {
		return fmt.Errorf("detections: %d with a score more than %g from the threshold %g, the reference has %d",
			len(got), ScoreMargin, threshold, len(want))
	}
	used := make([]bool, len(got))
	for _, w := range want {
		match := -1
		for i, g := range got {
			if !used[i] && sameDetection(g, w, scoreTol, boxTol) {
				match = i
				break
			}
		}
		if match < 0 {
			return fmt.Errorf("detections: the reference's %v has no match within %v (corners %v); nearest: %v",
				w, scoreTol, boxTol, nearestDetection(got, used, w))
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

func sameDetection(g, w Detection, scoreTol, boxTol Tolerance) bool {
	if g.Label != w.Label {
		return false
	}
	if r, _ := ratio(g.Score, w.Score, scoreTol); r > 1 {
		return false
	}
	for k := range w.Box {
		if r, _ := ratio(g.Box[k], w.Box[k], boxTol); r > 1 {
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

// compareDetectionOutputs compares the detection outputs that spec names, got against want: the scores
// within tol, the corners within boxTol.
func compareDetectionOutputs(got, want []*ops.Tensor, spec *DetectionSpec, tol, boxTol Tolerance) error {
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
	return CompareDetections(g, w, spec.ScoreThreshold, tol, boxTol)
}

func specNames(specs []runtime.ValueSpec) []string {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	return names
}

// compareSuppressionInputs compares the outputs named in names (a SpecFile's suppression_inputs) as
// tables of candidates: outputs whose reference has the same leading dimension N describe the same N
// candidates, row k of each being candidate k. Each reference row must be matched by a distinct row of the
// engine's, every element within its output's tolerance (tolFor) and integers exactly. A row may be
// matched at another position only where the reference's scores at the two positions are within tolerance
// of each other (every rank-1 floating-point output of a table is taken for a score): TopK orders the
// candidates by score, so two whose scores differ by a rounding error may come in either order. ONNX
// Runtime swaps such rows against itself: on Faster R-CNN, with graph optimizations off, rows 92 and 93
// of the RPN's candidates (scores 0.8058035 and 0.8058027) come the other way round. It returns the
// largest |got - want| over the matched rows, and the largest in units of the tolerance.
func compareSuppressionInputs(got, want []*ops.Tensor, outNames, names []string, tolFor func(string) Tolerance) (worstAbs, worstRatio float64, err error) {
	var tables [][]int // output indices, grouped by the reference's leading dimension
	byRows := map[int]int{}
	for _, name := range names {
		i := indexOf(outNames, name)
		if i < 0 || i >= len(want) || i >= len(got) {
			return 0, 0, fmt.Errorf("%s: suppression input %q is not an output of the model", SpecFile, name)
		}
		if got[i].DType() != want[i].DType() || !got[i].Shape().Equal(want[i].Shape()) {
			return 0, 0, fmt.Errorf("suppression input %s: %w", name, &ShapeError{
				Got:  fmt.Sprintf("%s%v", got[i].DType(), got[i].Shape()),
				Want: fmt.Sprintf("%s%v", want[i].DType(), want[i].Shape()),
			})
		}
		if want[i].Rank() == 0 {
			return 0, 0, fmt.Errorf("suppression input %s: a scalar, not one row per candidate", name)
		}
		n := want[i].Shape()[0]
		t, ok := byRows[n]
		if !ok {
			t = len(tables)
			byRows[n] = t
			tables = append(tables, nil)
		}
		tables[t] = append(tables[t], i)
	}
	for _, members := range tables {
		table := newCandidateTable(got, want, outNames, members, tolFor)
		if err := table.match(); err != nil {
			return 0, 0, err
		}
		worstAbs, worstRatio = math.Max(worstAbs, table.worstAbs), math.Max(worstRatio, table.worstRatio)
	}
	return worstAbs, worstRatio, nil
}

// candidateTable is one group of suppression inputs with the same leading dimension: rows candidates,
// each column (output) width elements a row.
type candidateTable struct {
	rows      int
	names     []string
	got, want [][]float64
	width     []int
	exact     []bool // integer or bool outputs, compared exactly
	score     []bool // rank-1 floating-point outputs, which order the rows
	tol       []Tolerance
	// worstAbs and worstRatio are the largest |got - want| over the matched rows, and in units of the
	// tolerance.
	worstAbs, worstRatio float64
}

func newCandidateTable(got, want []*ops.Tensor, outNames []string, members []int, tolFor func(string) Tolerance) *candidateTable {
	c := &candidateTable{rows: want[members[0]].Shape()[0]}
	for _, i := range members {
		w := want[i]
		width := 0
		if c.rows > 0 {
			width = w.Len() / c.rows
		}
		c.names = append(c.names, outNames[i])
		c.got = append(c.got, got[i].AsFloat64s())
		c.want = append(c.want, w.AsFloat64s())
		c.width = append(c.width, width)
		c.exact = append(c.exact, !w.DType().IsFloat())
		c.score = append(c.score, w.Rank() == 1 && w.DType().IsFloat())
		c.tol = append(c.tol, tolFor(outNames[i]))
	}
	return c
}

// rowMatches reports whether the engine's row g matches the reference's row w in every column; when it
// does, it adds the row's differences to worstAbs and worstRatio.
func (c *candidateTable) rowMatches(g, w int) bool {
	worstAbs, worstRatio := 0.0, 0.0
	for k := range c.names {
		n := c.width[k]
		gs, ws := c.got[k][g*n:(g+1)*n], c.want[k][w*n:(w+1)*n]
		for e := range ws {
			if c.exact[k] {
				if gs[e] != ws[e] {
					return false
				}
				continue
			}
			r, abs := ratio(gs[e], ws[e], c.tol[k])
			if r > 1 {
				return false
			}
			worstAbs, worstRatio = math.Max(worstAbs, abs), math.Max(worstRatio, r)
		}
	}
	c.worstAbs, c.worstRatio = math.Max(c.worstAbs, worstAbs), math.Max(c.worstRatio, worstRatio)
	return true
}

// scoresClose reports whether the reference's scores at rows a and b are within tolerance of each other,
// so that the two candidates may come in either order.
func (c *candidateTable) scoresClose(a, b int) bool {
	for k := range c.names {
		if c.score[k] {
			if r, _ := ratio(c.want[k][b], c.want[k][a], c.tol[k]); r > 1 {
				return false
			}
		}
	}
	return true
}

// match pairs every reference row with a distinct row of the engine's: first in place, then at the
// nearest free position whose reference score is within tolerance of the row's own.
func (c *candidateTable) match() error {
	used := make([]bool, c.rows)
	matched := make([]bool, c.rows)
	for i := 0; i < c.rows; i++ {
		if c.rowMatches(i, i) {
			used[i], matched[i] = true, true
		}
	}
	for i := 0; i < c.rows; i++ {
		if matched[i] {
			continue
		}
		for d := 1; d < c.rows && !matched[i]; d++ {
			for _, j := range [2]int{i - d, i + d} {
				if j < 0 || j >= c.rows || used[j] || !c.scoresClose(i, j) {
					continue
				}
				if c.rowMatches(j, i) {
					used[j], matched[i] = true, true
					break
				}
			}
		}
		if !matched[i] {
			return fmt.Errorf("suppression inputs: the reference's candidate %d (%s) has no match among the engine's "+
				"candidates in place or where the reference's score is within tolerance of its own; the engine's row %d is %s",
				i, c.describe(c.want, i), i, c.describe(c.got, i))
		}
	}
	return nil
}

// describe prints row i of the columns cols (c.got or c.want) as "name [values]; ...".
func (c *candidateTable) describe(cols [][]float64, i int) string {
	s := ""
	for k, name := range c.names {
		if k > 0 {
			s += "; "
		}
		n := c.width[k]
		s += fmt.Sprintf("%s %.6g", name, cols[k][i*n:(i+1)*n])
	}
	return s
}
