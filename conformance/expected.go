package conformance

import (
	"bufio"
	"os"
	"path/filepath"
	goruntime "runtime"
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
