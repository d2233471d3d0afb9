package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/tensorio"
)

// runCLI runs the command in-process and returns its exit status and output.
func runCLI(args ...string) (status int, stdout, stderr string) {
	var out, errw bytes.Buffer
	status = run(args, &out, &errw)
	return status, out.String(), errw.String()
}

// lenet returns the paths of the reference LeNet (input "input" float32[N,1,28,28], output "logits") and
// its 64-digit input.
func lenet(t *testing.T) (model, input string) {
	t.Helper()
	dir := testenv.Shared(t, "models", "lenet_torch_opset13")
	return filepath.Join(dir, "model.onnx"), filepath.Join(dir, "input_0.npy")
}

func writeNPY(t *testing.T, path string, x *ops.Tensor) string {
	t.Helper()
	if err := tensorio.WriteNPYFile(path, x); err != nil {
		t.Fatal(err)
	}
	return path
}

// firstDigit writes the first of LeNet's 64 input digits as a [1,1,28,28] file.
func firstDigit(t *testing.T, input string) string {
	t.Helper()
	all, err := tensorio.ReadNPYFile(input)
	if err != nil {
		t.Fatal(err)
	}
	one := append([]float32(nil), all.Float32s()[:28*28]...)
	return writeNPY(t, filepath.Join(t.TempDir(), "digit.npy"), ops.FromSlice(ops.Shape{1, 1, 28, 28}, one))
}

// oneErrorLine checks that stderr is a single "onnxrun: ..." line containing every one of want.
func oneErrorLine(t *testing.T, stderr string, want ...string) {
	t.Helper()
	if !strings.HasPrefix(stderr, "onnxrun: ") || strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
		t.Errorf("stderr is not one \"onnxrun: ...\" line: %q", stderr)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr %q does not contain %q", stderr, w)
		}
	}
}

func TestRunLeNet(t *testing.T) {
	model, input := lenet(t)
	for _, args := range [][]string{
		{model, input},
		{"run", model, input},
		{"run", "--threads", "1", model, "input=" + input},
		{model, input, "--threads=2"},
	} {
		status, stdout, stderr := runCLI(args...)
		if status != exitOK || stderr != "" {
			t.Fatalf("%v: status %d, stderr %q", args, status, stderr)
		}
		for _, want := range []string{
			"output \"logits\": float32[64,10]\n[[-2.26",
			"argmax of each row:\n[7 2 1 0 4 1 4 9 5 9 0 6 9 0 1 5 9 7 3 4 9 6 6 5 4 0 7 4 0 1 3 1 3 6 7 2 7\n 1 2 1 1 7 4 2 3 5 1 2 4 4 6 3 5 5 6 0 4 1 9 5 7 8 9 3]\n",
		} {
			if !strings.Contains(stdout, want) {
				t.Errorf("%v: stdout lacks %q:\n%s", args, want, stdout)
			}
		}
	}
}

func TestRunOneDigitTopClasses(t *testing.T) {
	model, input := lenet(t)
	digit := firstDigit(t, input)
	status, stdout, stderr := runCLI(model, digit)
	if status != exitOK {
		t.Fatalf("status %d: %s", status, stderr)
	}
	want := "top 5 of 10 classes:\n  class       score  softmax\n      7      12.069   0.9997\n"
	if !strings.Contains(stdout, "output \"logits\": float32[1,10]\n") || !strings.Contains(stdout, want) {
		t.Errorf("stdout lacks the top classes %q:\n%s", want, stdout)
	}
	if got := strings.Count(stdout, "\n"); got != 3+2+5 {
		t.Errorf("printed %d lines, want 10 (header, 2 value lines, 2 table headers, 5 classes):\n%s", got, stdout)
	}
	status, stdout, _ = runCLI("--top", "0", model, digit)
	if status != exitOK || strings.Contains(stdout, "top") {
		t.Errorf("--top 0: status %d, stdout:\n%s", status, stdout)
	}
}

