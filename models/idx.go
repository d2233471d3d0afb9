package models

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/onnxrun/onnxrun/ops"
)

// IDXError is an IDX data file that is missing, unreadable, truncated or not in the IDX format: a
// DataError, under the name its callers match.
type IDXError = DataError

// maxIDXElements bounds what a header may ask for (the MNIST training images are 47 million bytes).
const maxIDXElements = 1 << 30

// ReadIDX reads an IDX file of unsigned bytes (type code 0x08), gzipped or not (told apart by the gzip
// magic bytes), and returns its dimensions and data. The header is checked against the data: a file with
// fewer or more bytes than its dimensions promise is an error.
func ReadIDX(path string) (dims []int, data []uint8, err error) {
	f, err := os.Open(path)
	if err != nil {
		msg := "cannot open"
		if errors.Is(err, fs.ErrNotExist) {
			msg = "missing"
		}
		return nil, nil, &IDXError{Path: path, Msg: msg, Err: err}
	}
	defer f.Close()
	var r io.Reader = bufio.NewReader(f)
	br := r.(*bufio.Reader)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, &IDXError{Path: path, Msg: "corrupt gzip header", Err: err}
		}
		defer gz.Close()
		r = gz
	}
	dims, data, err = DecodeIDX(r)
	if err != nil {
		return nil, nil, &IDXError{Path: path, Msg: "not a valid IDX file", Err: err}
	}
	return dims, data, nil
}

// DecodeIDX reads an uncompressed IDX stream of unsigned bytes: two zero bytes, the type code 0x08, the
// number of dimensions, each dimension as a big-endian uint32, then the data.
func DecodeIDX(r io.Reader) (dims []int, data []uint8, err error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, nil, fmt.Errorf("reading the 4-byte magic number: %w", err)
	}
	if head[0] != 0 || head[1] != 0 {
		return nil, nil, fmt.Errorf("magic number % x does not start with two zero bytes", head)
	}
	if head[2] != 0x08 {
		return nil, nil, fmt.Errorf("element type code 0x%02x, only unsigned bytes (0x08) are supported", head[2])
	}
	rank := int(head[3])
	if rank < 1 || rank > 4 {
		return nil, nil, fmt.Errorf("%d dimensions, want 1 to 4", rank)
	}
	size := 1
	for i := 0; i < rank; i++ {
		var d uint32
		if err := binary.Read(r, binary.BigEndian, &d); err != nil {
			return nil, nil, fmt.Errorf("reading dimension %d of %d: %w", i+1, rank, err)
		}
		if d == 0 || uint64(size)*uint64(d) > maxIDXElements {
			return nil, nil, fmt.Errorf("dimensions %v... give an empty or too large array", append(dims, int(d)))
		}
		dims = append(dims, int(d))
		size *= int(d)
	}
	data = make([]uint8, size)
	if n, err := io.ReadFull(r, data); err != nil {
		return nil, nil, fmt.Errorf("dimensions %v need %d data bytes, the file has %d: %w", dims, size, n, err)
	}
	// Reading on to the end also makes a gzip stream check its CRC.
	switch n, err := io.ReadFull(r, make([]byte, 1)); {
	case n > 0:
		return nil, nil, fmt.Errorf("dimensions %v need %d data bytes, the file has more", dims, size)
	case err != io.EOF:
		return nil, nil, fmt.Errorf("after %d data bytes: %w", size, err)
	}
	return dims, data, nil
}

// Dataset is a set of labelled images: bytes scaled to [0, 1] when fed (IDX files), or float32 values
// already normalised (Pixels: .npz files and image folders).
type Dataset struct {
	Name       string
	Images     []uint8 // N x Channels x Rows x Cols, row-major; nil when Pixels holds the data
	Labels     []uint8
	N          int
	Rows, Cols int
	Classes    int
	// Channels is the number of planes of each image; 0 means 1 (IDX files are grey-scale).
	Channels int
	// Pixels, when Images is nil, holds the examples as the network takes them (N x Channels x Rows x Cols).
	Pixels []float32
	// ClassNames names the classes in label order (an image folder's subfolders); nil for numbered classes.
	ClassNames []string
}

// channels is the number of planes of each image.
func (d *Dataset) channels() int { return max(d.Channels, 1) }

// imageSize is the number of values of one example.
func (d *Dataset) imageSize() int { return d.channels() * d.Rows * d.Cols }

