package serve

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/onnxrun/onnxrun/internal/testpki"
	"github.com/onnxrun/onnxrun/serve/grpcpb"
)

// tlsTestServer serves the linear model over HTTPS and gRPC with TLS, and its health port, on loopback.
type tlsTestServer struct {
	*Server
	httpsAddr, grpcAddr, healthAddr string
}

func startTLS(t *testing.T, cfg Config) *tlsTestServer {
	t.Helper()
	cfg.Version = "test"
	s, err := New(cfg, newModel(t, "linear", linearGraph(), Config{Sessions: 1}))
	if err != nil {
		t.Fatal(err)
	}
	serves := []func(net.Listener) error{s.Serve, s.ServeGRPC, s.ServeHealth}
	addrs := make([]string, len(serves))
	done := make(chan error, len(serves))
	for i, serve := range serves {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs[i] = ln.Addr().String()
		go func() { done <- serve(ln) }()
	}
	t.Cleanup(func() {
		if err := s.Shutdown(context.Background()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		for range serves {
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		}
	})
	return &tlsTestServer{Server: s, httpsAddr: addrs[0], grpcAddr: addrs[1], healthAddr: addrs[2]}
}

// httpsGet asks for path over a new TLS connection made with clientCfg; it returns the status and the
// serial of the server's certificate.
func httpsGet(addr, path string, clientCfg *tls.Config) (int, string, error) {
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: clientCfg, DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := client.Get("https://" + addr + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.TLS.PeerCertificates[0].SerialNumber.String(), nil
}

const linearInferBody = `{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}`

func TestTLSServesHTTPAndGRPCAndRefusesPlainText(t *testing.T) {
	ca := testpki.NewCA(t, "test CA")
	server := ca.Server(7, "")
	ts := startTLS(t, Config{Sessions: 1, TLS: &TLSFiles{CertFile: server.CertFile, KeyFile: server.KeyFile}})
	trust := &tls.Config{RootCAs: ca.Pool}

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: trust, ForceAttemptHTTP2: true}}
	resp, err := client.Post("https://"+ts.httpsAddr+"/v2/models/linear/infer", "application/json", strings.NewReader(linearInferBody))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"name":"y"`) || resp.ProtoMajor != 2 {
		t.Errorf("infer over TLS: %s %d %s, want HTTP/2 200 with output y", resp.Proto, resp.StatusCode, body)
	}
	if resp.TLS.Version < tls.VersionTLS12 {
		t.Errorf("TLS version %x, want 1.2 or later", resp.TLS.Version)
	}
	old := &tls.Config{RootCAs: ca.Pool, MaxVersion: tls.VersionTLS11}
	if _, _, err := httpsGet(ts.httpsAddr, "/v2/health/live", old); err == nil {
		t.Error("a TLS 1.1 client was served; want TLS 1.2 or later only")
	}

	// Plain HTTP to the TLS port gets Go's 400 ("Client sent an HTTP request to an HTTPS server"), never
	// an answer from a route.
	resp, err = http.Post("http://"+ts.httpsAddr+"/v2/models/linear/infer", "application/json", strings.NewReader(linearInferBody))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || strings.Contains(string(body), "outputs") {
		t.Errorf("plain HTTP to the TLS port: %d %s, want 400 and no inference", resp.StatusCode, body)
	}

	conn, err := grpc.NewClient(ts.grpcAddr, grpc.WithTransportCredentials(credentials.NewTLS(trust)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	in, flat := linearInput([][]float32{{1, 2, 3, 4}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := grpcpb.NewGRPCInferenceServiceClient(conn).ModelInfer(ctx, &grpcpb.ModelInferRequest{ModelName: "linear",
		Inputs: []*grpcpb.ModelInferRequest_InferInputTensor{in}, RawInputContents: [][]byte{rawFloat32s(flat)}}); err != nil {
		t.Errorf("gRPC over TLS: %v", err)
	}
	plain, err := grpc.NewClient(ts.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	_, err = healthpb.NewHealthClient(plain).Check(ctx, &healthpb.HealthCheckRequest{})
	wantCode(t, "plain-text gRPC to the TLS port", err, codes.Unavailable, "")
}

func TestMutualTLSRefusesClientsWithoutACertificateButNotTheHealthPort(t *testing.T) {
	ca := testpki.NewCA(t, "test CA")
	server := ca.Server(7, "")
	client := ca.Client(8, "")
	stranger := testpki.NewCA(t, "another CA").Client(9, "")
	ts := startTLS(t, Config{Sessions: 1, TLS: &TLSFiles{CertFile: server.CertFile, KeyFile: server.KeyFile, ClientCAFile: ca.CAFile}})

	withCert := &tls.Config{RootCAs: ca.Pool, Certificates: []tls.Certificate{client.Pair}}
	if code, _, err := httpsGet(ts.httpsAddr, "/v2/health/ready", withCert); err != nil || code != 200 {
		t.Errorf("a client with a certificate: %d %v, want 200", code, err)
	}
	for name, cfg := range map[string]*tls.Config{
		"no client certificate":               {RootCAs: ca.Pool},
		"a certificate from an unknown CA":    {RootCAs: ca.Pool, Certificates: []tls.Certificate{stranger.Pair}},
		"no certificate, TLS 1.2 handshaking": {RootCAs: ca.Pool, MaxVersion: tls.VersionTLS12},
	} {
		if code, _, err := httpsGet(ts.httpsAddr, "/v2/health/ready", cfg); err == nil {
			t.Errorf("%s: answered %d, want the handshake refused", name, code)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for name, cfg := range map[string]*tls.Config{"with a client certificate": withCert, "without": {RootCAs: ca.Pool}} {
		conn, err := grpc.NewClient(ts.grpcAddr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
		if err != nil {
			t.Fatal(err)
		}
		_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		conn.Close()
		if (err == nil) != (cfg == withCert) {
			t.Errorf("gRPC %s: error %v", name, err)
		}
	}

	// The health port answers probes in plain text, and nothing else.
	for path, want := range map[string]int{"/v2/health/live": 200, "/v2/health/ready": 200, "/v2/models/linear": 404, "/metrics": 404} {
		resp, err := http.Get("http://" + ts.healthAddr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("health port GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	probe, err := grpc.NewClient(ts.healthAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	got, err := healthpb.NewHealthClient(probe).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || got.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("gRPC health on the health port: %v %v, want SERVING", got, err)
	}
	in, _ := linearInput([][]float32{{1, 2, 3, 4}})
	_, err = grpcpb.NewGRPCInferenceServiceClient(probe).ModelInfer(ctx, &grpcpb.ModelInferRequest{ModelName: "linear", Inputs: []*grpcpb.ModelInferRequest_InferInputTensor{in}})
	wantCode(t, "ModelInfer on the health port", err, codes.Unimplemented, "")
}

// syncLog collects Config.Logf lines.
type syncLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *syncLog) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, strings.TrimSpace(fmt.Sprintf(format, args...)))
}

func (l *syncLog) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// swapSecret lays out dir as the kubelet does a Secret volume, tls.crt -> ..data/tls.crt and ..data ->
// version, and points ..data at version by the kubelet's atomic rename of a new symlink over it.
func swapSecret(t *testing.T, dir, version string) {
	t.Helper()
	tmp := filepath.Join(dir, "..data_tmp")
	if err := os.Symlink(version, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"tls.crt", "tls.key"} {
		link := filepath.Join(dir, name)
		if _, err := os.Lstat(link); errors.Is(err, os.ErrNotExist) {
			if err := os.Symlink(filepath.Join("..data", name), link); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func writeSecretVersion(t *testing.T, ca *testpki.CA, dir, version string, serial int64) {
	t.Helper()
	vdir := filepath.Join(dir, version)
	if err := os.Mkdir(vdir, 0o700); err != nil {
		t.Fatal(err)
	}
	ca.Server(serial, vdir)
}

func TestTLSReloadsACertificateSwappedByASymlinkRename(t *testing.T) {
	ca := testpki.NewCA(t, "test CA")
	secret := t.TempDir()
	writeSecretVersion(t, ca, secret, "..v1", 1)
	swapSecret(t, secret, "..v1")
	var log syncLog
	ts := startTLS(t, Config{Sessions: 1, Logf: log.logf, TLS: &TLSFiles{
		CertFile: filepath.Join(secret, "tls.crt"), KeyFile: filepath.Join(secret, "tls.key"), CheckInterval: time.Millisecond}})
	trust := &tls.Config{RootCAs: ca.Pool}
	serialNow := func() string {
		t.Helper()
		code, serial, err := httpsGet(ts.httpsAddr, "/v2/health/live", trust)
		if err != nil || code != 200 {
			t.Fatalf("GET over TLS: %d %v", code, err)
		}
		return serial
	}
	if got := serialNow(); got != "1" {
		t.Fatalf("first certificate: serial %s, want 1", got)
	}

	writeSecretVersion(t, ca, secret, "..v2", 2)
	swapSecret(t, secret, "..v2")
	time.Sleep(5 * time.Millisecond) // past CheckInterval
	if got := serialNow(); got != "2" {
		t.Errorf("after the symlink swap: serial %s, want 2", got)
	}

	// A broken version (a key that is not PEM) is logged and the last good certificate kept.
	broken := filepath.Join(secret, "..v3")
	writeSecretVersion(t, ca, secret, "..v3", 3)
	if err := os.WriteFile(filepath.Join(broken, "tls.key"), []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	swapSecret(t, secret, "..v3")
	time.Sleep(5 * time.Millisecond)
	if got := serialNow(); got != "2" {
		t.Errorf("after swapping in a broken key: serial %s, want the previous 2", got)
	}
	if !strings.Contains(log.text(), "still serving the previous certificate") {
		t.Errorf("the failed reload was not logged; log:\n%s", log.text())
	}
}

func TestTLSConfigErrors(t *testing.T) {
	ca := testpki.NewCA(t, "test CA")
	server := ca.Server(7, "")
	certFile, keyFile := server.CertFile, server.KeyFile
	m := newModel(t, "linear", linearGraph(), Config{Sessions: 1})
	defer m.Close()
	for name, c := range map[string]struct {
		files TLSFiles
		want  string
	}{
		"no key":          {TLSFiles{CertFile: certFile}, "needs both a certificate file and a key file"},
		"missing file":    {TLSFiles{CertFile: certFile + ".gone", KeyFile: keyFile}, "no such file"},
		"key of no cert":  {TLSFiles{CertFile: ca.CAFile, KeyFile: keyFile}, "private key does not match public key"},
		"CA with no cert": {TLSFiles{CertFile: certFile, KeyFile: keyFile, ClientCAFile: keyFile}, "no PEM certificate in it"},
	} {
		files := c.files
		if _, err := New(Config{TLS: &files}, m); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", name, err, c.want)
		}
	}
}
