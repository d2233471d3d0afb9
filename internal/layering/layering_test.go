package layering

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/internal/testenv"
)

const module = "github.com/onnxrun/onnxrun"

// forbidden maps a package pattern to module packages it must not depend on, directly or not.
var forbidden = []struct {
	pkg     string
	mustNot []string
}{
	{"./onnx/...", []string{"/ops", "/runtime", "/exporter", "/models", "/tensorio"}},
	{"./ops/...", []string{"/onnx", "/runtime", "/exporter", "/models", "/tensorio", "google.golang.org/protobuf"}},
	{"./exporter/...", []string{"/runtime", "/models", "/ops"}},
	{"./runtime/...", []string{"/exporter", "/models", "/cmd"}},
	{"./tensorio/...", []string{"/runtime", "/exporter", "/models", "/cmd"}},
	{"./serve/...", []string{"/cmd", "/models", "/exporter"}},
	{"./inspect/...", []string{"/cmd", "/models", "/serve"}},
}

func TestImportLayering(t *testing.T) {
	goCmd := testenv.RequireTool(t, "go", "install Go (https://go.dev/dl)")
	for _, rule := range forbidden {
		out, err := exec.Command(goCmd, "list", "-deps", "-f", "{{.ImportPath}}", "../../"+strings.TrimPrefix(rule.pkg, "./")).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", rule.pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, bad := range rule.mustNot {
				target := bad
				if strings.HasPrefix(bad, "/") {
					target = module + bad
				}
				if dep == target || strings.HasPrefix(dep, target+"/") {
					t.Errorf("%s depends on %s, which the layering forbids", rule.pkg, dep)
				}
			}
		}
	}
}
