package conformance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/tensorio"
)

// writeUnaryModel writes dir/model.onnx: y = opType(x), x and y float32 of shape dims (a string is a
// symbolic dimension).
func writeUnaryModel(t *testing.T, dir, opType string, opset int64, dims ...exporter.Dim) {
	t.Helper()
	writeModel(t, dir, []string{opType}, opset, dims...)
}

// writeModel writes dir/model.onnx with one output per op type, y_i = opTypes[i](x), all float32 of shape dims.
func writeModel(t *testing.T, dir string, opTypes []string, opset int64, dims ...exporter.Dim) {
	t.Helper()
	g := exporter.NewGraph(filepath.Base(dir))
	x := g.Input("x", onnxpb.TensorProto_FLOAT, dims...)
	for _, op := range opTypes {
		g.Output(g.Node(op, []string{x}, nil), onnxpb.TensorProto_FLOAT, dims...)
	}
	saveGraph(t, dir, g, opset)
}

// saveGraph writes g as dir/model.onnx at the opset given, making dir.
func saveGraph(t *testing.T, dir string, g *exporter.Graph, opset int64) {
	t.Helper()
	m, err := g.Model(exporter.ModelOptions{Opset: opset})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := m.Save(filepath.Join(dir, "model.onnx")); err != nil {
		t.Fatal(err)
	}
}

