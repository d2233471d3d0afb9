package conformance

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strings"
)

// ExpectedPass reads a list of case names, one per line; '#' starts a comment.
func ExpectedPass(path string) (map[string]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	set := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if line = strings.TrimSpace(line); line != "" {
			set[line] = true
		}
	}
	return set, sc.Err()
}

// WriteExpected writes the names of the passing results to path, sorted, one per line, after a comment
// header saying how the list is made and checked.
func WriteExpected(path string, results []Result, header string) error {
	var names []string
	for _, r := range results {
		if r.Status == Pass {
			names = append(names, r.Name)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(header), "\n") {
		fmt.Fprintf(&b, "# %s\n", line)
	}
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte('\n')
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// ExpectedCheck compares results with an expected-pass list.
type ExpectedCheck struct {
	Regressions  []Result // listed, but did not pass
	NewlyPassing []string // passed, but not listed
	Missing      []string // listed, but no such case was run
}

// CheckExpected sorts results against the expected-pass set. Cases that were not run (filtered out) are
// Missing, which is not an error by itself.
func CheckExpected(results []Result, expected map[string]bool) ExpectedCheck {
	var c ExpectedCheck
	ran := map[string]bool{}
	for _, r := range results {
		ran[r.Name] = true
		switch {
		case r.Status == Pass && !expected[r.Name]:
			c.NewlyPassing = append(c.NewlyPassing, r.Name)
		case r.Status != Pass && expected[r.Name]:
			c.Regressions = append(c.Regressions, r)
		}
	}
	for name := range expected {
		if !ran[name] {
			c.Missing = append(c.Missing, name)
		}
	}
	sort.Strings(c.NewlyPassing)
	sort.Strings(c.Missing)
	return c
}

func defaultJobs() int { return goruntime.GOMAXPROCS(0) }

// SharedDir finds the ../shared folder beside the repository: $ONNXRUN_SHARED if set, else the folder
// "shared" next to the directory holding go.mod, found by walking up from the working directory.
func SharedDir() (string, bool) {
	if d := os.Getenv("ONNXRUN_SHARED"); d != "" {
		return d, true
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			shared := filepath.Join(filepath.Dir(dir), "shared")
			if st, err := os.Stat(shared); err == nil && st.IsDir() {
				return shared, true
			}
			return "", false
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// RepoRoot returns the folder holding go.mod, walking up from the source file of this package.
func RepoRoot() string {
	_, file, _, _ := goruntime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}
