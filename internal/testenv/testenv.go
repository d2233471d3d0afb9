package testenv

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"

	"github.com/onnxrun/onnxrun/internal/mmap"
)

// Module is the main module's path, which marks its go.mod apart from those of the nested modules
// (crosscheck, bench/ortcompare).
const Module = "github.com/onnxrun/onnxrun"

// ErrNoRoot reports that no go.mod declaring Module encloses the working directory or this package's
// source file.
var ErrNoRoot = errors.New("testenv: repository root not found (no go.mod declaring " + Module + ")")

var root = sync.OnceValues(findRoot)

// Root returns the repository root: the folder whose go.mod declares Module.
func Root() (string, error) { return root() }

// findRoot tries this package's source file first, which also works from the nested modules (they
// reach the main module through a replace directive pointing at the checkout), then walks up from the
// working directory, for a binary built with -trimpath.
func findRoot() (string, error) {
	if _, file, _, ok := goruntime.Caller(0); ok && filepath.IsAbs(file) {
		if dir, ok := enclosingModule(filepath.Dir(file)); ok {
			return dir, nil
		}
	}
	if wd, err := os.Getwd(); err == nil {
		if dir, ok := enclosingModule(wd); ok {
			return dir, nil
		}
	}
	return "", ErrNoRoot
}

// enclosingModule walks up from dir to the folder whose go.mod declares Module.
func enclosingModule(dir string) (string, bool) {
	for {
		if declaresModule(filepath.Join(dir, "go.mod")) {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

func declaresModule(goMod string) bool {
	f, err := os.Open(goMod)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) == 2 && fields[0] == "module" {
			return strings.Trim(fields[1], `"`) == Module
		}
	}
	return false
}

// SharedDir returns the reference material folder: $ONNXRUN_SHARED when it names an existing folder,
// else "shared" beside the repository root when that exists. ok is false when neither does.
func SharedDir() (dir string, ok bool) {
	if d := os.Getenv("ONNXRUN_SHARED"); d != "" && isDir(d) {
		return d, true
	}
	r, err := Root()
	if err != nil {
		return "", false
	}
	d := filepath.Join(filepath.Dir(r), "shared")
	return d, isDir(d)
}

// Required reports whether missing material fails tests instead of skipping them: under CI=true or
// ONNXRUN_REQUIRE_SHARED=1.
func Required() bool {
	return os.Getenv("CI") == "true" || os.Getenv("ONNXRUN_REQUIRE_SHARED") == "1"
}

// Missing skips t with one line, "missing WHAT: HOW", or fails it with the same line when Required.
// Every skip for absent material or an absent tool goes through here.
func Missing(t testing.TB, what, how string) {
	t.Helper()
	if Required() {
		t.Fatalf("missing %s: %s (required: CI=true or ONNXRUN_REQUIRE_SHARED=1)", what, how)
		return
	}
	t.Skipf("missing %s: %s", what, how)
}

// Shared returns the path of sub (joined) inside the shared folder, and skips or fails t (see Missing)
// when the folder or that path inside it is absent.
func Shared(t testing.TB, sub ...string) string {
	t.Helper()
	rel := filepath.Join(append([]string{"..", "shared"}, sub...)...)
	dir, ok := SharedDir()
	if !ok {
		Missing(t, rel, sharedHint())
		return ""
	}
	path := filepath.Join(append([]string{dir}, sub...)...)
	if _, err := os.Stat(path); err != nil {
		Missing(t, rel, fmt.Sprintf("%s is not in %s", filepath.Join(sub...), dir))
	}
	return path
}

// sharedHint says where SharedDir looked, so the skip line tells how to fix it.
func sharedHint() string {
	where := "beside the repository"
	if r, err := Root(); err == nil {
		where = filepath.Join(filepath.Dir(r), "shared")
	}
	hint := "the ONNX node tests and reference models are not at " + where
	if d := os.Getenv("ONNXRUN_SHARED"); d != "" {
		hint += " nor at ONNXRUN_SHARED=" + d
	} else {
		hint += " (or set ONNXRUN_SHARED)"
	}
	return hint
}

// RepoPath returns the path of rel (slash-separated, relative to the repository root), failing t when
// the root cannot be found (a test always runs inside the checkout).
func RepoPath(t testing.TB, rel string) string {
	t.Helper()
	r, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(r, filepath.FromSlash(rel))
}

// RequireFile returns path when it exists, and otherwise skips or fails t (see Missing), telling how to
// make it, e.g. "run `make data`".
func RequireFile(t testing.TB, path, how string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		Missing(t, path, how)
	}
	return path
}

// ORTLibrary returns ONNX Runtime's C library for the cgo modules' tests: $ONNXRUNTIME_LIB when set, else
// the one scripts/setup-ort.sh installs under .cache/ort; when it is not there it skips or fails t (see
// Missing).
func ORTLibrary(t testing.TB) string {
	t.Helper()
	lib := os.Getenv("ONNXRUNTIME_LIB")
	if lib == "" {
		lib = RepoPath(t, ".cache/ort/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1")
	}
	return RequireFile(t, lib, "ONNX Runtime's library: run scripts/setup-ort.sh (or set ONNXRUNTIME_LIB)")
}

// RequireTool returns the path of the command name on PATH, and otherwise skips or fails t (see
// Missing), telling how to install it, e.g. "apt-get install protobuf-compiler".
func RequireTool(t testing.TB, name, how string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name+" on PATH", how)
	}
	return path
}

// RequirePython returns the first of the candidate interpreters ($ONNXRUN_PYTHON, Debian's
// /usr/bin/python3, then python3 on PATH) that imports every module, and otherwise skips or fails t
// (see Missing), telling how to install them. Debian's python3 comes before PATH's because apt's
// python3-onnx and python3-torch install there, while a pyenv python3 may come first on PATH.
func RequirePython(t testing.TB, how string, modules ...string) string {
	t.Helper()
	check := "import " + strings.Join(modules, ", ")
	var tried []string
	for _, p := range []string{os.Getenv("ONNXRUN_PYTHON"), "/usr/bin/python3", "python3"} {
		if p == "" {
			continue
		}
		if err := exec.Command(p, "-c", check).Run(); err == nil {
			return p
		}
		tried = append(tried, p)
	}
	Missing(t, "python3 with "+strings.Join(modules, ", "), fmt.Sprintf("%s (tried %s)", how, strings.Join(tried, ", ")))
	return ""
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// RequireMmap skips t on a platform where model files are read rather than memory-mapped
// (internal/mmap.Supported is false: js/wasm, windows). That is a property of the platform, not missing
// material, so it skips under CI too.
func RequireMmap(t testing.TB) {
	t.Helper()
	if !mmap.Supported {
		t.Skipf("%s/%s reads model files instead of mapping them (internal/mmap)", goruntime.GOOS, goruntime.GOARCH)
	}
}
