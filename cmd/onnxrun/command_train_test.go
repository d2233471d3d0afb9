package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/tensorio"
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
		"--out", out, "--plot", plot, "--opset", "11", "--softmax", "--pool", "max", "--dropout", "0.1", "--quiet",
		"--val-split", "60", "--keep-best")
	if status != 0 {
		t.Fatalf("status %d\nstdout:\n%s\nstderr:\n%s", status, stdout, stderr)
	}
	for _, want := range []string{"Total params: 60,074", "epoch 1/2", "epoch 2/2", "val acc", "img/s", "wrote " + out, "wrote " + plot,
		"kept the weights of epoch ", "test accuracy ", "evaluated once"} {
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
	meta := map[string]string{}
	for _, p := range m.Proto.GetMetadataProps() {
		meta[p.GetKey()] = p.GetValue()
	}
	for _, key := range []string{"val_split", "val_accuracy", "test_accuracy", "epoch"} {
		if meta[key] == "" {
			t.Errorf("the export's metadata lacks %q: %v", key, meta)
		}
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
	synthetic := t.TempDir()
	writeSyntheticMNIST(t, synthetic, 40)
	cases := []struct {
		args       []string
		wantStatus int
		wantErr    string
	}{
		{[]string{"train", "--data", filepath.Join(t.TempDir(), "none")}, exitError, "missing data (want a folder of MNIST IDX files"},
		{[]string{"train", "--pool", "median"}, exitUsage, `pooling "median": want max or average`},
		{[]string{"train", "--opset", "8"}, exitUsage, "--opset 8: want 9 to 21"},
		{[]string{"train", "--filters", "6"}, exitUsage, "want two numbers separated by a comma"},
		{[]string{"train", "--optimizer", "lbfgs"}, exitUsage, `optimizer "lbfgs": want sgd or adam`},
		{[]string{"train", "extra"}, exitUsage, "train takes no arguments"},
		{[]string{"train", "--data", synthetic, "--val-split", "40"}, exitUsage, "--val-split 40: want 0 (none) up to 39"},
		{[]string{"train", "--data", synthetic, "--val-split", "0", "--keep-best"}, exitUsage, "--keep-best chooses an epoch on the validation split"},
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

// TestTrainCommandWithoutValidation checks that --val-split 0 trains on every training image and prints no
// validation figures, only the test accuracy at the end.
func TestTrainCommandWithoutValidation(t *testing.T) {
	dir := t.TempDir()
	writeSyntheticMNIST(t, dir, 100)
	status, stdout, stderr := runCLI("train", "--data", dir, "--epochs", "1", "--val-split", "0", "--quiet", "--out", filepath.Join(dir, "net.onnx"))
	if status != 0 {
		t.Fatalf("status %d\nstdout:\n%s\nstderr:\n%s", status, stdout, stderr)
	}
	if strings.Contains(stdout, "val acc") || strings.Contains(stdout, "validation") || !strings.Contains(stdout, "test accuracy ") {
		t.Errorf("--val-split 0: want no validation figures and a test accuracy:\n%s", stdout)
	}
}

// writeColourFolder writes a folder of classes "blue" and "red", n solid 10x12 PNG pictures each.
func writeColourFolder(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	for class, c := range map[string]color.RGBA{"red": {255, 0, 0, 255}, "blue": {0, 0, 255, 255}} {
		if err := os.Mkdir(filepath.Join(dir, class), 0o755); err != nil {
			t.Fatal(err)
		}
		img := image.NewRGBA(image.Rect(0, 0, 12, 10))
		draw.Draw(img, img.Bounds(), image.NewUniform(c), image.Point{}, draw.Src)
		for i := range n {
			var b bytes.Buffer
			if err := png.Encode(&b, img); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, class, fmt.Sprintf("%d.png", i)), b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// TestTrainCommandImageFolderAndNPZ trains on a folder of class subfolders, tested on an .npz, and checks
// the export's input shape, output size and class names.
func TestTrainCommandImageFolderAndNPZ(t *testing.T) {
	folder := writeColourFolder(t, 6)
	x := &ops.Tensor{}
	x.Wrap(ops.Float32, ops.Shape{2, 3, 16, 16}, make([]float32, 2*3*16*16))
	y := &ops.Tensor{}
	y.Wrap(ops.Int64, ops.Shape{2}, []int64{0, 1})
	npz := filepath.Join(t.TempDir(), "test.npz")
	if err := tensorio.WriteNPZ(npz, []tensorio.NamedTensor{{Name: "x", Tensor: x}, {Name: "y", Tensor: y}}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "colours.onnx")
	status, stdout, stderr := runCLI("train", "--data", folder, "--test-data", npz, "--image-size", "16x16", "--mean", "0.5", "--std", "0.5",
		"--epochs", "1", "--batch", "4", "--val-split", "4", "--quiet", "--out", out)
	if status != 0 {
		t.Fatalf("status %d\nstdout:\n%s\nstderr:\n%s", status, stdout, stderr)
	}
	for _, want := range []string{"12 images 3x16x16, 2 classes", "test.npz: 2 images 3x16x16", "val acc", "test accuracy "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	m, err := onnx.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	g := m.Proto.GetGraph()
	var dims []int64
	for _, d := range g.GetInput()[0].GetType().GetTensorType().GetShape().GetDim() {
		dims = append(dims, d.GetDimValue())
	}
	if !slices.Equal(dims[1:], []int64{3, 16, 16}) {
		t.Errorf("the export's input dims %v, want [N 3 16 16]", dims)
	}
	outDims := g.GetOutput()[0].GetType().GetTensorType().GetShape().GetDim()
	if len(outDims) != 2 || outDims[1].GetDimValue() != 2 {
		t.Errorf("the export's output %v, want [N 2]", outDims)
	}
	var classNames string
	for _, p := range m.Proto.GetMetadataProps() {
		if p.GetKey() == "class_names" {
			classNames = p.GetValue()
		}
	}
	if classNames != "blue\nred" {
		t.Errorf("metadata class_names %q, want \"blue\\nred\"", classNames)
	}

	for _, c := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"--data", folder, "--image-size", "16"}, "--image-size \"16\": want HEIGHTxWIDTH"},
		{[]string{"--data", folder, "--mean", "0.5,0.5"}, "--mean and --std take 1 or 3 values"},
		{[]string{"--data", filepath.Join(folder, "red", "0.png")}, "cannot read the .npz file"},
		{[]string{"--data", folder, "--image-size", "16x16", "--test-data", filepath.Join(folder, "none")}, "missing data"},
	} {
		status, _, stderr := runCLI(append([]string{"train", "--epochs", "1", "--out", filepath.Join(t.TempDir(), "x.onnx")}, c.args...)...)
		if status == 0 || !strings.Contains(stderr, c.wantErr) {
			t.Errorf("%v: status %d, stderr %q; want an error saying %q", c.args, status, stderr, c.wantErr)
		}
	}
}

// TestTrainCommandResNet trains the built-in residual CNN briefly with augmentation and BatchNorm folded
// at export: the summary shows its size, and the export has the residual Adds and no BatchNormalization.
func TestTrainCommandResNet(t *testing.T) {
	dir := t.TempDir()
	writeSyntheticMNIST(t, dir, 64)
	out := filepath.Join(dir, "resnet.onnx")
	status, stdout, stderr := runCLI("train", "--arch", "resnet-small", "--data", dir, "--val-split", "16", "--epochs", "1", "--batch", "32",
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
