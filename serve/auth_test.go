package serve

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	"github.com/onnxrun/onnxrun/serve/grpcpb"
)

const testToken = "s3cret-token"

// tokenFileFor writes the token file a Secret volume would hold (with the newline echo adds).
func tokenFileFor(t testing.TB, token string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// doAuth sends a request with the given Authorization value ("" for none) and returns the status, the
// WWW-Authenticate header and the body.
func (ts *testServer) doAuth(t *testing.T, method, path, body, authorization string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(method, ts.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	status, header, data := send(t, req)
	return status, header.Get("WWW-Authenticate"), string(data)
}

// With a token file, load and unload answer 401 with a Bearer challenge to a request without the token,
// with a wrong one or with another scheme, and work with it; inference stays open without --auth-infer.
func TestModelControlNeedsTheToken(t *testing.T) {
	dir := t.TempDir()
	saveModel(t, filepath.Join(dir, "scale.onnx"), scaleGraph(1))
	ts := startRepository(t, Config{ModelDir: dir, ModelControl: true, AuthTokenFile: tokenFileFor(t, testToken)})

	for _, action := range []string{"load", "unload"} {
		path := "/v2/repository/models/scale/" + action
		for _, tc := range []struct{ authorization, challenge, msg string }{
			{"", `Bearer realm="onnxrun"`, "needs a bearer token"},
			{"Bearer wrong", `Bearer realm="onnxrun", error="invalid_token"`, "not the server's"},
			{"Bearer " + testToken + "x", `Bearer realm="onnxrun", error="invalid_token"`, "not the server's"},
			{"Basic " + testToken, `Bearer realm="onnxrun", error="invalid_token"`, "not a bearer token"},
			{"Bearer", `Bearer realm="onnxrun", error="invalid_token"`, "not a bearer token"},
		} {
			status, challenge, body := ts.doAuth(t, "POST", path, "", tc.authorization)
			if status != http.StatusUnauthorized || challenge != tc.challenge || !strings.Contains(body, tc.msg) {
				t.Errorf("%s with Authorization %q: %d %q %s, want 401 %q with %q", action, tc.authorization, status, challenge, body, tc.challenge, tc.msg)
			}
			if strings.Contains(body, testToken) {
				t.Errorf("%s: the answer holds the token: %s", action, body)
			}
		}
		if !ts.reg.isServing("scale") {
			t.Fatalf("a refused %s changed what is served", action)
		}
	}
	if status, _ := ts.scaleAnswer(t, "scale"); status != http.StatusOK {
		t.Errorf("inference without --auth-infer: %d, want 200 without a token", status)
	}
	// The scheme is case-insensitive (RFC 7235).
	if status, _, body := ts.doAuth(t, "POST", "/v2/repository/models/scale/unload", "", "bearer "+testToken); status != http.StatusOK {
		t.Fatalf("unload with the token: %d %s", status, body)
	}
	if status, _, body := ts.doAuth(t, "POST", "/v2/repository/models/scale/load", "", "Bearer "+testToken); status != http.StatusOK {
		t.Fatalf("load with the token: %d %s", status, body)
	}
	if status, _ := ts.scaleAnswer(t, "scale"); status != http.StatusOK {
		t.Errorf("after load: %d", status)
	}
}

// New refuses model control without a token file unless told it is meant, --auth-infer without a token
// file, and a token file that is missing or empty, naming it.
func TestAuthConfigurationErrors(t *testing.T) {
	dir := t.TempDir()
	saveModel(t, filepath.Join(dir, "scale.onnx"), scaleGraph(1))
	empty := filepath.Join(t.TempDir(), "empty-token")
	if err := os.WriteFile(empty, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing-token")
	for _, tc := range []struct {
		what string
		cfg  Config
		want []string
	}{
		{"model control without a token", Config{ModelControl: true}, []string{"--auth-token-file", "--insecure-model-control"}},
		{"auth-infer without a token", Config{AuthInfer: true}, []string{"--auth-infer", "--auth-token-file"}},
		{"an empty token file", Config{ModelControl: true, AuthTokenFile: empty}, []string{empty, "empty"}},
		{"a missing token file", Config{AuthTokenFile: missing, AuthInfer: true}, []string{missing, "no such file"}},
	} {
		tc.cfg.ModelDir, tc.cfg.Sessions = dir, 1
		s, err := New(tc.cfg)
		if err == nil {
			s.Shutdown(context.Background())
			t.Errorf("%s: New succeeded", tc.what)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v, want it to name %q", tc.what, err, w)
			}
		}
	}
	s, err := New(Config{ModelDir: dir, Sessions: 1, ModelControl: true, InsecureModelControl: true})
	if err != nil {
		t.Fatalf("--insecure-model-control: %v", err)
	}
	s.Shutdown(context.Background())
}

// With --auth-infer, everything but health and the page's own files needs the token, over HTTP.
func TestAuthInferGuardsDataButNotHealth(t *testing.T) {
	dir := t.TempDir()
	saveModel(t, filepath.Join(dir, "scale.onnx"), scaleGraph(2))
	ts := startRepository(t, Config{ModelDir: dir, AuthInfer: true, AuthTokenFile: tokenFileFor(t, testToken)})
	for _, tc := range []struct {
		method, path, body string
		guarded            bool
	}{
		{"GET", "/v2/health/live", "", false},
		{"GET", "/v2/health/ready", "", false},
		{"GET", "/v2/models/scale/ready", "", false},
		{"GET", "/", "", false},
		{"GET", "/try/page.js", "", false},
		{"GET", "/v2", "", true},
		{"GET", "/v2/models/scale", "", true},
		{"GET", "/v2/models/scale/versions/1", "", true},
		{"POST", "/v2/models/scale/infer", scaleRequest, true},
		{"GET", "/metrics", "", true},
		{"POST", "/v2/repository/index", "", true},
		{"GET", "/try/models.json", "", true},
	} {
		status, challenge, body := ts.doAuth(t, tc.method, tc.path, tc.body, "")
		switch {
		case tc.guarded && (status != http.StatusUnauthorized || !strings.HasPrefix(challenge, "Bearer")):
			t.Errorf("%s %s without a token: %d %q %s, want 401 with a Bearer challenge", tc.method, tc.path, status, challenge, body)
		case !tc.guarded && status != http.StatusOK:
			t.Errorf("%s %s without a token: %d %s, want 200 (open)", tc.method, tc.path, status, body)
		}
		if status, _, body := ts.doAuth(t, tc.method, tc.path, tc.body, "Bearer "+testToken); status != http.StatusOK {
			t.Errorf("%s %s with the token: %d %s, want 200", tc.method, tc.path, status, body)
		}
	}
	// Without model control, the token does not open load and unload: they stay 403.
	if status, _, body := ts.doAuth(t, "POST", "/v2/repository/models/scale/unload", "", "Bearer "+testToken); status != http.StatusForbidden {
		t.Errorf("unload with the token but without model control: %d %s, want 403", status, body)
	}
}

// With --auth-infer, gRPC calls need "authorization: Bearer TOKEN" metadata (UNAUTHENTICATED otherwise),
// except the protocol's health calls and grpc.health.v1.
func TestGRPCAuthInfer(t *testing.T) {
	cfg := Config{Sessions: 1, AuthInfer: true, AuthTokenFile: tokenFileFor(t, testToken)}
	gs := startGRPC(t, cfg, newModel(t, "linear", linearGraph(), cfg))
	in, flat := linearInput([][]float32{{1, 2, 3, 4}})
	in.Contents = &grpcpb.InferTensorContents{Fp32Contents: flat}
	infer := &grpcpb.ModelInferRequest{ModelName: "linear", Inputs: []*grpcpb.ModelInferRequest_InferInputTensor{in}}
	withAuth := func(values ...string) context.Context {
		ctx := context.Background()
		for _, v := range values {
			ctx = metadata.AppendToOutgoingContext(ctx, "authorization", v)
		}
		return ctx
	}
	for _, tc := range []struct {
		what string
		ctx  context.Context
		msg  string
	}{
		{"no metadata", withAuth(), "needs a bearer token"},
		{"a wrong token", withAuth("Bearer nope"), "not the server's"},
		{"another scheme", withAuth("Basic " + testToken), "not a bearer token"},
		{"two values", withAuth("Bearer "+testToken, "Bearer nope"), "more than one"},
	} {
		_, err := gs.client.ModelInfer(tc.ctx, infer)
		wantCode(t, "ModelInfer with "+tc.what, err, codes.Unauthenticated, tc.msg)
		_, err = gs.client.ModelMetadata(tc.ctx, &grpcpb.ModelMetadataRequest{Name: "linear"})
		wantCode(t, "ModelMetadata with "+tc.what, err, codes.Unauthenticated, tc.msg)
		_, err = gs.client.ServerMetadata(tc.ctx, &grpcpb.ServerMetadataRequest{})
		wantCode(t, "ServerMetadata with "+tc.what, err, codes.Unauthenticated, tc.msg)
	}
	if _, err := gs.client.ModelInfer(withAuth("Bearer "+testToken), infer); err != nil {
		t.Errorf("ModelInfer with the token: %v", err)
	}
	open := context.Background()
	if _, err := gs.client.ServerLive(open, &grpcpb.ServerLiveRequest{}); err != nil {
		t.Errorf("ServerLive without a token: %v", err)
	}
	if _, err := gs.client.ServerReady(open, &grpcpb.ServerReadyRequest{}); err != nil {
		t.Errorf("ServerReady without a token: %v", err)
	}
	if _, err := gs.client.ModelReady(open, &grpcpb.ModelReadyRequest{Name: "linear"}); err != nil {
		t.Errorf("ModelReady without a token: %v", err)
	}
	if resp, err := gs.health.Check(open, &healthpb.HealthCheckRequest{}); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("grpc.health.v1 Check without a token: %v %v", resp, err)
	}
	watch, err := gs.health.Watch(open, &healthpb.HealthCheckRequest{Service: "linear"})
	if err == nil {
		var resp *healthpb.HealthCheckResponse
		resp, err = watch.Recv()
		if err == nil && resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("grpc.health.v1 Watch: %v", resp.GetStatus())
		}
	}
	if err != nil {
		t.Errorf("grpc.health.v1 Watch without a token: %v", err)
	}
}

