package conformance

import (
	"fmt"
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
			if k := ExpectedFailure(c.Name); k != nil && res.Status == Pass {
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

// TestEveryNodeTestIsAccounted holds expected_pass.txt and overrides.txt together: every ONNX node test is
// either listed as passing or explained by a "known" or "fails" line of overrides.txt with its reason, and
// no case is both. So a case cannot leave expected_pass.txt without a reason, nor stay explained as
// failing once it is listed as passing. (Tolerance lines may name passing cases: that is what they are
// for.) It reads names only and runs nothing.
func TestEveryNodeTestIsAccounted(t *testing.T) {
	cases, err := Discover(testenv.Shared(t, "onnx-node-tests"))
	if err != nil {
		t.Fatal(err)
	}
	expected, err := ExpectedPass("expected_pass.txt")
	if err != nil {
		t.Fatal(err)
	}
	ovs, err := Overrides()
	if err != nil {
		t.Fatal(err)
	}
	if problems := accountFor(cases, expected, ovs); len(problems) > 0 {
		t.Errorf("%d node tests are not accounted for:\n%s", len(problems), strings.Join(problems, "\n"))
	}
}

// accountFor returns one line per case that is neither in expected (the expected-pass set) nor explained by
// a "known" or "fails" line of ovs with a reason, or that is both.
func accountFor(cases []Case, expected map[string]bool, ovs []Override) []string {
	var problems []string
	for _, c := range cases {
		var failing *Override
		for i := range ovs {
			if ovs[i].Failing() && ovs[i].Matches(c.Name) {
				failing = &ovs[i]
				break
			}
		}
		switch {
		case failing != nil && strings.TrimSpace(failing.Reason) == "":
			problems = append(problems, fmt.Sprintf("overrides.txt:%d gives %s no reason", failing.Line, c.Name))
		case failing != nil && expected[c.Name]:
			problems = append(problems, fmt.Sprintf("%s is in expected_pass.txt, and overrides.txt:%d (%s) says it fails: "+
				"remove the line, or narrow its pattern", c.Name, failing.Line, failing.Pattern))
		case failing == nil && !expected[c.Name]:
			problems = append(problems, fmt.Sprintf("%s is not in expected_pass.txt and no \"known\" or \"fails\" line of "+
				"overrides.txt says why", c.Name))
		}
	}
	return problems
}

// TestAccountFor checks the rule itself on made-up names, so that it is known to fail when it should.
func TestAccountFor(t *testing.T) {
	ovs, err := ParseOverrides("test_if* fails If: no control flow\ntest_bad known the reference is wrong\ntest_conv_tol 1e-2 1e-5 float32 sums\n")
	if err != nil {
		t.Fatal(err)
	}
	ovs = append(ovs, Override{Pattern: "test_blank", Fails: true, Line: 9}) // a reason lost after parsing
	cases := func(names ...string) []Case {
		var cs []Case
		for _, n := range names {
			cs = append(cs, Case{Name: n})
		}
		return cs
	}
	for _, tt := range []struct {
		name     string
		cases    []Case
		expected map[string]bool
		wantSub  []string
	}{
		{name: "accounted", cases: cases("test_relu", "test_if_seq", "test_bad", "test_conv_tol"),
			expected: map[string]bool{"test_relu": true, "test_conv_tol": true}},
		{name: "dropped from the list without a reason", cases: cases("test_relu", "test_conv_tol"),
			expected: map[string]bool{"test_relu": true},
			wantSub:  []string{`test_conv_tol is not in expected_pass.txt and no "known" or "fails" line`}},
		{name: "listed and said to fail", cases: cases("test_if"), expected: map[string]bool{"test_if": true},
			wantSub: []string{"test_if is in expected_pass.txt, and overrides.txt:1 (test_if*) says it fails"}},
		{name: "empty reason", cases: cases("test_blank"), wantSub: []string{"overrides.txt:9 gives test_blank no reason"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := accountFor(tt.cases, tt.expected, ovs)
			if len(got) != len(tt.wantSub) {
				t.Fatalf("problems %q, want %d", got, len(tt.wantSub))
			}
			for i, sub := range tt.wantSub {
				if !strings.Contains(got[i], sub) {
					t.Errorf("problem %q does not contain %q", got[i], sub)
				}
			}
		})
	}
}
