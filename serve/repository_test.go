package serve

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/serve/grpcpb"
)

// scaleGraph is x float32[N,2] → y = k·x: versions of a model that differ by k tell which one answered.
func scaleGraph(k float32) *exporter.Graph {
	b := exporter.NewGraph("scale")
	x := b.Input("x", f32, "N", 2)
	kk := b.Float32Initializer("k", []int{1}, []float32{k})
	y := b.Node("Mul", []string{x, kk}, nil)
	b.Rename(y, "y")
	b.Output("y", f32, "N", 2)
	return b
}

// saveModel writes g to path the way a deployment replaces a file: to a temporary file, then renamed
// over the old one, so that the server never reads half a file.
func saveModel(t *testing.T, path string, g *exporter.Graph) {
	t.Helper()
	m, err := g.Model(exporter.ModelOptions{Opset: 13})
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err := m.Save(tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

const scaleRequest = `{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[1,2]}]}`

// scaleAnswer sends scaleRequest to model name and returns the status and y's data.
func (ts *testServer) scaleAnswer(t *testing.T, name string) (int, []float64) {
	t.Helper()
	status, _, body := ts.do(t, "POST", "/v2/models/"+name+"/infer", scaleRequest)
	if status != http.StatusOK {
		return status, nil
	}
	var resp struct {
		Outputs []struct{ Data []float64 } `json:"outputs"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || len(resp.Outputs) != 1 {
		t.Fatalf("infer %s: %v: %s", name, err, body)
	}
	return status, resp.Outputs[0].Data
}

func (ts *testServer) index(t *testing.T) map[string]RepositoryIndexEntry {
	t.Helper()
	status, _, body := ts.do(t, "POST", "/v2/repository/index", "")
	if status != http.StatusOK {
		t.Fatalf("index: %d %s", status, body)
	}
	var idx []RepositoryIndexEntry
	if err := json.Unmarshal(body, &idx); err != nil {
		t.Fatalf("index: %v: %s", err, body)
	}
	byName := map[string]RepositoryIndexEntry{}
	for _, e := range idx {
		byName[e.Name] = e
	}
	return byName
}

// holders is how many requests hold the model serving name.
func (s *Server) holders(name string) int {
	s.reg.mu.Lock()
	defer s.reg.mu.Unlock()
	if e := s.reg.entries[name]; e != nil && e.current != nil {
		return e.current.holders
	}
	return 0
}

func servingModel(t *testing.T, s *Server, name string) *Model {
	t.Helper()
	for _, m := range s.Models() {
		if m.Name() == name {
			return m
		}
	}
	t.Fatalf("model %q is not serving", name)
	return nil
}

// startSlowRequest sends an inference request to model name whose body stops halfway, so that it holds
// its model until finish sends the rest; finish returns the status line and the body.
func startSlowRequest(t *testing.T, ts *testServer, name string) (finish func() (string, string)) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	half := len(scaleRequest) / 2
	fmt.Fprintf(conn, "POST /v2/models/%s/infer HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		name, len(scaleRequest), scaleRequest[:half])
	deadline := time.Now().Add(30 * time.Second)
	for ts.holders(name) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the slow request never reached its model")
		}
		time.Sleep(time.Millisecond)
	}
	return func() (string, string) {
		if _, err := io.WriteString(conn, scaleRequest[half:]); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.Status, string(body)
	}
}

func startRepository(t *testing.T, cfg Config) *testServer {
	t.Helper()
	cfg.Sessions = 1
	return startServer(t, cfg)
}

// A request in flight across a reload finishes on the old model, new requests get the new one, and the
// old model is closed only once its last request is done.
func TestReloadWhileInFlight(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "scale.onnx")
	saveModel(t, path, scaleGraph(1))
	ts := startRepository(t, Config{ModelDir: dir})
	old := servingModel(t, ts.Server, "scale")

	finish := startSlowRequest(t, ts, "scale")
	saveModel(t, path, scaleGraph(10))
	if err := ts.Rescan(); err != nil {
		t.Fatal(err)
	}
	if status, y := ts.scaleAnswer(t, "scale"); status != 200 || !reflect.DeepEqual(y, []float64{10, 20}) {
		t.Errorf("after the reload: %d %v, want 200 [10 20] from the new model", status, y)
	}
	if old.closed.Load() {
		t.Fatal("the old model was closed under the request in flight")
	}
	status, body := finish()
	if !strings.HasPrefix(status, "200") || !sameJSON(t, []byte(body), `{"model_name":"scale","model_version":"1",
		"outputs":[{"name":"y","shape":[1,2],"datatype":"FP32","data":[1,2]}]}`) {
		t.Errorf("the request in flight: %s %s, want 200 with y = [1 2] from the old model", status, body)
	}
	if !old.closed.Load() {
		t.Error("the old model is still open after its last request")
	}
	if servingModel(t, ts.Server, "scale").closed.Load() {
		t.Error("the new model is closed")
	}
}

// A broken new file leaves the old model serving and is reported: in the index, in the metrics and by
// Rescan's error; it is not retried until it changes, and a fixed file then loads.
func TestBrokenFileKeepsOldModel(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "scale.onnx")
	saveModel(t, path, scaleGraph(2))
	var logged strings.Builder
	ts := startRepository(t, Config{ModelDir: dir, Logf: func(f string, args ...any) { fmt.Fprintf(&logged, f+"\n", args...) }})

	writeFile(t, path, "this is not a model")
	writeFile(t, filepath.Join(dir, "broken.onnx"), "nor is this")
	err := ts.Rescan()
	if err == nil || !strings.Contains(err.Error(), `model "scale"`) || !strings.Contains(err.Error(), `model "broken"`) {
		t.Errorf("Rescan: %v, want the failures of scale and broken", err)
	}
	if status, y := ts.scaleAnswer(t, "scale"); status != 200 || !reflect.DeepEqual(y, []float64{2, 4}) {
		t.Errorf("after a broken reload: %d %v, want the old model's 200 [2 4]", status, y)
	}
	if status, _ := ts.scaleAnswer(t, "broken"); status != http.StatusNotFound {
		t.Errorf("a broken new model: %d, want 404", status)
	}
	idx := ts.index(t)
	if e := idx["scale"]; e.State != StateReady || !strings.Contains(e.Reason, "serving the previous version") {
		t.Errorf("index: scale is %+v, want READY with the failed reload as the reason", e)
	}
	if e := idx["broken"]; e.State != StateUnavailable || e.Reason == "" {
		t.Errorf("index: broken is %+v, want UNAVAILABLE with a reason", e)
	}
	if !strings.Contains(logged.String(), `model "broken": `) {
		t.Errorf("no log line for the broken model; the log:\n%s", logged.String())
	}
	metrics := func() string {
		_, _, body := ts.do(t, "GET", "/metrics", "")
		return string(body)
	}
	const failedLine = `onnxrun_model_loads_total{model="broken",result="failed"} 1`
	if m := metrics(); !strings.Contains(m, failedLine) || !strings.Contains(m, `onnxrun_model_loads_total{model="scale",result="failed"} 1`) {
		t.Errorf("metrics lack the failed loads:\n%s", m)
	}
	if err := ts.Rescan(); err != nil {
		t.Errorf("a second scan retried the unchanged broken files: %v", err)
	}
	if m := metrics(); !strings.Contains(m, failedLine) {
		t.Errorf("a second scan counted the broken file again:\n%s", m)
	}

	saveModel(t, path, scaleGraph(3))
	if err := ts.Rescan(); err != nil {
		t.Errorf("Rescan after fixing scale: %v, want no error (broken.onnx is unchanged, so not retried)", err)
	}
	if status, y := ts.scaleAnswer(t, "scale"); status != 200 || !reflect.DeepEqual(y, []float64{3, 6}) {
		t.Errorf("after fixing the file: %d %v, want 200 [3 6]", status, y)
	}
	if e := ts.index(t)["scale"]; e.State != StateReady || e.Reason != "" {
		t.Errorf("index after the fix: %+v, want READY with no reason", e)
	}
}

// A model whose file is removed unloads after its request in flight; a new file loads.
func TestRemovedFileUnloads(t *testing.T) {
	dir := t.TempDir()
	saveModel(t, filepath.Join(dir, "scale.onnx"), scaleGraph(1))
	ts := startRepository(t, Config{ModelDir: dir})
	old := servingModel(t, ts.Server, "scale")
	finish := startSlowRequest(t, ts, "scale")

	if err := os.Remove(filepath.Join(dir, "scale.onnx")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "added"), 0o755); err != nil {
		t.Fatal(err)
	}
	saveModel(t, filepath.Join(dir, "added", "model.onnx"), scaleGraph(5))
	if err := ts.Rescan(); err != nil {
		t.Fatal(err)
	}
	if status, _ := ts.scaleAnswer(t, "scale"); status != http.StatusNotFound {
		t.Errorf("a removed model: %d, want 404", status)
	}
	if status, y := ts.scaleAnswer(t, "added"); status != 200 || !reflect.DeepEqual(y, []float64{5, 10}) {
		t.Errorf("an added model: %d %v, want 200 [5 10]", status, y)
	}
	if _, listed := ts.index(t)["scale"]; listed {
		t.Error("the removed model is still in the index")
	}
	if old.closed.Load() {
		t.Fatal("the removed model was closed under its request in flight")
	}
	if status, _ := finish(); !strings.HasPrefix(status, "200") {
		t.Errorf("the request in flight: %s, want 200", status)
	}
	if !old.closed.Load() {
		t.Error("the removed model is still open after its last request")
	}
}

// NAME.json beside NAME.onnx (and settings.json beside a NAME/ folder's model.onnx) apply over the server's Config when
// the model loads; a changed settings file reloads the model; a bad one is reported like a broken model.
func TestModelSettingsFile(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(testenv.RepoPath(t, "models/lenet/lenet.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "lenet.onnx"), string(data))
	if err := os.Mkdir(filepath.Join(dir, "scale"), 0o755); err != nil {
		t.Fatal(err)
	}
	saveModel(t, filepath.Join(dir, "scale", "model.onnx"), scaleGraph(1))
	writeFile(t, filepath.Join(dir, "scale", "settings.json"), `{"shapes": {"x": [3, 2]}}`)
	ts := startRepository(t, Config{ModelDir: dir})

	if got := ts.meta(t, "scale").Inputs[0].Shape; !reflect.DeepEqual(got, []int64{3, 2}) {
		t.Errorf("scale/settings.json pins x to [3,2]; the metadata says %v", got)
	}
	lenet := servingModel(t, ts.Server, "lenet")
	input := lenet.Metadata().Inputs[0]
	if input.Shape[0] != -1 {
		t.Fatalf("lenet's input %s %v has no variable batch dimension to pin", input.Name, input.Shape)
	}
	writeFile(t, filepath.Join(dir, "lenet.json"), fmt.Sprintf(`{"sessions": 3, "shapes": {%q: [1, 1, 28, 28]},
		"preprocess": {"width": 28, "height": 28, "channels": 1, "invert": true}}`, input.Name))
	if err := ts.Rescan(); err != nil {
		t.Fatal(err)
	}
	lenet = servingModel(t, ts.Server, "lenet")
	if got := ts.meta(t, "lenet").Inputs[0].Shape; !reflect.DeepEqual(got, []int64{1, 1, 28, 28}) {
		t.Errorf("lenet.json pins the input to [1,1,28,28]; the metadata says %v", got)
	}
	if got := cap(lenet.pool.slots); got != 3 {
		t.Errorf("lenet.json asks for 3 sessions; the model has %d", got)
	}
	if p := lenet.Settings().Preprocess; p == nil || p.Width != 28 || !p.Invert {
		t.Errorf("Model.Settings().Preprocess = %+v, want lenet.json's", p)
	}

	writeFile(t, filepath.Join(dir, "lenet.json"), `{"sessions": 0}`)
	if err := ts.Rescan(); err == nil || !strings.Contains(err.Error(), "lenet.json") {
		t.Errorf("Rescan with a bad settings file: %v, want an error naming lenet.json", err)
	}
	if servingModel(t, ts.Server, "lenet") != lenet {
		t.Error("a bad settings file replaced the model serving")
	}
	if e := ts.index(t)["lenet"]; e.State != StateReady || !strings.Contains(e.Reason, "sessions is 0") {
		t.Errorf("index with a bad settings file: %+v, want READY with the settings error as the reason", e)
	}

	if err := os.Remove(filepath.Join(dir, "lenet.json")); err != nil {
		t.Fatal(err)
	}
	if err := ts.Rescan(); err != nil {
		t.Fatal(err)
	}
	if got := ts.meta(t, "lenet").Inputs[0].Shape; got[0] != -1 {
		t.Errorf("with lenet.json removed the input is %v, want its batch dimension variable again", got)
	}
}

func (ts *testServer) meta(t *testing.T, name string) ModelMetadata {
	t.Helper()
	status, _, body := ts.do(t, "GET", "/v2/models/"+name, "")
	var md ModelMetadata
	if status != 200 || json.Unmarshal(body, &md) != nil {
		t.Fatalf("metadata of %s: %d %s", name, status, body)
	}
	return md
}

// The index lists every model with its state; {"ready": true} keeps the ready ones.
func TestRepositoryIndex(t *testing.T) {
	dir := t.TempDir()
	saveModel(t, filepath.Join(dir, "a.onnx"), scaleGraph(1))
	ts := startServer(t, Config{Sessions: 1, ModelDir: dir, PollInterval: time.Hour},
		newModel(t, "direct", linearGraph(), Config{Sessions: 1}))
	writeFile(t, filepath.Join(dir, "b.onnx"), "broken")
	ts.Rescan()
	ts.reg.loading(ModelSource{Name: "c", Path: filepath.Join(dir, "c.onnx")})

	status, _, body := ts.do(t, "POST", "/v2/repository/index", "")
	want := `[{"name":"a","version":"1","state":"READY"},
		{"name":"b","version":"1","state":"UNAVAILABLE","reason":"model \"b\": PLACEHOLDER"},
		{"name":"c","version":"1","state":"LOADING"},
		{"name":"direct","version":"1","state":"READY"}]`
	var got []RepositoryIndexEntry
	if status != 200 || json.Unmarshal(body, &got) != nil || len(got) != 4 {
		t.Fatalf("index: %d %s", status, body)
	}
	if !strings.HasPrefix(got[1].Reason, `model "b": `) {
		t.Errorf("b's reason %q does not name the model", got[1].Reason)
	}
	got[1].Reason = `model "b": PLACEHOLDER`
	gotJSON, _ := json.Marshal(got)
	if !sameJSON(t, gotJSON, want) {
		t.Errorf("index:\n got %s\nwant %s", gotJSON, compact([]byte(want)))
	}
	status, _, body = ts.do(t, "POST", "/v2/repository/index", `{"ready": true}`)
	if status != 200 || !sameJSON(t, body, `[{"name":"a","version":"1","state":"READY"},{"name":"direct","version":"1","state":"READY"}]`) {
		t.Errorf("ready index: %d %s", status, body)
	}
	if status, _, body := ts.do(t, "POST", "/v2/repository/index", `{"ready": tru`); status != 400 {
		t.Errorf("malformed index body: %d %s, want 400", status, body)
	}
	if status, _, _ := ts.do(t, "GET", "/v2/repository/index", ""); status != http.StatusMethodNotAllowed {
		t.Errorf("GET index: %d, want 405", status)
	}
}

// Load and unload answer 403 without model control; with it, unload stops a model (and the scanner
// leaves it unloaded), load brings it back, and a name that is not a plain file name is refused.
func TestLoadUnload(t *testing.T) {
	dir := t.TempDir()
	saveModel(t, filepath.Join(dir, "scale.onnx"), scaleGraph(1))

	off := startRepository(t, Config{ModelDir: dir})
	for _, action := range []string{"load", "unload"} {
		status, _, body := off.do(t, "POST", "/v2/repository/models/scale/"+action, "")
		if status != http.StatusForbidden || !strings.Contains(string(body), "--model-control") {
			t.Errorf("%s without model control: %d %s, want 403 naming --model-control", action, status, body)
		}
	}
	if status, _ := off.scaleAnswer(t, "scale"); status != 200 {
		t.Errorf("after a refused unload: %d, want 200", status)
	}

	ts := startRepository(t, Config{ModelDir: dir, ModelControl: true, InsecureModelControl: true})
	old := servingModel(t, ts.Server, "scale")
	if status, _, body := ts.do(t, "POST", "/v2/repository/models/scale/unload", ""); status != 200 {
		t.Fatalf("unload: %d %s", status, body)
	}
	if !old.closed.Load() {
		t.Error("an unloaded model with no request is still open")
	}
	if status, _ := ts.scaleAnswer(t, "scale"); status != http.StatusNotFound {
		t.Errorf("infer after unload: %d, want 404", status)
	}
	if e := ts.index(t)["scale"]; e.State != StateUnavailable || e.Reason != "unloaded by request" {
		t.Errorf("index after unload: %+v", e)
	}
	if err := ts.Rescan(); err != nil || ts.reg.isServing("scale") {
		t.Errorf("a scan brought back an unloaded model (err %v)", err)
	}
	if status, _, _ := ts.do(t, "POST", "/v2/repository/models/scale/unload", ""); status != http.StatusNotFound {
		t.Errorf("unloading twice: %d, want 404", status)
	}

	saveModel(t, filepath.Join(dir, "scale.onnx"), scaleGraph(4))
	if status, _, body := ts.do(t, "POST", "/v2/repository/models/scale/load", ""); status != 200 {
		t.Fatalf("load: %d %s", status, body)
	}
	if status, y := ts.scaleAnswer(t, "scale"); status != 200 || !reflect.DeepEqual(y, []float64{4, 8}) {
		t.Errorf("after load: %d %v, want 200 [4 8]", status, y)
	}
	if status, _, _ := ts.do(t, "POST", "/v2/repository/models/absent/load", ""); status != http.StatusNotFound {
		t.Errorf("loading a model not in the directory: %d, want 404", status)
	}
	writeFile(t, filepath.Join(dir, "bad.onnx"), "broken")
	if status, _, body := ts.do(t, "POST", "/v2/repository/models/bad/load", ""); status != http.StatusBadRequest || !strings.Contains(string(body), `loading model \"bad\" failed`) {
		t.Errorf("loading a broken model: %d %s, want 400", status, body)
	}

	// A literal ".." is cleaned away by the client and the mux before any route; escaped, it reaches one.
	for _, name := range []string{"a%2Fb", "%2Fetc%2Fpasswd", `a%5Cb`, "a..b", "%2E%2E", "a%00b"} {
		for _, action := range []string{"load", "unload"} {
			status, _, body := ts.do(t, "POST", "/v2/repository/models/"+name+"/"+action, "")
			if status != http.StatusBadRequest {
				t.Errorf("%s %q: %d %s, want 400", action, name, status, body)
			}
		}
	}
}

// The poller loads a model added to the directory without any call.
func TestPollInterval(t *testing.T) {
	dir := t.TempDir()
	ts := startRepository(t, Config{ModelDir: dir, PollInterval: 10 * time.Millisecond})
	saveModel(t, filepath.Join(dir, "late.onnx"), scaleGraph(7))
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, y := ts.scaleAnswer(t, "late")
		if status == 200 {
			if !reflect.DeepEqual(y, []float64{7, 14}) {
				t.Errorf("late: %v, want [7 14]", y)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the poller never loaded late.onnx (last status %d)", status)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := New(Config{ModelDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "no models found") {
		t.Errorf("an empty directory without polling or model control: %v, want an error", err)
	}
}

// gRPC looks models up in the same registry: a reload is seen by ModelInfer and the health service
// follows loads and unloads.
func TestGRPCFollowsRepository(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "scale.onnx")
	saveModel(t, path, scaleGraph(1))
	ts := startGRPC(t, Config{Sessions: 1, ModelDir: dir})
	ctx := context.Background()
	infer := func() ([]float32, error) {
		resp, err := ts.client.ModelInfer(ctx, &grpcpb.ModelInferRequest{ModelName: "scale", Inputs: []*grpcpb.ModelInferRequest_InferInputTensor{
			{Name: "x", Datatype: "FP32", Shape: []int64{1, 2}, Contents: &grpcpb.InferTensorContents{Fp32Contents: []float32{1, 2}}}}})
		if err != nil {
			return nil, err
		}
		return resp.GetOutputs()[0].GetContents().GetFp32Contents(), nil
	}
	health := func(name string) healthpb.HealthCheckResponse_ServingStatus {
		r, err := ts.health.Check(ctx, &healthpb.HealthCheckRequest{Service: name})
		if err != nil {
			return healthpb.HealthCheckResponse_UNKNOWN
		}
		return r.GetStatus()
	}
	saveModel(t, path, scaleGraph(6))
	saveModel(t, filepath.Join(dir, "other.onnx"), scaleGraph(1))
	if err := ts.Rescan(); err != nil {
		t.Fatal(err)
	}
	if y, err := infer(); err != nil || !reflect.DeepEqual(y, []float32{6, 12}) {
		t.Errorf("ModelInfer after a reload: %v, %v, want [6 12]", y, err)
	}
	if got := health("other"); got != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health of a model loaded after start: %v, want SERVING", got)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := ts.Rescan(); err != nil {
		t.Fatal(err)
	}
	_, err := infer()
	wantCode(t, "ModelInfer on a removed model", err, codes.NotFound, `unknown model "scale"`)
	if got := health("scale"); got != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("health of a removed model: %v, want NOT_SERVING", got)
	}
}

// Requests from several clients across repeated reloads all get an answer from one whole version of the
// model: none reaches a model closed under it.
func TestReloadsUnderLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "scale.onnx")
	saveModel(t, path, scaleGraph(1))
	ts := startServer(t, Config{Sessions: 2, MaxBatch: 4, ModelDir: dir})
	stop := make(chan struct{})
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			for {
				select {
				case <-stop:
					errs <- nil
					return
				default:
				}
				r, err := http.Post(ts.url+"/v2/models/scale/infer", "application/json", strings.NewReader(scaleRequest))
				if err != nil {
					errs <- err
					return
				}
				status := r.StatusCode
				body, _ := io.ReadAll(r.Body)
				r.Body.Close()
				var resp struct {
					Outputs []struct{ Data []float64 } `json:"outputs"`
				}
				if status != 200 || json.Unmarshal(body, &resp) != nil || len(resp.Outputs) != 1 || len(resp.Outputs[0].Data) != 2 ||
					resp.Outputs[0].Data[1] != 2*resp.Outputs[0].Data[0] || resp.Outputs[0].Data[0] < 1 || resp.Outputs[0].Data[0] > 6 {
					errs <- fmt.Errorf("during reloads: %d %s", status, body)
					return
				}
			}
		}()
	}
	// Enough reloads that requests land between a model's lookup and its run, where closing a model too
	// early would answer them 503 (its batcher closed) instead of 200.
	for i := range 30 {
		saveModel(t, path, scaleGraph(float32(2+i%5)))
		if err := ts.Rescan(); err != nil {
			t.Error(err)
		}
	}
	close(stop)
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if status, y := ts.scaleAnswer(t, "scale"); status != 200 || !reflect.DeepEqual(y, []float64{6, 12}) {
		t.Errorf("after the reloads: %d %v, want the last version's [6 12]", status, y)
	}
}

