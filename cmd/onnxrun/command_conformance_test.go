package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/tensorio"
)

// conformanceSuite writes a folder of two node tests, Relu with the right reference (test_relu_good) and
// with a wrong one (test_relu_bad), and returns it.
func conformanceSuite(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "suite")
	for name, want := range map[string][]float32{"test_relu_good": {0, 0, 2}, "test_relu_bad": {0, 1, 2}} {
		dir := filepath.Join(root, name)
		g := exporter.NewGraph(name)
		y := g.Node("Relu", []string{g.Input("x", onnxpb.TensorProto_FLOAT, 3)}, nil)
		g.Output(y, onnxpb.TensorProto_FLOAT, 3)
		m, err := g.Model(exporter.ModelOptions{Opset: 14})
		if err != nil {
			t.Fatal(err)
		}
		set := filepath.Join(dir, "test_data_set_0")
		if err := os.MkdirAll(set, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := m.Save(filepath.Join(dir, "model.onnx")); err != nil {
			t.Fatal(err)
		}
		if err := tensorio.WritePB(filepath.Join(set, "input_0.pb"), ops.FromSlice(ops.Shape{3}, []float32{-1, 0, 2})); err != nil {
			t.Fatal(err)
		}
		if err := tensorio.WritePB(filepath.Join(set, "output_0.pb"), ops.FromSlice(ops.Shape{3}, want)); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestConformanceCommand(t *testing.T) {
	suite := conformanceSuite(t)
	tmp := t.TempDir()
	listGood := filepath.Join(tmp, "good.txt")
	listBad := filepath.Join(tmp, "bad.txt")
	listEmpty := filepath.Join(tmp, "empty.txt")
	for path, text := range map[string]string{listGood: "test_relu_good\n", listBad: "# must pass\ntest_relu_bad\n", listEmpty: ""} {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name        string
		args        []string
		status      int
		stdout      []string // substrings
		notStdout   []string
		stderr      string
		files       map[string][]string // file -> substrings it must hold
		filesAbsent map[string][]string
	}{
		{name: "no folder", args: []string{"conformance"}, status: exitUsage, stderr: "missing the folder of test cases"},
		{name: "bad regexp", args: []string{"conformance", "--run", "(", suite}, status: exitUsage, stderr: `--run "(": error parsing regexp`},
		{name: "negative jobs", args: []string{"conformance", "-j", "-1", suite}, status: exitUsage, stderr: "--jobs must be 0 or more"},
		{name: "missing folder", args: []string{"conformance", filepath.Join(tmp, "nope")}, status: exitError, stderr: "no such file"},
		{name: "nothing matches", args: []string{"conformance", "--run", "conv", suite}, status: exitError, stderr: `matches --run "conv"`},
		{name: "every case and the tables", args: []string{"conformance", suite}, status: exitOK,
			stdout: []string{"FAIL        test_relu_bad", "1 of 3 elements differ; worst at element 1: got 0, want 1",
				"pass        test_relu_good", "exact", "suite, by operator:", "Relu", "suite, by family:", "1 of 2"}},
		{name: "quiet", args: []string{"conformance", "-q", "--no-summary", suite}, status: exitOK,
			stdout:    []string{"FAIL        test_relu_bad", "suite: 2 cases, 1 pass, 1 fail, 0 unsupported, 0 error"},
			notStdout: []string{"test_relu_good", "by operator"}},
		{name: "run filter", args: []string{"conformance", "--run", "good$", "--no-summary", suite}, status: exitOK,
			stdout: []string{"suite: 1 cases, 1 pass"}, notStdout: []string{"test_relu_bad"}},
		{name: "write expected and markdown", args: []string{"conformance", "-q", "--write-expected", filepath.Join(tmp, "out.txt"),
			"--markdown", filepath.Join(tmp, "out.md"), suite}, status: exitOK,
			stdout: []string{"wrote " + filepath.Join(tmp, "out.txt"), "wrote " + filepath.Join(tmp, "out.md")},
			files: map[string][]string{
				filepath.Join(tmp, "out.txt"): {"# Cases that pass", "\ntest_relu_good\n"},
				filepath.Join(tmp, "out.md"):  {"# Conformance", "## Totals", "| Relu | core | 2 | 1 | 1 |", "test_relu_bad"},
			},
			filesAbsent: map[string][]string{filepath.Join(tmp, "out.txt"): {"test_relu_bad"}}},
		{name: "expected list holds", args: []string{"conformance", "-q", "--expected", listGood, suite}, status: exitOK,
			stdout: []string{"no regression against " + listGood}},
		{name: "regression", args: []string{"conformance", "-q", "--expected", listBad, suite}, status: exitError,
			stdout: []string{"1 regressions: listed in " + listBad, "1 cases pass but are not in " + listBad, "  test_relu_good"},
			stderr: "1 cases of " + listBad + " no longer pass (the first: test_relu_bad, FAIL)"},
		{name: "listed case not found", args: []string{"conformance", "-q", "--expected", listBad, filepath.Join(suite, "test_relu_good")},
			status: exitOK, stdout: []string{"1 cases of " + listBad + " were not found", "  test_relu_bad"}},
		{name: "empty list", args: []string{"conformance", "-q", "--expected", listEmpty, suite}, status: exitOK,
			stdout: []string{"1 cases pass but are not in"}},
		{name: "missing list", args: []string{"conformance", "--expected", filepath.Join(tmp, "none.txt"), suite}, status: exitError,
			stderr: "--expected: open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, stdout, stderr := runCLI(tt.args...)
			if status != tt.status {
				t.Errorf("status %d, want %d\nstdout:\n%s\nstderr:\n%s", status, tt.status, stdout, stderr)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout)
				}
			}
			for _, unwanted := range tt.notStdout {
				if strings.Contains(stdout, unwanted) {
					t.Errorf("stdout has %q:\n%s", unwanted, stdout)
				}
			}
			if !strings.Contains(stderr, tt.stderr) || (tt.stderr == "" && stderr != "") {
				t.Errorf("stderr %q, want it to contain %q", stderr, tt.stderr)
			}
			for path, wants := range tt.files {
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				for _, want := range wants {
					if !strings.Contains(string(b), want) {
						t.Errorf("%s lacks %q:\n%s", path, want, b)
					}
				}
				for _, unwanted := range tt.filesAbsent[path] {
					if strings.Contains(string(b), unwanted) {
						t.Errorf("%s has %q:\n%s", path, unwanted, b)
					}
				}
			}
		})
	}
}

// TestConformanceOnReferenceModels runs the command on ../shared/models, which must all pass.
func TestConformanceOnReferenceModels(t *testing.T) {
	models := testenv.Shared(t, "models")
	status, stdout, stderr := runCLI("conformance", "-q", "--no-summary", models)
	if status != exitOK || stderr != "" {
		t.Fatalf("status %d, stderr %q", status, stderr)
	}
	if !strings.Contains(stdout, "pass, 0 fail, 0 unsupported, 0 error") {
		t.Errorf("stdout:\n%s", stdout)
	}
}
