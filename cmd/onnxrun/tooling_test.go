package main

import (
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/bench"
	"github.com/onnxrun/onnxrun/inspect"
	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/tensorio"
)

// sharedModelPath is ../shared/models/NAME/model.onnx; the test skips (or fails under CI) without it.
func sharedModelPath(t *testing.T, name string) string {
	t.Helper()
	return testenv.Shared(t, "models", name, "model.onnx")
}

func TestSummaryCommand(t *testing.T) {
	model, _ := lenet(t)
	status, stdout, stderr := runCLI("summary", model)
	if status != exitOK || stderr != "" {
		t.Fatalf("status %d, stderr %q", status, stderr)
	}
	want := `Model: "torch_jit"
________________________________________________________________
 Layer (type)                Output Shape             Param #
================================================================
 c1 (Conv+Relu)              (None, 26, 26, 6)        60
 p1 (Pad+AveragePool)        (None, 13, 13, 6)        0
 c2 (Conv+Relu)              (None, 11, 11, 16)       880
 p2 (Pad+AveragePool)        (None, 5, 5, 16)         0
 Flatten (Flatten)           (None, 400)              0
 f1 (Gemm+Relu)              (None, 120)              48,120
 f2 (Gemm+Relu)              (None, 84)               10,164
 f3 (Gemm)                   (None, 10)               850
================================================================
Total params: 60,074 (234.66 KB)
Trainable params: 60,074 (234.66 KB)
Non-trainable params: 0 (0.00 B)
________________________________________________________________
`
	if !strings.HasPrefix(stdout, want) {
		t.Errorf("got\n%s\nwant it to start with\n%s", stdout, want)
	}

	status, stdout, _ = runCLI("summary", "--json", "--channels-first", model)
	var s inspect.Summary
	if err := json.Unmarshal([]byte(stdout), &s); status != exitOK || err != nil {
		t.Fatalf("--json: status %d, %v:\n%s", status, err, stdout)
	}
	if s.TotalParams != 60074 || len(s.Layers) != 8 || !reflect.DeepEqual(s.Layers[0].OutputShapes, [][]string{{"None", "6", "26", "26"}}) {
		t.Errorf("--json --channels-first: %+v", s)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"summary"}, "missing the model file"},
		{[]string{"summary", model, model}, "summary takes one model file, got 2 arguments"},
	} {
		status, _, stderr := runCLI(tc.args...)
		if status != exitUsage {
			t.Errorf("%v: status %d", tc.args, status)
		}
		oneErrorLine(t, stderr, tc.want)
	}
}

func TestInspectCommand(t *testing.T) {
	model, _ := lenet(t)
	status, stdout, stderr := runCLI("inspect", model)
	if status != exitOK || stderr != "" {
		t.Fatalf("status %d, stderr %q", status, stderr)
	}
	for _, want := range []string{"ir_version    7\n", "producer      pytorch 1.13.0\n", "opset_import  ai.onnx v13\n",
		"inputs        1\n  input  float32[N,1,28,28]\n", "outputs       1\n  logits  float32[N,10]\n", "nodes         16\n  Relu         4\n",
		"initializers  10 (60,074 elements, 234.66 KB)\n", "unsupported   none"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("text lacks %q:\n%s", want, stdout)
		}
	}

	status, stdout, _ = runCLI("inspect", "--json", model)
	var info inspect.Info
	if err := json.Unmarshal([]byte(stdout), &info); status != exitOK || err != nil {
		t.Fatalf("--json: status %d, %v", status, err)
	}
	if info.Inputs[0].Name != "input" || info.Inputs[0].Shape[0].Param != "N" || info.Initializers != 10 {
		t.Errorf("--json: %+v", info)
	}

	dot := filepath.Join(t.TempDir(), "g.dot")
	status, stdout, stderr = runCLI("inspect", "--dot", dot, model)
	b, err := os.ReadFile(dot)
	if status != exitOK || err != nil || !strings.HasPrefix(string(b), "digraph ") || stderr != "wrote "+dot+"\n" || !strings.Contains(stdout, "ir_version") {
		t.Errorf("--dot FILE: status %d, %v, stderr %q", status, err, stderr)
	}
	status, stdout, _ = runCLI("inspect", "--dot", "-", model)
	if status != exitOK || !strings.HasPrefix(stdout, "digraph ") || strings.Contains(stdout, "ir_version") {
		t.Errorf("--dot -: status %d:\n%s", status, stdout)
	}

	status, stdout, _ = runCLI("inspect", "--plan", "--batch", "4", model)
	if status != exitOK || !strings.Contains(stdout, "float32[4,6,26,26]") || !strings.Contains(stdout, "Gemm") {
		t.Errorf("--plan: status %d:\n%s", status, stdout)
	}
	status, _, stderr = runCLI("inspect", "--json", "--plan", model)
	if status != exitUsage {
		t.Errorf("--json --plan: status %d", status)
	}
	oneErrorLine(t, stderr, "--json describes the model")
}