// LoadIDX reads an images file (N x rows x cols) and a labels file (N) into a dataset with `classes`
// classes, checking that they agree.
func LoadIDX(imagesPath, labelsPath string, classes int) (*Dataset, error) {
	dims, images, err := ReadIDX(imagesPath)
	if err != nil {
		return nil, err
	}
	if len(dims) != 3 {
		return nil, &IDXError{Path: imagesPath, Msg: fmt.Sprintf("dimensions %v, want 3 (images x rows x columns)", dims)}
	}
	ldims, labels, err := ReadIDX(labelsPath)
	if err != nil {
		return nil, err
	}
	if len(ldims) != 1 || ldims[0] != dims[0] {
		return nil, &IDXError{Path: labelsPath, Msg: fmt.Sprintf("dimensions %v, want [%d]: one label per image of %s", ldims, dims[0], imagesPath)}
	}
	for i, l := range labels {
		if int(l) >= classes {
			return nil, &IDXError{Path: labelsPath, Msg: fmt.Sprintf("label %d of image %d is not below %d classes", l, i, classes)}
		}
	}
	return &Dataset{Name: filepath.Base(imagesPath), Images: images, Labels: labels, N: dims[0], Rows: dims[1], Cols: dims[2], Classes: classes}, nil
}

// MNIST-layout file names (MNIST, Fashion-MNIST and KMNIST share them); each may also end in .gz.
const (
	trainImages = "train-images-idx3-ubyte"
	trainLabels = "train-labels-idx1-ubyte"
	testImages  = "t10k-images-idx3-ubyte"
	testLabels  = "t10k-labels-idx1-ubyte"
)

// LoadMNIST reads the training and test sets from a folder holding the four MNIST files
// (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte),
// each gzipped or not: MNIST (`make data` puts it in data/mnist) or Fashion-MNIST (data/fashion-mnist).
func LoadMNIST(dir string) (train, test *Dataset, err error) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, nil, &IDXError{Path: dir, Msg: "missing data folder (run `make data` to put MNIST in data/mnist)", Err: err}
	}
	find := func(name string) (string, error) {
		for _, p := range []string{filepath.Join(dir, name+".gz"), filepath.Join(dir, name)} {
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
		}
		return "", &IDXError{Path: filepath.Join(dir, name+".gz"), Msg: fmt.Sprintf("missing (want %s or %s.gz in %s; run `make data`)", name, name, dir)}
	}
	var paths [4]string
	for i, name := range []string{trainImages, trainLabels, testImages, testLabels} {
		if paths[i], err = find(name); err != nil {
			return nil, nil, err
		}
	}
	if train, err = LoadIDX(paths[0], paths[1], 10); err != nil {
		return nil, nil, err
	}
	if test, err = LoadIDX(paths[2], paths[3], 10); err != nil {
		return nil, nil, err
	}
	base := filepath.Base(filepath.Clean(dir))
	train.Name, test.Name = base+"/train", base+"/test"
	return train, test, nil
}

// Subset returns the first n examples (all of them when n <= 0 or n >= N), sharing memory.
func (d *Dataset) Subset(n int) *Dataset {
	if n <= 0 || n >= d.N {
		return d
	}
	s := *d
	s.N = n
	if d.Pixels != nil {
		s.Pixels = d.Pixels[:n*d.imageSize()]
	} else {
		s.Images = d.Images[:n*d.imageSize()]
	}
	s.Labels = d.Labels[:n]
	return &s
}

// Image returns example i's pixels (of a dataset of bytes: Images not nil).
func (d *Dataset) Image(i int) []uint8 {
	size := d.imageSize()
	return d.Images[i*size : (i+1)*size]
}

// pixelScale maps a byte to [0, 1].
var pixelScale = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return t
}()

// fill writes the examples idx into x ([len(idx), Channels, Rows, Cols]), bytes scaled to [0, 1], and
// their labels.
func (d *Dataset) fill(x []float32, labels []uint8, idx []int) {
	size := d.imageSize()
	for k, i := range idx {
		dst := x[k*size : (k+1)*size]
		if d.Pixels != nil {
			copy(dst, d.Pixels[i*size:(i+1)*size])
		} else {
			for j, v := range d.Image(i) {
				dst[j] = pixelScale[v]
			}
		}
		labels[k] = d.Labels[i]
	}
}

// Tensor returns examples [from, to) as a float32 tensor [to-from, Channels, Rows, Cols] as the network
// takes them (bytes scaled to [0, 1]): the input layout of the exported model.
func (d *Dataset) Tensor(from, to int) *ops.Tensor {
	t := ops.New(ops.Float32, ops.Shape{to - from, d.channels(), d.Rows, d.Cols})
	idx := make([]int, to-from)
	for i := range idx {
		idx[i] = from + i
	}
	d.fill(t.Float32s(), make([]uint8, len(idx)), idx)
	return t
}

// String describes the dataset in one line.
func (d *Dataset) String() string {
	counts := make([]string, d.Classes)
	hist := make([]int, d.Classes)
	for _, l := range d.Labels {
		hist[l]++
	}
	for i, c := range hist {
		counts[i] = fmt.Sprint(c)
	}
	size := fmt.Sprintf("%dx%d", d.Rows, d.Cols)
	if d.channels() > 1 {
		size = fmt.Sprintf("%dx%s", d.channels(), size)
	}
	return fmt.Sprintf("%s: %d images %s, %d classes (%s)", d.Name, d.N, size, d.Classes, strings.Join(counts, " "))
}
