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
	"sync"
	"time"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
	_ "github.com/onnxrun/onnxrun/ops/imagecodec" // ImageDecoder is opt-in (runtime.OptInKernels)
	"github.com/onnxrun/onnxrun/runtime"
	"github.com/onnxrun/onnxrun/tensorconv"
	"github.com/onnxrun/onnxrun/tensorio"
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

// Kind is the layout of a case folder.
type Kind int

const (
	// NodeTest is ONNX's backend-test layout: model.onnx and test_data_set_N/{input_K,output_K}.pb.
	NodeTest Kind = iota
	// ModelDir is the layout of ../shared/models: model.onnx, input_K.npy and expected_K.npy, the outputs
	// of ONNX Runtime.
	ModelDir
)

func (k Kind) String() string { return [...]string{"node test", "model"}[k] }

// Case is one folder to run.
type Case struct {
	Suite string // base name of the folder it was found under, e.g. "onnx-node-tests"
	Name  string // base name of the case folder
	Dir   string
	Kind  Kind
}

// Result is what one case gave.
type Result struct {
	Case
	Status  Status
	OpTypes []string // distinct op types of the model, subgraphs included, sorted; "domain::Op" outside ai.onnx
	Opset   int      // the default-domain opset the model imports
	// Family is CoreFamily, or the key of the first of Families the model's ops or types belong to.
	Family string
	// Reason says why a case did not pass: the worst differing element, or the engine's error.
	Reason string
	// WorstAbs is the largest |got - want| over all float outputs and data sets; WorstRatio is the largest
	// |got - want| / tolerance (above 1 fails).
	WorstAbs, WorstRatio float64
	// DataSets is how many data sets (test_data_set_N folders, or batches of a model) passed.
	DataSets  int
	Tolerance Tolerance
	Override  *Override // the overrides.txt line that set Tolerance, if any
	// Known is set when the case failed and overrides.txt explains why (the reason starts "known: ").
	Known   bool
	Elapsed time.Duration
}

// DataSet is one set of inputs with the reference outputs.
type DataSet struct {
	Name    string
	Inputs  []*ops.Tensor
	Outputs []*ops.Tensor
}

// FindCases returns the folders under roots (each a case itself, or a folder of cases) that hold a
// model.onnx, sorted by name.
func FindCases(roots ...string) ([]string, error) {
	cases, err := Discover(roots...)
	if err != nil {
		return nil, err
	}
	dirs := make([]string, len(cases))
	for i, c := range cases {
		dirs[i] = c.Dir
	}
	return dirs, nil
}

// Discover returns the cases under roots, in the order of roots and then by name. A root holding a
// model.onnx is a case itself; otherwise each sub-folder holding one is. A case with test_data_set_N
// folders is a NodeTest, one with input_0.npy a ModelDir.
func Discover(roots ...string) ([]Case, error) {
	var cases []Case
	for _, root := range roots {
		root = filepath.Clean(root)
		if isFile(filepath.Join(root, "model.onnx")) {
			cases = append(cases, caseAt(filepath.Base(filepath.Dir(root)), root))
			continue
		}
		entries, err := os.ReadDir(root)
		if err != nil {
			return nil, err
		}
		var found []Case
		for _, e := range entries {
			dir := filepath.Join(root, e.Name())
			if !e.IsDir() || !isFile(filepath.Join(dir, "model.onnx")) {
				continue
			}
			found = append(found, caseAt(filepath.Base(root), dir))
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no case folders (a model.onnx with test_data_set_N folders or input_0.npy) in it", root)
		}
		sort.Slice(found, func(i, j int) bool { return found[i].Name < found[j].Name })
		cases = append(cases, found...)
	}
	return cases, nil
}

// caseAt makes the case of a folder holding a model.onnx: a ModelDir when it has input_0.npy (or .pb), else a
// NodeTest (even without data sets: RunCase then reports what is missing).
func caseAt(suite, dir string) Case {
	c := Case{Suite: suite, Name: filepath.Base(dir), Dir: dir, Kind: NodeTest}
	// A non-tensor first input (a map, a sequence) is input_0.pb, read as the model declares it.
	if isFile(filepath.Join(dir, "input_0.npy")) || isFile(filepath.Join(dir, "input_0.pb")) {
		c.Kind = ModelDir
	}
	return c
}

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}

