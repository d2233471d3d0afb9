package main

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onnxrun/onnxrun/internal/testpki"
)

// --tls-cert, --tls-key and --tls-client-ca serve over mutual TLS: a client with a certificate gets the
// model's metadata, one without is refused, and --health-port answers the probes in plain text.
func TestServeCommandMutualTLSAndHealthPort(t *testing.T) {
	model, _ := lenet(t)
	ca := testpki.NewCA(t, "test CA")
	server, client := ca.Server(2, ""), ca.Client(3, "")
	port := freePort(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	health, _, done := startServeCommand(t, ctx, []string{"--host", "127.0.0.1", "--http-port", strconv.Itoa(port), "--health-port", "0",
		"--tls-cert", server.CertFile, "--tls-key", server.KeyFile, "--tls-client-ca", ca.CAFile, "lenet=" + model},
		"health probes (plain text) on ", "\n")
	main := "https://127.0.0.1:" + strconv.Itoa(port)

	get := func(url string, cfg *tls.Config) (int, error) {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}
		resp, err := c.Get(url)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	if code, err := get(main+"/v2/models/lenet", &tls.Config{RootCAs: ca.Pool, Certificates: []tls.Certificate{client.Pair}}); err != nil || code != 200 {
		t.Errorf("metadata with a client certificate: %d %v, want 200", code, err)
	}
	if code, err := get(main+"/v2/health/ready", &tls.Config{RootCAs: ca.Pool}); err == nil {
		t.Errorf("a client without a certificate got %d, want the handshake refused", code)
	}
	if code, err := get(health+"/v2/health/ready", nil); err != nil || code != 200 {
		t.Errorf("the plain-text health port: %d %v, want 200", code, err)
	}
	if code, err := get(health+"/v2/models/lenet", nil); err != nil || code != 404 {
		t.Errorf("metadata on the health port: %d %v, want 404", code, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}

// freePort is a loopback port free a moment ago, for a flag that must name it before the server starts.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestServeCommandTLSErrors(t *testing.T) {
	model, _ := lenet(t)
	ca := testpki.NewCA(t, "test CA")
	server := ca.Server(2, "")
	tests := []struct {
		name   string
		args   []string
		status int
		want   string
	}{
		{"cert without key", []string{"serve", "--tls-cert", server.CertFile, model}, exitUsage, "--tls-cert and --tls-key go together"},
		{"client CA without cert", []string{"serve", "--tls-client-ca", ca.CAFile, model}, exitUsage, "--tls-client-ca needs --tls-cert and --tls-key"},
		{"bad health port", []string{"serve", "--health-port", "-2", model}, exitUsage, "--health-port must be 0 to 65535 (or -1 for none), got -2"},
		{"key of another certificate", []string{"serve", "--http-port", "0", "--tls-cert", ca.CAFile, "--tls-key", server.KeyFile, model}, exitError, "private key does not match public key"},
		{"client CA that is no PEM", []string{"serve", "--http-port", "0", "--tls-cert", server.CertFile, "--tls-key", server.KeyFile, "--tls-client-ca", server.KeyFile, model}, exitError, "no PEM certificate in it"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, _, stderr := runCLI(tc.args...)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q lacks %q", stderr, tc.want)
			}
		})
	}
}
