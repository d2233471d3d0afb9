package serve

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/tensorio"
)

// lenetDigits reads the reference LeNet's input digits and the classes ONNX Runtime gives them.
func lenetDigits(t *testing.T, input, expected string) (digits *ops.Tensor, logits []float32, classes []int) {
	t.Helper()
	digits, err := tensorio.ReadNPYFile(input)
	if err != nil {
		t.Fatal(err)
	}
	want, err := tensorio.ReadNPYFile(expected)
	if err != nil {
		t.Fatal(err)
	}
	logits = want.Float32s()
	for i := 0; i < len(logits)/10; i++ {
		classes = append(classes, argmax(logits[10*i:10*i+10]))
	}
	return digits, logits, classes
}

func argmax(v []float32) int {
	best := 0
	for i := range v {
		if v[i] > v[best] {
			best = i
		}
	}
	return best
}

// digit returns digit i of a [N,1,28,28] tensor as its own [1,1,28,28] tensor.
func digit(all *ops.Tensor, i int) *ops.Tensor {
	return ops.FromSlice(ops.Shape{1, 1, 28, 28}, append([]float32(nil), all.Float32s()[784*i:784*(i+1)]...))
}

// The Go client sends a handwritten digit to a served LeNet and gets its class, one digit per request
// and all 64 in one.
func TestClientClassifiesDigit(t *testing.T) {
	model, input, expected := lenetFiles(t)
	digits, logits, classes := lenetDigits(t, input, expected)
	m, err := Load(ModelSource{Name: "lenet", Path: model}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, Config{}, m)
	c := &Client{BaseURL: ts.url}
	ctx := context.Background()

	md, err := c.ModelMetadata(ctx, "lenet")
	if err != nil {
		t.Fatal(err)
	}
	if len(md.Inputs) != 1 || md.Inputs[0].Datatype != "FP32" || len(md.Inputs[0].Shape) != 4 || md.Inputs[0].Shape[0] != -1 {
		t.Fatalf("metadata: %+v", md)
	}
	for i := range 8 {
		in, err := NewInput(md.Inputs[0].Name, digit(digits, i))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Infer(ctx, "lenet", &InferRequest{ID: "digit", Inputs: []RequestInput{in}})
		if err != nil {
			t.Fatal(err)
		}
		if resp.ID != "digit" || resp.ModelName != "lenet" || len(resp.Outputs) != 1 {
			t.Fatalf("response: %+v", resp)
		}
		out, err := resp.Outputs[0].Tensor()
		if err != nil {
			t.Fatal(err)
		}
		got := out.Float32s()
		if class := argmax(got); class != classes[i] {
			t.Errorf("digit %d: class %d, want %d", i, class, classes[i])
		}
		for k, v := range got {
			if w := logits[10*i+k]; math.Abs(float64(v-w)) > 1e-3+1e-3*math.Abs(float64(w)) {
				t.Errorf("digit %d: logit %d = %v, ONNX Runtime gives %v", i, k, v, w)
			}
		}
	}
	in, err := NewInput("input", digits)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Infer(ctx, "lenet", &InferRequest{Inputs: []RequestInput{in}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := resp.Outputs[0].Tensor()
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range classes {
		if got := argmax(out.Float32s()[10*i : 10*i+10]); got != want {
			t.Errorf("batch of 64, digit %d: class %d, want %d", i, got, want)
		}
	}

	var se *StatusError
	if _, err := c.Infer(ctx, "lenet5", &InferRequest{Inputs: []RequestInput{in}}); !errors.As(err, &se) || se.StatusCode != 404 {
		t.Errorf("unknown model: got %v, want a 404 StatusError", err)
	}
}

func TestModelsInDir(t *testing.T) {
	dir := t.TempDir()
	write := func(path string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "a.onnx"))
	write(filepath.Join(dir, "b", "model.onnx"))
	write(filepath.Join(dir, "b", "other.onnx"))
	write(filepath.Join(dir, "c", "lenet.onnx"))
	write(filepath.Join(dir, "c", "digit.npy"))
	write(filepath.Join(dir, "d", "x.onnx")) // two .onnx files and no model.onnx: ambiguous, skipped
	write(filepath.Join(dir, "d", "y.onnx"))
	write(filepath.Join(dir, "notes.txt"))
	got, err := ModelsInDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []ModelSource{
		{"a", filepath.Join(dir, "a.onnx")},
		{"b", filepath.Join(dir, "b", "model.onnx")},
		{"c", filepath.Join(dir, "c", "lenet.onnx")},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("model %d: got %v, want %v", i, got[i], want[i])
		}
	}

	write(filepath.Join(dir, "c.onnx"))
	if _, err := ModelsInDir(dir); err == nil {
		t.Error("c.onnx and c/ both named c: no error")
	}
	if _, err := ModelsInDir(t.TempDir()); err == nil {
		t.Error("empty folder: no error")
	}

	for arg, want := range map[string]ModelSource{
		"models/lenet.onnx":     {"lenet", "models/lenet.onnx"},
		"digits=x/model.onnx":   {"digits", "x/model.onnx"},
		"dir/with=sign/m.onnx":  {"m", "dir/with=sign/m.onnx"},
		"/abs/path/model.v2.pb": {"model.v2", "/abs/path/model.v2.pb"},
	} {
		got, err := ParseModelSource(arg)
		if err != nil || got != want {
			t.Errorf("ParseModelSource(%q) = %v, %v; want %v", arg, got, err, want)
		}
	}
	if _, err := ParseModelSource("bad name=m.onnx"); err == nil {
		t.Error("a name with a space: no error")
	}
}
