package layering

import (
	"os/exec"
	"strings"
	"testing"
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
	// The CLI's training curves are drawn with the standard library (models/plot.go): gonum's plot module,
	// with its fonts, LaTeX and PDF back ends, cost the binary 7 MB for one optional picture.
	{"./cmd/onnxrun", []string{"gonum.org/v1/plot"}},
}

func TestImportLayering(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH")
	}
	for _, rule := range forbidden {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "../../"+strings.TrimPrefix(rule.pkg, "./")).CombinedOutput()
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
