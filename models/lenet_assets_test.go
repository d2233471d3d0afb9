package models

import (
	"context"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/onnxrun/onnxrun/inspect"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
	"github.com/onnxrun/onnxrun/tensorio"
)

var updateDigits = flag.Bool("update", false, "rewrite the digits in models/lenet from data/mnist's test set")

// shippedDigits are the MNIST test images models/lenet ships, by index in t10k, with their labels.
var shippedDigits = []struct{ index, label int }{{0, 7}, {1, 2}, {2, 1}, {3, 0}, {4, 4}}

func digitPath(label int, ext string) string {
	return filepath.Join("lenet", fmt.Sprintf("digit_%d%s", label, ext))
}

// writeDigits writes each shipped digit as [1,1,28,28] float32 .npy (pixels / 255) and as a 28x28
// grey-scale PNG.
func writeDigits(t *testing.T) {
	_, test, err := LoadMNIST(filepath.Join("..", "data", "mnist"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range shippedDigits {
		if int(test.Labels[d.index]) != d.label {
			t.Fatalf("test image %d is a %d, not a %d", d.index, test.Labels[d.index], d.label)
		}
		if err := tensorio.WriteNPYFile(digitPath(d.label, ".npy"), test.Tensor(d.index, d.index+1)); err != nil {
			t.Fatal(err)
		}
		img := image.NewGray(image.Rect(0, 0, test.Cols, test.Rows))
		for i, v := range test.Image(d.index) {
			img.SetGray(i%test.Cols, i/test.Cols, color.Gray{Y: v})
		}
		f, err := os.Create(digitPath(d.label, ".png"))
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLeNetAssets checks the committed models/lenet: the trained LeNet has the seed's parameter counts and
// classifies every shipped digit right, read from .npy and from .png alike.
func TestLeNetAssets(t *testing.T) {
	if *updateDigits {
		writeDigits(t)
	}
	m, err := onnx.Load(filepath.Join("lenet", "lenet.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := inspect.Summarize(m, inspect.SummaryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s.TotalParams != 60074 {
		t.Errorf("the committed LeNet has %d parameters, want 60074", s.TotalParams)
	}
	plan, err := runtime.Compile(m, runtime.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	sess := plan.NewSession()
	defer sess.Close()
	for _, d := range shippedDigits {
		x, err := tensorio.ReadNPYFile(digitPath(d.label, ".npy"))
		if err != nil {
			t.Fatal(err)
		}
		img, err := tensorio.ReadImage(digitPath(d.label, ".png"), tensorio.ImageOptions{Layout: "NCHW", Channels: 1, DType: ops.Float32})
		if err != nil {
			t.Fatal(err)
		}
		if err := ops.AllClose(img, x, 0, 0); err != nil {
			t.Errorf("digit_%d.png and digit_%d.npy differ: %v", d.label, d.label, err)
		}
		out, err := sess.Run(context.Background(), []*ops.Tensor{x})
		if err != nil {
			t.Fatal(err)
		}
		if got := argmax(out[0].Float32s()); got != d.label {
			t.Errorf("digit_%d.npy is classified as %d (logits %v)", d.label, got, out[0].Float32s())
		}
	}
}
