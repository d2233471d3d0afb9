package serve

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/internal/testenv"
)

// externalURL matches what would make the page fetch from elsewhere: an absolute http(s) URL, a
// protocol-relative one in an attribute, url() or import, or a CSS @import.
var externalURL = regexp.MustCompile(`(?i)https?://|["'(=]\s*//[^/\s]|@import`)

func TestTryItPageServesItsFiles(t *testing.T) {
	lenet, err := Load(ModelSource{Name: "lenet", Path: testenv.RepoPath(t, "models/lenet/lenet.onnx")}, Config{Sessions: 1})
	if err != nil {
		t.Fatal(err)
	}
	linear, err := NewModel("linear", compileGraph(t, linearGraph()), Config{Sessions: 1})
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, Config{}, lenet, linear)

	get := func(path, wantType string) string {
		t.Helper()
		req, _ := http.NewRequest("GET", ts.url+path, nil)
		status, header, body := send(t, req)
		if status != http.StatusOK || header.Get("Content-Type") != wantType {
			t.Fatalf("GET %s: %d %q, want 200 %q: %s", path, status, header.Get("Content-Type"), wantType, body)
		}
		return string(body)
	}
	index := get("/", "text/html; charset=utf-8")
	assets := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(index, -1)
	if len(assets) < 2 {
		t.Fatalf("the page links %d files, want its script and style sheet:\n%s", len(assets), index)
	}
	files := map[string]string{"/": index}
	for _, a := range assets {
		path := "/" + a[1]
		want := map[string]string{".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}[filepath.Ext(path)]
		files[path] = get(path, want)
	}
	for path, body := range files {
		if loc := externalURL.FindStringIndex(body); loc != nil {
			t.Errorf("%s refers outside the server: %q", path, body[max(0, loc[0]-40):min(len(body), loc[1]+40)])
		}
	}
	req, _ := http.NewRequest("GET", ts.url+"/", nil)
	if _, header, _ := send(t, req); !strings.Contains(header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Errorf("the page's Content-Security-Policy is %q; it must keep the page to its own server", header.Get("Content-Security-Policy"))
	}

	var list PageModels
	if err := json.Unmarshal([]byte(get("/try/models.json", "application/json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Models) != 2 || list.Models[0].Name != "lenet" || list.Models[1].Name != "linear" {
		t.Fatalf("try/models.json lists %+v, want lenet and linear", list.Models)
	}
	if p := list.Models[0].Preprocess; p == nil || p.Width != 28 || p.Height != 28 || p.Channels != 1 || !p.Invert || len(p.Labels) != 10 {
		t.Errorf("lenet's preprocessing from models/lenet/lenet.json is %+v, want 28x28 gray, inverted, 10 labels", p)
	}
	if p := list.Models[1].Preprocess; p != nil {
		t.Errorf("linear has no settings file but its preprocessing is %+v", p)
	}

	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/try/missing.js", http.StatusNotFound},
		{"GET", "/try/index.html", http.StatusNotFound},
		{"GET", "/try/page.go", http.StatusNotFound},
		{"GET", "/elsewhere", http.StatusNotFound},
		{"POST", "/", http.StatusMethodNotAllowed},
	} {
		if status, ctype, body := ts.do(t, c.method, c.path, ""); status != c.status || ctype != "application/json" {
			t.Errorf("%s %s: %d %s, want %d with a JSON error: %s", c.method, c.path, status, ctype, c.status, body)
		}
	}
}

func TestLoadReadsTheSettingsFile(t *testing.T) {
	m, err := linearGraph().Model(exporter.ModelOptions{Opset: 13})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	beside := write("beside.onnx", string(raw))
	write("beside.json", `{"sessions": 1, "preprocess": {"width": 2, "height": 2, "channels": 1, "input": "x"}}`)
	folder := write("folder/model.onnx", string(raw))
	write("folder/settings.json", `{"preprocess": {"width": 4, "height": 1, "channels": 1}}`)
	plain := write("plain.onnx", string(raw))

	for _, c := range []struct {
		path      string
		wantWidth int // 0: no preprocessing
	}{{beside, 2}, {folder, 4}, {plain, 0}} {
		model, err := Load(ModelSource{Name: "m", Path: c.path}, Config{Sessions: 1})
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		p := model.Settings().Preprocess
		model.Close()
		if (p == nil) != (c.wantWidth == 0) || (p != nil && p.Width != c.wantWidth) {
			t.Errorf("%s: preprocessing %+v, want width %d", c.path, p, c.wantWidth)
		}
	}

	write("beside.json", `{"preprocess": {"widht": 2}}`)
	_, err = Load(ModelSource{Name: "m", Path: beside}, Config{Sessions: 1})
	if err == nil || !strings.Contains(err.Error(), "beside.json") || !strings.Contains(err.Error(), "widht") {
		t.Errorf("a settings file with a typo loads with error %v, want one naming the file and the field", err)
	}
}
