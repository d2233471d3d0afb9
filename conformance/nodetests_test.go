package conformance

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// TestNodeTests runs every ONNX node test in ../shared/onnx-node-tests. Cases listed in expected_pass.txt
// must pass; the others are reported as skipped with the reason they fail, or logged as newly passing.
// Select cases with -run 'TestNodeTests/test_conv' and see every verdict with -v.
func TestNodeTests(t *testing.T) {
	shared, ok := SharedDir()
	if !ok {
		t.Skip("../shared not found beside the repository (set ONNXRUN_SHARED): the ONNX node tests are not available on this machine")
	}
	root := filepath.Join(shared, "onnx-node-tests")
	cases, err := FindCases(root)
	if err != nil {
		t.Fatal(err)
	}
	expected, err := ExpectedPass("expected_pass.txt")
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var newlyPassing []string
	t.Run("cases", func(t *testing.T) {}) // keeps -run patterns on TestNodeTests/<case> simple
	for _, dir := range cases {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := RunCase(dir, ToleranceFor(name))
			switch {
			case res.Status == Pass && !expected[name]:
				mu.Lock()
				newlyPassing = append(newlyPassing, name)
				mu.Unlock()
			case res.Status == Pass:
			case expected[name]:
				t.Errorf("regression: %s is in expected_pass.txt but now %s: %s", name, res.Status, res.Reason)
			default:
				t.Skipf("%s (not in expected_pass.txt): %s", res.Status, res.Reason)
			}
		})
	}
	t.Cleanup(func() {
		if len(newlyPassing) > 0 {
			sort.Strings(newlyPassing)
			t.Logf("%d cases pass but are not in expected_pass.txt (add them with `make expected-pass`):\n%s",
				len(newlyPassing), strings.Join(newlyPassing, "\n"))
		}
	})
}
