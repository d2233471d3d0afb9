package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/serve"
)

// `onnxrun serve models/lenet/lenet.onnx`, as the README says, serves the try-it page at / with LeNet's
// preprocessing read from models/lenet/lenet.json, so the page shows a drawing canvas.
func TestServeCommandTryItPage(t *testing.T) {
	model := testenv.RepoPath(t, "models/lenet/lenet.onnx")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, logs, done := startServeCommand(t, ctx, []string{"--host", "127.0.0.1", "--http-port", "0", "--sessions", "1", model},
		"listening on ", " ")

	get := func(path string) (string, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		return resp.Header.Get("Content-Type"), string(body)
	}
	if ctype, body := get("/"); !strings.HasPrefix(ctype, "text/html") || !strings.Contains(body, "<canvas") {
		t.Errorf("GET / is %s without a canvas:\n%.300s", ctype, body)
	}
	_, body := get("/try/models.json")
	var list serve.PageModels
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Models) != 1 || list.Models[0].Name != "lenet" || list.Models[0].Preprocess == nil || !list.Models[0].Preprocess.Invert {
		t.Errorf("try/models.json is %s; want lenet with the inverted 28x28 preprocessing of models/lenet/lenet.json", body)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v; log: %s", err, logs.String())
	}
}
