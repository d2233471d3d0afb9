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
	// The runtime converts initializers through tensorconv, never tensorio: a program that only runs models
	// links no file formats, image codecs or zip reader.
	{"./runtime/...", []string{"/exporter", "/models", "/cmd", "/tensorio", "image/png", "image/jpeg", "image/gif", "archive/zip"}},
	// tensorconv is a leaf over the two leaves it joins (onnx and ops); see TestTensorconvImportsOnlyLeaves.
	{"./tensorconv/...", []string{"/runtime", "/tensorio", "/exporter", "/models", "/cmd", "/serve"}},
	{"./tensorio/...", []string{"/runtime", "/exporter", "/models", "/cmd"}},
	{"./serve/...", []string{"/cmd", "/models", "/exporter"}},
	{"./inspect/...", []string{"/cmd", "/models", "/serve"}},
	// quantize is the library `onnxrun quantize` wraps: it rewrites protobufs and runs the runtime, and knows
	// nothing of the command line or the server.
	{"./quantize/...", []string{"/cmd", "/serve"}},
	// The CLI's training curves are drawn with the standard library (models/plot.go): gonum's plot module,
	// with its fonts, LaTeX and PDF back ends, cost the binary 7 MB for one optional picture.
	{"./cmd/onnxrun", []string{"gonum.org/v1/plot"}},
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

// TestTensorconvImportsOnlyLeaves checks the other way round that tensorconv reaches no package of this
// module but onnx and ops (and their internal packages, internal/hugepage, the allocation helper both
// share, internal/atomicfile, onnx's file writer, and internal/mmap, onnx's file mapper; none imports anything
// of the module): a new
// package would otherwise slip past the forbidden list above.
func TestTensorconvImportsOnlyLeaves(t *testing.T) {
	testenv.RequireTool(t, "go", "install Go (https://go.dev/dl)")
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "../../tensorconv").CombinedOutput()
	if err != nil {
		t.Fatalf("go list tensorconv: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		rel, ours := strings.CutPrefix(dep, module+"/")
		if !ours {
			continue
		}
		top, _, _ := strings.Cut(rel, "/")
		if top != "onnx" && top != "ops" && top != "tensorconv" && rel != "internal/hugepage" && rel != "internal/atomicfile" && rel != "internal/mmap" {
			t.Errorf("tensorconv depends on %s; it may import only onnx and ops", dep)
		}
	}
}

// TestKernelPackagesStandAlone checks that each kernel package under ops (ops/cnn, ops/norm, ops/array, ...)
// reaches no package of this module but ops, ops/internal/... and the allocation helper internal/hugepage:
// the families are siblings, so a reader
// can take one without the others, and what two of them share lives in ops or ops/internal (kernelutil),
// never in one of them. ops/opstest, which runs nodes for the tests, may import kernels.
func TestKernelPackagesStandAlone(t *testing.T) {
	goCmd := testenv.RequireTool(t, "go", "install Go (https://go.dev/dl)")
	out, err := exec.Command(goCmd, "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "../../ops/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list ops/...: %v\n%s", err, out)
	}
	kernels := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		rel, _ := strings.CutPrefix(fields[0], module+"/ops/")
		if rel == fields[0] || rel == "opstest" || strings.HasPrefix(rel, "internal/") {
			continue
		}
		kernels++
		for _, dep := range fields[1:] {
			dr, ours := strings.CutPrefix(dep, module+"/")
			if ours && dr != "ops" && !strings.HasPrefix(dr, "ops/internal/") && dr != "internal/hugepage" {
				t.Errorf("kernel package ops/%s depends on %s; kernel packages import only ops, ops/internal/... and internal/hugepage", rel, dep)
			}
		}
	}
	if kernels < 12 {
		t.Errorf("found %d kernel packages under ops, want at least the 12 runtime/kernels.go imports", kernels)
	}
}
