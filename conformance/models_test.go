package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// ControlFlowDir is where `make controlflow-models` writes the control-flow models of issue 14 item 5:
// $ONNXRUN_CONTROLFLOW, or .cache/controlflow in the repository.
func ControlFlowDir(t testing.TB) string {
	return cacheDir(t, "ONNXRUN_CONTROLFLOW", ".cache/controlflow")
}

// TestControlFlowModels runs the control-flow models (torch.jit.script loops, a tf2onnx-style LSTM language
// model, a VAD-like model over chunks carrying its state, torchvision's detectors) against ONNX Runtime's
// outputs, when `make controlflow-models` has made them. A model of controlflow_expected_fail.txt must be
// refused as unsupported; every other must pass.
func TestControlFlowModels(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("-short or -race: the detectors would take minutes")
	}
	dir := testenv.RequireFile(t, ControlFlowDir(t),
		"run `make controlflow-models` (needs Debian's python3-torch, python3-torchvision and python3-onnx, and npm's onnxruntime-node)")
	runListedModels(t, dir, "controlflow_expected_fail.txt", "scripts/make_controlflow_models.py", false)
}

// QuantDir is where `make quant-models` writes the quantized models of issue 16 item 5: $ONNXRUN_QUANT, or
// .cache/quant in the repository.
func QuantDir(t testing.TB) string {
	return cacheDir(t, "ONNXRUN_QUANT", ".cache/quant")
}

// TestQuantModels runs the quantized models (ORT's QOperator, QDQ and dynamic shapes built from LeNet,
// mnist8, MobileNetV2 and ResNet-50, and torchvision's qnnpack MobileNetV2 and ResNet-18) against ONNX
// Runtime's outputs, when `make quant-models` has made them. Each model's controlflow.json holds its
// tolerances: its uint8 outputs within one quantization level, its dequantized float outputs within one
// output step (static) or 2% of the largest |output| (dynamic), as scripts/make_quant_models.py explains.
// A model of quant_expected_fail.txt may be refused as unsupported or differ from ONNX Runtime beyond its
// tolerance (a QDQ graph that onnxrun runs in float until the QDQ fusions land rounds otherwise than ORT's
// integer kernels, and the differences grow over 50 layers); every other must pass.
func TestQuantModels(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("-short or -race: ResNet-50 quantized three ways would take minutes")
	}
	dir := testenv.RequireFile(t, QuantDir(t),
		"run `make quant-models` (needs Debian's python3-torch, python3-torchvision and python3-onnx, and npm's onnxruntime-node)")
	runListedModels(t, dir, "quant_expected_fail.txt", "scripts/make_quant_models.py", true)
}

// runListedModels runs every case of dir, each of which must have the SpecFile that script writes, against
// its references: a case listed in the expected-fail file list must be refused as unsupported (or, with
// listedMayDiffer, may also fail its comparison), and fails the test once it passes (its line is then to
// go); every other case must pass.
func runListedModels(t *testing.T, dir, list, script string, listedMayDiffer bool) {
	expectedFail, err := readExpectedFail(list)
	if err != nil {
		t.Fatal(err)
	}
	cases, err := Discover(dir)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, c := range cases {
		found[c.Name] = true
		t.Run(c.Name, func(t *testing.T) {
			if !isFile(filepath.Join(c.Dir, SpecFile)) {
				t.Fatalf("%s: no %s: not made by %s", c.Dir, SpecFile, script)
			}
			res := Run(c)
			why, listed := expectedFail[c.Name]
			switch {
			case listed && res.Status == Pass:
				t.Fatalf("passes now (worst |diff| %.3g): delete its line from conformance/%s", res.WorstAbs, list)
			case listed && (res.Status == Unsupported || listedMayDiffer && res.Status == Fail):
				// The expectation holds: the model still fails as listed, and the subtest says how.
				t.Logf("fails as expected (%s): %s: %s", why, res.Status, Shorten(res.Reason, 300))
				return
			case listed:
				t.Fatalf("listed in %s as expected to fail (%s), but: %s: %s", list, why, res.Status, res.Reason)
			case res.Status != Pass:
				t.Fatalf("%s: %s", res.Status, res.Reason)
			}
			t.Logf("worst |diff| %.3g (%.2g of the tolerance) over %d data sets, %v", res.WorstAbs, res.WorstRatio, res.DataSets, res.Elapsed)
		})
	}
	for name := range expectedFail {
		if !found[name] {
			t.Errorf("%s lists %s, which %s does not hold", list, name, dir)
		}
	}
}

// readExpectedFail reads a list of "name: reason" lines ('#' starts a comment).
func readExpectedFail(path string) (map[string]string, error) {
	lines, err := readListLines(path)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, line := range lines {
		name, why, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(why) == "" {
			return nil, fmt.Errorf("%s: want \"name: reason\", got %q", path, line)
		}
		out[strings.TrimSpace(name)] = strings.TrimSpace(why)
	}
	return out, nil
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
