package opstest

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/ops"
)

// CheckRegistrationsFollowSpec checks that each of the ai.onnx operators packageOps is registered over exactly
// the version ranges ONNX's Operators.md (in the shared reference material) lists: one closed range per
// "since" version, the last one up to ops.MaxOpset.
func CheckRegistrationsFollowSpec(t *testing.T, packageOps []string) {
	t.Helper()
	spec, err := os.ReadFile(testenv.Shared(t, "onnx-spec", "Operators.md"))
	if err != nil {
		t.Fatal(err)
	}
	have := map[string][]string{}
	for _, r := range ops.Registrations() {
		if r.Domain == "" {
			have[r.OpType] = append(have[r.OpType], r.Range.String())
		}
	}
	for _, op := range packageOps {
		// The index table row: |<a href="#Op">Op</a>|<a href="Changelog.md#Op-22">22</a>, ...|
		row := regexp.MustCompile(`(?m)^\|<a href="#` + op + `">` + op + `</a>\|(.*?)\|`).FindSubmatch(spec)
		if row == nil {
			t.Errorf("%s: not found in Operators.md", op)
			continue
		}
		var versions []int
		for _, m := range regexp.MustCompile(`>(\d+)</a>`).FindAllSubmatch(row[1], -1) {
			v, _ := strconv.Atoi(string(m[1]))
			if v <= ops.MaxOpset {
				versions = append(versions, v)
			}
		}
		sort.Ints(versions)
		var want []string
		for i, v := range versions {
			hi := ops.MaxOpset
			if i+1 < len(versions) {
				hi = versions[i+1] - 1
			}
			want = append(want, fmt.Sprintf("%d-%d", v, hi))
		}
		if got := strings.Join(have[op], " "); got != strings.Join(want, " ") {
			t.Errorf("%s: registered %q, Operators.md gives %q", op, got, strings.Join(want, " "))
		}
	}
}
