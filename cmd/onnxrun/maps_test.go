package main

import (
	"math"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/tensorio"
)

// sklearnModels are the scikit-learn exports of the conformance suite (scripts/sklearn_references.py).
const sklearnModels = "../../conformance/testdata/sklearn"

// TestZipMapOutput: a classifier's output_probability, a seq(map(string, float)), is printed map by map
// with one "key: value" line per class, and written as NAME/i/keys.npy and NAME/i/values.npy (-o DIR) or
// NAME_i_keys and NAME_i_values (-o F.npz), holding scikit-learn's predict_proba.
func TestZipMapOutput(t *testing.T) {
	dir := t.TempDir()
	modelDir := filepath.Join(sklearnModels, "logistic_regression_zipmap")
	x, err := tensorio.ReadFile(filepath.Join(modelDir, "input_0.npy"))
	if err != nil {
		t.Fatal(err)
	}
	const rows = 2
	cols := x.Shape()[1]
	firstRows := writeNPY(t, filepath.Join(dir, "x.npy"), ops.FromSlice(ops.Shape{rows, cols}, x.Float32s()[:rows*cols]))
	want, err := tensorio.ReadValuePB(filepath.Join(modelDir, "expected_1.pb"),
		ops.SequenceOf(ops.MapOf(ops.String, ops.TensorType(ops.Float32))))
	if err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(dir, "out")
	status, stdout, stderr := runCLI(filepath.Join(modelDir, "model.onnx"), firstRows, "-o", out+"/")
	if status != exitOK || stderr != "" {
		t.Fatalf("status %d, stderr %q", status, stderr)
	}
	for _, line := range []string{
		"output \"output_probability\": seq(map(string,tensor(float32))) of 2 elements\noutput_probability[0]: map(string,tensor(float32)) of 3 entries\n  \"cat\": ",
		"\noutput_probability[1]: map(string,tensor(float32)) of 3 entries\n",
		"\n  \"fox\": ",
		"wrote " + filepath.Join(out, "output_probability", "1", "values.npy") + "\n",
	} {
		if !strings.Contains(stdout, line) {
			t.Errorf("stdout lacks %q:\n%s", line, stdout)
		}
	}
	for r := range rows {
		wantMap := want.Elements()[r]
		keys, err := tensorio.ReadFile(filepath.Join(out, "output_probability", strconv.Itoa(r), "keys.npy"))
		if err != nil {
			t.Fatal(err)
		}
		if got := ops.Data[string](keys); !reflect.DeepEqual(got, ops.Data[string](wantMap.MapKeys())) {
			t.Errorf("map %d keys %q, want %q", r, got, ops.Data[string](wantMap.MapKeys()))
		}
		values := readFloats(t, filepath.Join(out, "output_probability", strconv.Itoa(r), "values.npy"))
		for i, p := range wantMap.MapValues().Float32s() {
			if math.Abs(float64(values[i]-p)) > 1e-5 {
				t.Errorf("map %d value %d is %v, predict_proba gives %v", r, i, values[i], p)
			}
		}
	}

	archive := filepath.Join(dir, "out.npz")
	if status, _, stderr := runCLI(filepath.Join(modelDir, "model.onnx"), firstRows, "-o", archive); status != exitOK {
		t.Fatalf("-o F.npz: status %d, stderr %q", status, stderr)
	}
	arrays, err := tensorio.ReadNPZ(archive)
	if err != nil {
		t.Fatal(err)
	}
	wantNames := []string{"output_label", "output_probability_0_keys", "output_probability_0_values", "output_probability_1_keys", "output_probability_1_values"}
	if got := tensorio.NPZNames(arrays); !reflect.DeepEqual(got, wantNames) {
		t.Errorf("the archive holds %v, want %v", got, wantNames)
	}
}

// TestMapInput: DictVectorizer's map input given as a MapProto .pb file; a tensor file is refused with a
// message saying how to give a map.
func TestMapInput(t *testing.T) {
	modelDir := filepath.Join(sklearnModels, "dict_vectorizer_linear_regression")
	model := filepath.Join(modelDir, "model.onnx")
	want := readFloats(t, filepath.Join(modelDir, "expected_0.npy"))
	status, stdout, stderr := runCLI(model, filepath.Join(modelDir, "input_0.pb"))
	if status != exitOK || stderr != "" || !strings.Contains(stdout, "output \"variable\": float32[1,1]\n") {
		t.Fatalf("status %d, stderr %q, stdout:\n%s", status, stderr, stdout)
	}
	out := filepath.Join(t.TempDir(), "y.npy")
	if status, _, stderr := runCLI(model, filepath.Join(modelDir, "input_0.pb"), "-o", out); status != exitOK {
		t.Fatalf("-o: status %d, stderr %q", status, stderr)
	}
	if got := readFloats(t, out); len(got) != 1 || math.Abs(float64(got[0]-want[0])) > 1e-4*math.Abs(float64(want[0])) {
		t.Errorf("the regression gave %v, scikit-learn %v", got, want)
	}

	x := writeNPY(t, filepath.Join(t.TempDir(), "x.npy"), ops.FromSlice(ops.Shape{2}, []float32{1, 2}))
	status, _, stderr = runCLI(model, x)
	if status == exitOK || !strings.Contains(stderr, "as a MapProto .pb file") {
		t.Errorf("a tensor for a map input: status %d, stderr %q; want the refusal saying how to give a map", status, stderr)
	}
}
