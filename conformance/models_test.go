package conformance

import (
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
	dirs, err := FindCases(filepath.Join(shared, "models"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no models found in ../shared/models")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			res := RunModelDir(dir, ModelTolerance)
			if res.Status != Pass {
				t.Fatalf("%s: %s", res.Status, res.Reason)
			}
			t.Logf("worst |diff| %.3g over %d runs", res.WorstAbs, res.DataSets)
		})
	}
}
