package conformance

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// Status is the outcome of one test case.
type Status int

const (
	Pass        Status = iota
	Fail               // ran, but an output differs from the reference beyond tolerance
	Unsupported        // the engine refused the model: an op, opset, dtype or feature it lacks
	Error              // the engine failed on a model it claims to support, or the case could not be read
)

func (s Status) String() string {
	return [...]string{"pass", "FAIL", "unsupported", "ERROR"}[s]
}

// Tolerance is ONNX's comparison rule |got - want| <= ATol + RTol*|want|; integers and bools are exact.
type Tolerance struct{ RTol, ATol float64 }

// DefaultTolerance is what ONNX's backend test runner and ONNX Runtime's onnx_test_runner use.
var DefaultTolerance = Tolerance{RTol: 1e-3, ATol: 1e-7}

// Result is what one case gave.
type Result struct {
	Name    string
	Dir     string
	Status  Status
	OpTypes []string // distinct op types of the model's graph, sorted
	Opset   int      // the default-domain opset the model imports
	// Reason says why a case did not pass: the first differing element, or the engine's error.
	Reason string
	// WorstAbs is the largest |got - want| over all outputs and data sets (0 for exact types).
	WorstAbs float64
	// DataSets is how many test_data_set folders ran.
	DataSets int
}

// FindCases returns the folders under roots (each a case itself, or a folder of cases) that hold a
// model.onnx, sorted by name.
func FindCases(roots ...string) ([]string, error) {
	var dirs []string
	for _, root := range roots {
		if _, err := os.Stat(filepath.Join(root, "model.onnx")); err == nil {
			dirs = append(dirs, root)
			continue
		}
		entries, err := os.ReadDir(root)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if !e.IsDir() {
				continue
			}
			d := filepath.Join(root, e.Name())
			if _, err := os.Stat(filepath.Join(d, "model.onnx")); err == nil {
				dirs = append(dirs, d)
			}
		}
	}
	sort.Strings(dirs)
	return dirs, nil
}

var dataSetRe = regexp.MustCompile(`^test_data_set_(\d+)$`)

// RunCase compiles dir/model.onnx and checks it against every dir/test_data_set_N.
func RunCase(dir string, tol Tolerance) (res Result) {
	res = Result{Name: filepath.Base(dir), Dir: dir}
	defer func() {
		// A kernel panic is a bug in onnxrun; report it as an error of this case instead of killing the suite.
		if r := recover(); r != nil {
			res.Status = Error
			res.Reason = fmt.Sprintf("panic: %v", r)
		}
	}()
	m, err := onnx.Load(filepath.Join(dir, "model.onnx"))
	if err != nil {
		return res.failed(err)
	}
	res.OpTypes, res.Opset = describeModel(m)
	plan, err := runtime.Compile(m, runtime.Options{Threads: 1})
	if err != nil {
		return res.failed(err)
	}
	sets, err := dataSets(dir)
	if err != nil {
		return res.failed(err)
	}
	sess := plan.NewSession()
	defer sess.Close()
	for _, set := range sets {
		inputs, err := readTensors(set, "input", len(plan.Inputs()))
		if err != nil {
			return res.failed(err)
		}
		wants, err := readTensors(set, "output", -1)
		if err != nil {
			return res.failed(err)
		}
		got, err := sess.Run(context.Background(), inputs)
		if err != nil {
			return res.failed(err)
		}
		if len(got) != len(wants) {
			res.Status, res.Reason = Fail, fmt.Sprintf("%d outputs, reference has %d", len(got), len(wants))
			return res
		}
		outs := plan.Outputs()
		for i := range wants {
			if err := ops.AllClose(got[i], wants[i], tol.RTol, tol.ATol); err != nil {
				res.Status = Fail
				res.Reason = fmt.Sprintf("%s: output %d (%s): %v", filepath.Base(set), i, outs[i].Name, err)
				return res
			}
			res.WorstAbs = math.Max(res.WorstAbs, worstAbs(got[i], wants[i]))
		}
		res.DataSets++
	}
	res.Status = Pass
	return res
}

func (r Result) failed(err error) Result {
	r.Reason = err.Error()
	switch {
	case errors.Is(err, runtime.ErrUnsupported):
		r.Status = Unsupported
	default:
		r.Status = Error
	}
	return r
}

func describeModel(m *onnx.Model) ([]string, int) {
	seen := map[string]bool{}
	for _, n := range m.Proto.GetGraph().GetNode() {
		op := n.GetOpType()
		if d := ops.NormalizeDomain(n.GetDomain()); d != "" {
			op = d + "::" + op
		}
		seen[op] = true
	}
	types := make([]string, 0, len(seen))
	for t := range seen {
		types = append(types, t)
	}
	sort.Strings(types)
	opset := 0
	for _, imp := range m.Proto.GetOpsetImport() {
		if ops.NormalizeDomain(imp.GetDomain()) == "" {
			opset = int(imp.GetVersion())
		}
	}
	return types, opset
}

func dataSets(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	type set struct {
		n    int
		path string
	}
	var sets []set
	for _, e := range entries {
		if m := dataSetRe.FindStringSubmatch(e.Name()); m != nil && e.IsDir() {
			n, _ := strconv.Atoi(m[1])
			sets = append(sets, set{n, filepath.Join(dir, e.Name())})
		}
	}
	if len(sets) == 0 {
		return nil, fmt.Errorf("%s: no test_data_set_N folders", dir)
	}
	sort.Slice(sets, func(i, j int) bool { return sets[i].n < sets[j].n })
	paths := make([]string, len(sets))
	for i, s := range sets {
		paths[i] = s.path
	}
	return paths, nil
}

// readTensors reads prefix_0.pb, prefix_1.pb, ... from a data set folder. want < 0 reads all there are.
func readTensors(set, prefix string, want int) ([]*ops.Tensor, error) {
	var out []*ops.Tensor
	for i := 0; want < 0 || i < want; i++ {
		path := filepath.Join(set, fmt.Sprintf("%s_%d.pb", prefix, i))
		if _, err := os.Stat(path); err != nil {
			if want < 0 {
				break
			}
			return nil, fmt.Errorf("%s: missing (the model has %d inputs)", path, want)
		}
		_, a, err := onnx.ReadTensorFile(path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		t, err := runtime.TensorFromArray(a)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, t)
	}
	return out, nil
}

func worstAbs(got, want *ops.Tensor) float64 {
	if !want.DType().IsFloat() {
		return 0
	}
	g, w := got.AsFloat64s(), want.AsFloat64s()
	worst := 0.0
	for i := range w {
		if d := math.Abs(g[i] - w[i]); !math.IsNaN(d) && !math.IsInf(d, 0) {
			worst = math.Max(worst, d)
		}
	}
	return worst
}

// SummaryLine is one line for a result, as `onnxrun conformance` prints it.
func (r Result) SummaryLine() string {
	s := fmt.Sprintf("%-11s %-60s", r.Status, r.Name)
	if r.Reason != "" {
		reason := strings.ReplaceAll(r.Reason, "\n", " ")
		if len(reason) > 300 {
			reason = reason[:300] + "..."
		}
		s += " " + reason
	}
	return s
}