// Run runs a case with its tolerance: the overrides.txt line for its name, else DefaultTolerance for a
// node test and ModelTolerance for a model.
func Run(c Case) Result {
	def := DefaultTolerance
	if c.Kind == ModelDir {
		def = ModelTolerance
	}
	if o := OverrideFor(c.Name); o != nil {
		def = o.Tol
	}
	if c.Kind == ModelDir {
		return Finish(c, RunModelDir(c.Dir, def))
	}
	return Finish(c, RunCase(c.Dir, def))
}

// RunAll runs cases on jobs goroutines (GOMAXPROCS when jobs <= 0) and returns the results in the order
// of cases. Each result is also handed to report, if not nil, in that order as soon as it and all before it
// are done, so that progress prints steadily and the same way every time.
func RunAll(cases []Case, jobs int, report func(Result)) []Result {
	if jobs <= 0 {
		jobs = defaultJobs()
	}
	results := make([]Result, len(cases))
	done := make([]bool, len(cases))
	var mu sync.Mutex
	next := 0 // the first result not yet reported
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(jobs, max(len(cases), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				r := Run(cases[i])
				mu.Lock()
				results[i], done[i] = r, true
				for next < len(cases) && done[next] {
					if report != nil {
						report(results[next])
					}
					next++
				}
				mu.Unlock()
			}
		}()
	}
	for i := range cases {
		work <- i
	}
	close(work)
	wg.Wait()
	return results
}

var dataSetRe = regexp.MustCompile(`^test_data_set_(\d+)$`)

// RunCase compiles dir/model.onnx and checks it against every dir/test_data_set_N.
func RunCase(dir string, tol Tolerance) Result {
	name := filepath.Base(dir)
	m, err := onnx.Load(filepath.Join(dir, "model.onnx"))
	if err != nil {
		res := Result{Case: Case{Name: name, Dir: dir, Kind: NodeTest}, Tolerance: tol}
		return res.failed(err)
	}
	spec, err := ReadCaseSpec(dir)
	if err != nil {
		res := Result{Case: Case{Name: name, Dir: dir, Kind: NodeTest}, Tolerance: tol}
		return res.failed(err)
	}
	if spec != nil && spec.Tolerance != nil {
		tol = Tolerance{RTol: spec.Tolerance.RTol, ATol: spec.Tolerance.ATol}
	}
	res := check(m, func() ([]DataSet, error) { return readDataSets(dir, m) }, tol, spec)
	res.Case = Case{Name: name, Dir: dir, Kind: NodeTest}
	return res
}

// Check compiles m, reads its data sets with load (after compiling, so that an unsupported model is
// reported as such rather than by its data) and compares every output with the reference. A panic in the
// engine is reported as an Error of this case.
func Check(m *onnx.Model, load func() ([]DataSet, error), tol Tolerance) Result {
	return check(m, load, tol, nil)
}

