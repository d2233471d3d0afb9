package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/onnx"
)

// writeSyntheticMNIST writes the four MNIST files (gzipped) for n training and n test images: class k is a
// bright bar at a position that depends on k.
func writeSyntheticMNIST(t *testing.T, dir string, n int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	write := func(name string, dims []uint32, data []byte) {
		var raw bytes.Buffer
		raw.Write([]byte{0, 0, 8, byte(len(dims))})
		for _, d := range dims {
			binary.Write(&raw, binary.BigEndian, d)
		}
		raw.Write(data)
		var z bytes.Buffer
		w := gzip.NewWriter(&z)
		w.Write(raw.Bytes())
		w.Close()
		if err := os.WriteFile(filepath.Join(dir, name+".gz"), z.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, prefix := range []string{"train", "t10k"} {
		images, labels := make([]byte, n*784), make([]byte, n)
		for i := range labels {
			k := rng.IntN(10)
			labels[i] = byte(k)
			for r := 0; r < 28; r++ {
				images[i*784+r*28+2+k*2] = 255
				images[i*784+r*28+3+k*2] = 255
			}
		}
		write(prefix+"-images-idx3-ubyte", []uint32{uint32(n), 28, 28}, images)
		write(prefix+"-labels-idx1-ubyte", []uint32{uint32(n)}, labels)
	}
}

func TestTrainCommand(t *testing.T) {
	dir := t.TempDir()
	writeSyntheticMNIST(t, dir, 300)
	out := filepath.Join(dir, "net.onnx")
	plot := filepath.Join(dir, "curves.png")
	status, stdout, stderr := runCLI("train", "--data", dir, "--epochs", "2", "--batch", "32", "--lr", "0.003",
		"--out", out, "--plot", plot, "--opset", "11", "--softmax", "--pool", "max", "--dropout", "0.1", "--quiet")
	if status != 0 {
		t.Fatalf("status %d\nstdout:\n%s\nstderr:\n%s", status, stdout, stderr)
	}
	for _, want := range []string{"Total params: 60,074", "epoch 1/2", "epoch 2/2", "val acc", "img/s", "wrote " + out, "wrote " + plot} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	m, err := onnx.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := m.OpsetFor(""); v != 11 || m.Proto.GetGraph().GetOutput()[0].GetName() != "probabilities" {
		t.Errorf("opset %d, output %q; want 11 and probabilities", v, m.Proto.GetGraph().GetOutput()[0].GetName())
	}
	if f, err := os.Open(plot); err != nil {
		t.Errorf("plot: %v", err)
	} else {
		cfg, err := png.DecodeConfig(f)
		f.Close()
		if err != nil || cfg.Width < 100 || cfg.Height < 100 {
			t.Errorf("plot: not a PNG picture (%dx%d, %v)", cfg.Width, cfg.Height, err)
		}
	}
	// Run the export with the run command on one of the training images.
	status, stdout, stderr = runCLI("summary", out)
	if status != 0 || !strings.Contains(stdout, "60,074") {
		t.Errorf("summary of the export: status %d\n%s%s", status, stdout, stderr)
	}
}

func TestTrainCommandErrors(t *testing.T) {
	cases := []struct {
		args       []string
		wantStatus int
		wantErr    string
	}{
		{[]string{"train", "--data", filepath.Join(t.TempDir(), "none")}, exitError, "missing data folder"},
		{[]string{"train", "--pool", "median"}, exitUsage, `pooling "median": want max or average`},
		{[]string{"train", "--opset", "8"}, exitUsage, "--opset 8: want 9 to 21"},
		{[]string{"train", "--filters", "6"}, exitUsage, "want two numbers separated by a comma"},
		{[]string{"train", "--optimizer", "lbfgs"}, exitUsage, `optimizer "lbfgs": want sgd or adam`},
		{[]string{"train", "extra"}, exitUsage, "train takes no arguments"},
		{[]string{"train", "--arch", "vgg"}, exitUsage, `--arch "vgg": want lenet or resnet-small`},
		{[]string{"train", "--aug-rotate", "200"}, exitUsage, "--aug-rotate 200"},
	}
	for _, c := range cases {
		status, _, stderr := runCLI(c.args...)
		if status != c.wantStatus || !strings.Contains(stderr, c.wantErr) {
			t.Errorf("%v: status %d, stderr %q; want %d and %q", c.args, status, stderr, c.wantStatus, c.wantErr)
		}
	}
}

// TestTrainCommandResNet trains the built-in residual CNN briefly with augmentation and BatchNorm folded
// at export: the summary shows its size, and the export has the residual Adds and no BatchNormalization.
func TestTrainCommandResNet(t *testing.T) {
	dir := t.TempDir()
	writeSyntheticMNIST(t, dir, 64)
	out := filepath.Join(dir, "resnet.onnx")
	status, stdout, stderr := runCLI("train", "--arch", "resnet-small", "--data", dir, "--epochs", "1", "--batch", "32",
		"--aug-shift", "2", "--aug-rotate", "10", "--fold-bn", "--out", out, "--quiet")
	if status != 0 {
		t.Fatalf("status %d\nstdout:\n%s\nstderr:\n%s", status, stdout, stderr)
	}
	if !strings.Contains(stdout, "Total params: 78,090") || !strings.Contains(stdout, "stage2_block1_add (Add)") {
		t.Errorf("stdout lacks the resnet-small summary:\n%s", stdout)
	}
	m, err := onnx.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, n := range m.Proto.GetGraph().GetNode() {
		counts[n.GetOpType()]++
	}
	if counts["Add"] != 3 || counts["BatchNormalization"] != 0 || counts["Conv"] != 9 {
		t.Errorf("exported ops %v, want 3 Add, 9 Conv and the BatchNorms folded away", counts)
	}
}
