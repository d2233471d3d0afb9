package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/onnx"
)

// TestTrainFromCommand fine-tunes the tf2onnx Keras CNN (NHWC, Softmax output) on synthetic digits with a
// new 10-class head and the first convolution frozen, and checks what it prints and writes: the same
// input and output names, NHWC input, the source's opset, and the frozen weights unchanged.
func TestTrainFromCommand(t *testing.T) {
	srcPath := filepath.Join(testenv.Shared(t, "models", "tf2onnx117_cnn_mnist"), "model.onnx")
	dir := t.TempDir()
	writeSyntheticMNIST(t, dir, 200)
	out := filepath.Join(dir, "fine.onnx")
	const frozen = "sequential_1/conv2d_1/BiasAdd"
	status, stdout, stderr := runCLI("train", "--from", srcPath, "--num-classes", "10", "--freeze", frozen,
		"--data", dir, "--val-split", "40", "--epochs", "1", "--batch", "32", "--threads", "1", "--out", out, "--quiet")
	if status != 0 {
		t.Fatalf("status %d\nstdout:\n%s\nstderr:\n%s", status, stdout, stderr)
	}
	for _, want := range []string{"fine-tuning " + srcPath + " (opset 13)", "frozen: sequential_1/conv2d_1/convolution/ReadVariableOp:0, sequential_1/conv2d_1/Squeeze:0",
		"epoch 1/1", "opset 13 as the source"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	src, err := onnx.Load(srcPath)
	if err != nil {
		t.Fatal(err)
	}
	m, err := onnx.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	g, sg := m.Proto.GetGraph(), src.Proto.GetGraph()
	if g.GetInput()[0].GetName() != "input" || g.GetOutput()[0].GetName() != "Identity:0" {
		t.Errorf("input %q output %q, want the source's input and Identity:0", g.GetInput()[0].GetName(), g.GetOutput()[0].GetName())
	}
	if _, dims, _ := onnx.ValueInfoShape(g.GetInput()[0]); len(dims) != 4 || dims[3].Value != 1 {
		t.Errorf("input dims %v, want NHWC", dims)
	}
	if v, _ := m.OpsetFor(""); v != 13 {
		t.Errorf("opset %d, want 13", v)
	}
	for i, init := range g.GetInitializer() {
		name := init.GetName()
		same := string(init.GetRawData()) == string(sg.GetInitializer()[i].GetRawData())
		if strings.HasPrefix(name, "sequential_1/conv2d_1/") && !same {
			t.Errorf("frozen initializer %s changed", name)
		}
		if strings.HasPrefix(name, "sequential_1/dense_1/") && same {
			t.Errorf("trainable initializer %s did not change", name)
		}
	}

	status, _, stderr = runCLI("train", "--from", srcPath, "--freeze", "nothing_by_this_name", "--data", dir, "--val-split", "40", "--epochs", "1", "--out", out)
	if status == 0 || !strings.Contains(stderr, "nothing_by_this_name") {
		t.Errorf("an unknown --freeze name: status %d, stderr %q; want an error naming it", status, stderr)
	}
}
