package serve

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/onnxrun/onnxrun/internal/testpki"
	"github.com/onnxrun/onnxrun/serve/grpcpb"
)

// hostileRequest is one kind of request from RELIABILITY.md's table, with the check of its documented answer.
type hostileRequest struct {
	what string
	send func() error // nil when the answer was the documented one
}

// The server keeps answering valid requests, over HTTPS and gRPC with TLS, while every kind of hostile
// request in RELIABILITY.md's table arrives at the same time, each getting its documented refusal, and idle
// connections sit open.
func TestValidRequestsAreServedWhileHostileOnesArrive(t *testing.T) {
	base, models := repositoryWithAnOutside(t)
	ca := testpki.NewCA(t, "test CA")
	server := ca.Server(9, "")
	// The requests go to scale, from the model folder, which takes this Config: a queue with room for every
	// client of the test, so that a 503 would be the hostile requests' doing, not the load's.
	ts := startTLS(t, Config{Sessions: 2, QueueSize: 64, MaxQueueDelay: time.Minute, ModelDir: models, ModelControl: true, AuthInfer: true, MaxBodyBytes: 16 << 10,
		AuthTokenFile: tokenFileFor(t, testToken), TLS: &TLSFiles{CertFile: server.CertFile, KeyFile: server.KeyFile}})
	symlink(t, filepath.Join(base, "outside", "secret.onnx"), filepath.Join(models, "evil.onnx"))
	trust := &tls.Config{RootCAs: ca.Pool}
	httpsClient := &http.Client{Transport: &http.Transport{TLSClientConfig: trust, ForceAttemptHTTP2: true}, Timeout: 30 * time.Second}
	bearer := "Bearer " + testToken

	post := func(path, authorization, body string) (int, string, error) {
		req, err := http.NewRequest("POST", "https://"+ts.httpsAddr+path, strings.NewReader(body))
		if err != nil {
			return 0, "", err
		}
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		resp, err := httpsClient.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(data), err
	}
	wantHTTP := func(path, authorization, body string, want int, wantMsg string) func() error {
		return func() error {
			status, got, err := post(path, authorization, body)
			if err != nil {
				return err
			}
			if status != want || !strings.Contains(got, wantMsg) {
				return fmt.Errorf("%d %s, want %d with %q", status, got, want, wantMsg)
			}
			return nil
		}
	}
	grpcConn := func(creds credentials.TransportCredentials) *grpc.ClientConn {
		conn, err := grpc.NewClient(ts.grpcAddr, grpc.WithTransportCredentials(creds))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	grpcClient := grpcpb.NewGRPCInferenceServiceClient(grpcConn(credentials.NewTLS(trust)))
	plainHealth := healthpb.NewHealthClient(grpcConn(insecure.NewCredentials()))
	scaleInput := func(rows int) *grpcpb.ModelInferRequest {
		in := &grpcpb.ModelInferRequest_InferInputTensor{Name: "x", Datatype: "FP32", Shape: []int64{int64(rows), 2}}
		return &grpcpb.ModelInferRequest{ModelName: "scale", Inputs: []*grpcpb.ModelInferRequest_InferInputTensor{in}, RawInputContents: [][]byte{make([]byte, rows*2*4)}}
	}
	validGRPC, oversizedGRPC := scaleInput(1), scaleInput(4000)
	withToken := func(ctx context.Context) context.Context {
		return metadata.AppendToOutgoingContext(ctx, "authorization", bearer)
	}
	wantGRPC := func(err error, want codes.Code) error {
		if st, _ := status.FromError(err); st.Code() != want {
			return fmt.Errorf("%v, want %v", err, want)
		}
		return nil
	}

	hostile := []hostileRequest{
		{"traversal name ../x, escaped", wantHTTP("/v2/repository/models/%2e%2e%2foutside%2fsecret/load", bearer, "", 400, "plain file name")},
		{"traversal name %2e%2e/x", wantHTTP("/v2/repository/models/%2e%2e/outside/secret/load", bearer, "", 404, "no route")},
		{"absolute name", wantHTTP("/v2/repository/models/%2Fetc%2Fpasswd/load", bearer, "", 400, "plain file name")},
		{"symlink out of the model folder", wantHTTP("/v2/repository/models/evil/load", bearer, "", 400, "symlink leading outside the model folder")},
		{"load without a token", wantHTTP("/v2/repository/models/scale/unload", "", "", 401, "needs a bearer token")},
		{"infer with a wrong token", wantHTTP("/v2/models/scale/infer", "Bearer wrong", scaleRequest, 401, "not the server's")},
		{"an element count that overflows", wantHTTP("/v2/models/scale/infer", bearer,
			`{"inputs":[{"name":"x","shape":[4611686018427387904,2],"datatype":"FP32","data":[1,2]}]}`, 400, "out of range")},
		{"a body over the limit", wantHTTP("/v2/models/scale/infer", bearer, strings.Repeat(" ", 17<<10), 413, "over the limit")},
		{"plain HTTP to the TLS port", func() error {
			resp, err := http.Post("http://"+ts.httpsAddr+"/v2/models/scale/infer", "application/json", strings.NewReader(scaleRequest))
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				return fmt.Errorf("%d, want 400", resp.StatusCode)
			}
			return nil
		}},
		{"plain gRPC to the TLS port", func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := plainHealth.Check(ctx, &healthpb.HealthCheckRequest{})
			return wantGRPC(err, codes.Unavailable)
		}},
		{"gRPC without a token", func() error {
			_, err := grpcClient.ModelInfer(context.Background(), validGRPC)
			return wantGRPC(err, codes.Unauthenticated)
		}},
		{"an oversized gRPC message", func() error {
			_, err := grpcClient.ModelInfer(withToken(context.Background()), oversizedGRPC)
			return wantGRPC(err, codes.ResourceExhausted)
		}},
	}

	// Idle connections held open for the whole test (TestIdleConnectionsDoNotStopService holds 5,000).
	for range 200 {
		conn, err := net.Dial("tcp", ts.httpsAddr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
	}

	done := make(chan struct{})
	var wg sync.WaitGroup
	var hostileSent atomic.Int64
	for _, h := range hostile {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for first := true; first || !closed(done); first = false {
				if err := h.send(); err != nil {
					t.Errorf("%s: %v", h.what, err)
					return
				}
				hostileSent.Add(1)
			}
		}()
	}
	const validClients, validEach = 4, 25
	var valid sync.WaitGroup
	var answered atomic.Int64
	for c := range validClients {
		valid.Add(1)
		go func() {
			defer valid.Done()
			for range validEach {
				var err error
				if c%2 == 0 {
					err = wantHTTP("/v2/models/scale/infer", bearer, scaleRequest, 200, `"data":[1,2]`)()
				} else {
					_, err = grpcClient.ModelInfer(withToken(context.Background()), validGRPC)
				}
				if err != nil {
					t.Errorf("a valid request while hostile ones arrive: %v", err)
					return
				}
				answered.Add(1)
			}
		}()
	}
	valid.Wait()
	close(done)
	wg.Wait()
	if answered.Load() != validClients*validEach {
		t.Errorf("%d of %d valid requests answered", answered.Load(), validClients*validEach)
	}
	if n := hostileSent.Load(); n < int64(len(hostile)) {
		t.Errorf("only %d hostile requests were answered as documented", n)
	}
	t.Logf("%d valid requests answered, %d hostile ones refused as documented", answered.Load(), hostileSent.Load())
	if ts.reg.isServing("evil") || ts.reg.isServing("secret") || !ts.reg.isServing("scale") {
		t.Error("a hostile request changed what is served")
	}
}

func closed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