// TestShapeErrorsNameTheCommand: the input-shape checks that run, inspect and bench share speak for the
// command that ran them, naming the input, with no "bench:" from the package they live in.
func TestShapeErrorsNameTheCommand(t *testing.T) {
	fixedBatch := sharedModelPath(t, "mnist8_cntk") // input "Input3" float32[1,1,28,28]
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"inspect", "--plan", "--batch", "4", fixedBatch},
			[]string{`onnxrun: inspect --plan: input "Input3" has its batch fixed to 1 by the model ([1,1,28,28]), so it cannot take --batch 4`, "(see 'onnxrun inspect --help')"}},
		{[]string{"inspect", "--plan", "--shape", "Input3", fixedBatch},
			[]string{`onnxrun: inspect --shape: "Input3": want NAME=D0,D1,...`}},
		{[]string{"run", "--random", "--batch", "2", fixedBatch},
			[]string{`onnxrun: run --random: input "Input3" has its batch fixed to 1 by the model`, "(see 'onnxrun run --help')"}},
		{[]string{"run", "--random", "--shape", "Input3=1,x", fixedBatch},
			[]string{`onnxrun: run --shape: "Input3=1,x": dimension "x" is not a size`}},
		{[]string{"bench", "--shape", "Input3", fixedBatch},
			[]string{`onnxrun: bench --shape: "Input3": want NAME=D0,D1,...`}},
	}
	for _, tc := range tests {
		status, stdout, stderr := runCLI(tc.args...)
		if status != exitUsage || stdout != "" {
			t.Errorf("%v: status %d, stdout %q", tc.args, status, stdout)
		}
		oneErrorLine(t, stderr, tc.want...)
		if strings.Contains(stderr, "bench:") {
			t.Errorf("%v: %q speaks for the bench package", tc.args, stderr)
		}
	}
}

