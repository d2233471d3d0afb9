package models

import (
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/tensorio"
)

// writeSolidImage writes a w×h picture of one colour, as PNG or (by the extension) JPEG.
func writeSolidImage(t *testing.T, path string, w, h int, c color.RGBA) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, c)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if strings.HasSuffix(path, ".jpg") {
		err = jpeg.Encode(f, img, &jpeg.Options{Quality: 100})
	} else {
		err = png.Encode(f, img)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// classColours are the colours of the three classes of imageFolder.
var classColours = map[string]color.RGBA{"ant": {255, 0, 51, 255}, "bee": {0, 255, 0, 255}, "cat": {0, 0, 255, 255}}

// imageFolder writes a folder of three classes, made in unsorted order, with images of different sizes
// and formats, and a file that is not an image.
func imageFolder(t *testing.T, perClass int) string {
	dir := t.TempDir()
	for _, class := range []string{"cat", "ant", "bee"} {
		for i := range perClass {
			ext := ".png"
			if i%2 == 1 {
				ext = ".jpg"
			}
			writeSolidImage(t, filepath.Join(dir, class, string(rune('a'+i))+ext), 16+i, 12+2*i, classColours[class])
		}
		if err := os.WriteFile(filepath.Join(dir, class, "notes.txt"), []byte("not an image"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func near(a, b float32) bool { return math.Abs(float64(a-b)) < 0.05 }

func TestLoadImageFolder(t *testing.T) {
	dir := imageFolder(t, 3)
	ds, err := LoadImageFolder(dir, DataOptions{Height: 12, Width: 14, Mean: []float64{0.5}, Std: []float64{0.5}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.ClassNames, []string{"ant", "bee", "cat"}) || ds.Classes != 3 {
		t.Fatalf("classes %v (%d), want ant, bee, cat", ds.ClassNames, ds.Classes)
	}
	if ds.N != 9 || ds.Channels != 3 || ds.Rows != 12 || ds.Cols != 14 || len(ds.Pixels) != 9*3*12*14 {
		t.Fatalf("%d images of %dx%dx%d (%d values), want 9 of 3x12x14", ds.N, ds.Channels, ds.Rows, ds.Cols, len(ds.Pixels))
	}
	if !slices.Equal(ds.Labels, []uint8{0, 0, 0, 1, 1, 1, 2, 2, 2}) {
		t.Errorf("labels %v, want three of each class in order", ds.Labels)
	}
	// Example 0 is ant: (255, 0, 51) / 255, less 0.5, over 0.5.
	x := ds.Tensor(0, 1).Float32s()
	plane := 12 * 14
	if !near(x[0], 1) || !near(x[plane], -1) || !near(x[2*plane+5], -0.6) {
		t.Errorf("ant's first pixel is (%v, %v, %v), want (1, -1, -0.6)", x[0], x[plane], x[2*plane+5])
	}

	grey, err := LoadImageFolder(dir, DataOptions{Height: 8, Width: 8, Grayscale: true})
	if err != nil {
		t.Fatal(err)
	}
	// Luma of pure green: 0.587.
	if grey.Channels != 1 || len(grey.Pixels) != 9*64 || !near(grey.Pixels[3*64], 0.587) {
		t.Errorf("grayscale: %d channels, %d values, bee's first pixel %v; want 1, 576, 0.587", grey.Channels, len(grey.Pixels), grey.Pixels[3*64])
	}
}

func TestLoadImageFolderErrors(t *testing.T) {
	noClasses := t.TempDir()
	writeSolidImage(t, filepath.Join(noClasses, "loose.png"), 4, 4, color.RGBA{A: 255})
	emptyClass := imageFolder(t, 1)
	if err := os.Mkdir(filepath.Join(emptyClass, "dog"), 0o755); err != nil {
		t.Fatal(err)
	}
	corrupt := imageFolder(t, 1)
	if err := os.WriteFile(filepath.Join(corrupt, "bee", "broken.png"), []byte("\x89PNG garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, dir string
		opts      DataOptions
		wantPath  string
		want      string
	}{
		{"missing", filepath.Join(noClasses, "none"), DataOptions{}, "none", "missing image folder"},
		{"no classes", noClasses, DataOptions{}, noClasses, "no classes"},
		{"empty class", emptyClass, DataOptions{Height: 8, Width: 8}, "dog", `class "dog" holds no PNG, JPEG or GIF image`},
		{"unreadable", corrupt, DataOptions{Height: 8, Width: 8}, "broken.png", "unreadable image"},
		{"sizes differ", imageFolder(t, 2), DataOptions{}, "b.jpg", "give --image-size"},
	} {
		_, err := LoadImageFolder(c.dir, c.opts)
		var de *DataError
		if !errors.As(err, &de) || !strings.Contains(de.Path, c.wantPath) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want a *DataError on %s saying %q", c.name, err, c.wantPath, c.want)
		}
	}
}

func writeNPZ(t *testing.T, arrays ...tensorio.NamedTensor) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data.npz")
	if err := tensorio.WriteNPZ(path, arrays); err != nil {
		t.Fatal(err)
	}
	return path
}

func tensorOf[T ops.Elem](dt ops.DType, shape ops.Shape, data []T) *ops.Tensor {
	t := &ops.Tensor{}
	t.Wrap(dt, shape, data)
	return t
}

func TestLoadNPZ(t *testing.T) {
	bytesX := tensorOf(ops.Uint8, ops.Shape{3, 2, 2}, []uint8{0, 51, 102, 255, 0, 0, 0, 0, 255, 255, 255, 255})
	y := tensorOf(ops.Int64, ops.Shape{3}, []int64{2, 0, 4})
	ds, err := LoadNPZ(writeNPZ(t, tensorio.NamedTensor{Name: "x", Tensor: bytesX}, tensorio.NamedTensor{Name: "y", Tensor: y}),
		DataOptions{Mean: []float64{0.2}})
	if err != nil {
		t.Fatal(err)
	}
	if ds.N != 3 || ds.Channels != 1 || ds.Rows != 2 || ds.Cols != 2 || ds.Classes != 5 || !slices.Equal(ds.Labels, []uint8{2, 0, 4}) {
		t.Fatalf("got %d images %dx%dx%d, %d classes, labels %v; want 3 of 1x2x2, 5 classes, labels [2 0 4]", ds.N, ds.Channels, ds.Rows, ds.Cols, ds.Classes, ds.Labels)
	}
	for i, want := range []float32{-0.2, 0, 0.2, 0.8} {
		if !near(ds.Pixels[i], want) {
			t.Errorf("pixel %d: %v, want %v (v/255 - 0.2)", i, ds.Pixels[i], want)
		}
	}

	floatX := tensorOf(ops.Float32, ops.Shape{2, 3, 1, 2}, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	y32 := tensorOf(ops.Int32, ops.Shape{2}, []int32{1, 1})
	ds, err = LoadNPZ(writeNPZ(t, tensorio.NamedTensor{Name: "y", Tensor: y32}, tensorio.NamedTensor{Name: "x", Tensor: floatX}), DataOptions{Mean: []float64{9}})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Channels != 3 || !slices.Equal(ds.Pixels, floatX.Float32s()) || ds.Classes != 2 {
		t.Errorf("float32 x: %d channels, pixels %v, %d classes; want 3, the array as it is, 2", ds.Channels, ds.Pixels, ds.Classes)
	}
}

func TestLoadNPZErrors(t *testing.T) {
	x := tensorOf(ops.Uint8, ops.Shape{3, 2, 2}, make([]uint8, 12))
	short := tensorOf(ops.Int64, ops.Shape{2}, []int64{0, 1})
	floatY := tensorOf(ops.Float32, ops.Shape{3}, []float32{0, 1, 2})
	x64 := tensorOf(ops.Float64, ops.Shape{3, 2, 2}, make([]float64, 12))
	y := tensorOf(ops.Int64, ops.Shape{3}, []int64{0, 1, 2})
	for _, c := range []struct {
		name, path string
		opts       DataOptions
		want       string
	}{
		{"missing", filepath.Join(t.TempDir(), "none.npz"), DataOptions{}, "missing .npz file"},
		{"no y", writeNPZ(t, tensorio.NamedTensor{Name: "x", Tensor: x}), DataOptions{}, "want arrays x (the images) and y"},
		{"lengths differ", writeNPZ(t, tensorio.NamedTensor{Name: "x", Tensor: x}, tensorio.NamedTensor{Name: "y", Tensor: short}), DataOptions{}, "x holds 3 images, y has shape [2]"},
		{"float classes", writeNPZ(t, tensorio.NamedTensor{Name: "x", Tensor: x}, tensorio.NamedTensor{Name: "y", Tensor: floatY}), DataOptions{}, "want integer classes"},
		{"float64 x", writeNPZ(t, tensorio.NamedTensor{Name: "x", Tensor: x64}, tensorio.NamedTensor{Name: "y", Tensor: y}), DataOptions{}, "want float32 or uint8 images"},
		{"size", writeNPZ(t, tensorio.NamedTensor{Name: "x", Tensor: x}, tensorio.NamedTensor{Name: "y", Tensor: y}), DataOptions{Height: 28, Width: 28}, "arrays are not resized"},
		{"std", writeNPZ(t, tensorio.NamedTensor{Name: "x", Tensor: x}, tensorio.NamedTensor{Name: "y", Tensor: y}), DataOptions{Std: []float64{0}}, "std must not be 0"},
	} {
		_, err := LoadNPZ(c.path, c.opts)
		var de *DataError
		if !errors.As(err, &de) || de.Path != c.path || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want a *DataError on %s saying %q", c.name, err, c.path, c.want)
		}
	}
}

// TestTrainOnImageFolder trains a LeNet on three-channel float images from a folder, split for
// validation: the trainer's path for Pixels and Channels.
func TestTrainOnImageFolder(t *testing.T) {
	ds, err := LoadImageFolder(imageFolder(t, 10), DataOptions{Height: 12, Width: 12})
	if err != nil {
		t.Fatal(err)
	}
	cfg := SeedLeNet()
	cfg.Input, cfg.Classes = ops.Shape{3, 12, 12}, ds.Classes
	net, err := NewLeNet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	net.Init(1)
	opt, _ := NewOptimizer("adam", 0.01)
	hist, err := Train(net, ds, ds, Config{Epochs: 8, BatchSize: 6, Seed: 2, Threads: 1, Optimizer: opt, ValSplit: 6})
	if err != nil {
		t.Fatal(err)
	}
	if hist.TestAccuracy < 0.99 {
		t.Errorf("three solid colours: accuracy %v after %+v, want 1", hist.TestAccuracy, hist.Epochs)
	}
	if _, err := Train(net, ds, syntheticDigits(10, 1), Config{Epochs: 1}); err == nil || !strings.Contains(err.Error(), "1x28x28 images, the network takes [3,12,12]") {
		t.Errorf("testing a 3-channel network on 1-channel digits: error %v, want one naming both shapes", err)
	}
}

func TestLoadDataChoosesTheSource(t *testing.T) {
	folder := imageFolder(t, 1)
	train, test, err := LoadData(folder, DataOptions{Height: 8, Width: 8})
	if err != nil || train.ClassNames == nil || test != nil {
		t.Errorf("image folder: train %v, test %v, error %v; want the folder's images and no test set", train, test, err)
	}
	x := tensorOf(ops.Uint8, ops.Shape{1, 2, 2}, make([]uint8, 4))
	y := tensorOf(ops.Uint8, ops.Shape{1}, []uint8{3})
	train, _, err = LoadData(writeNPZ(t, tensorio.NamedTensor{Name: "x", Tensor: x}, tensorio.NamedTensor{Name: "y", Tensor: y}), DataOptions{})
	if err != nil || train.Classes != 4 {
		t.Errorf("npz: %v, %v; want 4 classes", train, err)
	}
	var de *DataError
	if _, _, err := LoadData(filepath.Join(folder, "none"), DataOptions{}); !errors.As(err, &de) {
		t.Errorf("missing path: error %v, want a *DataError", err)
	}
}
