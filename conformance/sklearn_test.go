package conformance

import (
	"os"
	"path/filepath"
	"testing"
)

// sklearnDir holds scikit-learn models written as ai.onnx.ml graphs, each with its inputs and
// scikit-learn's own predictions (labels, and probabilities or scores). scripts/sklearn_references.py
// made them (Debian's python3-sklearn 1.2 and python3-onnx 1.12, fixed seeds; skl2onnx is not packaged,
// so the script writes each graph with onnx.helper the way skl2onnx's converters do); to remake them:
//
//	/usr/bin/python3 scripts/sklearn_references.py conformance/testdata/sklearn
//
// Values that are not tensors are .pb files: DictVectorizer's map input (a MapProto) and ZipMap's
// seq(map(string, float)) output (a SequenceProto of MapProtos), compared map by map, keys exactly and
// values within sklearnTolerance.
//
// They are small (under 40 KB a model, about 410 KB together), so they are committed and the test needs
// neither Python nor ../shared.
const sklearnDir = "testdata/sklearn"

// sklearnTolerance compares scikit-learn's probabilities, scores and predictions: the script feeds both
// engines the same float32 features, so what differs is the float32 rounding of the model's parameters
// (coefficients, support vectors, leaf weights) and onnxrun's float32 outputs. Labels and encoded
// categories are compared exactly, as for every integer or string output. The absolute term only matters
// for values near 0 (a decision value of a point near the boundary, a probability near 0).
//
// No model needs more. Even libsvm's probabilities (svc_rbf_3class_probability), whose pairwise coupling
// iterates only until max|Qp - p'Qp| < 0.005/k, agree within 1e-7: both engines run the same iteration
// from the same start, and the float32 rounding of prob_a, prob_b and the decision values has not moved
// its stopping point on these rows. Were it to, the probabilities could differ by up to that 0.005/k.
var sklearnTolerance = Tolerance{RTol: 1e-5, ATol: 1e-6}

// mapInputs are the models fed one map (a Python dict) rather than a batch of rows.
var mapInputs = map[string]int{"dict_vectorizer_linear_regression": 1}

// TestScikitLearnModels runs every model of testdata/sklearn through the runtime and compares with
// scikit-learn's predictions, at the batch of 40 rows given and at batch 1.
func TestScikitLearnModels(t *testing.T) {
	entries, err := os.ReadDir(sklearnDir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		name := e.Name()
		seen[name] = true
		tol := sklearnTolerance
		t.Run(name, func(t *testing.T) {
			res := RunModelDir(filepath.Join(sklearnDir, name), tol)
			if res.Status != Pass {
				t.Fatalf("%s: %s", res.Status, res.Reason)
			}
			// A map input is one dict: a model fed one has no batch to cut to 1.
			if wantSets := 2 - mapInputs[name]; res.DataSets < wantSets {
				t.Errorf("ran %d data sets, want %d (batch 40 and batch 1)", res.DataSets, wantSets)
			}
			t.Logf("worst |diff| %.3g (%.2g of %v)", res.WorstAbs, res.WorstRatio, tol)
		})
	}
	if len(seen) < 21 {
		t.Errorf("%s has %d models, want the 21 scripts/sklearn_references.py writes", sklearnDir, len(seen))
	}
}