// The token file is re-read when it is replaced (a rename, as a Secret volume's swap), so a rotated token
// works and the old one stops working; a replacement that is empty or a file that is gone keeps the
// previous token and is logged.
func TestTokenFileReload(t *testing.T) {
	path := tokenFileFor(t, "first")
	var log syncLog
	f, err := newTokenFile(path, log.logf)
	if err != nil {
		t.Fatal(err)
	}
	f.interval = 0 // check on every call
	f.nextCheck.Store(0)
	if !f.accepts("first") || f.accepts("second") || f.accepts("") || f.accepts("firs") {
		t.Fatal("the first token is not the only one accepted")
	}
	replace := func(content string) {
		t.Helper()
		writeFile(t, path, content)
		// A rename within the same second and of the same size could keep every stamp but the inode;
		// sameVersion compares inodes too, so this only makes the change certain on any file system.
		later := time.Now().Add(time.Duration(len(content)+1) * time.Second)
		os.Chtimes(path, later, later)
	}
	replace("second\n")
	if !f.accepts("second") || f.accepts("first") {
		t.Error("after the rename, the second token should be the only one accepted")
	}
	replace("\n")
	if !f.accepts("second") || !strings.Contains(log.text(), "empty") {
		t.Errorf("an empty replacement should keep the previous token and be logged; log: %s", log.text())
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if !f.accepts("second") || !strings.Contains(log.text(), "still accepting the previous token") {
		t.Errorf("a removed file should keep the previous token and be logged; log: %s", log.text())
	}
	replace("third")
	if !f.accepts("third") || f.accepts("second") {
		t.Error("a file that comes back should be read again")
	}
}

// BenchmarkTokenAccepts is the per-request cost of checking a bearer token (Config.AuthInfer puts it on
// every inference), from all cores at once as a loaded server calls it: "current" is the token in force
// alone (the part shared by every request), "accepts" adds hashing and comparing the request's token.
func BenchmarkTokenAccepts(b *testing.B) {
	const token = "a-token-of-some-length-0123456789"
	f, err := newTokenFile(tokenFileFor(b, token), func(string, ...any) {})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("current", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if f.current()[0] == 0 && f.current()[1] == 0 {
					b.Fatal("no digest")
				}
			}
		})
	})
	b.Run("accepts", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if !f.accepts(token) {
					b.Fatal("the token was refused")
				}
			}
		})
	})
}
