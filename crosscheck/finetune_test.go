package crosscheck

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/models"
	"github.com/onnxrun/onnxrun/onnx"
)

// TestFineTunedExportsAgreeWithONNXRuntime fine-tunes two MNIST models from ../shared/models (PyTorch's
// NCHW LeNet with Gemm heads, and tf2onnx's NHWC Keras CNN with a shape subgraph and a Softmax) to
// Fashion-MNIST with a new head, one short epoch, and checks that ONNX Runtime and onnxrun's runtime make
// the trainer's predictions on 2,000 test images with each export.
func TestFineTunedExportsAgreeWithONNXRuntime(t *testing.T) {
	initORT(t)
	dir := testenv.RequireFile(t, testenv.RepoPath(t, "data/fashion-mnist"), "run `make data`")
	train, test, err := models.LoadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	test = test.Subset(2000)
	for _, name := range []string{"lenet_torch_opset13", "tf2onnx117_cnn_mnist"} {
		t.Run(name, func(t *testing.T) {
			src, err := onnx.Load(filepath.Join(testenv.Shared(t, "models", name), "model.onnx"))
			if err != nil {
				t.Fatal(err)
			}
			net, err := models.ImportONNX(src, models.ImportOptions{NumClasses: 10, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := models.Train(net, train.Subset(4000), nil, models.Config{Epochs: 1, BatchSize: 64, Seed: 1, Threads: 2}); err != nil {
				t.Fatal(err)
			}
			var trainer []float32
			for from := 0; from < test.N; from += chunk {
				x := test.Tensor(from, min(from+chunk, test.N))
				y, err := net.Predict(x.View(append(x.Shape()[:1:1], net.Input...)))
				if err != nil {
					t.Fatal(err)
				}
				trainer = append(trainer, y.Float32s()...)
			}
			// The Keras model ends with a Softmax: compare probabilities.
			if name == "tf2onnx117_cnn_mnist" {
				for i := 0; i < len(trainer); i += 10 {
					softmax(trainer[i : i+10])
				}
			}
			m, err := net.ExportImported("", nil)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), name+"_fashion.onnx")
			if err := m.Save(path); err != nil {
				t.Fatal(err)
			}
			acc := compare(t, "ONNX Runtime vs the trainer, "+name, ortLogits(t, path, test, 10), trainer, test.Labels, 10, 1e-4)
			compare(t, "onnxrun vs the trainer, "+name, onnxrunLogits(t, path, test), trainer, test.Labels, 10, 1e-4)
			if acc < 0.6 {
				t.Errorf("one epoch on 4000 images gave %.2f%% accuracy on 2000 test images, want at least 60%%", 100*acc)
			}
		})
	}
}

func softmax(v []float32) {
	top := v[argmax(v)]
	var sum float32
	for i, x := range v {
		v[i] = float32(math.Exp(float64(x - top)))
		sum += v[i]
	}
	for i := range v {
		v[i] /= sum
	}
}

// TestFineTunedResNetAgreesWithONNXRuntime fine-tunes the torchvision-style residual CNN with BatchNorm
// of models/testdata (scripts/make_resnet_import_model.py: residual Adds, a downsample shortcut, six
// BatchNormalizations trained on batch statistics) for one epoch on 2,000 MNIST digits at 2 threads, and
// checks that ONNX Runtime and onnxrun's runtime make the trainer's predictions with the export, whose
// BatchNormalizations hold the moved running averages.
func TestFineTunedResNetAgreesWithONNXRuntime(t *testing.T) {
	initORT(t)
	dir := testenv.RequireFile(t, testenv.RepoPath(t, "data/mnist"), "run `make data`")
	train, test, err := models.LoadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	test = test.Subset(1000)
	src, err := onnx.Load(testenv.RepoPath(t, "models/testdata/resnet_bn.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	net, err := models.ImportONNX(src, models.ImportOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := models.Train(net, train.Subset(2000), nil, models.Config{Epochs: 1, BatchSize: 32, Seed: 1, Threads: 2}); err != nil {
		t.Fatal(err)
	}
	var trainer []float32
	for from := 0; from < test.N; from += chunk {
		y, err := net.Predict(test.Tensor(from, min(from+chunk, test.N)))
		if err != nil {
			t.Fatal(err)
		}
		trainer = append(trainer, y.Float32s()...)
	}
	m, err := net.ExportImported("", nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "resnet_bn_mnist.onnx")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	acc := compare(t, "ONNX Runtime vs the trainer", ortLogits(t, path, test, 10), trainer, test.Labels, 10, 1e-4)
	compare(t, "onnxrun vs the trainer", onnxrunLogits(t, path, test), trainer, test.Labels, 10, 1e-4)
	// 24.60% with these settings (the run is deterministic): a 5,194-parameter network from random
	// weights after 63 steps; chance is 10%.
	if acc < 0.15 {
		t.Errorf("one epoch on 2,000 digits gave %.2f%% accuracy on 1,000 test digits, want at least 15%%", 100*acc)
	}
}
