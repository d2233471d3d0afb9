package conformance

import (
	"os"
	"path/filepath"
	"testing"
)

// TestReferenceModels runs every model of ../shared/models against ONNX Runtime's outputs, at the batch
// given and at batch 1 where the batch is symbolic. All of them must pass.
func TestReferenceModels(t *testing.T) {
	shared, ok := SharedDir()
	if !ok {
		t.Skip("../shared not found beside the repository (set ONNXRUN_SHARED): reference models not available")
	}
	runModels(t, filepath.Join(shared, "models"))
}

// TorchvisionDir is where `make torchvision-models` writes the torchvision CNNs: $ONNXRUN_TORCHVISION, or
// .cache/torchvision in the repository.
func TorchvisionDir() string {
	if d := os.Getenv("ONNXRUN_TORCHVISION"); d != "" {
		return d
	}
	return filepath.Join(RepoRoot(), ".cache", "torchvision")
}

// TestTorchvisionModels runs the ImageNet CNNs exported from torchvision (random weights, ONNX Runtime's
// outputs as reference) when `make torchvision-models` has made them; all of them must pass. They are
// large (VGG-16 is 528 MB), so -short and -race skip them.
func TestTorchvisionModels(t *testing.T) {
	dir := TorchvisionDir()
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("%s not found: run `make torchvision-models` (needs Debian's python3-torch and python3-torchvision, and npm's onnxruntime-node) to make the torchvision CNNs", dir)
	}
	if testing.Short() || raceEnabled {
		t.Skip("-short or -race: the torchvision CNNs would take minutes")
	}
	runModels(t, dir)
}

func runModels(t *testing.T, root string) {
	cases, err := Discover(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if c.Kind != ModelDir {
				t.Fatalf("%s: not a model folder (model.onnx, input_0.npy, expected_0.npy)", c.Dir)
			}
			res := Run(c)
			if res.Status != Pass {
				t.Fatalf("%s: %s", res.Status, res.Reason)
			}
			t.Logf("worst |diff| %.3g (%.2g of the tolerance) over %d runs, %v", res.WorstAbs, res.WorstRatio, res.DataSets, res.Elapsed)
		})
	}
}
