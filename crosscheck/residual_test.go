package crosscheck

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/onnxrun/onnxrun/models"
)

// TestResidualBatchNormExportAgreesWithONNXRuntime trains a narrow resnet-small (residual Add, strided
// convolutions, BatchNorm, GlobalAveragePool) briefly, so its running averages are the trained ones, then
// exports it with BatchNormalization nodes and with them folded into the convolutions; onnxrun's runtime
// and ONNX Runtime must both make the trainer's predictions on 1,000 test digits.
func TestResidualBatchNormExportAgreesWithONNXRuntime(t *testing.T) {
	initORT(t)
	train, test := loadMNIST(t)
	test = test.Subset(1000)
	cfg := models.SmallResNet()
	cfg.Widths = []int{8, 16}
	net, err := models.NewResNet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	net.Init(3)
	opt, _ := models.NewOptimizer("adam", 0.003)
	tr, err := models.NewTrainer(net, models.Config{Epochs: 1, BatchSize: 64, Seed: 3, Threads: 2, Optimizer: opt})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Fit(train.Subset(2000), nil); err != nil {
		t.Fatal(err)
	}
	y, err := net.Predict(test.Tensor(0, test.N))
	if err != nil {
		t.Fatal(err)
	}
	trainer := y.Float32s()
	dir := t.TempDir()
	for _, fold := range []bool{false, true} {
		path := filepath.Join(dir, fmt.Sprintf("resnet_fold_%v.onnx", fold))
		m, err := net.Export(models.ExportOptions{FoldBatchNorm: fold})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Save(path); err != nil {
			t.Fatal(err)
		}
		compare(t, fmt.Sprintf("ONNX Runtime vs the trainer, BatchNorm folded %v", fold), ortLogits(t, path, test, 10), trainer, test.Labels, 10, 1e-4)
		compare(t, fmt.Sprintf("onnxrun vs the trainer, BatchNorm folded %v", fold), onnxrunLogits(t, path, test), trainer, test.Labels, 10, 1e-4)
	}
}
