package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/serve"
)

// lockedBuffer is a bytes.Buffer the server's goroutines and the test can share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// What the README shows: print a request for a digit, start the server, post the digit, read the class.
// Then SIGTERM's stand-in (the context) stops the server gracefully.
func TestServeCommand(t *testing.T) {
	model, input := lenet(t)
	digit := firstDigit(t, input) // a 7

	status, request, stderr := runCLI("serve", "--model-name", "lenet", model, "--print-request", digit)
	if status != exitOK {
		t.Fatalf("--print-request: status %d: %s", status, stderr)
	}
	var req serve.InferRequest
	if err := json.Unmarshal([]byte(request), &req); err != nil || len(req.Inputs) != 1 || req.Inputs[0].Name != "input" {
		t.Fatalf("--print-request wrote %.200s (%v)", request, err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, logs, done := startServeCommand(t, ctx, []string{"--host", "127.0.0.1", "--http-port", "0", "--max-batch", "4", "lenet=" + model},
		"listening on ", " ")

	resp, err := http.Post(base+"/v2/models/lenet/infer", "application/json", strings.NewReader(request))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var out serve.InferResponse
	if err := json.Unmarshal(body, &out); err != nil || resp.StatusCode != 200 || len(out.Outputs) != 1 {
		t.Fatalf("infer: %d %s", resp.StatusCode, body)
	}
	logits, err := out.Outputs[0].Tensor()
	if err != nil {
		t.Fatal(err)
	}
	if class := argmaxOf(logits.Float32s()); class != 7 {
		t.Errorf("class %d, want 7 (logits %v)", class, logits.Float32s())
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	log := logs.String()
	for _, want := range []string{`model "lenet" from `, "input FP32[-1,1,28,28] -> logits FP32[-1,10]; dynamic batching on", "shutting down", "stopped"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

func argmaxOf(v []float32) int {
	best := 0
	for i := range v {
		if v[i] > v[best] {
			best = i
		}
	}
	return best
}

func TestServeCommandErrors(t *testing.T) {
	dir := t.TempDir()
	twoModels := filepath.Join(dir, "two")
	if err := os.MkdirAll(twoModels, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.onnx", "b.onnx"} {
		if err := os.WriteFile(filepath.Join(twoModels, name), []byte("not a model"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		args   []string
		status int
		want   string
	}{
		{"no models", []string{"serve"}, exitUsage, "no models: give model files or --model-dir"},
		{"model name for two models", []string{"serve", "--model-dir", twoModels, "--model-name", "x"}, exitError, `the model name "x" (--model-name) names the folder's one model, but it holds 2 (a, b)`},
		{"model name with model files", []string{"serve", "--model-dir", twoModels, "--model-name", "x", "m.onnx"}, exitUsage, "--model-name names --model-dir's one model; give no model files with it (got m.onnx)"},
		{"print request for two models", []string{"serve", "--model-dir", twoModels, "--print-request", "x.npy"}, exitUsage, "--print-request needs exactly one model"},
		{"bad port", []string{"serve", "--http-port", "70000", "m.onnx"}, exitUsage, "--http-port must be 0 to 65535, got 70000"},
		{"bad gRPC port", []string{"serve", "--grpc-port", "-2", "m.onnx"}, exitUsage, "--grpc-port must be 0 to 65535 (or -1 for no gRPC), got -2"},
		{"bad batch", []string{"serve", "--max-batch", "0", "m.onnx"}, exitUsage, "--max-batch must be 1 or more, got 0"},
		{"bad queue size", []string{"serve", "--queue-size", "-1", "m.onnx"}, exitUsage, "--queue-size must be 0 or more, got -1"},
		{"bad queue delay", []string{"serve", "--max-queue-delay", "-1ms", "m.onnx"}, exitUsage, "--max-queue-delay must be 0 (two of the model's runs) or more, got -1ms"},
		{"bad timeout", []string{"serve", "--request-timeout", "0s", "m.onnx"}, exitUsage, "--request-timeout must be positive"},
		{"bad model name", []string{"serve", "my model=m.onnx"}, exitUsage, `model name "my model"`},
		{"missing model dir", []string{"serve", "--model-dir", filepath.Join(dir, "nope")}, exitError, "no such file or directory"},
		{"broken model", []string{"serve", "--model-dir", twoModels}, exitError, filepath.Join(twoModels, "a.onnx")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, _, stderr := runCLI(tc.args...)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, stderr)
			}
			oneErrorLine(t, stderr, tc.want)
		})
	}
}

// startServeCommand runs `onnxrun serve args...` until ctx is cancelled and waits until its output holds
// marker: it returns what follows marker up to end (the address it listens on), the command's log, and the
// channel that receives serve's result once it returns.
func startServeCommand(t *testing.T, ctx context.Context, args []string, marker, end string) (addr string, logs *lockedBuffer, done <-chan error) {
	t.Helper()
	var stdout lockedBuffer
	logs = &lockedBuffer{}
	e := &env{ctx: ctx, stdout: &stdout, stderr: logs}
	result := make(chan error, 1)
	go func() { result <- execute(e, findCommand("serve"), args) }()
	for addr == "" {
		select {
		case err := <-result:
			t.Fatalf("serve returned early: %v; log: %s", err, logs.String())
		case <-time.After(5 * time.Millisecond):
		}
		if _, rest, ok := strings.Cut(stdout.String(), marker); ok {
			addr, _, _ = strings.Cut(rest, end)
		}
	}
	return addr, logs, result
}

// --model-dir is a model repository: an empty one starts when it is polled, a model copied in later
// loads, NAME.json applies, and --model-control opens the load and unload endpoints to the holder of the
// --auth-token-file token; without a token file, --model-control is refused.
func TestServeCommandModelRepository(t *testing.T) {
	lenetData, err := os.ReadFile(testenv.RepoPath(t, "models/lenet/lenet.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("let-me-in\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, logs, done := startServeCommand(t, ctx, []string{"--host", "127.0.0.1", "--http-port", "0", "--sessions", "1",
		"--model-dir", dir, "--poll-interval", "10ms", "--model-control", "--auth-token-file", tokenFile}, "listening on ", " ")
	authorization := ""
	post := func(path, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest("POST", base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(data)
	}

	if err := os.WriteFile(filepath.Join(dir, "digits.json"), []byte(`{"shapes": {"input": [1, 1, 28, 28]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, ".digits.onnx.part")
	if err := os.WriteFile(tmp, lenetData, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "digits.onnx")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, index := post("/v2/repository/index", "")
		if strings.Contains(index, `"name":"digits","version":"1","state":"READY"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("digits.onnx never loaded; index %s; log:\n%s", index, logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	resp, err := http.Get(base + "/v2/models/digits")
	if err != nil {
		t.Fatal(err)
	}
	var md serve.ModelMetadata
	json.NewDecoder(resp.Body).Decode(&md)
	resp.Body.Close()
	if len(md.Inputs) != 1 || fmt.Sprint(md.Inputs[0].Shape) != "[1 1 28 28]" {
		t.Errorf("digits.json pins the input to [1,1,28,28]; metadata %+v", md)
	}
	if status, body := post("/v2/repository/models/digits/unload", ""); status != http.StatusUnauthorized {
		t.Errorf("unload without the token: %d %s, want 401", status, body)
	}
	authorization = "Bearer let-me-in"
	if status, body := post("/v2/repository/models/digits/unload", ""); status != 200 {
		t.Errorf("unload with --model-control: %d %s", status, body)
	}
	if status, body := post("/v2/repository/models/digits/load", ""); status != 200 {
		t.Errorf("load with --model-control: %d %s", status, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if log := logs.String(); !strings.Contains(log, `model "digits" loaded from `) {
		t.Errorf("log lacks the load of digits:\n%s", log)
	}

	status, _, stderr := runCLI("serve", "--model-dir", dir, "--poll-interval", "-1s")
	if status != exitUsage {
		t.Fatalf("negative --poll-interval: status %d: %s", status, stderr)
	}
	oneErrorLine(t, stderr, "--poll-interval must be 0 (no rescans) or more")

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--model-control"}, "give it --auth-token-file, or --insecure-model-control"},
		{[]string{"--auth-infer"}, "--auth-infer needs --auth-token-file"},
		{[]string{"--insecure-model-control"}, "--insecure-model-control applies to --model-control"},
	} {
		status, _, stderr := runCLI(append([]string{"serve", "--model-dir", dir}, tc.args...)...)
		if status != exitUsage {
			t.Fatalf("serve %v: status %d: %s", tc.args, status, stderr)
		}
		oneErrorLine(t, stderr, tc.want)
	}
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	status, _, stderr = runCLI("serve", "--host", "127.0.0.1", "--http-port", "0", "--model-dir", dir, "--model-control", "--auth-token-file", empty)
	if status == 0 || !strings.Contains(stderr, empty) || !strings.Contains(stderr, "empty") {
		t.Errorf("an empty token file: status %d: %s, want a failure naming the file", status, stderr)
	}
}
