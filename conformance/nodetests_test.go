package conformance

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/onnxrun/onnxrun/internal/testenv"
)

// TestNodeTests runs every ONNX node test in ../shared/onnx-node-tests. Cases listed in expected_pass.txt
// must pass; the others are reported as skipped with their family and the reason they fail, and those
// that pass without being listed are logged so the list can grow (make expected-pass).
// Select cases with -run 'TestNodeTests/test_conv' and see every verdict with -v.
func TestNodeTests(t *testing.T) {
	cases, err := Discover(testenv.Shared(t, "onnx-node-tests"))
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
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			res := Run(c)
			if k := KnownFailure(c.Name); k != nil && res.Status == Pass {
				t.Errorf("overrides.txt:%d says %s fails (%s), but it passes: remove the line", k.Line, c.Name, k.Reason)
			}
			switch {
			case res.Status == Pass && !expected[c.Name]:
				mu.Lock()
				newlyPassing = append(newlyPassing, c.Name)
				mu.Unlock()
			case res.Status == Pass:
			case expected[c.Name]:
				t.Errorf("regression: %s is in expected_pass.txt but now %s: %s", c.Name, res.Status, res.Reason)
			default:
				t.Skipf("%s, family %s (not in expected_pass.txt): %s", res.Status, res.Family, res.Reason)
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

// TestExpectedListNamesRealCases keeps expected_pass.txt honest: every name in it is a node test that
// exists, so a typo or a renamed case cannot silently drop out of the check.
func TestExpectedListNamesRealCases(t *testing.T) {
	nodeTests := testenv.Shared(t, "onnx-node-tests")
	expected, err := ExpectedPass("expected_pass.txt")
	if err != nil {
		t.Fatal(err)
	}
	for name := range expected {
		if !isFile(filepath.Join(nodeTests, name, "model.onnx")) {
			t.Errorf("expected_pass.txt lists %s, which is not a node test in %s", name, nodeTests)
		}
	}
}