func TestRunErrors(t *testing.T) {
	model, input := lenet(t)
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.onnx")
	if err := os.WriteFile(corrupt, []byte("this is not a protobuf \xff\xff\xff"), 0o644); err != nil {
		t.Fatal(err)
	}
	f64 := writeNPY(t, filepath.Join(dir, "digit64.npy"), ops.FromSlice(ops.Shape{1, 28, 28}, make([]float64, 28*28)))
	rank3 := writeNPY(t, filepath.Join(dir, "rank3.npy"), ops.FromSlice(ops.Shape{1, 28, 28}, make([]float32, 28*28)))
	wrongDim := writeNPY(t, filepath.Join(dir, "wide.npy"), ops.FromSlice(ops.Shape{1, 1, 28, 29}, make([]float32, 28*29)))
	text := filepath.Join(dir, "digit.txt")
	if err := os.WriteFile(text, []byte("0 1 2"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		status int
		want   []string
	}{
		{"missing model file", []string{filepath.Join(dir, "nope.onnx"), input}, exitError,
			[]string{"nope.onnx", "no such file"}},
		{"corrupt model", []string{corrupt, input}, exitError,
			[]string{"corrupt.onnx", "malformed"}},
		{"missing input file", []string{model, filepath.Join(dir, "nope.npy")}, exitError,
			[]string{"nope.npy", "no such file"}},
		{"input of another format", []string{model, text}, exitError,
			[]string{"digit.txt", "must end in .npy or .pb"}},
		{"wrong dtype", []string{model, f64}, exitError,
			[]string{`input "input": expected float32[N,1,28,28], got float64[1,28,28] from ` + f64}},
		{"wrong rank", []string{model, rank3}, exitError,
			[]string{`input "input": expected float32[N,1,28,28], got float32[1,28,28] from ` + rank3}},
		{"wrong dimension", []string{model, wrongDim}, exitError,
			[]string{`input "input": expected float32[N,1,28,28], got float32[1,1,28,29] from ` + wrongDim}},
		{"wrong input name", []string{model, "image=" + input}, exitError,
			[]string{`the model has no input named "image"; its inputs are "input" float32[N,1,28,28]`}},
		{"unknown flag", []string{model, input, "--bogus"}, exitUsage,
			[]string{"unknown flag: --bogus", "onnxrun run --help"}},
		{"bad flag value", []string{"--threads", "many", model, input}, exitUsage,
			[]string{`invalid argument "many" for "--threads"`}},
		{"negative threads", []string{"--threads=-1", model, input}, exitUsage,
			[]string{"--threads must be 0 or more, got -1"}},
		{"no model", []string{"run"}, exitUsage,
			[]string{"missing the model file"}},
		{"no input", []string{model}, exitUsage,
			[]string{`missing input "input" (float32[N,1,28,28])`, "input=FILE"}},
		{"too many inputs", []string{model, input, input}, exitUsage,
			[]string{`too many inputs: the model takes 1 ("input" float32[N,1,28,28]), got 2`}},
		{"input twice", []string{model, "input=" + input, "input=" + input}, exitUsage,
			[]string{`input "input" is given twice`}},
		{"-o without extension", []string{model, input, "-o", filepath.Join(dir, "out")}, exitUsage,
			[]string{"give a .npy or .pb file name, or a directory"}},
		{"unknown command", []string{"bnech", model}, exitUsage,
			[]string{`unknown command "bnech"`, "the commands are run, ", "bench", "help"}},
		{"help for an unknown command", []string{"help", "nope"}, exitUsage,
			[]string{`no command "nope"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, stdout, stderr := runCLI(tc.args...)
			if status != tc.status {
				t.Errorf("status %d, want %d (stderr %q)", status, tc.status, stderr)
			}
			if stdout != "" {
				t.Errorf("printed on stdout: %q", stdout)
			}
			oneErrorLine(t, stderr, tc.want...)
		})
	}
}

func TestHelp(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"help"}, []string{"commands:\n  run ", "\n  help ", "onnxrun help <command>"}},
		{[]string{"--help"}, []string{"commands:\n  run "}},
		{[]string{"help", "run"}, []string{"usage: onnxrun run [flags] MODEL.onnx", "-o, --output", "--threads", "examples:\n  onnxrun "}},
		{[]string{"run", "--help"}, []string{"usage: onnxrun run", "Exit status: 0 on success"}},
		{[]string{"some/model.onnx", "-h"}, []string{"usage: onnxrun run"}},
		{[]string{"help", "--help"}, []string{"usage: onnxrun help [COMMAND]", "examples:\n  onnxrun help\n"}},
	}
	for _, tc := range tests {
		status, stdout, stderr := runCLI(tc.args...)
		if status != exitOK || stderr != "" {
			t.Errorf("%v: status %d, stderr %q", tc.args, status, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stdout, w) {
				t.Errorf("%v: stdout lacks %q:\n%s", tc.args, w, stdout)
			}
		}
	}
	// Every command documents at least one example.
	for _, c := range commandTable() {
		if len(c.examples) == 0 || c.summary == "" || c.usage == "" {
			t.Errorf("command %q lacks a summary, usage or example", c.name)
		}
	}
}

func TestNoArgumentsListsCommands(t *testing.T) {
	status, stdout, stderr := runCLI()
	if status != exitUsage || stdout != "" || !strings.Contains(stderr, "commands:\n  run ") {
		t.Errorf("status %d, stdout %q, stderr %q: want status 2 and the command list on stderr", status, stdout, stderr)
	}
}

func TestPanicBecomesOneLine(t *testing.T) {
	var stderr bytes.Buffer
	// A nil stdout makes the help command panic when it prints.
	status := run([]string{"help"}, nil, &stderr)
	if status != exitError {
		t.Errorf("status %d, want %d", status, exitError)
	}
	oneErrorLine(t, stderr.String(), "internal error")
}

func TestOutputFileReadsBackEqual(t *testing.T) {
	model, input := lenet(t)
	expected, err := tensorio.ReadNPYFile(filepath.Join(filepath.Dir(model), "expected_0.npy"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var got []*ops.Tensor
	for _, out := range []string{"logits.npy", "logits.pb", "sub/"} {
		path := filepath.Join(dir, out)
		if strings.HasSuffix(out, "/") {
			path += "/"
		}
		status, stdout, stderr := runCLI(model, input, "-o", path)
		if status != exitOK {
			t.Fatalf("-o %s: status %d: %s", out, status, stderr)
		}
		written := path
		if strings.HasSuffix(out, "/") {
			written = filepath.Join(path, "logits.npy")
		}
		if !strings.HasSuffix(stdout, "wrote "+written+"\n") {
			t.Errorf("-o %s: stdout does not end with %q", out, "wrote "+written)
		}
		x, err := tensorio.ReadFile(written)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, x)
	}
	for i, x := range got {
		if !reflect.DeepEqual(x.Data(), got[0].Data()) || !x.Shape().Equal(got[0].Shape()) {
			t.Errorf("file %d differs from the first", i)
		}
	}
	// The written logits are the ones ONNX Runtime computed, to the reference tolerance.
	want := expected.Float32s()
	for i, v := range got[0].Float32s() {
		if d := math.Abs(float64(v - want[i])); d > 1e-4+1e-4*math.Abs(float64(want[i])) {
			t.Fatalf("logit %d: got %g, ONNX Runtime %g", i, v, want[i])
		}
	}
}

// tensorValue declares a value of an ONNX element type (1: float32, 8: string) and fixed dims.
func tensorValue(name string, elemType int32, dims ...int64) *onnxpb.ValueInfoProto {
	shape := &onnxpb.TensorShapeProto{}
	for _, d := range dims {
		shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}})
	}
	return &onnxpb.ValueInfoProto{Name: proto.String(name),
		Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(elemType), Shape: shape}}}}
}

// writeGraphModel writes an opset-13 model of the given nodes, inputs and outputs to dir/name.
func writeGraphModel(t *testing.T, dir, name string, nodes []*onnxpb.NodeProto, inputs, outputs []*onnxpb.ValueInfoProto) string {
	t.Helper()
	return writeOpsetModel(t, dir, name, 13, nodes, inputs, outputs)
}

// writeOpsetModel writes a model of the given opset, nodes, inputs and outputs to dir/name.
func writeOpsetModel(t *testing.T, dir, name string, opset int64, nodes []*onnxpb.NodeProto, inputs, outputs []*onnxpb.ValueInfoProto) string {
	t.Helper()
	m := &onnxpb.ModelProto{
		IrVersion:   proto.Int64(8),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(opset)}},
		Graph:       &onnxpb.GraphProto{Name: proto.String(name), Node: nodes, Input: inputs, Output: outputs},
	}
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// twoOutputModel writes a model with input x float32[3] and outputs "same" = x and "pos/relu" = Relu(x).
func twoOutputModel(t *testing.T, dir string) string {
	return writeGraphModel(t, dir, "two.onnx", []*onnxpb.NodeProto{
		{OpType: proto.String("Identity"), Input: []string{"x"}, Output: []string{"same"}},
		{OpType: proto.String("Relu"), Input: []string{"x"}, Output: []string{"pos/relu"}},
	}, []*onnxpb.ValueInfoProto{tensorValue("x", 1, 3)}, []*onnxpb.ValueInfoProto{tensorValue("same", 1, 3), tensorValue("pos/relu", 1, 3)})
}

func TestSeveralOutputs(t *testing.T) {
	dir := t.TempDir()
	model := twoOutputModel(t, dir)
	x := ops.FromSlice(ops.Shape{3}, []float32{-1, 0.5, 2})
	input := writeNPY(t, filepath.Join(dir, "x.npy"), x)

	status, stdout, stderr := runCLI(model, "x="+input, "-o", filepath.Join(dir, "out"))
	if status != exitOK {
		t.Fatalf("status %d: %s", status, stderr)
	}
	wantOut := "output \"same\": float32[3]\n[-1.   0.5  2. ]\n" +
		"top 3 of 3 classes:\n  class       score  softmax\n      2           2   0.7856\n      1         0.5   0.1753\n      0          -1   0.0391\n\n" +
		"output \"pos/relu\": float32[3]\n[0.  0.5 2. ]\n"
	if !strings.HasPrefix(stdout, wantOut) {
		t.Errorf("stdout:\n%s\nwant it to start with:\n%s", stdout, wantOut)
	}
	for name, want := range map[string][]float32{"same.npy": {-1, 0.5, 2}, "pos_relu.npy": {0, 0.5, 2}} {
		got, err := tensorio.ReadNPYFile(filepath.Join(dir, "out", name))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Float32s(), want) {
			t.Errorf("%s: got %v, want %v", name, got.Float32s(), want)
		}
	}

	status, _, stderr = runCLI(model, input, "-o", filepath.Join(dir, "y.npy"))
	if status != exitUsage {
		t.Errorf("-o FILE with two outputs: status %d, want %d", status, exitUsage)
	}
	oneErrorLine(t, stderr, "the model has 2 outputs (same, pos/relu), so -o must name a directory")
}

func TestPrintClasses(t *testing.T) {
	tests := []struct {
		name string
		in   *ops.Tensor
		top  int
		want string
	}{
		{"probabilities", ops.FromSlice(ops.Shape{1, 4}, []float32{0.1, 0.6, 0.25, 0.05}), 2,
			"top 2 of 4 classes (the values are probabilities):\n  class  probability\n      1       0.6000\n      2       0.2500\n"},
		{"scores, ties keep order, NaN last", ops.FromSlice(ops.Shape{4}, []float64{math.NaN(), 1, 3, 3}), 5,
			"top 4 of 4 classes:\n  class       score  softmax\n      2           3      NaN\n      3           3      NaN\n      1           1      NaN\n      0         NaN      NaN\n"},
		{"tiny probabilities in scientific notation", ops.FromSlice(ops.Shape{2}, []float32{0, 30}), 5,
			"top 2 of 2 classes:\n  class       score  softmax\n      1          30   1.0000\n      0           0  9.4e-14\n"},
		{"argmax of rows", ops.FromSlice(ops.Shape{2, 3}, []float32{0, 5, 1, 9, 2, 9}), 5,
			"argmax of each row:\n[1 0]\n"},
		{"one class: nothing", ops.FromSlice(ops.Shape{1, 1}, []float32{3}), 5, ""},
		{"integers: nothing", ops.FromSlice(ops.Shape{3}, []int64{1, 2, 3}), 5, ""},
		{"rank 3: nothing", ops.FromSlice(ops.Shape{1, 1, 3}, []float32{1, 2, 3}), 5, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			printClasses(&b, tc.in, tc.top)
			if b.String() != tc.want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), tc.want)
			}
		})
	}
}

// duplicateOutputModel writes a model whose graph lists "y" = Relu(x) twice among its outputs, between
// "x2" = Identity(x): legal ONNX, and what some exporters write.
func duplicateOutputModel(t *testing.T, dir string) string {
	y := tensorValue("y", 1, 3)
	return writeGraphModel(t, dir, "dup.onnx", []*onnxpb.NodeProto{
		{OpType: proto.String("Relu"), Input: []string{"x"}, Output: []string{"y"}},
		{OpType: proto.String("Identity"), Input: []string{"x"}, Output: []string{"x2"}},
	}, []*onnxpb.ValueInfoProto{tensorValue("x", 1, 3)}, []*onnxpb.ValueInfoProto{y, tensorValue("x2", 1, 3), y})
}

// TestDuplicateOutputWrittenOnce: a value the graph lists twice as an output is one tensor, so -o writes
// it once, to an .npz archive and to a directory alike, and the run succeeds.
func TestDuplicateOutputWrittenOnce(t *testing.T) {
	dir := t.TempDir()
	model := duplicateOutputModel(t, dir)
	input := writeNPY(t, filepath.Join(dir, "x.npy"), ops.FromSlice(ops.Shape{3}, []float32{-1, 0.5, 2}))
	want := map[string][]float32{"y": {0, 0.5, 2}, "x2": {-1, 0.5, 2}}

	archive := filepath.Join(dir, "out.npz")
	status, stdout, stderr := runCLI(model, input, "-o", archive, "--top", "0")
	if status != exitOK || stderr != "" {
		t.Fatalf("-o out.npz: status %d, stderr %q", status, stderr)
	}
	if !strings.HasSuffix(stdout, "wrote "+archive+"\n") {
		t.Errorf("-o out.npz: stdout does not end with %q:\n%s", "wrote "+archive, stdout)
	}
	arrays, err := tensorio.ReadNPZ(archive)
	if err != nil {
		t.Fatal(err)
	}
	if got := tensorio.NPZNames(arrays); !reflect.DeepEqual(got, []string{"x2", "y"}) {
		t.Errorf("archive holds %v, want x2 and y once each", got)
	}
	for _, a := range arrays {
		if !reflect.DeepEqual(a.Tensor.Float32s(), want[a.Name]) {
			t.Errorf("%s: got %v, want %v", a.Name, a.Tensor.Float32s(), want[a.Name])
		}
	}

	outDir := filepath.Join(dir, "out") + "/"
	status, stdout, stderr = runCLI(model, input, "-o", outDir, "--top", "0")
	if status != exitOK || stderr != "" {
		t.Fatalf("-o DIR/: status %d, stderr %q", status, stderr)
	}
	if n := strings.Count(stdout, "wrote "); n != 2 {
		t.Errorf("-o DIR/: %d files written, want 2:\n%s", n, stdout)
	}
	entries, err := os.ReadDir(outDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !reflect.DeepEqual(names, []string{"x2.npy", "y.npy"}) {
		t.Errorf("-o DIR/ wrote %v, want x2.npy and y.npy", names)
	}
}

// TestOutputErrorsComeBeforeOutput: an -o that cannot be written is refused before anything is printed
// or run, so an error never follows partial output.
func TestOutputErrorsComeBeforeOutput(t *testing.T) {
	dir := t.TempDir()
	model := writeGraphModel(t, dir, "slash.onnx", []*onnxpb.NodeProto{
		{OpType: proto.String("Relu"), Input: []string{"x"}, Output: []string{"scores/"}},
	}, []*onnxpb.ValueInfoProto{tensorValue("x", 1, 3)}, []*onnxpb.ValueInfoProto{tensorValue("scores/", 1, 3)})
	input := writeNPY(t, filepath.Join(dir, "x.npy"), ops.FromSlice(ops.Shape{3}, []float32{-1, 0.5, 2}))
	status, stdout, stderr := runCLI(model, input, "-o", filepath.Join(dir, "out.npz"))
	if status != exitUsage || stdout != "" {
		t.Errorf("status %d, stdout %q: want status %d and nothing printed", status, stdout, exitUsage)
	}
	oneErrorLine(t, stderr, `output "scores/"`, "an .npz member needs a non-empty name not ending in /")
}

// stringModel writes a model passing a string[2] input "words" through Identity to "same".
func stringModel(t *testing.T, dir string) string {
	return writeGraphModel(t, dir, "strings.onnx", []*onnxpb.NodeProto{
		{OpType: proto.String("Identity"), Input: []string{"words"}, Output: []string{"same"}},
	}, []*onnxpb.ValueInfoProto{tensorValue("words", 8, 2)}, []*onnxpb.ValueInfoProto{tensorValue("same", 8, 2)})
}

func TestStringOutputs(t *testing.T) {
	dir := t.TempDir()
	model := stringModel(t, dir)
	words := ops.FromSlice(ops.Shape{2}, []string{"naïve", "🙂"})
	input := writeNPY(t, filepath.Join(dir, "words.npy"), words)
	for _, out := range []string{"dir/", "same.npy", "all.npz", "same.pb"} {
		path := filepath.Join(dir, out)
		if strings.HasSuffix(out, "/") {
			path += "/"
		}
		status, _, stderr := runCLI(model, input, "-o", path)
		if status != exitOK || stderr != "" {
			t.Fatalf("-o %s: status %d, stderr %q", out, status, stderr)
		}
		written := path
		switch {
		case strings.HasSuffix(out, "/"):
			written = filepath.Join(path, "same.npy")
		case isNPZ(out):
			written += ":same"
		}
		got, err := tensorio.ReadFile(written)
		if err != nil {
			t.Fatalf("-o %s: %v", out, err)
		}
		if !reflect.DeepEqual(got.Data(), words.Data()) {
			t.Errorf("-o %s: read back %q, want %q", out, got.Data(), words.Data())
		}
	}
}
