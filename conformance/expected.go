package conformance

import (
	"bufio"
	"fmt"
	"os"
	goruntime "runtime"
	"sort"
	"strings"
)

// ExpectedPass reads a list of case names, one per line; '#' starts a comment.
func ExpectedPass(path string) (map[string]bool, error) {
	lines, err := readListLines(path)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, line := range lines {
		set[line] = true
	}
	return set, nil
}

// readListLines returns the lines of a list file with comments ('#' to the end of the line) and
// surrounding space removed, leaving out empty ones.
func readListLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if line = strings.TrimSpace(line); line != "" {
			lines = append(lines, line)
		}
	}
	return lines, sc.Err()
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
