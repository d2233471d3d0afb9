package onnxgocases

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/owulveryck/onnx-go/backend/testbackend"
	_ "github.com/owulveryck/onnx-go/backend/testbackend/onnx" // registers onnx-go's node tests
	"gorgonia.org/tensor"

	"github.com/onnxrun/onnxrun/conformance"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/tensorio"
)

var exportDir = flag.String("export", "", "TestExportCases writes every case as a backend-test folder under this directory")

// allCases returns onnx-go's registered cases sorted by title, so runs and exports are reproducible.
func allCases() []*testbackend.TestCase {
	var cases []*testbackend.TestCase
	for _, newCase := range testbackend.GetAllRegisteredTests() {
		cases = append(cases, newCase())
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].Title < cases[j].Title })
	return cases
}

// TestOnnxGoCases runs every case through onnxrun. Cases in expected_pass.txt must pass; the others skip
// with their status and reason; unlisted passes are logged.
func TestOnnxGoCases(t *testing.T) {
	cases := allCases()
	if len(cases) == 0 {
		t.Fatal("onnx-go registered no test cases: is backend/testbackend/onnx imported?")
	}
	expected, err := conformance.ExpectedPass("expected_pass.txt")
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var newlyPassing []string
	for _, tc := range cases {
		t.Run(tc.Title, func(t *testing.T) {
			t.Parallel()
			res := runCase(tc)
			if k := conformance.ExpectedFailure(tc.Title); k != nil && res.Status == conformance.Pass {
				t.Errorf("overrides.txt:%d says %s fails (%s), but it passes: remove the line", k.Line, tc.Title, k.Reason)
			}
			switch {
			case res.Status == conformance.Pass && !expected[tc.Title]:
				mu.Lock()
				newlyPassing = append(newlyPassing, tc.Title)
				mu.Unlock()
			case res.Status == conformance.Pass:
			case expected[tc.Title]:
				t.Errorf("regression: %s (%s) is in expected_pass.txt but now %s: %s", tc.Title, tc.OpType, res.Status, res.Reason)
			default:
				t.Skipf("%s (%s, not in expected_pass.txt): %s", res.Status, tc.OpType, res.Reason)
			}
		})
	}
	t.Cleanup(func() {
		if len(newlyPassing) > 0 {
			sort.Strings(newlyPassing)
			t.Logf("%d of onnx-go's cases pass but are not in expected_pass.txt (add them with `make expected-pass`):\n%s",
				len(newlyPassing), strings.Join(newlyPassing, "\n"))
		}
	})
}

// TestExpectedListNamesRealCases checks that every name in expected_pass.txt is one of onnx-go's cases.
func TestExpectedListNamesRealCases(t *testing.T) {
	expected, err := conformance.ExpectedPass("expected_pass.txt")
	if err != nil {
		t.Fatal(err)
	}
	titles := map[string]bool{}
	for _, tc := range allCases() {
		titles[tc.Title] = true
	}
	for name := range expected {
		if !titles[name] {
			t.Errorf("expected_pass.txt lists %s, which is not one of onnx-go's cases", name)
		}
	}
}

// runCase decodes the case's model and checks onnxrun's outputs against onnx-go's expected tensors.
func runCase(tc *testbackend.TestCase) conformance.Result {
	c := conformance.Case{Suite: "onnx-go", Name: tc.Title, Kind: conformance.NodeTest}
	tol := conformance.ToleranceFor(tc.Title)
	m, err := onnx.Decode(tc.ModelB)
	if err != nil {
		return conformance.Finish(c, conformance.Result{Status: conformance.Error, Reason: err.Error(), Tolerance: tol})
	}
	res := conformance.Check(m, func() ([]conformance.DataSet, error) {
		set, err := dataSet(tc)
		return []conformance.DataSet{set}, err
	}, tol)
	return conformance.Finish(c, res)
}

// dataSet converts the case's gorgonia tensors.
func dataSet(tc *testbackend.TestCase) (conformance.DataSet, error) {
	set := conformance.DataSet{Name: "onnx-go data"}
	for i, in := range tc.Input {
		t, err := fromGorgonia(in)
		if err != nil {
			return set, fmt.Errorf("input %d: %w", i, err)
		}
		set.Inputs = append(set.Inputs, t)
	}
	for i, out := range tc.ExpectedOutput {
		t, err := fromGorgonia(out)
		if err != nil {
			return set, fmt.Errorf("expected output %d: %w", i, err)
		}
		set.Outputs = append(set.Outputs, t)
	}
	return set, nil
}

