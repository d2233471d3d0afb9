package quantize_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/quantize"
	"github.com/onnxrun/onnxrun/tensorio"
)

func TestLoadData(t *testing.T) {
	dir := t.TempDir()
	a := ops.New(ops.Float32, ops.Shape{600, 2})
	for i := range a.Float32s() {
		a.Float32s()[i] = float32(i)
	}
	b := ops.New(ops.Float32, ops.Shape{600, 3})
	npz := filepath.Join(dir, "data.npz")
	labels := ops.New(ops.Int64, ops.Shape{600})
	if err := tensorio.WriteNPZ(npz, []tensorio.NamedTensor{{Name: "a", Tensor: a}, {Name: "b", Tensor: b}, {Name: "labels", Tensor: labels}}); err != nil {
		t.Fatal(err)
	}
	d, err := quantize.LoadData(npz, []string{"a", "b"}, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	// 600 examples in sets of 250, 250 and 100, each set holding rows of both arrays in order.
	if len(d.Sets) != 3 || len(d.Labels) != 600 || d.Sets[2][0].Shape()[0] != 100 || d.Sets[1][1].Shape()[1] != 3 ||
		d.Sets[1][0].Float32s()[0] != 500 {
		t.Fatalf("%d sets, %d labels, last set %v; want 3 sets (250, 250, 100) starting at rows 0, 250, 500", len(d.Sets), len(d.Labels), d.Sets[len(d.Sets)-1][0].Shape())
	}
	if d, err = quantize.LoadData(npz, []string{"a"}, false, 300); err != nil || len(d.Sets) != 2 || d.Sets[1][0].Shape()[0] != 50 || len(d.Labels) != 300 {
		t.Errorf("limit 300: %v, want sets of 250 and 50", err)
	}

	npyDir := filepath.Join(dir, "npy")
	if err := os.Mkdir(npyDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"b.npy", "a.npy"} {
		if err := tensorio.WriteNPYFile(filepath.Join(npyDir, name), a); err != nil {
			t.Fatal(err)
		}
	}
	if d, err = quantize.LoadData(npyDir, []string{"x"}, false, 0); err != nil || len(d.Sets) != 2 || d.Labels != nil {
		t.Errorf("a folder of two .npy: %v, %d sets; want 2 sets and no labels", err, len(d.Sets))
	}

	emptyDir := filepath.Join(dir, "empty")
	if err := os.Mkdir(emptyDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path   string
		inputs []string
		want   string
	}{
		{npz, []string{"a", "c"}, `has no array "c" for the model's input of that name (it has a, b, labels)`},
		{npyDir, []string{"x", "y"}, "a folder of .npy files feeds a model with one input; this one has 2 (x, y)"},
		{filepath.Join(npyDir, "a.npy"), []string{"x"}, "want an .npz file or a folder"},
		{filepath.Join(dir, "none.npz"), []string{"x"}, "none.npz"},
		{emptyDir, []string{"x"}, "no .npy files"},
	} {
		if _, err := quantize.LoadData(c.path, c.inputs, false, 0); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("LoadData(%s, %v): error %v, want %q", c.path, c.inputs, err, c.want)
		}
	}
	short := ops.New(ops.Float32, ops.Shape{5, 3})
	if err := tensorio.WriteNPZ(npz, []tensorio.NamedTensor{{Name: "a", Tensor: a}, {Name: "b", Tensor: short}}); err != nil {
		t.Fatal(err)
	}
	if _, err := quantize.LoadData(npz, []string{"a", "b"}, false, 0); err == nil || !strings.Contains(err.Error(), "same number of examples") {
		t.Errorf("arrays of different lengths: %v", err)
	}
}
