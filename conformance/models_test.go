package conformance

import (
	"os"
	"testing"

	"github.com/onnxrun/onnxrun/internal/testenv"
)

// TestReferenceModels runs every model of ../shared/models against ONNX Runtime's outputs, at the batch
// given and at batch 1 where the batch is symbolic. All of them must pass.
func TestReferenceModels(t *testing.T) {
	runModels(t, testenv.Shared(t, "models"), 1)
}

// TorchvisionDir is where `make torchvision-models` writes the torchvision CNNs: $ONNXRUN_TORCHVISION, or
// .cache/torchvision in the repository.
func TorchvisionDir(t testing.TB) string {
	return cacheDir(t, "ONNXRUN_TORCHVISION", ".cache/torchvision")
}

// cacheDir is the folder the environment variable env names, or rel in the repository.
func cacheDir(t testing.TB, env, rel string) string {
	if d := os.Getenv(env); d != "" {
		return d
	}
	return testenv.RepoPath(t, rel)
}

// TestTorchvisionModels runs the ImageNet CNNs exported from torchvision (random weights, ONNX Runtime's
// outputs as reference) when `make torchvision-models` has made them; all of them must pass. They are
// large (VGG-16 is 528 MB), so -short and -race skip them.
func TestTorchvisionModels(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("-short or -race: the torchvision CNNs would take minutes")
	}
	dir := testenv.RequireFile(t, TorchvisionDir(t),
		"run `make torchvision-models` (needs Debian's python3-torch and python3-torchvision, and npm's onnxruntime-node)")
	runModels(t, dir, 1)
}

// SymbolicSizeDir is where `make symbolic-size-models` writes the models with a symbolic spatial size:
// $ONNXRUN_SYMBOLIC_SIZE, or .cache/symbolic in the repository.
func SymbolicSizeDir(t testing.TB) string {
	return cacheDir(t, "ONNXRUN_SYMBOLIC_SIZE", ".cache/symbolic")
}

// TestSymbolicSizeModels runs the models whose input is [1,3,H,W] with H and W symbolic, compiled once and
// run at two sizes, against ONNX Runtime's outputs at both (issue 14).
func TestSymbolicSizeModels(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("-short or -race: a 3M-parameter segmenter at two sizes")
	}
	dir := testenv.RequireFile(t, SymbolicSizeDir(t),
		"run `make symbolic-size-models` (needs Debian's python3-torch and python3-torchvision, and npm's onnxruntime-node)")
	runModels(t, dir, 2)
}

// runModels runs every model folder under root; each must pass, over at least minDataSets data sets.
func runModels(t *testing.T, root string, minDataSets int) {
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
			if res.DataSets < minDataSets {
				t.Fatalf("ran %d data sets, want at least %d", res.DataSets, minDataSets)
			}
			t.Logf("worst |diff| %.3g (%.2g of the tolerance) over %d runs, %v", res.WorstAbs, res.WorstRatio, res.DataSets, res.Elapsed)
		})
	}
}