// A model given as a file takes the settings file beside it, named after the file, under either form of
// the argument.
func TestSettingsBesideModelFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "linear.onnx")
	saveModel(t, path, linearGraph())
	writeFile(t, filepath.Join(dir, "linear.json"), `{"sessions": 2, "shapes": {"x": [2, 4]}}`)
	for _, arg := range []string{path, "renamed=" + path} {
		src, err := ParseModelSource(arg)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Load(src, Config{Sessions: 1})
		if err != nil {
			t.Fatalf("%s: %v", arg, err)
		}
		shape, sessions := m.Metadata().Inputs[0].Shape, cap(m.pool.slots)
		settings := m.Settings()
		m.Close()
		if !reflect.DeepEqual(shape, []int64{2, 4}) || sessions != 2 || settings.Sessions == nil || *settings.Sessions != 2 {
			t.Errorf("%s: input %v, %d sessions, settings %+v; want linear.json's [2 4] and 2 sessions", arg, shape, sessions, settings)
		}
	}
	writeFile(t, filepath.Join(dir, "linear.json"), `{"sesions": 2}`)
	src, _ := ParseModelSource(path)
	if _, err := Load(src, Config{}); err == nil || !strings.Contains(err.Error(), "linear.json") || !strings.Contains(err.Error(), "sesions") {
		t.Errorf("a misspelt settings field: %v, want an error naming linear.json and the field", err)
	}
}

