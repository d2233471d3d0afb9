package onnxgo_test

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	onnx "github.com/owulveryck/onnx-go"
	"github.com/owulveryck/onnx-go/backend/testbackend"
	_ "github.com/owulveryck/onnx-go/backend/testbackend/onnx" // registers onnx-go's operator tests
	"gorgonia.org/tensor"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/onnxgo"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/tensorio"
)

var update = flag.Bool("update", false, "rewrite testdata/expected_pass.txt with the onnx-go tests that pass now")

// runCase decodes a test case's model into a fresh backend with onnx-go, feeds its inputs, runs it and
// compares the outputs with rtol = atol = 1e-5 (the suite's own harness wants 1e-6 absolute, tighter than
// float32 rounding of sums allows). skipped reports onnx-go's *ErrNotImplemented, which its harness skips.
func runCase(tc *testbackend.TestCase) (skipped bool, err error) {
	atol := 1e-5
	if a, ok := tolerance[tc.Title]; ok {
		atol = a
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	backend := onnxgo.NewGraph()
	m := onnx.NewModel(backend)
	if err := m.UnmarshalBinary(tc.ModelB); err != nil {
		var ni *onnx.ErrNotImplemented
		return errors.As(err, &ni), err
	}
	for i, in := range tc.Input {
		if err := m.SetInput(i, in); err != nil {
			return false, err
		}
	}
	if err := backend.Run(); err != nil {
		_, ni := err.(*onnx.ErrNotImplemented)
		return ni, err
	}
	outs, err := m.GetOutputTensors()
	if err != nil {
		return false, err
	}
	if len(outs) != len(tc.ExpectedOutput) {
		return false, fmt.Errorf("%d outputs, want %d", len(outs), len(tc.ExpectedOutput))
	}
	for i, want := range tc.ExpectedOutput {
		if err := sameTensor(outs[i], want, atol); err != nil {
			return false, fmt.Errorf("output %d: %v", i, err)
		}
	}
	return false, nil
}

// tolerance overrides the absolute tolerance of cases whose expected values were written rounded.
var tolerance = map[string]float64{
	"TestRoialign": 1e-4, // ONNX's roialign test gives its expected output with 4 decimals
}

func sameTensor(got, want tensor.Tensor, atol float64) error {
	if got == nil {
		return errors.New("no tensor")
	}
	if !reflect.DeepEqual([]int(got.Shape()), []int(want.Shape())) && !(got.IsScalar() && want.IsScalar()) {
		return fmt.Errorf("shape %v, want %v", got.Shape(), want.Shape())
	}
	g, w := reflect.ValueOf(got.Data()), reflect.ValueOf(want.Data())
	if g.Kind() != reflect.Slice {
		g = reflect.ValueOf([]any{got.Data()})
		w = reflect.ValueOf([]any{want.Data()})
	}
	if g.Len() != w.Len() {
		return fmt.Errorf("%d elements, want %d", g.Len(), w.Len())
	}
	for i := 0; i < g.Len(); i++ {
		a, b := g.Index(i).Interface(), w.Index(i).Interface()
		af, aok := toFloat(a)
		bf, bok := toFloat(b)
		switch {
		case aok && bok:
			if math.IsNaN(af) && math.IsNaN(bf) {
				continue
			}
			if math.Abs(af-bf) > atol+1e-5*math.Abs(bf) {
				return fmt.Errorf("element %d: %v, want %v", i, a, b)
			}
		case !reflect.DeepEqual(a, b):
			return fmt.Errorf("element %d: %v (%T), want %v (%T)", i, a, a, b, b)
		}
	}
	return nil
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float32:
		return float64(x), true
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	}
	return 0, false
}

func readExpected(t *testing.T) map[string]bool {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "expected_pass.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			want[line] = true
		}
	}
	return want
}

