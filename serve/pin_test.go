package serve

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/ops"
)

// Config.InputShapes pins a model's inputs at Load: its metadata gives the pinned sizes instead of -1.
func TestLoadPinsInputShapes(t *testing.T) {
	m, err := linearGraph().Model(exporter.ModelOptions{Opset: 13})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "linear.onnx")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		pins map[string]ops.Shape
		want []int64
	}{
		{nil, []int64{-1, 4}},
		{map[string]ops.Shape{"x": {2, 4}}, []int64{2, 4}},
	} {
		model, err := Load(ModelSource{Name: "linear", Path: path}, Config{Sessions: 1, InputShapes: c.pins})
		if err != nil {
			t.Fatal(err)
		}
		got := model.Metadata().Inputs[0].Shape
		model.Close()
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("pins %v: input shape %v, want %v", c.pins, got, c.want)
		}
	}
}
