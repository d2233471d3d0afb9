package models

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/tensorio"
)

// DataError is a training or test source (IDX files, an image folder or an .npz file) that is missing,
// unreadable, holds no classes or no images, has an image that cannot be read, or arrays that do not fit
// together.
type DataError struct {
	Path string
	Msg  string
	Err  error // the underlying error, if any
}

func (e *DataError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Path, e.Msg, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Msg)
}

func (e *DataError) Unwrap() error { return e.Err }

// readError is the DataError of a source that could not be read: "missing WHAT" when it does not exist.
func readError(path, what string, err error) *DataError {
	msg := "cannot read the " + what
	if errors.Is(err, fs.ErrNotExist) {
		msg = "missing " + what
	}
	return &DataError{Path: path, Msg: msg, Err: err}
}

// DataOptions says how images become network inputs: their size, channels and normalisation, as
// (pixel × Scale − Mean) / Std per channel, pixels being 0..255.
type DataOptions struct {
	// Height and Width resize every image of a folder; 0 keeps the images' own size (all must then agree).
	// An .npz's arrays are not resized: a size given must be theirs.
	Height, Width int
	// Grayscale reads a folder's images as one channel (luma) instead of three (RGB).
	Grayscale bool
	// Scale multiplies pixel values (0 means 1/255); Mean and Std hold one value or one per channel (nil:
	// 0 and 1). They apply to image folders and to an .npz's uint8 images; float32 images are taken as
	// they are.
	Scale     float64
	Mean, Std []float64
}

// maxClasses is how many classes a label byte holds.
const maxClasses = 256

// LoadData reads a labelled dataset from path:
//   - a folder of the four MNIST-layout IDX files (LoadMNIST): train and test both;
//   - a folder with one subfolder of PNG/JPEG images per class (LoadImageFolder): train only;
//   - an .npz file with arrays x and y (LoadNPZ): train only.
//
// test is nil for the last two: a test set then comes from a second source.
func LoadData(path string, opts DataOptions) (train, test *Dataset, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, &DataError{Path: path, Msg: "missing data (want a folder of MNIST IDX files, a folder of class subfolders of images, or an .npz file; `make data` puts MNIST in data/mnist)", Err: err}
	}
	switch {
	case !st.IsDir():
		ds, err := LoadNPZ(path, opts)
		return ds, nil, err
	case isIDXFolder(path):
		return LoadMNIST(path)
	default:
		ds, err := LoadImageFolder(path, opts)
		return ds, nil, err
	}
}

// isIDXFolder reports whether dir holds MNIST's training images file, gzipped or not.
func isIDXFolder(dir string) bool {
	for _, name := range []string{trainImages, trainImages + ".gz"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return true
		}
	}
	return false
}

// LoadImageFolder reads a folder with one subfolder per class, each holding that class's images (PNG,
// JPEG or GIF, by extension; other files are skipped). Classes are the subfolders in sorted order, their
// names kept in ClassNames; images are read in sorted order within each class, converted to one (Grayscale)
// or three channels, resized to Height × Width and normalised as opts says.
func LoadImageFolder(dir string, opts DataOptions) (*Dataset, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, readError(dir, "image folder", err)
	}
	var classes []string // os.ReadDir sorts by name
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			classes = append(classes, e.Name())
		}
	}
	if len(classes) == 0 {
		return nil, &DataError{Path: dir, Msg: "no classes: want one subfolder of images per class"}
	}
	if len(classes) > maxClasses {
		return nil, &DataError{Path: dir, Msg: fmt.Sprintf("%d class subfolders, at most %d are supported", len(classes), maxClasses)}
	}
	channels := 3
	if opts.Grayscale {
		channels = 1
	}
	img := tensorio.ImageOptions{Layout: "CHW", Channels: channels, Height: opts.Height, Width: opts.Width,
		DType: ops.Float32, Scale: opts.Scale, Mean: opts.Mean, Std: opts.Std}
	ds := &Dataset{Name: filepath.Base(filepath.Clean(dir)), Channels: channels, Classes: len(classes), ClassNames: classes}
	for label, class := range classes {
		files, err := os.ReadDir(filepath.Join(dir, class))
		if err != nil {
			return nil, &DataError{Path: filepath.Join(dir, class), Msg: "cannot read the class folder", Err: err}
		}
		found := 0
		for _, f := range files {
			path := filepath.Join(dir, class, f.Name())
			if f.IsDir() || !tensorio.IsImageFile(path) {
				continue
			}
			t, err := tensorio.ReadImage(path, img)
			if err != nil {
				return nil, &DataError{Path: path, Msg: "unreadable image", Err: err}
			}
			shape := t.Shape()
			if ds.N == 0 {
				ds.Rows, ds.Cols = shape[1], shape[2]
			} else if shape[1] != ds.Rows || shape[2] != ds.Cols {
				return nil, &DataError{Path: path, Msg: fmt.Sprintf("%dx%d pixels, the images before it %dx%d (give --image-size to resize them all)",
					shape[1], shape[2], ds.Rows, ds.Cols)}
			}
			ds.Pixels = append(ds.Pixels, t.Float32s()...)
			ds.Labels = append(ds.Labels, uint8(label))
			ds.N++
			found++
		}
		if found == 0 {
			return nil, &DataError{Path: filepath.Join(dir, class), Msg: fmt.Sprintf("class %q holds no PNG, JPEG or GIF image", class)}
		}
	}
	return ds, nil
}

