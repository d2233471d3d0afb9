package quantize_test

import (
	"testing"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/models"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/quantize"
)

func loadLeNetAndMNIST(t *testing.T) (*onnx.Model, *models.Dataset) {
	t.Helper()
	dir := testenv.RequireFile(t, testenv.RepoPath(t, "data/mnist"), "run `make data`")
	train, _, err := models.LoadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := onnx.Load(testenv.RepoPath(t, "models/lenet/lenet.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	return m, train
}

// TestLeNetKeepsItsAccuracy quantizes the shipped LeNet every way, calibrating on the first 1,000 training
// images, and checks on a validation slice of the training set (the last 2,000 images, never calibrated
// on) that top-1 accuracy stays within 0.5 points of the float model's.
func TestLeNetKeepsItsAccuracy(t *testing.T) {
	m, train := loadLeNetAndMNIST(t)
	calibration := quantize.MNISTData(train, 0, 1000).Sets
	validation := quantize.MNISTData(train, train.N-2000, train.N)
	for _, c := range []struct {
		name string
		opts quantize.Options
	}{
		{"dynamic", quantize.Options{Mode: quantize.Dynamic}},
		{"dynamic per channel", quantize.Options{Mode: quantize.Dynamic, PerChannel: true}},
		{"static minmax", quantize.Options{Mode: quantize.Static, Method: quantize.MinMax}},
		{"static minmax per channel", quantize.Options{Mode: quantize.Static, Method: quantize.MinMax, PerChannel: true}},
		{"static percentile per channel", quantize.Options{Mode: quantize.Static, Method: quantize.Percentile, PerChannel: true}},
		{"static entropy", quantize.Options{Mode: quantize.Static, Method: quantize.Entropy}},
		{"static entropy per channel", quantize.Options{Mode: quantize.Static, Method: quantize.Entropy, PerChannel: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.opts.Calibration = calibration
			q, summary, err := quantize.Quantize(m, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(summary.Weights) != 5 {
				t.Errorf("quantized weights %v, want LeNet's 5 (2 Conv, 3 Gemm)", summary.Weights)
			}
			// Round-trip through bytes, as a file would.
			b, err := q.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if q, err = onnx.Decode(b); err != nil {
				t.Fatal(err)
			}
			r, err := quantize.Compare(m, q, validation.Sets, validation.Labels)
			if err != nil {
				t.Fatal(err)
			}
			t.Log(r)
			if loss := r.FloatAccuracy - r.QuantizedAccuracy; loss > 0.005 {
				t.Errorf("accuracy fell by %.2f points, more than 0.5: %v", 100*loss, r)
			}
			if r.MaxAbsDiff == 0 {
				t.Errorf("the quantized model gives exactly the float outputs: nothing was quantized? %v", r)
			}
		})
	}
}
