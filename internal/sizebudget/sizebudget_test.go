package sizebudget

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/onnxrun/onnxrun/internal/testenv"
)

// TestCLIBinarySize builds cmd/onnxrun as budget.go says and fails when it is over cliBudgetBytes. The
// build takes a while (a minute on a warm cache, several on a cold one), so `go test -short` skips it;
// `make test` runs it.
func TestCLIBinarySize(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the whole command; skipped with -short")
	}
	gobin := testenv.RequireTool(t, "go", "install Go")
	out := filepath.Join(t.TempDir(), "onnxrun")
	cmd := exec.Command(gobin, "build", "-trimpath", "-ldflags", "-s -w", "-o", out, "./cmd/onnxrun")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, msg)
	}
	st, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("onnxrun: %d bytes, budget %d", st.Size(), cliBudgetBytes)
	if st.Size() > cliBudgetBytes {
		t.Errorf("onnxrun is %d bytes, %d over the budget of %d bytes (internal/sizebudget/budget.go): drop "+
			"what grew it, or raise the budget there by what you measured and say why", st.Size(), st.Size()-cliBudgetBytes, cliBudgetBytes)
	}
}