// With ModelName, the folder's one model serves under that name whatever its file is called, and the
// poller reloads it when the file is replaced (KServe's storage initializer, then an update in place).
func TestModelNameFollowsTheFolder(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "model.onnx")
	saveModel(t, file, scaleGraph(2))
	ts := startRepository(t, Config{ModelDir: dir, ModelName: "scaler", PollInterval: 10 * time.Millisecond})
	if status, y := ts.scaleAnswer(t, "scaler"); status != 200 || !reflect.DeepEqual(y, []float64{2, 4}) {
		t.Fatalf("scaler before the replacement: %d %v, want 200 [2 4]", status, y)
	}
	if status, _ := ts.scaleAnswer(t, "model"); status != http.StatusNotFound {
		t.Errorf("the file's own name: %d, want 404 (the model serves under ModelName only)", status)
	}
	saveModel(t, file, scaleGraph(3))
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, y := ts.scaleAnswer(t, "scaler")
		if status == 200 && reflect.DeepEqual(y, []float64{3, 6}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the poller never reloaded the replaced file under the model name (last %d %v)", status, y)
		}
		time.Sleep(5 * time.Millisecond)
	}

	// A second model in the folder is reported, and the one loaded keeps serving.
	saveModel(t, filepath.Join(dir, "other.onnx"), scaleGraph(5))
	err := ts.Rescan()
	if err == nil || !strings.Contains(err.Error(), `the model name "scaler" (--model-name) names the folder's one model, but it holds 2`) {
		t.Errorf("rescan of a folder with two models: %v, want the two-models error", err)
	}
	if status, y := ts.scaleAnswer(t, "scaler"); status != 200 || !reflect.DeepEqual(y, []float64{3, 6}) {
		t.Errorf("scaler after a rescan that found two models: %d %v, want 200 [3 6]", status, y)
	}

	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{ModelName: "x"}, "no model folder (--model-dir)"},
		{Config{ModelDir: dir, ModelName: "a b"}, `model name "a b"`},
		{Config{ModelDir: dir, ModelName: "x"}, "names the folder's one model, but it holds 2 (model, other)"},
		{Config{ModelDir: t.TempDir(), ModelName: "x", PollInterval: time.Second}, "no models found"},
	} {
		if _, err := New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v): %v, want an error containing %q", tc.cfg, err, tc.want)
		}
	}
}
