package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
)

// symbolicPoolModel writes a model x float32[1,3,H,W] → MaxPool 2x2 stride 2 → y, and returns its path.
func symbolicPoolModel(t *testing.T) string {
	t.Helper()
	g := exporter.NewGraph("pool")
	y := g.Node("MaxPool", []string{g.Input("x", onnxpb.TensorProto_FLOAT, 1, 3, "H", "W")}, exporter.Attrs{"kernel_shape": []int{2, 2}, "strides": []int{2, 2}})
	g.Output(y, onnxpb.TensorProto_FLOAT, 1, 3, "h", "w")
	m, err := g.Model(exporter.ModelOptions{Opset: 13})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "pool.onnx")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// --shape pins an input's shape at compile time on every command that takes a model: the pinned sizes
// replace the symbolic ones, and a pin that names no input is an error from every command.
func TestShapePinsEveryCommand(t *testing.T) {
	model := symbolicPoolModel(t)
	other := writeNPY(t, filepath.Join(t.TempDir(), "x.npy"), ops.New(ops.Float32, ops.Shape{1, 3, 6, 6}))
	pinned := []struct {
		args   []string
		stdout string
	}{
		{[]string{"run", "--random", "--shape", "x=1,3,8,6", model}, "float32[1,3,4,3]"},
		{[]string{"inspect", "--plan", "--shape", "x=1,3,8,6", model}, "[1,3,4,3]"},
		{[]string{"summary", "--channels-first", "--shape", "x=1,3,8,6", model}, "(1, 3, 4, 3)"},
		{[]string{"bench", "--runs", "1", "--max-runs", "1", "--warmup", "0", "--time", "0", "--shape", "x=1,3,8,6", model}, "[1,3,8,6]"},
		{[]string{"inspect", "--dot", "-", "--shape", "x=1,3,8,6", model}, "1×3×4×3"},
	}
	for _, c := range pinned {
		status, stdout, stderr := runCLI(c.args...)
		if status != exitOK || !strings.Contains(stdout, c.stdout) {
			t.Errorf("%v: status %d, stdout %q (want %q), stderr %q", c.args, status, stdout, c.stdout, stderr)
		}
	}
	if status, _, stderr := runCLI("inspect", "--shape", "x=1,3,8,6", model); status != exitUsage || !strings.Contains(stderr, "--shape applies to --plan and --dot") {
		t.Errorf("inspect --shape without --plan or --dot: status %d, stderr %q", status, stderr)
	}
	// Pinned, the model refuses another size, which it runs unpinned.
	if status, _, stderr := runCLI("run", model, other); status != exitOK {
		t.Fatalf("run unpinned at [1,3,6,6]: status %d: %s", status, stderr)
	}
	if status, _, stderr := runCLI("run", "--shape", "x=1,3,8,6", model, other); status == exitOK || !strings.Contains(stderr, "[1,3,8,6]") {
		t.Errorf("run pinned at [1,3,8,6] with a [1,3,6,6] file: status %d, stderr %q", status, stderr)
	}
	for _, args := range [][]string{
		{"run", "--random"}, {"inspect", "--plan"}, {"inspect", "--dot", "-"}, {"summary"}, {"bench", "--runs", "1"}, {"serve", "--print-request", other},
	} {
		args = append(append(args, "--shape", "image=1,3,8,6"), model)
		status, _, stderr := runCLI(args...)
		if status == exitOK || !strings.Contains(stderr, `a shape is pinned for "image", but the model has no such input`) {
			t.Errorf("%v: status %d, stderr %q, want the unknown-input error", args, status, stderr)
		}
	}
}
