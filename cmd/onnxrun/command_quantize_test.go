package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/tensorio"
)

func countOps(m *onnx.Model) map[string]int {
	count := map[string]int{}
	for _, n := range m.Proto.GetGraph().GetNode() {
		count[n.GetOpType()]++
	}
	return count
}

func TestQuantizeCommand(t *testing.T) {
	lenetFile := testenv.RepoPath(t, "models/lenet/lenet.onnx")
	dir := t.TempDir()
	writeSyntheticMNIST(t, dir, 300)
	out := filepath.Join(dir, "q.onnx")

	status, stdout, stderr := runCLI("quantize", lenetFile, "-o", out, "--mode", "static", "--calibrate", dir,
		"--method", "percentile", "--per-channel", "--exclude", "dense3", "--eval", dir)
	if status != exitOK {
		t.Fatalf("status %d\nstdout:\n%s\nstderr:\n%s", status, stdout, stderr)
	}
	for _, want := range []string{"wrote " + out, "static (percentile 99.99), 4 weights int8 (per channel)", "eval on " + dir + ": 300 examples",
		"top-1 accuracy float"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	m, err := onnx.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	// Four weights and four biases behind DequantizeLinear (dense3 excluded), and Q->DQ pairs on activations.
	counts := countOps(m)
	if counts["QuantizeLinear"] == 0 || counts["DequantizeLinear"] != 8+counts["QuantizeLinear"] {
		t.Errorf("op counts %v: want 8 weight/bias DequantizeLinear plus one per QuantizeLinear", counts)
	}

	// Dynamic, calibrated by nothing, with an .npz to evaluate on (no labels: differences only).
	npz := filepath.Join(dir, "eval.npz")
	x := ops.New(ops.Float32, ops.Shape{3, 1, 28, 28})
	for i, v := range x.Float32s() {
		x.Float32s()[i] = float32(i%7) / 7 * float32(v+1)
	}
	if err := tensorio.WriteNPZ(npz, []tensorio.NamedTensor{{Name: "input", Tensor: x}}); err != nil {
		t.Fatal(err)
	}
	status, stdout, stderr = runCLI("quantize", lenetFile, "-o", out, "--eval", npz)
	if status != exitOK || !strings.Contains(stdout, "dynamic, 5 weights int8 (per tensor)") || !strings.Contains(stdout, "3 examples: output difference") ||
		strings.Contains(stdout, "accuracy") {
		t.Fatalf("dynamic: status %d\nstdout:\n%s\nstderr:\n%s", status, stdout, stderr)
	}
	// With labels in the .npz, the report gives both accuracies.
	labels := ops.FromSlice(ops.Shape{3}, []int64{1, 2, 3})
	if err := tensorio.WriteNPZ(npz, []tensorio.NamedTensor{{Name: "input", Tensor: x}, {Name: "labels", Tensor: labels}}); err != nil {
		t.Fatal(err)
	}
	status, stdout, stderr = runCLI("quantize", lenetFile, "-o", out, "--per-channel", "--eval", npz)
	if status != exitOK || !strings.Contains(stdout, "top-1 accuracy float") {
		t.Fatalf("dynamic with labels: status %d\nstdout:\n%s\nstderr:\n%s", status, stdout, stderr)
	}
	if m, err = onnx.Load(out); err != nil || countOps(m)["DynamicQuantizeLinear"] != 5 {
		t.Errorf("dynamic: %v, op counts %v: want 5 DynamicQuantizeLinear", err, countOps(m))
	}
}

func TestQuantizeCommandErrors(t *testing.T) {
	lenetFile := testenv.RepoPath(t, "models/lenet/lenet.onnx")
	dir := t.TempDir()
	g := exporter.NewGraph("relu")
	g.Output(g.Node("Relu", []string{g.Input("x", onnxpb.TensorProto_FLOAT, 1, 4)}, nil), onnxpb.TensorProto_FLOAT, 1, 4)
	relu, err := g.Model(exporter.ModelOptions{Opset: 13})
	if err != nil {
		t.Fatal(err)
	}
	reluFile := filepath.Join(dir, "relu.onnx")
	if err := relu.Save(reluFile); err != nil {
		t.Fatal(err)
	}
	existing := filepath.Join(dir, "existing.onnx")
	if err := os.WriteFile(existing, []byte("before"), 0o644); err != nil {
		t.Fatal(err)
	}
	aFolder := filepath.Join(dir, "folder.onnx")
	if err := os.Mkdir(aFolder, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args   []string
		status int
		want   string
	}{
		{[]string{"quantize", lenetFile}, exitUsage, "missing -o OUT.onnx"},
		{[]string{"quantize", "-o", existing}, exitUsage, "quantize takes one model file, got 0 arguments"},
		{[]string{"quantize", lenetFile, "-o", existing, "--mode", "static"}, exitUsage, "--mode static needs --calibrate DATA"},
		{[]string{"quantize", lenetFile, "-o", existing, "--calibrate", dir}, exitUsage, "--calibrate is for --mode static"},
		{[]string{"quantize", lenetFile, "-o", existing, "--mode", "half"}, exitUsage, `mode "half": want dynamic or static`},
		{[]string{"quantize", lenetFile, "-o", existing, "--mode", "static", "--calibrate", dir, "--method", "mse"}, exitUsage, `calibration method "mse"`},
		{[]string{"quantize", lenetFile, "-o", existing, "--percentile", "0"}, exitUsage, "--percentile 0: want more than 0 and at most 100"},
		{[]string{"quantize", lenetFile, "-o", existing, "--exclude", "conv9"}, exitError, `--exclude "conv9" names no node; the nodes are conv1, `},
		{[]string{"quantize", reluFile, "-o", existing}, exitError, "no node to quantize"},
		{[]string{"quantize", lenetFile, "-o", existing, "--mode", "static", "--calibrate", dir}, exitError, "no .npy files"},
		{[]string{"quantize", lenetFile, "-o", filepath.Join(dir, "no", "such", "q.onnx")}, exitError, "write "},
		{[]string{"quantize", lenetFile, "-o", aFolder}, exitError, "write " + aFolder},
	} {
		status, stdout, stderr := runCLI(c.args...)
		if status != c.status || stdout != "" {
			t.Errorf("%v: status %d (want %d), stdout %q, stderr %q", c.args, status, c.status, stdout, stderr)
			continue
		}
		oneErrorLine(t, stderr, c.want)
	}
	// Nothing was written half: the existing file is as it was and no temporary file is left.
	if b, err := os.ReadFile(existing); err != nil || string(b) != "before" {
		t.Errorf("the existing output file changed: %q, %v", b, err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("a temporary file was left behind: %s", e.Name())
		}
	}
}

func TestQuantizeHelpAndCompletion(t *testing.T) {
	status, stdout, _ := runCLI("quantize", "--help")
	if status != exitOK || !strings.Contains(stdout, "usage: onnxrun quantize [flags] MODEL.onnx -o OUT.onnx") || !strings.Contains(stdout, "--per-channel") {
		t.Errorf("quantize --help: status %d\n%s", status, stdout)
	}
	_, list, _ := runCLI("help")
	if !strings.Contains(list, "quantize") {
		t.Errorf("the command list lacks quantize:\n%s", list)
	}
	_, script, _ := runCLI("completion", "bash")
	if !strings.Contains(script, "quantize") || !strings.Contains(script, "--calibrate") {
		t.Errorf("the bash completion lacks quantize or --calibrate")
	}
}