// check is Check with a case's SpecFile, if it has one: state carried from one data set to the next,
// detections compared as such.
func check(m *onnx.Model, load func() ([]DataSet, error), tol Tolerance, spec *CaseSpec) (res Result) {
	start := time.Now()
	res.Tolerance = tol
	defer func() {
		if r := recover(); r != nil {
			res.Status, res.Reason = Error, fmt.Sprintf("panic: %v", r)
		}
		res.Elapsed = time.Since(start)
	}()
	var ioTypes []string
	res.OpTypes, res.Opset, ioTypes = describeModel(m)
	res.Family = classify(res.OpTypes, ioTypes)
	plan, err := runtime.Compile(m, runtime.Options{Threads: 1})
	if err != nil {
		return res.failed(err)
	}
	sets, err := load()
	if err != nil {
		return res.failed(err)
	}
	if len(sets) == 0 {
		return res.failed(errors.New("no data sets"))
	}
	sess := plan.NewSession()
	defer sess.Close()
	outs := plan.Outputs()
	inNames, outNames := specNames(plan.Inputs()), specNames(outs)
	var carried []*ops.Tensor // the previous data set's outputs, when spec carries state
	for n, set := range sets {
		if len(set.Inputs) != len(plan.Inputs()) {
			return res.failed(fmt.Errorf("%s: %d inputs, the model has %d", set.Name, len(set.Inputs), len(plan.Inputs())))
		}
		// A data set with no reference outputs would pass with nothing compared.
		if len(set.Outputs) == 0 {
			return res.failed(fmt.Errorf("%s: no reference outputs (output_0.pb, ...) to compare with", set.Name))
		}
		inputs, err := spec.carriedInputs(n, set.Inputs, carried, inNames, outNames)
		if err != nil {
			return res.failed(err)
		}
		got, err := sess.Run(context.Background(), inputs)
		if err != nil {
			return res.failed(fmt.Errorf("%s: %w", set.Name, err))
		}
		// ONNX's backend runner asserts len(outputs) == len(ref_outputs) before comparing any
		// (Runner.assert_similar_outputs in onnx/backend/test/runner/__init__.py), so an output the
		// reference lacks is an error too, not an output left unchecked.
		if len(got) != len(set.Outputs) {
			return res.failed(fmt.Errorf("%s: the engine gave %d outputs, the reference has %d", set.Name, len(got), len(set.Outputs)))
		}
		for i, want := range set.Outputs {
			if spec.isDetectionOutput(i) || spec.isSuppressionInput(outs[i].Name) {
				continue
			}
			tol := spec.toleranceFor(outs[i].Name, tol)
			where := fmt.Sprintf("%s: output %d (%s)", set.Name, i, outs[i].Name)
			if tol.Draws != NoDrawRule {
				if len(set.Inputs) == 0 {
					return res.failed(fmt.Errorf("%s: the %s rule needs the probabilities as input 0", set.Name, tol.Draws))
				}
				if err := CheckBernoulli(got[i], want, set.Inputs[0], tol.Draws); err != nil {
					res.Status, res.Reason = Fail, fmt.Sprintf("%s: %v", where, err)
					return res
				}
				continue
			}
			d, err := Compare(got[i], want, tol)
			if err != nil {
				res.Status, res.Reason = Fail, fmt.Sprintf("%s: %v", where, err)
				return res
			}
			res.WorstAbs = math.Max(res.WorstAbs, d.WorstAbs)
			res.WorstRatio = math.Max(res.WorstRatio, d.WorstRatio)
			if !d.OK() {
				res.Status, res.Reason = Fail, fmt.Sprintf("%s: %v [%v]", where, d, tol)
				return res
			}
		}
		if spec != nil && len(spec.SuppressionInputs) > 0 {
			worstAbs, worstRatio, err := compareSuppressionInputs(got, set.Outputs, outNames, spec.SuppressionInputs,
				func(name string) Tolerance { return spec.toleranceFor(name, tol) })
			if err != nil {
				res.Status, res.Reason = Fail, fmt.Sprintf("%s: %v", set.Name, err)
				return res
			}
			res.WorstAbs, res.WorstRatio = math.Max(res.WorstAbs, worstAbs), math.Max(res.WorstRatio, worstRatio)
		}
		if spec != nil && spec.Detection != nil {
			boxTol := tol
			if b := spec.Detection.Boxes; b >= 0 && b < len(outNames) {
				boxTol = spec.toleranceFor(outNames[b], tol)
			}
			if err := compareDetectionOutputs(got, set.Outputs, spec.Detection, tol, boxTol); err != nil {
				res.Status, res.Reason = Fail, fmt.Sprintf("%s: %v", set.Name, err)
				return res
			}
		}
		if spec != nil && len(spec.Carry) > 0 {
			// Run's outputs stay valid only until the next Run.
			carried = make([]*ops.Tensor, len(got))
			for i, t := range got {
				carried[i] = t.Clone()
			}
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

// describeModel returns the model's op types (subgraphs included), its default-domain opset, and the types
// of its graph inputs and outputs as Family.Types names them.
func describeModel(m *onnx.Model) (opTypes []string, opset int, ioTypes []string) {
	seen := map[string]bool{}
	var walk func(g *onnxpb.GraphProto)
	walk = func(g *onnxpb.GraphProto) {
		for _, n := range g.GetNode() {
			op := n.GetOpType()
			if d := onnx.NormalizeDomain(n.GetDomain()); d != "" {
				op = d + "::" + op
			}
			seen[op] = true
			for _, a := range n.GetAttribute() {
				if a.GetG() != nil {
					walk(a.GetG())
				}
				for _, g := range a.GetGraphs() {
					walk(g)
				}
			}
		}
	}
	g := m.Proto.GetGraph()
	walk(g)
	for _, imp := range m.Proto.GetOpsetImport() {
		if onnx.NormalizeDomain(imp.GetDomain()) == "" {
			opset = int(imp.GetVersion())
		}
	}
	types := map[string]bool{}
	for _, vi := range append(append([]*onnxpb.ValueInfoProto(nil), g.GetInput()...), g.GetOutput()...) {
		t := vi.GetType()
		switch {
		case t.GetTensorType() != nil:
			types[onnxpb.TensorProto_DataType(t.GetTensorType().GetElemType()).String()] = true
		case t.GetSequenceType() != nil:
			types["sequence"] = true
		case t.GetOptionalType() != nil:
			types["optional"] = true
		case t.GetMapType() != nil:
			types["map"] = true
		}
	}
	return sortedKeys(seen), opset, sortedKeys(types)
}

// readDataSets reads every test_data_set_N of a node test, in order of N. The model's declared input and
// output types say which files hold a SequenceProto or an OptionalProto rather than a TensorProto.
func readDataSets(dir string, m *onnx.Model) ([]DataSet, error) {
	g := m.Proto.GetGraph()
	inputs := graphInputs(g)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	type numbered struct {
		n    int
		name string
	}
	var found []numbered
	for _, e := range entries {
		if m := dataSetRe.FindStringSubmatch(e.Name()); m != nil && e.IsDir() {
			n, _ := strconv.Atoi(m[1])
			found = append(found, numbered{n, e.Name()})
		}
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("%s: no test_data_set_N folders", dir)
	}
	sort.Slice(found, func(i, j int) bool { return found[i].n < found[j].n })
	sets := make([]DataSet, len(found))
	for i, f := range found {
		path := filepath.Join(dir, f.name)
		in, err := readTensors(path, "input", inputs)
		if err != nil {
			return nil, err
		}
		out, err := readTensors(path, "output", g.GetOutput())
		if err != nil {
			return nil, err
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%s: no output_0.pb: a data set without reference outputs checks nothing", path)
		}
		sets[i] = DataSet{Name: f.name, Inputs: in, Outputs: out}
	}
	return sets, nil
}

// graphInputs are a graph's inputs that are not initializers: what a data set feeds.
func graphInputs(g *onnxpb.GraphProto) []*onnxpb.ValueInfoProto {
	inits := map[string]bool{}
	for _, t := range g.GetInitializer() {
		inits[t.GetName()] = true
	}
	var inputs []*onnxpb.ValueInfoProto
	for _, in := range g.GetInput() {
		if !inits[in.GetName()] {
			inputs = append(inputs, in)
		}
	}
	return inputs
}

// readTensors reads prefix_0.pb, prefix_1.pb, ... from a data set folder, up to the first missing number;
// file i holds a value of the type declared by decls[i] (a tensor when there is no such declaration).
func readTensors(set, prefix string, decls []*onnxpb.ValueInfoProto) ([]*ops.Tensor, error) {
	var out []*ops.Tensor
	for i := 0; ; i++ {
		path := filepath.Join(set, fmt.Sprintf("%s_%d.pb", prefix, i))
		if !isFile(path) {
			return out, nil
		}
		if i < len(decls) && decls[i].GetType().GetTensorType() == nil {
			v, err := readValue(path, decls[i].GetType())
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			continue
		}
		_, a, err := onnx.ReadTensorFile(path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		t, err := tensorconv.FromArray(a)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, t)
	}
}

// readValue reads a test data file holding a sequence, optional or map of the declared type.
func readValue(path string, tp *onnxpb.TypeProto) (*ops.Tensor, error) {
	t, ok := runtime.ValueTypeOf(tp)
	if !ok {
		return nil, fmt.Errorf("%s: %w: the declared type is not one onnxrun represents", path, runtime.ErrUnsupported)
	}
	return tensorio.ReadValuePB(path, t)
}

// SummaryLine is one line for a result, as `onnxrun conformance` prints it: status, name, and the worst
// error for a pass or the reason for anything else.
func (r Result) SummaryLine() string {
	s := fmt.Sprintf("%-11s %-56s", r.Status, r.Name)
	switch {
	case r.Status == Pass && r.Tolerance.Draws != NoDrawRule:
		s += " draws pass the " + r.Tolerance.Draws.String() + " rule"
	case r.Status == Pass && (r.Tolerance.RTol > 0 || r.Tolerance.Levels > 0) && r.WorstAbs > 0:
		s += fmt.Sprintf(" worst |diff| %.2g (%.2g of tolerance)", r.WorstAbs, r.WorstRatio)
	case r.Status == Pass:
		s += " exact"
	default:
		s += " " + Shorten(r.Reason, 300)
	}
	if r.Kind == ModelDir {
		s += fmt.Sprintf(" [%s]", r.Elapsed.Round(time.Millisecond))
	}
	return strings.TrimRight(s, " ")
}

// Shorten folds a message onto one line and cuts it to at most n bytes (on a rune boundary).
func Shorten(msg string, n int) string {
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) <= n {
		return msg
	}
	cut := n
	for cut > 0 && !utf8RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + "..."
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