// TestOnnxGoSuite runs every operator test onnx-go ships for its backends (backend/testbackend/onnx, the
// ONNX 1.5 node tests as Go values) through onnx-go's own decoder into this backend. The ones listed in
// testdata/expected_pass.txt must pass; the others fail for the reasons that file gives.
func TestOnnxGoSuite(t *testing.T) {
	want := readExpected(t)
	var titles []string
	cases := map[string]*testbackend.TestCase{}
	for _, c := range testbackend.GetAllRegisteredTests() {
		tc := c()
		titles = append(titles, tc.Title)
		cases[tc.Title] = tc
	}
	sort.Strings(titles)
	var passed, newly, failed, notImpl []string
	skipped := 0
	for _, title := range titles {
		isSkipped, err := runCase(cases[title])
		switch {
		case err == nil:
			passed = append(passed, title)
			if !want[title] {
				newly = append(newly, title)
			}
		case isSkipped:
			skipped++
			notImpl = append(notImpl, title+": "+oneLine(err.Error()))
			if want[title] {
				t.Errorf("%s: expected to pass, but reported not implemented: %v", title, err)
			}
		default:
			failed = append(failed, title+": "+oneLine(err.Error()))
			if want[title] {
				t.Errorf("%s: expected to pass: %v", title, err)
			}
		}
	}
	t.Logf("onnx-go suite: %d passed, %d failed, %d not implemented, of %d", len(passed), len(failed), skipped, len(titles))
	if *update {
		var b strings.Builder
		b.WriteString("# onnx-go's operator tests (backend/testbackend/onnx) that pass on the onnxgo backend.\n")
		b.WriteString("# Regenerate with: go test -run TestOnnxGoSuite -update\n")
		for _, p := range passed {
			b.WriteString(p + "\n")
		}
		if err := os.WriteFile(filepath.Join("testdata", "expected_pass.txt"), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, f := range failed {
			t.Log("fails: " + f)
		}
		for _, f := range notImpl {
			t.Log("not implemented: " + f)
		}
	} else if len(newly) > 0 {
		t.Logf("newly passing (add them with -update): %s", strings.Join(newly, ", "))
	}
	if len(passed) < 200 {
		t.Errorf("only %d of onnx-go's tests pass", len(passed))
	}
}

// harnessExceptions are the expected-pass cases onnx-go's own harness (TestCase.RunTest) fails, and why.
var harnessExceptions = map[string]string{
	"TestPow":                                "1357.5033 vs 1357.5032: one float32 ulp, over the harness's 1e-6 absolute tolerance",
	"TestReduceSumDefaultAxesKeepdimsRandom": "a sum of 12 floats differs by one ulp (3.8e-6) from numpy's order of addition",
	"TestReduceL1DefaultAxesKeepdimsRandom":  "the same one-ulp difference in a sum",
	"TestRoialign":                           "the expected values are written with 4 decimals",
	"TestSize":                               "onnx-go's generated expected output is a float32 of shape (1); Size gives an int64 scalar",
	"TestSizeExample":                        "the same",
}

// TestOnnxGoHarness runs the expected-pass cases through onnx-go's own harness (TestCase.RunTest, 1e-6
// absolute tolerance, exact shapes), the way onnx-go tests its backends: the backend satisfies
// backend.ComputationBackend as onnx-go drives it.
func TestOnnxGoHarness(t *testing.T) {
	want := readExpected(t)
	ran := 0
	for _, c := range testbackend.GetAllRegisteredTests() {
		tc := c()
		if !want[tc.Title] {
			continue
		}
		if reason, ok := harnessExceptions[tc.Title]; ok {
			t.Logf("%s: not run through onnx-go's harness: %s", tc.Title, reason)
			continue
		}
		ran++
		t.Run(tc.Title, tc.RunTest(onnxgo.NewGraph(), false))
	}
	if ran < 300 {
		t.Errorf("only %d cases ran through onnx-go's harness", ran)
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// The reference models onnx-go's decoder can read, run through onnx-go's API on this backend, give ONNX
// Runtime's outputs.
func TestReferenceModels(t *testing.T) {
	shared := testenv.Shared(t)
	for _, name := range []string{"lenet_torch_opset9", "lenet_torch_opset11", "lenet_torch_opset13", "lenet_torch_opset17",
		"keras_lenet_tf2onnx_layout", "mnist8_cntk", "lenet_gelu_pytorch28", "tf2onnx117_cnn_mnist"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(shared, "models", name)
			b, err := os.ReadFile(filepath.Join(dir, "model.onnx"))
			if err != nil {
				t.Fatal(err)
			}
			backend := onnxgo.NewGraph()
			m := onnx.NewModel(backend)
			if err := m.UnmarshalBinary(b); err != nil {
				t.Fatalf("onnx-go cannot decode it: %v", err)
			}
			in, err := tensorio.ReadNPYFile(filepath.Join(dir, "input_0.npy"))
			if err != nil {
				t.Fatal(err)
			}
			want, err := tensorio.ReadNPYFile(filepath.Join(dir, "expected_0.npy"))
			if err != nil {
				t.Fatal(err)
			}
			input := tensor.New(tensor.WithShape([]int(in.Shape())...), tensor.WithBacking(in.Float32s()))
			if err := m.SetInput(0, input); err != nil {
				t.Fatal(err)
			}
			for run := 0; run < 2; run++ { // the second run reuses the compiled plan
				if err := backend.Run(); err != nil {
					t.Fatal(err)
				}
				outs, err := m.GetOutputTensors()
				if err != nil {
					t.Fatal(err)
				}
				got := outs[0]
				if !reflect.DeepEqual([]int(got.Shape()), []int(want.Shape())) {
					t.Fatalf("shape %v, want %v", got.Shape(), want.Shape())
				}
				if err := ops.AllClose(mustOps(t, got), want, 1e-4, 1e-4); err != nil {
					t.Errorf("run %d: %v", run, err)
				}
			}
		})
	}
}

func mustOps(t *testing.T, g tensor.Tensor) *ops.Tensor {
	t.Helper()
	d, ok := g.Data().([]float32)
	if !ok {
		t.Fatalf("output data is %T", g.Data())
	}
	return ops.FromSlice(ops.Shape(g.Shape()), d)
}
