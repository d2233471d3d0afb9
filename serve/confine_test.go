package serve

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/internal/testenv"
)

// rawRequest sends a request line as written (no client cleans or escapes it) and returns the status and
// body of the answer.
func rawRequest(t *testing.T, addr, method, target, authorization string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	auth := ""
	if authorization != "" {
		auth = "Authorization: " + authorization + "\r\n"
	}
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: test\r\n%sContent-Length: 0\r\nConnection: close\r\n\r\n", method, target, auth)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		testenv.Missing(t, "symbolic links", err.Error())
	}
}

// repositoryWithAnOutside makes base/models (scale.onnx, and linked.onnx, a symlink to a file in a hidden
// folder inside it, as Kubernetes volumes are made) and base/outside (secret.onnx and secret.json, which
// no request may reach).
func repositoryWithAnOutside(t *testing.T) (base, models string) {
	base = t.TempDir()
	models, outside := filepath.Join(base, "models"), filepath.Join(base, "outside")
	for _, d := range []string{models, outside, filepath.Join(models, "..data")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	saveModel(t, filepath.Join(models, "scale.onnx"), scaleGraph(1))
	saveModel(t, filepath.Join(models, "..data", "linked.onnx"), scaleGraph(3))
	symlink(t, filepath.Join("..data", "linked.onnx"), filepath.Join(models, "linked.onnx"))
	saveModel(t, filepath.Join(outside, "secret.onnx"), scaleGraph(7))
	writeFile(t, filepath.Join(outside, "secret.json"), `{"sessions": 1}`)
	return base, models
}

// Names from requests are plain names, whatever their encoding, and files of the model folder may not be
// symlinks leading outside it: each such request is refused, nothing outside is ever served, and no answer
// names a path outside the model folder (nor the folder's own).
func TestModelNamesStayInTheModelFolder(t *testing.T) {
	base, models := repositoryWithAnOutside(t)
	ts := startRepository(t, Config{ModelDir: models, ModelControl: true, AuthTokenFile: tokenFileFor(t, testToken)})
	addr := strings.TrimPrefix(ts.url, "http://")
	bearer := "Bearer " + testToken
	if status, y := ts.scaleAnswer(t, "linked"); status != http.StatusOK || len(y) != 2 || y[0] != 3 {
		t.Fatalf("a symlink inside the model folder: %d %v, want 200 [3 6]", status, y)
	}

	// Symlinks placed after start: a file, a folder and a settings file leading outside.
	symlink(t, filepath.Join("..", "outside", "secret.onnx"), filepath.Join(models, "evil.onnx"))
	symlink(t, filepath.Join("..", "outside"), filepath.Join(models, "evildir"))
	saveModel(t, filepath.Join(models, "withjson.onnx"), scaleGraph(5))
	symlink(t, filepath.Join(base, "outside", "secret.json"), filepath.Join(models, "withjson.json"))
	writeFile(t, filepath.Join(models, "broken.onnx"), "not a model") // its load error names the file

	// A scan finds them first: each fails like a broken model, and is retried only when it changes.
	if err := ts.Rescan(); err == nil || !strings.Contains(err.Error(), "outside the model folder") {
		t.Errorf("a rescan with symlinks out: %v, want their errors", err)
	}
	var answers []string
	for _, name := range []string{"evil", "evildir", "withjson"} {
		status, body := rawRequest(t, addr, "POST", "/v2/repository/models/"+name+"/load", bearer)
		answers = append(answers, body)
		if status != http.StatusBadRequest || !strings.Contains(body, "symlink leading outside the model folder") {
			t.Errorf("load %s (a symlink out): %d %s, want 400 naming the symlink", name, status, body)
		}
	}
	status, body := rawRequest(t, addr, "POST", "/v2/repository/models/broken/load", bearer)
	answers = append(answers, body, ts.index(t)["broken"].Reason)
	if status != http.StatusBadRequest || !strings.Contains(body, "broken.onnx") {
		t.Errorf("load broken: %d %s, want 400 naming broken.onnx", status, body)
	}
	for _, name := range []string{"evil", "evildir", "withjson"} {
		if ts.reg.isServing(name) {
			t.Errorf("%s is served", name)
		}
		e := ts.index(t)[name]
		if e.State != StateUnavailable || !strings.Contains(e.Reason, "outside the model folder") {
			t.Errorf("index entry %s: %+v, want UNAVAILABLE with the reason", name, e)
		}
		answers = append(answers, e.Reason)
	}

	// Request lines as a hostile client writes them: no client library cleans or escapes these.
	absTarget := "/v2/repository/models/" + strings.ReplaceAll(filepath.Join(base, "outside", "secret"), "/", "%2F") + "/load"
	for _, target := range []string{
		"/v2/repository/models/../outside/secret/load",
		"/v2/repository/models/%2e%2e/outside/secret/load",
		"/v2/repository/models/%2e%2e%2foutside%2fsecret/load",
		"/v2/repository/models/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd/load",
		"/v2/repository/models/..%5coutside%5csecret/load",
		absTarget,
		"/v2/repository/models/secret%00/load",
		"/v2/repository/models/%00/load",
		"/v2/repository/models/..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd/unload",
		"/v2/models/%2e%2e%2foutside%2fsecret/infer",
		"/v2/models/../../outside/secret/infer",
	} {
		status, body := rawRequest(t, addr, "POST", target, bearer)
		t.Logf("POST %s: %d %s", target, status, strings.TrimSpace(body))
		if target != absTarget {
			answers = append(answers, body) // an answer may echo the name the client sent, a path or not
		}
		switch status {
		case http.StatusBadRequest, http.StatusNotFound, http.StatusMovedPermanently, http.StatusTemporaryRedirect:
		default:
			t.Errorf("POST %s: %d %s, want a refusal (400, 404, or the mux's redirect to the cleaned path)", target, status, body)
		}
	}
	for _, name := range ts.reg.dirNames() {
		if strings.Contains(name, "secret") || strings.ContainsAny(name, "/\\\x00") {
			t.Errorf("the registry holds a name from outside: %q", name)
		}
	}
	_, _, index := ts.do(t, "POST", "/v2/repository/index", "")
	answers = append(answers, string(index))
	parent := filepath.Dir(base)
	for _, a := range answers {
		if strings.Contains(a, parent) || strings.Contains(a, models) {
			t.Errorf("an answer reveals a path of the server's: %s", a)
		}
	}
}

// A symlink leading out of the model folder fails the start, as a broken model does, and ModelsInDir (the
// CLI's --model-name) refuses the folder, naming the link.
func TestSymlinkOutOfTheModelFolderFailsTheStart(t *testing.T) {
	_, models := repositoryWithAnOutside(t)
	symlink(t, filepath.Join("..", "outside", "secret.onnx"), filepath.Join(models, "evil.onnx"))
	if s, err := New(Config{ModelDir: models, Sessions: 1}); err == nil {
		s.Shutdown(t.Context())
		t.Error("New served a model folder with a symlink leading out")
	} else if !strings.Contains(err.Error(), `model "evil": evil.onnx is a symlink leading outside the model folder`) {
		t.Errorf("New: %v, want the symlink named", err)
	}
	if _, err := ModelsInDir(models); err == nil || !strings.Contains(err.Error(), "evil.onnx is a symlink leading outside") {
		t.Errorf("ModelsInDir: %v, want the symlink named", err)
	}
}

// hidePaths turns the model folder's absolute paths, as given and resolved, into names relative to it.
func TestHidePaths(t *testing.T) {
	base := t.TempDir()
	real := filepath.Join(base, "real")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link")
	symlink(t, real, link)
	s := &Server{dirForms: modelDirForms(link)}
	msg := fmt.Sprintf("open %s/a.onnx: no; %s/b/model.onnx; folder %s", link, real, real)
	want := "open a.onnx: no; b/model.onnx; folder the model folder"
	if got := s.hidePaths(msg); got != want {
		t.Errorf("hidePaths(%q) = %q, want %q", msg, got, want)
	}
}

// The load opens a model's files through an os.Root on the model folder, so a symlink swapped in to lead
// outside after confineSource passed is refused at open. The swap is simulated by calling the open step
// serve loads through (loadConfined, then openConfined) on links that already lead outside: a model file,
// a settings file, and a folder NAME/ whose model.onnx is outside. A link inside the folder still opens.
func TestOpenRefusesASymlinkSwappedOutOfTheFolder(t *testing.T) {
	base, models := repositoryWithAnOutside(t)
	outside := filepath.Join(base, "outside")
	symlink(t, filepath.Join(outside, "secret.onnx"), filepath.Join(models, "swapped.onnx"))
	saveModel(t, filepath.Join(models, "settled.onnx"), scaleGraph(2))
	symlink(t, filepath.Join(outside, "secret.json"), filepath.Join(models, "settled.json"))
	if err := os.Symlink(outside, filepath.Join(models, "folder")); err != nil {
		t.Fatal(err)
	}
	for _, src := range []ModelSource{
		{Name: "swapped", Path: filepath.Join(models, "swapped.onnx")},
		{Name: "settled", Path: filepath.Join(models, "settled.onnx")},
		{Name: "folder", Path: filepath.Join(models, "folder", "secret.onnx")},
	} {
		m, err := loadConfined(models, src, Config{Sessions: 1})
		if err == nil {
			m.Close()
			t.Errorf("%s: loaded through a symlink leading outside the model folder", src.Name)
			continue
		}
		if !strings.Contains(err.Error(), "inside the model folder") || strings.Contains(err.Error(), outside) {
			t.Errorf("%s: %v, want a refusal to open inside the model folder that names no outside path", src.Name, err)
		}
	}
	m, err := loadConfined(models, ModelSource{Name: "linked", Path: filepath.Join(models, "linked.onnx")}, Config{Sessions: 1})
	if err != nil {
		t.Fatalf("a symlink inside the model folder: %v", err)
	}
	m.Close()
}
