package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder stands in for a test: it records a skip or a failure instead of ending the goroutine.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()                          {}
func (r *recorder) Skipf(format string, args ...any) { r.skipped = fmt.Sprintf(format, args...) }
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
}
func (r *recorder) Fatal(args ...any) { r.failed = fmt.Sprint(args...) }

// clearEnv starts a test from a developer's machine: not CI, ../shared not required, no ONNXRUN_SHARED.
func clearEnv(t *testing.T) {
	for _, k := range []string{"CI", "ONNXRUN_REQUIRE_SHARED", "ONNXRUN_SHARED"} {
		t.Setenv(k, "")
	}
}

func TestRootHoldsTheMainModule(t *testing.T) {
	r, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	if !declaresModule(filepath.Join(r, "go.mod")) {
		t.Fatalf("Root() = %s, whose go.mod does not declare %s", r, Module)
	}
	if _, err := os.Stat(filepath.Join(r, "internal", "testenv", "doc.go")); err != nil {
		t.Fatalf("Root() = %s does not hold this package: %v", r, err)
	}
}

func TestSharedDirHonoursAnExistingOverrideOnly(t *testing.T) {
	clearEnv(t)
	fallback, fallbackOK := SharedDir()

	override := t.TempDir()
	t.Setenv("ONNXRUN_SHARED", override)
	if dir, ok := SharedDir(); !ok || dir != override {
		t.Errorf("ONNXRUN_SHARED=%s (exists): SharedDir() = %q, %v; want it", override, dir, ok)
	}

	absent := filepath.Join(override, "absent")
	t.Setenv("ONNXRUN_SHARED", absent)
	if dir, ok := SharedDir(); dir != fallback || ok != fallbackOK {
		t.Errorf("ONNXRUN_SHARED=%s (absent): SharedDir() = %q, %v; want the folder beside the repository, %q, %v",
			absent, dir, ok, fallback, fallbackOK)
	}
	r, _ := Root()
	if want := filepath.Join(filepath.Dir(r), "shared"); fallback != want {
		t.Errorf("without ONNXRUN_SHARED, SharedDir() = %q; want %q", fallback, want)
	}
}

func TestMissingSkipsOnADevelopersMachineAndFailsUnderCI(t *testing.T) {
	for _, tc := range []struct {
		name, env, value string
		wantFail         bool
	}{
		{"developer", "", "", false},
		{"CI=true", "CI", "true", true},
		{"CI=false", "CI", "false", false},
		{"ONNXRUN_REQUIRE_SHARED=1", "ONNXRUN_REQUIRE_SHARED", "1", true},
		{"ONNXRUN_REQUIRE_SHARED=0", "ONNXRUN_REQUIRE_SHARED", "0", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			if tc.env != "" {
				t.Setenv(tc.env, tc.value)
			}
			var r recorder
			Missing(&r, "protoc on PATH", "apt-get install protobuf-compiler")
			line := r.skipped
			if tc.wantFail {
				line = r.failed
				if r.skipped != "" {
					t.Errorf("skipped (%q); want a failure", r.skipped)
				}
			} else if r.failed != "" {
				t.Errorf("failed (%q); want a skip", r.failed)
			}
			if !strings.HasPrefix(line, "missing protoc on PATH: apt-get install protobuf-compiler") || strings.Contains(line, "\n") {
				t.Errorf("message %q: want one line naming what is missing and how to get it", line)
			}
		})
	}
}

func TestSharedNamesTheMissingPath(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "models"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ONNXRUN_SHARED", dir)

	var found recorder
	if got := Shared(&found, "models"); got != filepath.Join(dir, "models") || found.skipped != "" || found.failed != "" {
		t.Errorf("Shared(models) = %q (skip %q, fail %q); want %s", got, found.skipped, found.failed, filepath.Join(dir, "models"))
	}

	var missing recorder
	Shared(&missing, "onnx-node-tests", "test_abs")
	if want := filepath.Join("..", "shared", "onnx-node-tests", "test_abs"); !strings.HasPrefix(missing.skipped, "missing "+want+": ") {
		t.Errorf("Shared(onnx-node-tests/test_abs) skipped with %q; want it to name %s", missing.skipped, want)
	}

	t.Setenv("ONNXRUN_REQUIRE_SHARED", "1")
	var required recorder
	Shared(&required, "onnx-node-tests")
	if required.failed == "" || required.skipped != "" {
		t.Errorf("under ONNXRUN_REQUIRE_SHARED=1 a missing folder skipped (%q); want a failure", required.skipped)
	}
}

func TestRequireToolAndFile(t *testing.T) {
	clearEnv(t)
	var tool recorder
	RequireTool(&tool, "onnxrun-no-such-tool", "install it")
	if !strings.HasPrefix(tool.skipped, "missing onnxrun-no-such-tool on PATH: install it") {
		t.Errorf("RequireTool of an absent command: skip %q", tool.skipped)
	}
	var file recorder
	absent := filepath.Join(t.TempDir(), "mnist")
	RequireFile(&file, absent, "run `make data`")
	if file.skipped != "missing "+absent+": run `make data`" {
		t.Errorf("RequireFile of an absent folder: skip %q", file.skipped)
	}
	var python recorder
	t.Setenv("ONNXRUN_PYTHON", "")
	RequirePython(&python, "apt-get install python3-nosuchmodule", "onnxrun_no_such_module")
	if !strings.HasPrefix(python.skipped, "missing python3 with onnxrun_no_such_module: ") {
		t.Errorf("RequirePython of an absent module: skip %q", python.skipped)
	}
}
