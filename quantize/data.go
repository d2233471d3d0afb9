package quantize

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/onnxrun/onnxrun/models"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/tensorio"
)

// LabelsArray is the name of the labels array in an evaluation .npz (one integer class per example).
const LabelsArray = "labels"

// batchSize is how many examples one run of calibration or evaluation takes.
const batchSize = 250

// Data is a set of model inputs read from files, cut into input sets of at most batchSize examples.
type Data struct {
	Sets   [][]*ops.Tensor
	Labels []int // nil when the data has none
}

// LoadData reads model inputs from path for a model whose inputs are named inputs:
//   - FILE.npz: one array per input name, the examples along the first dimension, and optionally an
//     integer array "labels";
//   - a folder of the four MNIST IDX files (data/mnist): the training images when test is false (for
//     calibration), the test images and labels when true (for evaluation), as [N,1,28,28] pixels/255, the
//     trainer's layout;
//   - a folder of .npy files, each one batch of the single input, read in name order.
//
// limit > 0 keeps the first limit examples.
func LoadData(path string, inputs []string, test bool, limit int) (*Data, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("quantize: %w", err)
	}
	if !st.IsDir() {
		if strings.EqualFold(filepath.Ext(path), ".npz") {
			return loadNPZ(path, inputs, limit)
		}
		return nil, &Error{Msg: fmt.Sprintf("%s: want an .npz file or a folder (of .npy files, or MNIST's IDX files)", path)}
	}
	if isMNIST(path) {
		train, testSet, err := models.LoadMNIST(path)
		if err != nil {
			return nil, err
		}
		if len(inputs) != 1 {
			return nil, &Error{Msg: fmt.Sprintf("%s holds MNIST images, one input; the model has %d inputs", path, len(inputs))}
		}
		ds := train
		if test {
			ds = testSet
		}
		ds = ds.Subset(limit)
		return MNISTData(ds, 0, ds.N), nil
	}
	return loadNPYFolder(path, inputs, limit)
}

// MNISTData is images [from, to) of ds with their labels, as the trainer feeds them ([N,1,rows,cols],
// pixels/255), in input sets of at most batchSize images.
func MNISTData(ds *models.Dataset, from, to int) *Data {
	d := &Data{}
	for lo := from; lo < to; lo += batchSize {
		hi := min(lo+batchSize, to)
		d.Sets = append(d.Sets, []*ops.Tensor{ds.Tensor(lo, hi)})
		for _, l := range ds.Labels[lo:hi] {
			d.Labels = append(d.Labels, int(l))
		}
	}
	return d
}

func isMNIST(dir string) bool {
	for _, name := range []string{"train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return true
		}
	}
	return false
}

func loadNPYFolder(dir string, inputs []string, limit int) (*Data, error) {
	if len(inputs) != 1 {
		return nil, &Error{Msg: fmt.Sprintf("%s: a folder of .npy files feeds a model with one input; this one has %d (%s): give an .npz with one array per input", dir, len(inputs), strings.Join(inputs, ", "))}
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.npy"))
	if err != nil {
		return nil, fmt.Errorf("quantize: %w", err)
	}
	if len(files) == 0 {
		return nil, &Error{Msg: fmt.Sprintf("%s: no .npy files", dir)}
	}
	sort.Strings(files)
	d := &Data{}
	n := 0
	for _, f := range files {
		if limit > 0 && n >= limit {
			break
		}
		t, err := tensorio.ReadNPYFile(f)
		if err != nil {
			return nil, err
		}
		if t.Rank() > 0 {
			n += t.Shape()[0]
		}
		d.Sets = append(d.Sets, []*ops.Tensor{t})
	}
	return d, nil
}

func loadNPZ(path string, inputs []string, limit int) (*Data, error) {
	arrays, err := tensorio.ReadNPZ(path)
	if err != nil {
		return nil, err
	}
	byName := map[string]*ops.Tensor{}
	for _, a := range arrays {
		byName[a.Name] = a.Tensor
	}
	n := -1
	var columns []*ops.Tensor
	for _, in := range inputs {
		t := byName[in]
		if t == nil {
			return nil, &Error{Msg: fmt.Sprintf("%s has no array %q for the model's input of that name (it has %s)", path, in, strings.Join(tensorio.NPZNames(arrays), ", "))}
		}
		if t.Rank() == 0 || (n >= 0 && t.Shape()[0] != n) {
			return nil, &Error{Msg: fmt.Sprintf("%s: array %q has shape %v; every input array needs the same number of examples along its first dimension", path, in, t.Shape())}
		}
		n = t.Shape()[0]
		columns = append(columns, t)
	}
	if limit > 0 {
		n = min(n, limit)
	}
	d := &Data{}
	if l := byName[LabelsArray]; l != nil {
		classes := l.AsInt64s()
		if len(classes) < n {
			return nil, &Error{Msg: fmt.Sprintf("%s: %d labels for %d examples", path, len(classes), n)}
		}
		for _, c := range classes[:n] {
			d.Labels = append(d.Labels, int(c))
		}
	}
	for lo := 0; lo < n; lo += batchSize {
		hi := min(lo+batchSize, n)
		set := make([]*ops.Tensor, len(columns))
		for i, t := range columns {
			set[i] = rows(t, lo, hi)
		}
		d.Sets = append(d.Sets, set)
	}
	return d, nil
}

// rows copies examples [lo, hi) of t (along its first dimension) into a new tensor.
func rows(t *ops.Tensor, lo, hi int) *ops.Tensor {
	shape := t.Shape().Clone()
	per := t.Len() / max(shape[0], 1)
	shape[0] = hi - lo
	out := ops.New(t.DType(), shape)
	ops.CopyElements(out, 0, t, lo*per, (hi-lo)*per)
	return out
}
