package models

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/tensorio"
)

// TestImportReferenceModels imports real exports (PyTorch's Gemm/Pad LeNet, tf2onnx's NHWC Keras CNN with
// a shape subgraph and a Softmax, the Keras-layout LeNet) and checks that the imported network's forward
// pass gives ONNX Runtime's recorded outputs.
func TestImportReferenceModels(t *testing.T) {
	for _, tc := range []struct {
		dir     string
		softmax bool // the model ends with a Softmax the network leaves to the loss
	}{
		{"lenet_torch_opset13", false},
		{"lenet_torch_opset9", false},
		{"tf2onnx117_cnn_mnist", true},
		{"keras_lenet_tf2onnx_layout", false},
		{"mnist8_cntk", false}, // Conv then Add of the bias, weights reshaped by a folded Reshape
	} {
		t.Run(tc.dir, func(t *testing.T) {
			dir := testenv.Shared(t, "models", tc.dir)
			m, err := onnx.Load(filepath.Join(dir, "model.onnx"))
			if err != nil {
				t.Fatal(err)
			}
			net, err := ImportONNX(m, ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			x, err := tensorio.ReadNPYFile(filepath.Join(dir, "input_0.npy"))
			if err != nil {
				t.Fatal(err)
			}
			want, err := tensorio.ReadNPYFile(filepath.Join(dir, "expected_0.npy"))
			if err != nil {
				t.Fatal(err)
			}
			y, err := net.Predict(x)
			if err != nil {
				t.Fatal(err)
			}
			got := y.Float32s()
			classes := net.Output()[0]
			if tc.softmax {
				for i := 0; i < len(got); i += classes {
					softmaxInPlace(got[i : i+classes])
				}
			}
			for i, w := range want.Float32s() {
				if d := math.Abs(float64(got[i] - w)); d > 1e-4+1e-4*math.Abs(float64(w)) {
					t.Fatalf("output %d: got %g, ONNX Runtime gives %g", i, got[i], w)
				}
			}
		})
	}
}

func softmaxInPlace(v []float32) {
	top := v[argmax(v)]
	var sum float64
	for i, x := range v {
		e := math.Exp(float64(x - top))
		v[i] = float32(e)
		sum += e
	}
	for i := range v {
		v[i] = float32(float64(v[i]) / sum)
	}
}

// TestFineTuneSmoke is the CI smoke test of fine-tuning: tf2onnx's MNIST CNN with a new head, all layers
// trainable, one epoch on 2,000 Fashion-MNIST images (the full run, 3 epochs on 60,000, is in
// TRAINING.md).
func TestFineTuneSmoke(t *testing.T) {
	dir := testenv.RequireFile(t, testenv.RepoPath(t, "data/fashion-mnist"), "run `make data`")
	train, test, err := LoadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := onnx.Load(filepath.Join(testenv.Shared(t, "models", "tf2onnx117_cnn_mnist"), "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	net, err := ImportONNX(m, ImportOptions{NumClasses: 10, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	hist, err := Train(net, train.Subset(2000), test.Subset(1000), Config{Epochs: 1, BatchSize: 64, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	st := hist.Epochs[0]
	t.Logf("2000 images, 1 epoch: loss %.3f, accuracy %.2f%% on 1000 test images", st.TrainLoss, 100*st.ValAccuracy)
	if st.ValAccuracy < 0.6 {
		t.Errorf("accuracy %.2f%%, want at least 60%% (a fresh head on MNIST features)", 100*st.ValAccuracy)
	}
}