// LoadNPZ reads an .npz file holding x, the images (N,C,H,W or N,H,W; float32, taken as they are, or
// uint8, normalised as opts says), and y, their integer classes (N). The classes are 0 to max(y).
func LoadNPZ(path string, opts DataOptions) (*Dataset, error) {
	arrays, err := tensorio.ReadNPZ(path)
	if err != nil {
		return nil, readError(path, ".npz file", err)
	}
	var x, y *ops.Tensor
	for _, a := range arrays {
		switch a.Name {
		case "x":
			x = a.Tensor
		case "y":
			y = a.Tensor
		}
	}
	if x == nil || y == nil {
		return nil, &DataError{Path: path, Msg: fmt.Sprintf("want arrays x (the images) and y (their classes), the file holds %v", tensorio.NPZNames(arrays))}
	}
	shape := x.Shape()
	if len(shape) == 3 {
		shape = ops.Shape{shape[0], 1, shape[1], shape[2]}
	}
	if len(shape) != 4 || shape.Size() == 0 {
		return nil, &DataError{Path: path, Msg: fmt.Sprintf("x has shape %v, want (N,C,H,W) or (N,H,W) images", x.Shape())}
	}
	n := shape[0]
	if (opts.Height != 0 && opts.Height != shape[2]) || (opts.Width != 0 && opts.Width != shape[3]) {
		return nil, &DataError{Path: path, Msg: fmt.Sprintf("x holds %dx%d images, the image size asked for is %dx%d (arrays are not resized)",
			shape[2], shape[3], opts.Height, opts.Width)}
	}
	ys := y.Shape()
	if len(ys) != 1 || ys[0] != n {
		return nil, &DataError{Path: path, Msg: fmt.Sprintf("x holds %d images, y has shape %v: want one class per image, (%d,)", n, ys, n)}
	}
	switch y.DType() {
	case ops.Int8, ops.Int16, ops.Int32, ops.Int64, ops.Uint8, ops.Uint16, ops.Uint32, ops.Uint64:
	default:
		return nil, &DataError{Path: path, Msg: fmt.Sprintf("y is %s, want integer classes", y.DType())}
	}
	ds := &Dataset{Name: filepath.Base(path), N: n, Channels: shape[1], Rows: shape[2], Cols: shape[3], Labels: make([]uint8, n)}
	for i, v := range y.AsInt64s() {
		if v < 0 || v >= maxClasses {
			return nil, &DataError{Path: path, Msg: fmt.Sprintf("y[%d] = %d: classes are 0 to %d", i, v, maxClasses-1)}
		}
		ds.Labels[i] = uint8(v)
		ds.Classes = max(ds.Classes, int(v)+1)
	}
	switch x.DType() {
	case ops.Float32:
		ds.Pixels = x.Float32s()
	case ops.Uint8:
		if ds.Pixels, err = normalizePixels(ops.Data[uint8](x), shape[1], shape[2]*shape[3], opts); err != nil {
			return nil, &DataError{Path: path, Msg: "normalising x", Err: err}
		}
	default:
		return nil, &DataError{Path: path, Msg: fmt.Sprintf("x is %s, want float32 or uint8 images", x.DType())}
	}
	return ds, nil
}

// normalizePixels maps images of bytes (N × channels planes) to (v × Scale − Mean) / Std per channel, as
// tensorio does for a picture.
func normalizePixels(pix []uint8, channels, planeSize int, opts DataOptions) ([]float32, error) {
	scale := opts.Scale
	if scale == 0 {
		scale = 1.0 / 255
	}
	perChannel := func(v []float64, def float64, what string) ([]float64, error) {
		switch len(v) {
		case 0:
			return slices.Repeat([]float64{def}, channels), nil
		case 1:
			return slices.Repeat(v, channels), nil
		case channels:
			return v, nil
		}
		return nil, fmt.Errorf("%s takes 1 or %d values (one per channel), got %d", what, channels, len(v))
	}
	mean, err := perChannel(opts.Mean, 0, "mean")
	if err != nil {
		return nil, err
	}
	std, err := perChannel(opts.Std, 1, "std")
	if err != nil {
		return nil, err
	}
	if slices.Contains(std, 0) {
		return nil, errors.New("std must not be 0")
	}
	// One table per channel: 256 values, so that the loop is a lookup.
	tables := make([][256]float32, channels)
	for c := range tables {
		for v := range tables[c] {
			tables[c][v] = float32((float64(v)*scale - mean[c]) / std[c])
		}
	}
	out := make([]float32, len(pix))
	for i, v := range pix {
		out[i] = tables[(i/planeSize)%channels][v]
	}
	return out, nil
}