// fromGorgonia copies a gorgonia tensor into an ops tensor of the same shape. gorgonia's Data returns a
// bare value instead of a slice for a scalar, and also for a [1]-shaped tensor (its Shape.IsScalar).
func fromGorgonia(t tensor.Tensor) (*ops.Tensor, error) {
	shape := ops.Shape(append([]int{}, t.Shape()...))
	switch d := t.Data().(type) {
	case []float32:
		return fromSlice(shape, d)
	case []float64:
		return fromSlice(shape, d)
	case []int8:
		return fromSlice(shape, d)
	case []int16:
		return fromSlice(shape, d)
	case []int32:
		return fromSlice(shape, d)
	case []int64:
		return fromSlice(shape, d)
	case []uint8:
		return fromSlice(shape, d)
	case []uint16:
		return fromSlice(shape, d)
	case []uint32:
		return fromSlice(shape, d)
	case []uint64:
		return fromSlice(shape, d)
	case []bool:
		return fromSlice(shape, d)
	case float32:
		return fromSlice(shape, []float32{d})
	case float64:
		return fromSlice(shape, []float64{d})
	case int8:
		return fromSlice(shape, []int8{d})
	case int16:
		return fromSlice(shape, []int16{d})
	case int32:
		return fromSlice(shape, []int32{d})
	case int64:
		return fromSlice(shape, []int64{d})
	case uint8:
		return fromSlice(shape, []uint8{d})
	case uint16:
		return fromSlice(shape, []uint16{d})
	case uint32:
		return fromSlice(shape, []uint32{d})
	case uint64:
		return fromSlice(shape, []uint64{d})
	case bool:
		return fromSlice(shape, []bool{d})
	}
	return nil, fmt.Errorf("gorgonia tensor of %v (Go %T) has no onnxrun dtype", t.Dtype(), t.Data())
}

func fromSlice[T ops.Elem](shape ops.Shape, data []T) (*ops.Tensor, error) {
	if shape.Size() != len(data) {
		return nil, fmt.Errorf("shape %v holds %d elements, the tensor has %d", shape, shape.Size(), len(data))
	}
	return ops.FromSlice(shape, append([]T{}, data...)), nil
}

// TestExportCases writes each case as DIR/<title>/model.onnx and test_data_set_0/{input,output}_K.pb.
func TestExportCases(t *testing.T) {
	if *exportDir == "" {
		t.Skip("give -export DIR (after -args) to write onnx-go's cases as backend-test folders")
	}
	for _, tc := range allCases() {
		if err := export(*exportDir, tc); err != nil {
			t.Errorf("%s: %v", tc.Title, err)
		}
	}
}

func export(root string, tc *testbackend.TestCase) error {
	set, err := dataSet(tc)
	if err != nil {
		return err
	}
	dir := filepath.Join(root, tc.Title)
	data := filepath.Join(dir, "test_data_set_0")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "model.onnx"), tc.ModelB, 0o644); err != nil {
		return err
	}
	for i, in := range set.Inputs {
		if err := tensorio.WritePB(filepath.Join(data, fmt.Sprintf("input_%d.pb", i)), in); err != nil {
			return err
		}
	}
	for i, out := range set.Outputs {
		if err := tensorio.WritePB(filepath.Join(data, fmt.Sprintf("output_%d.pb", i)), out); err != nil {
			return err
		}
	}
	return nil
}

// TestOverridesNameCases checks that the lines of conformance/overrides.txt written for onnx-go's cases
// (titles start with "Test") each match one of them.
func TestOverridesNameCases(t *testing.T) {
	ovs, err := conformance.Overrides()
	if err != nil {
		t.Fatal(err)
	}
	cases := allCases()
	for _, o := range ovs {
		if !strings.HasPrefix(o.Pattern, "Test") {
			continue
		}
		found := false
		for _, tc := range cases {
			found = found || o.Matches(tc.Title)
		}
		if !found {
			t.Errorf("overrides.txt:%d: %s matches none of onnx-go's cases", o.Line, o.Pattern)
		}
	}
}