// writeDataSet writes dir/test_data_set_N/input_0.pb and output_0.pb.
func writeDataSet(t *testing.T, dir string, n int, in, out *ops.Tensor) {
	t.Helper()
	set := filepath.Join(dir, "test_data_set_"+string(rune('0'+n)))
	if err := os.MkdirAll(set, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := tensorio.WritePB(filepath.Join(set, "input_0.pb"), in); err != nil {
		t.Fatal(err)
	}
	if err := tensorio.WritePB(filepath.Join(set, "output_0.pb"), out); err != nil {
		t.Fatal(err)
	}
}

func vec(v ...float32) *ops.Tensor { return ops.FromSlice(ops.Shape{len(v)}, v) }

// makeSuite builds a folder of node tests with one case per outcome, and a folder of models.
func makeSuite(t *testing.T) (nodeRoot, modelRoot string) {
	root := t.TempDir()
	nodeRoot, modelRoot = filepath.Join(root, "nodes"), filepath.Join(root, "models")

	dir := filepath.Join(nodeRoot, "test_relu")
	writeUnaryModel(t, dir, "Relu", 14, 4)
	writeDataSet(t, dir, 0, vec(-1, 0, 2, 3), vec(0, 0, 2, 3))
	writeDataSet(t, dir, 1, vec(5, -5, 0.5, -0.5), vec(5, 0, 0.5, 0))

	// The same op expanded into another op: counted for Relu in the operator table.
	dir = filepath.Join(nodeRoot, "test_relu_expanded")
	writeUnaryModel(t, dir, "Abs", 14, 4)
	writeDataSet(t, dir, 0, vec(-1, 0, 2, 3), vec(1, 0, 2, 3))

	dir = filepath.Join(nodeRoot, "test_relu_wrong_reference")
	writeUnaryModel(t, dir, "Relu", 14, 4)
	writeDataSet(t, dir, 0, vec(-1, 0, 2, 3), vec(0, 0, 2, 3))
	writeDataSet(t, dir, 1, vec(-1, 0, 2, 3), vec(0, 0, 2.5, 3))

	dir = filepath.Join(nodeRoot, "test_custom_op")
	writeUnaryModel(t, dir, "NoSuchOp", 14, 4)
	writeDataSet(t, dir, 0, vec(1, 2, 3, 4), vec(1, 2, 3, 4))

	dir = filepath.Join(nodeRoot, "test_no_data")
	writeUnaryModel(t, dir, "Relu", 14, 4)

	// A model folder with a symbolic batch: run at batch 2, then at batch 1.
	dir = filepath.Join(modelRoot, "relu_model")
	writeUnaryModel(t, dir, "Relu", 13, "N", 2)
	in := ops.FromSlice(ops.Shape{2, 2}, []float32{-1, 1, 2, -2})
	want := ops.FromSlice(ops.Shape{2, 2}, []float32{0, 1, 2, 0})
	if err := tensorio.WriteNPYFile(filepath.Join(dir, "input_0.npy"), in); err != nil {
		t.Fatal(err)
	}
	if err := tensorio.WriteNPYFile(filepath.Join(dir, "expected_0.npy"), want); err != nil {
		t.Fatal(err)
	}
	return nodeRoot, modelRoot
}

func TestRunAllStatuses(t *testing.T) {
	nodes, models := makeSuite(t)
	cases, err := Discover(nodes, models)
	if err != nil {
		t.Fatal(err)
	}
	var reported []string
	results := RunAll(cases, 3, func(r Result) { reported = append(reported, r.Name) })

	tests := []struct {
		name      string
		suite     string
		kind      Kind
		status    Status
		family    string
		dataSets  int
		reasonSub string
	}{
		{name: "test_custom_op", suite: "nodes", status: Unsupported, family: CoreFamily, reasonSub: "NoSuchOp"},
		{name: "test_no_data", suite: "nodes", status: Error, family: CoreFamily, reasonSub: "no test_data_set_N folders"},
		{name: "test_relu", suite: "nodes", status: Pass, family: CoreFamily, dataSets: 2},
		{name: "test_relu_expanded", suite: "nodes", status: Pass, family: CoreFamily, dataSets: 1},
		{name: "test_relu_wrong_reference", suite: "nodes", status: Fail, family: CoreFamily, dataSets: 1,
			reasonSub: "test_data_set_1: output 0 ("},
		{name: "relu_model", suite: "models", kind: ModelDir, status: Pass, family: CoreFamily, dataSets: 2},
	}
	if len(results) != len(tests) {
		t.Fatalf("%d results, want %d", len(results), len(tests))
	}
	for i, tt := range tests {
		r := results[i]
		if reported[i] != tt.name || r.Name != tt.name {
			t.Errorf("result %d is %s (reported %s), want %s: results keep the order of Discover", i, r.Name, reported[i], tt.name)
			continue
		}
		if r.Suite != tt.suite || r.Kind != tt.kind || r.Status != tt.status || r.Family != tt.family || r.DataSets != tt.dataSets {
			t.Errorf("%s: suite %s, kind %v, %v, family %s, %d data sets; want %s, %v, %v, %s, %d (reason %q)",
				tt.name, r.Suite, r.Kind, r.Status, r.Family, r.DataSets, tt.suite, tt.kind, tt.status, tt.family, tt.dataSets, r.Reason)
		}
		if !strings.Contains(r.Reason, tt.reasonSub) {
			t.Errorf("%s: reason %q does not contain %q", tt.name, r.Reason, tt.reasonSub)
		}
	}
	wrong := results[4]
	if want := "1 of 4 elements differ; worst at element 2: got 2, want 2.5"; !strings.Contains(wrong.Reason, want) {
		t.Errorf("reason %q does not name the worst element (%q)", wrong.Reason, want)
	}
	if line := wrong.SummaryLine(); !strings.HasPrefix(line, "FAIL") || !strings.Contains(line, "test_relu_wrong_reference") {
		t.Errorf("summary line %q", line)
	}
	if got := results[2].OpTypes; len(got) != 1 || got[0] != "Relu" || results[2].Opset != 14 {
		t.Errorf("test_relu: op types %v, opset %d; want [Relu], 14", got, results[2].Opset)
	}
}

func TestReports(t *testing.T) {
	nodes, models := makeSuite(t)
	cases, err := Discover(nodes, models)
	if err != nil {
		t.Fatal(err)
	}
	results := RunAll(cases, 1, nil)
	// A case of a family outside the core set, made up rather than run: a real one would start to run
	// once its kernel exists.
	results = append(results, Result{Case: Case{Suite: "nodes", Name: "test_loop_like", Kind: NodeTest},
		Status: Unsupported, OpTypes: []string{"Loop"}, Opset: 16, Family: "control-flow", Reason: "no kernel"})

	ops := OpTable(results)
	byOp := map[string]OpStats{}
	for _, o := range ops {
		byOp[o.Op] = o
	}
	// test_relu, test_relu_expanded (its twin is test_relu), test_relu_wrong_reference, test_no_data.
	if relu := byOp["Relu"]; relu.Tests != 4 || relu.Passed != 2 || relu.Failed != 1 || relu.Errors != 1 ||
		len(relu.Opsets) != 1 || relu.Opsets[0] != 14 || relu.Kernel == "" {
		t.Errorf("Relu row %+v, want 4 tests, 2 passed, 1 failed, 1 error, opsets [14] and a kernel", relu)
	}
	if _, ok := byOp["Abs"]; ok {
		t.Error("the expanded test was counted for Abs, not for the op it expands")
	}
	if loop := byOp["Loop"]; loop.Unsupported != 1 || loop.Family != "control-flow" {
		t.Errorf("Loop row %+v", loop)
	}

	suites := Suites(results)
	if len(suites) != 2 || suites[0].Suite != "nodes" || suites[0].All.Tests != 6 || suites[0].Core.Tests != 5 ||
		suites[0].Core.Passed != 2 || suites[1].Suite != "models" || suites[1].All.Passed != 1 {
		t.Errorf("suites %+v", suites)
	}

	var text strings.Builder
	if err := WriteText(&text, results); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"nodes, by operator:", "Relu", "nodes, by family:", "control-flow", "core set passing", "2 of 5"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}

	var md strings.Builder
	if err := WriteMarkdown(&md, results, MarkdownOptions{Command: "onnxrun conformance x"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# Conformance", "`onnxrun conformance x`", "## Totals", "| nodes | 6 | 2 | 1 | 2 | 1 |",
		"| &nbsp;&nbsp;of which the core set | 5 | 2 | 1 | 1 | 1 |", "## Whole models", "| relu_model | models | 13 |",
		"## What is left", "| Control flow | 1 | 0 | Loop |", "## nodes by operator", "| Relu | core | 4 | 2 | 1 |  | 1 |",
		"## Core-set cases that do not pass", "| test_relu_wrong_reference | nodes | core | FAIL |",
		"<details><summary>1 cases</summary>", "| test_loop_like | nodes | control-flow | unsupported |",
		"| CNN and common math (core) | 5 | 2 | NoSuchOp, Relu | Kernels for the operators listed",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
}

func TestExpectedLists(t *testing.T) {
	nodes, _ := makeSuite(t)
	cases, err := Discover(nodes)
	if err != nil {
		t.Fatal(err)
	}
	results := RunAll(cases, 2, nil)
	path := filepath.Join(t.TempDir(), "expected.txt")
	if err := WriteExpected(path, results, "made by a test\nsecond line"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := "# made by a test\n# second line\ntest_relu\ntest_relu_expanded\n"; string(b) != want {
		t.Errorf("expected list:\n%s\nwant:\n%s", b, want)
	}
	set, err := ExpectedPass(path)
	if err != nil || len(set) != 2 || !set["test_relu"] {
		t.Fatalf("read back %v, %v", set, err)
	}

	// A listed case that fails is a regression; an unlisted pass is new; a listed name not run is missing.
	check := CheckExpected(results, map[string]bool{"test_relu": true, "test_relu_wrong_reference": true, "test_gone": true})
	if len(check.Regressions) != 1 || check.Regressions[0].Name != "test_relu_wrong_reference" {
		t.Errorf("regressions %v", check.Regressions)
	}
	if len(check.NewlyPassing) != 1 || check.NewlyPassing[0] != "test_relu_expanded" {
		t.Errorf("newly passing %v", check.NewlyPassing)
	}
	if len(check.Missing) != 1 || check.Missing[0] != "test_gone" {
		t.Errorf("missing %v", check.Missing)
	}
}

func TestDiscoverErrors(t *testing.T) {
	empty := t.TempDir()
	if _, err := Discover(empty); err == nil || !strings.Contains(err.Error(), "no case folders") {
		t.Errorf("empty folder: error %v", err)
	}
	if _, err := Discover(filepath.Join(empty, "nope")); err == nil {
		t.Error("missing folder: no error")
	}
	// A case folder given directly is a case of the suite named by its parent.
	nodes, _ := makeSuite(t)
	cases, err := Discover(filepath.Join(nodes, "test_relu"))
	if err != nil || len(cases) != 1 || cases[0].Name != "test_relu" || cases[0].Suite != "nodes" {
		t.Errorf("single case: %+v, %v", cases, err)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		ops, types []string
		want       string
	}{
		{ops: []string{"Conv", "Relu"}, types: []string{"FLOAT"}, want: CoreFamily},
		{ops: []string{"Loop", "SequenceInsert"}, want: "control-flow"}, // the earlier family wins
		{ops: []string{"SequenceInsert", "Loop"}, want: "control-flow"},
		{ops: []string{"Identity"}, types: []string{"sequence"}, want: "sequences"},
		{ops: []string{"Cast"}, types: []string{"FLOAT", "FLOAT8E4M3FN"}, want: "low-precision"},
		{ops: []string{"Equal"}, types: []string{"STRING", "BOOL"}, want: CoreFamily}, // strings are core
		{ops: []string{"TfIdfVectorizer"}, types: []string{"STRING", "FLOAT"}, want: "strings"},
		{ops: []string{"ai.onnx.ml::TreeEnsemble"}, want: "classical-ml"},
	}
	for _, tt := range tests {
		if got := classify(tt.ops, tt.types); got != tt.want {
			t.Errorf("classify(%v, %v) = %s, want %s", tt.ops, tt.types, got, tt.want)
		}
	}
}

// TestFamiliesTable checks that families have unique keys and that no op or type is claimed twice.
func TestFamiliesTable(t *testing.T) {
	keys := map[string]bool{CoreFamily: true}
	claimed := map[string]string{}
	for _, f := range Families {
		if keys[f.Key] {
			t.Errorf("family key %q used twice", f.Key)
		}
		keys[f.Key] = true
		if f.Title == "" || f.Work == "" {
			t.Errorf("family %q needs a title and the work it would take", f.Key)
		}
		for _, name := range append(append([]string(nil), f.Ops...), f.Types...) {
			if prev, dup := claimed[name]; dup {
				t.Errorf("%s is in families %s and %s", name, prev, f.Key)
			}
			claimed[name] = f.Key
		}
	}
}

func TestFormatOpsets(t *testing.T) {
	for _, tt := range []struct {
		in   []int
		want string
	}{
		{nil, ""}, {[]int{13}, "13"}, {[]int{7, 9}, "7, 9"}, {[]int{11, 12}, "11, 12"}, {[]int{7, 9, 11, 12, 13, 18}, "7, 9, 11-13, 18"},
	} {
		if got := formatOpsets(tt.in); got != tt.want {
			t.Errorf("formatOpsets(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestShorten(t *testing.T) {
	if got := Shorten("a\n  b\tc", 10); got != "a b c" {
		t.Errorf("got %q", got)
	}
	if got := Shorten("héllo world", 2); got != "h..." {
		t.Errorf("cut inside a rune: %q", got)
	}
}

// writeTensors writes set/prefix_0.pb, prefix_1.pb, ...
func writeTensors(t *testing.T, set, prefix string, ts ...*ops.Tensor) {
	t.Helper()
	if err := os.MkdirAll(set, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, x := range ts {
		if err := tensorio.WritePB(filepath.Join(set, prefix+"_"+string(rune('0'+i))+".pb"), x); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRunCaseIsStrictAboutOutputs checks what ONNX's runner requires and a lenient one lets pass: a data set
// must have reference outputs, and the engine must give exactly as many outputs as the reference has.
func TestRunCaseIsStrictAboutOutputs(t *testing.T) {
	root := t.TempDir()
	in := vec(-1, 0, 2, 3)

	// A data set with inputs and no output_*.pb: nothing would be compared.
	noOutputs := filepath.Join(root, "test_relu_no_outputs")
	writeUnaryModel(t, noOutputs, "Relu", 14, 4)
	writeDataSet(t, noOutputs, 0, in, vec(0, 0, 2, 3))
	writeTensors(t, filepath.Join(noOutputs, "test_data_set_1"), "input", in)

	// The model has two outputs, the reference one: the engine's second output would go unchecked.
	extra := filepath.Join(root, "test_extra_engine_output")
	writeModel(t, extra, []string{"Relu", "Abs"}, 14, 4)
	writeTensors(t, filepath.Join(extra, "test_data_set_0"), "input", in)
	writeTensors(t, filepath.Join(extra, "test_data_set_0"), "output", vec(0, 0, 2, 3))

	// The reference has two outputs, the model one.
	missing := filepath.Join(root, "test_missing_engine_output")
	writeUnaryModel(t, missing, "Relu", 14, 4)
	writeTensors(t, filepath.Join(missing, "test_data_set_0"), "input", in)
	writeTensors(t, filepath.Join(missing, "test_data_set_0"), "output", vec(0, 0, 2, 3), vec(1, 0, 2, 3))

	// Both outputs referenced and right: passes.
	both := filepath.Join(root, "test_two_outputs")
	writeModel(t, both, []string{"Relu", "Abs"}, 14, 4)
	writeTensors(t, filepath.Join(both, "test_data_set_0"), "input", in)
	writeTensors(t, filepath.Join(both, "test_data_set_0"), "output", vec(0, 0, 2, 3), vec(1, 0, 2, 3))

	for _, tt := range []struct {
		dir       string
		status    Status
		reasonSub string
	}{
		{dir: noOutputs, status: Error, reasonSub: filepath.Join("test_relu_no_outputs", "test_data_set_1") + ": no output_0.pb"},
		{dir: extra, status: Error, reasonSub: "test_data_set_0: the engine gave 2 outputs, the reference has 1"},
		{dir: missing, status: Error, reasonSub: "test_data_set_0: the engine gave 1 outputs, the reference has 2"},
		{dir: both, status: Pass},
	} {
		r := RunCase(tt.dir, DefaultTolerance)
		if r.Status != tt.status || !strings.Contains(r.Reason, tt.reasonSub) {
			t.Errorf("%s: %v %q, want %v with a reason containing %q", filepath.Base(tt.dir), r.Status, r.Reason, tt.status, tt.reasonSub)
		}
	}
}

// TestCheckRejectsADataSetWithoutOutputs covers the sources that build data sets in memory (onnx-go's
// cases): Check itself refuses a data set with nothing to compare.
func TestCheckRejectsADataSetWithoutOutputs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "test_relu")
	writeUnaryModel(t, dir, "Relu", 14, 4)
	m, err := onnx.Load(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	load := func() ([]DataSet, error) {
		return []DataSet{{Name: "set 0", Inputs: []*ops.Tensor{vec(-1, 0, 2, 3)}}}, nil
	}
	if r := Check(m, load, DefaultTolerance); r.Status != Error || !strings.Contains(r.Reason, "set 0: no reference outputs") {
		t.Errorf("%v %q, want an error naming the data set", r.Status, r.Reason)
	}
}

// TestDiscoverModelDirWithValueInput: a model folder whose first input is a map or sequence holds
// input_0.pb, not input_0.npy, and is still a model folder (it was once taken for a node test without
// test_data_set_N folders, an error in `onnxrun conformance`).
func TestDiscoverModelDirWithValueInput(t *testing.T) {
	cases, err := Discover("testdata/sklearn")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if c.Name == "dict_vectorizer_linear_regression" {
			if c.Kind != ModelDir {
				t.Fatalf("%s: kind %v, want ModelDir", c.Name, c.Kind)
			}
			if res := Run(c); res.Status != Pass {
				t.Fatalf("%s: %s: %s", c.Name, res.Status, res.Reason)
			}
			return
		}
	}
	t.Fatal("testdata/sklearn holds no dict_vectorizer_linear_regression")
}