// writeDigitPNG writes the first of LeNet's input digits as a 28×28 greyscale PNG.
func writeDigitPNG(t *testing.T, input, path string) {
	t.Helper()
	all, err := tensorio.ReadNPYFile(input)
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewGray(image.Rect(0, 0, 28, 28))
	for i, v := range all.Float32s()[:28*28] {
		img.Pix[i] = uint8(v*255 + 0.5)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

func TestRunImages(t *testing.T) {
	model, input := lenet(t)
	dir := t.TempDir()
	digit := filepath.Join(dir, "digit.png")
	writeDigitPNG(t, input, digit)
	labels := filepath.Join(dir, "labels.txt")
	if err := os.WriteFile(labels, []byte("zero\none\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	status, stdout, stderr := runCLI(model, digit, "--labels", labels, "--top", "2")
	if status != exitOK {
		t.Fatalf("status %d: %s", status, stderr)
	}
	if want := "top 2 of 10 classes:\n  class       score  softmax  label\n      7      12.069   0.9997  seven\n"; !strings.Contains(stdout, want) {
		t.Errorf("PNG digit: stdout lacks %q:\n%s", want, stdout)
	}
	// The same picture, as the NHWC input of the tf2onnx layout of the model.
	status, stdout, _ = runCLI(sharedModelPath(t, "keras_lenet_tf2onnx_layout"), digit, "--top", "1")
	if status != exitOK || !strings.Contains(stdout, "output \"dense_2\": float32[1,10]") || !strings.Contains(stdout, "\n      7  ") {
		t.Errorf("NHWC model: status %d:\n%s", status, stdout)
	}
	// A larger colour photo of a dark digit on white paper: resized, made grey, inverted.
	src, err := os.Open(digit)
	if err != nil {
		t.Fatal(err)
	}
	gray, err := png.Decode(src)
	src.Close()
	if err != nil {
		t.Fatal(err)
	}
	photo := image.NewRGBA(image.Rect(0, 0, 84, 84))
	for y := range 84 {
		for x := range 84 {
			v := 255 - gray.(*image.Gray).GrayAt(x/3, y/3).Y
			photo.Set(x, y, color.RGBA{v, v, v, 255})
		}
	}
	jpgPath := filepath.Join(dir, "photo.jpg")
	f, err := os.Create(jpgPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(f, photo, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	status, stdout, _ = runCLI(model, "--invert", jpgPath, "--top", "1")
	if status != exitOK || !strings.Contains(stdout, "top 1 of 10 classes:\n  class       score  softmax\n      7  ") {
		t.Errorf("inverted photo: status %d:\n%s", status, stdout)
	}
	for _, tc := range []struct {
		args   []string
		status int
		want   string
	}{
		{[]string{model, "--layout", "NWHC", digit}, exitUsage, "--layout NWHC: want NCHW or NHWC"},
		{[]string{model, "--layout", "NHWC", digit}, exitUsage, "--layout NHWC puts 28 channels"},
		{[]string{model, "--mean", "1,2", digit}, exitError, "--mean and --std take one value for a 1-channel image, got 2"},
		{[]string{model, digit, "--labels", filepath.Join(dir, "none.txt")}, exitError, "none.txt"},
	} {
		status, _, stderr := runCLI(tc.args...)
		if status != tc.status {
			t.Errorf("%v: status %d, want %d", tc.args, status, tc.status)
		}
		oneErrorLine(t, stderr, tc.want)
	}
}

func TestRunNPZ(t *testing.T) {
	model, input := lenet(t)
	dir := t.TempDir()
	digits, err := tensorio.ReadNPYFile(input)
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(dir, "in.npz")
	if err := tensorio.WriteNPZ(archive, []tensorio.NamedTensor{{Name: "input", Tensor: digits}, {Name: "unused", Tensor: digits}}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.npz")
	status, stdout, stderr := runCLI(model, archive, "-o", out)
	if status != exitOK {
		t.Fatalf("status %d: %s", status, stderr)
	}
	if !strings.Contains(stdout, "argmax of each row:\n[7 2 1 0 4") || !strings.HasSuffix(stdout, "wrote "+out+"\n") {
		t.Errorf("stdout:\n%s", stdout)
	}
	got, err := tensorio.ReadNPZ(out)
	if err != nil || len(got) != 1 || got[0].Name != "logits" || !got[0].Tensor.Shape().Equal(ops.Shape{64, 10}) {
		t.Fatalf("out.npz: %v, %v", got, err)
	}
	// By name and by FILE.npz:ARRAY.
	for _, arg := range []string{"input=" + archive, archive + ":unused"} {
		if status, _, stderr := runCLI(model, arg, "--top", "0"); status != exitOK {
			t.Errorf("%s: status %d: %s", arg, status, stderr)
		}
	}
	wrong := filepath.Join(dir, "wrong.npz")
	if err := tensorio.WriteNPZ(wrong, []tensorio.NamedTensor{{Name: "a", Tensor: digits}, {Name: "b", Tensor: digits}}); err != nil {
		t.Fatal(err)
	}
	status, _, stderr = runCLI(model, wrong)
	if status != exitError {
		t.Errorf("archive with other names: status %d", status)
	}
	oneErrorLine(t, stderr, "none of its arrays (a, b) is named after a model input; the inputs are \"input\" float32[N,1,28,28]")
}

func TestRunRandom(t *testing.T) {
	model, _ := lenet(t)
	run := func(args ...string) string {
		t.Helper()
		status, stdout, stderr := runCLI(append([]string{"run", "--random", "--top", "0", model}, args...)...)
		if status != exitOK {
			t.Fatalf("%v: status %d: %s", args, status, stderr)
		}
		return stdout
	}
	a, b, c := run("--seed", "7"), run("--seed", "7"), run("--seed", "8")
	if a != b || a == c {
		t.Errorf("the same seed must give the same output and another seed another:\n%s\n%s\n%s", a, b, c)
	}
	if !strings.Contains(run("--batch", "3"), "float32[3,10]") {
		t.Errorf("--batch 3 does not give 3 rows")
	}
	status, _, stderr := runCLI("run", "--random", model, "--shape", "image=1,1,28,28")
	if status != exitError {
		t.Errorf("--shape of an unknown input: status %d", status)
	}
	oneErrorLine(t, stderr, `a shape is pinned for "image", but the model has no such input; its inputs are "input" float32[N,1,28,28]`)
}

func TestDumpIntermediate(t *testing.T) {
	model, input := lenet(t)
	digit := firstDigit(t, input)
	dir := filepath.Join(t.TempDir(), "dump")
	status, stdout, stderr := runCLI("run", "--dump-intermediate", dir, model, digit)
	if status != exitOK {
		t.Fatalf("status %d: %s", status, stderr)
	}
	if stderr != "wrote 16 node outputs to "+dir+" (listed in "+filepath.Join(dir, "index.tsv")+")\n" {
		t.Errorf("stderr %q", stderr)
	}
	index, err := os.ReadFile(filepath.Join(dir, "index.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(index)), "\n")
	if len(lines) != 17 || lines[1] != "_c1_Conv_output_0.npy\t/c1/Conv_output_0\tfloat32\t[1,6,26,26]" || lines[16] != "logits.npy\tlogits\tfloat32\t[1,10]" {
		t.Errorf("index.tsv:\n%s", index)
	}
	relu, err := tensorio.ReadNPYFile(filepath.Join(dir, "_Relu_output_0.npy"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range relu.Float32s() {
		if v < 0 {
			t.Fatalf("a Relu output holds %v", v)
		}
	}
	logits, err := tensorio.ReadNPYFile(filepath.Join(dir, "logits.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "12.069") || logits.Float32s()[7] < 12.06 || logits.Float32s()[7] > 12.07 {
		t.Errorf("the dumped logits %v do not match the printed ones:\n%s", logits.Float32s(), stdout)
	}
}

func TestCompletion(t *testing.T) {
	scripts := map[string]string{}
	for _, shell := range []string{"bash", "zsh", "fish"} {
		status, stdout, stderr := runCLI("completion", shell)
		if status != exitOK || stderr != "" || !strings.Contains(stdout, "onnxrun") {
			t.Fatalf("%s: status %d, stderr %q", shell, status, stderr)
		}
		for _, c := range commandTable() {
			if !strings.Contains(stdout, c.name) {
				t.Errorf("%s script lacks the command %s", shell, c.name)
			}
		}
		scripts[shell] = stdout
	}
	status, _, stderr := runCLI("completion", "tcsh")
	if status != exitUsage {
		t.Errorf("tcsh: status %d", status)
	}
	oneErrorLine(t, stderr, `unknown shell "tcsh": the completion scripts are for bash, zsh and fish`)

	dir := t.TempDir()
	for shell, script := range scripts {
		if err := os.WriteFile(filepath.Join(dir, "onnxrun."+shell), []byte(script), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if bash, err := exec.LookPath("bash"); err == nil {
		// Drive the completion function as bash's Tab would.
		query := func(words ...string) string {
			t.Helper()
			var arr []string
			for _, w := range words {
				arr = append(arr, "'"+w+"'")
			}
			cmd := exec.Command(bash, "-c", "source onnxrun.bash; COMP_WORDS=("+strings.Join(arr, " ")+"); COMP_CWORD="+
				strconv.Itoa(len(words)-1)+"; _onnxrun; echo \"${COMPREPLY[*]}\"")
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("bash: %v: %s", err, out)
			}
			return strings.TrimSpace(string(out))
		}
		for _, tc := range []struct {
			words []string
			want  string
		}{
			{[]string{"onnxrun", "su"}, "summary"},
			{[]string{"onnxrun", "--vers"}, "--version"},
			{[]string{"onnxrun", "version", ""}, ""},
			{[]string{"onnxrun", "run", "--ra"}, "--random"},
			{[]string{"onnxrun", "model.onnx", "--dump"}, "--dump-intermediate"},
			{[]string{"onnxrun", "summary", "--ch"}, "--channels-first"},
			{[]string{"onnxrun", "completion", ""}, "bash zsh fish"},
			{[]string{"onnxrun", "help", "in"}, "inspect"},
			{[]string{"onnxrun", "run", "--labels", "onnxrun.f"}, "onnxrun.fish"},
			{[]string{"onnxrun", "run", "--threads", ""}, ""},
		} {
			if got := query(tc.words...); got != tc.want {
				t.Errorf("bash %v: got %q, want %q", tc.words, got, tc.want)
			}
		}
	}
	if zsh, err := exec.LookPath("zsh"); err == nil {
		if out, err := exec.Command(zsh, "-n", filepath.Join(dir, "onnxrun.zsh")).CombinedOutput(); err != nil {
			t.Errorf("zsh -n: %v: %s", err, out)
		}
	}
	if fish, err := exec.LookPath("fish"); err == nil {
		cmd := exec.Command(fish, "--no-config", "-c", "source onnxrun.fish; complete -C 'onnxrun su'; complete -C 'onnxrun x.onnx --ra'")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "summary\tprint a Keras-style table") || !strings.Contains(string(out), "--random\t") {
			t.Errorf("fish: %v:\n%s", err, out)
		}
	}
}

// Every command answers --help with its usage and at least one example, and exit status 0.
func TestEveryCommandHelp(t *testing.T) {
	for _, c := range commandTable() {
		status, stdout, stderr := runCLI(c.name, "--help")
		if status != exitOK || stderr != "" || !strings.Contains(stdout, "usage: onnxrun "+c.name) || !strings.Contains(stdout, "\nexamples:\n  ") {
			t.Errorf("%s --help: status %d, stderr %q:\n%s", c.name, status, stderr, stdout)
		}
	}
}

func TestSuggestions(t *testing.T) {
	for _, tc := range []struct {
		word string
		want string
	}{
		{"sumary", "summary"}, {"bnech", "bench"}, {"inspetc", "inspect"}, {"rn", "run"}, {"frobnicate", ""}, {"x", ""},
		{"complition", "completion"}, {"summary", "summary"},
	} {
		if got := closest(tc.word, commandNames()); got != tc.want {
			t.Errorf("closest(%q) = %q, want %q", tc.word, got, tc.want)
		}
	}
	for _, tc := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"abc", "", 3}, {"kitten", "sitting", 3}, {"ab", "ba", 1}, {"input", "inptu", 1}} {
		if got := editDistance(tc.a, tc.b); got != tc.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.d)
		}
	}
	model, input := lenet(t)
	status, _, stderr := runCLI("sumary", model)
	if status != exitUsage {
		t.Errorf("status %d", status)
	}
	oneErrorLine(t, stderr, `unknown command "sumary" (did you mean "summary"?)`)
	status, _, stderr = runCLI(model, "inptu="+input)
	if status != exitError {
		t.Errorf("status %d", status)
	}
	oneErrorLine(t, stderr, `the model has no input named "inptu" (did you mean input=`+input+`?); its inputs are "input" float32[N,1,28,28]`)
}

// --dump-intermediate writes the values inside a Loop's body too, named NODE/body/VALUE (last iteration).
func TestDumpIntermediateInsideLoop(t *testing.T) {
	m, err := bench.LoopModel(3)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	model := filepath.Join(tmp, "loop.onnx")
	if err := os.WriteFile(model, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	x := writeNPY(t, filepath.Join(tmp, "x.npy"), ops.FromSlice(ops.Shape{16}, make([]float32, 16)))
	dir := filepath.Join(tmp, "dump")
	if status, _, stderr := runCLI("run", "--dump-intermediate", dir, model, x); status != exitOK {
		t.Fatalf("status %d: %s", status, stderr)
	}
	index, err := os.ReadFile(filepath.Join(dir, "index.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\tloop/body/sum\tfloat32\t[16]", "\tloop/body/x_out\tfloat32\t[16]", "\ty\tfloat32\t[16]"} {
		if !strings.Contains(string(index), want) {
			t.Errorf("index.tsv does not list %q:\n%s", want, index)
		}
	}
}
