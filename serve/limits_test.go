package serve

import (
	"bufio"
	"context"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/serve/grpcpb"
)

// cubeGraph passes a float32[A,B,C] input through, every dimension variable: a shape of any three
// dimensions fits it, so that only the element count can refuse one.
func cubeGraph() *exporter.Graph {
	b := exporter.NewGraph("cube")
	x := b.Input("x", f32, "A", "B", "C")
	b.Rename(b.Node("Identity", []string{x}, nil), "y")
	b.Output("y", f32, "A", "B", "C")
	return b
}

// A shape whose element count overflows, or passes Config.MaxElements, is refused from the shape alone
// (400, gRPC INVALID_ARGUMENT) by JSON, binary and gRPC requests alike; the limit counts all inputs.
func TestElementLimitAndOverflowingShapes(t *testing.T) {
	const limit = 10
	cfg := Config{Sessions: 1, MaxElements: limit}
	ts := startServer(t, cfg, newModel(t, "cube", cubeGraph(), cfg), newModel(t, "mymodel", exampleGraph(), cfg))
	gts := startGRPC(t, cfg, newModel(t, "cube", cubeGraph(), cfg))
	maxDim := int64(math.MaxInt32)
	tests := []struct {
		name  string
		shape []int64
		want  string // in the message; "" for a request that must pass
	}{
		{"within the limit", []int64{1, 2, 5}, ""},
		{"over the limit", []int64{1, 3, 4}, "shape [1,3,4] holds more elements than the request's limit of 10 allows"},
		{"a dimension of 2^62", []int64{1 << 62, 4, 1}, "dimension 0 of shape [4611686018427387904,4,1] is 4611686018427387904, out of range"},
		{"a product past int64", []int64{maxDim, maxDim, maxDim}, "shape [2147483647,2147483647,2147483647] holds more elements than fit in memory"},
		{"a product past the limit", []int64{maxDim, maxDim, 1}, "holds more elements than the request's limit of 10 allows"},
	}
	for _, tc := range tests {
		n := int64(1)
		for _, d := range tc.shape {
			n = min(n*d, 8) // the data sent: the real elements when they fit, else a few
		}
		if tc.want == "" {
			n = 10
		}
		data := strings.TrimSuffix(strings.Repeat("1,", int(n)), ",")
		dims := joinInts(tc.shape)
		status, _, body := ts.do(t, "POST", "/v2/models/cube/infer", `{"inputs":[{"name":"x","shape":[`+dims+`],"datatype":"FP32","data":[`+data+`]}]}`)
		checkRefusal(t, tc.name+" (JSON)", status, string(body), tc.want)

		raw := make([]byte, 4*n)
		header := `{"inputs":[{"name":"x","shape":[` + dims + `],"datatype":"FP32","parameters":{"binary_data_size":` + strconv.Itoa(len(raw)) + `}}]}`
		status, _, body = ts.postBinary(t, "/v2/models/cube/infer", header, raw, strconv.Itoa(len(header)))
		checkRefusal(t, tc.name+" (binary)", status, string(body), tc.want)

		_, err := gts.client.ModelInfer(context.Background(), &grpcpb.ModelInferRequest{ModelName: "cube",
			Inputs:           []*grpcpb.ModelInferRequest_InferInputTensor{{Name: "x", Datatype: "FP32", Shape: tc.shape}},
			RawInputContents: [][]byte{raw}})
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s (gRPC): %v", tc.name, err)
			}
		} else {
			wantCode(t, tc.name+" (gRPC)", err, codes.InvalidArgument, tc.want)
		}
	}
	// mymodel takes input0 [2,2] and input1 [3]: 7 elements, which pass a limit of 10 together.
	if status, _, body := ts.do(t, "POST", "/v2/models/mymodel/infer", exampleRequest); status != 200 {
		t.Errorf("two inputs of 7 elements in all: %d %s", status, body)
	}
	tight := Config{Sessions: 1, MaxElements: 6}
	ts6 := startServer(t, tight, newModel(t, "mymodel", exampleGraph(), tight))
	status, _, body := ts6.do(t, "POST", "/v2/models/mymodel/infer", exampleRequest)
	checkRefusal(t, "two inputs of 7 elements in all, limit 6", status, string(body), `shape [3] holds more elements than the request's limit of 6 allows (2 left for this input)`)
}

func joinInts(v []int64) string {
	parts := make([]string, len(v))
	for i, d := range v {
		parts[i] = strconv.FormatInt(d, 10)
	}
	return strings.Join(parts, ",")
}

func checkRefusal(t *testing.T, what string, status int, body, want string) {
	t.Helper()
	switch {
	case want == "" && status != 200:
		t.Errorf("%s: %d %s, want 200", what, status, body)
	case want != "" && (status != 400 || !strings.Contains(body, want)):
		t.Errorf("%s: %d %s, want 400 with %q", what, status, body, want)
	}
}

// Headers over the limit get 431 before any handler runs.
func TestHeadersOverTheLimit(t *testing.T) {
	ts := startServer(t, Config{Sessions: 1}, newModel(t, "linear", linearGraph(), Config{Sessions: 1}))
	req, err := http.NewRequest("GET", ts.url+"/v2/health/live", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Padding", strings.Repeat("a", 2*maxHeaderBytes))
	if status, _, _ := send(t, req); status != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("headers of %d bytes: %d, want 431", 2*maxHeaderBytes, status)
	}
}

// trickle writes msg to conn a byte at a time, every interval, and reports how many bytes it wrote before
// the server closed the connection (all of them if it never did). It reads the connection beside, so a
// close shows even while it sleeps.
func trickle(conn net.Conn, msg string, interval time.Duration) int {
	closed := make(chan struct{})
	go func() {
		io.Copy(io.Discard, bufio.NewReader(conn)) // until the server closes its side
		close(closed)
	}()
	for i := range len(msg) {
		if _, err := conn.Write([]byte{msg[i]}); err != nil {
			return i
		}
		select {
		case <-closed:
			return i + 1
		case <-time.After(interval):
		}
	}
	return len(msg)
}

// A client that sends its headers, or its body, a byte at a time is cut off by the read timeouts, and
// holds no session meanwhile: with one session, a valid request is answered while it trickles.
func TestSlowClientsAreCutOff(t *testing.T) {
	cfg := Config{Sessions: 1, ReadHeaderTimeout: 300 * time.Millisecond, ReadTimeout: 600 * time.Millisecond}
	ts := startServer(t, cfg, newModel(t, "linear", linearGraph(), cfg))
	addr := strings.TrimPrefix(ts.url, "http://")
	// At a byte every 50ms, each message takes seconds: far past the timeouts, so being cut off shows as
	// bytes left unsent.
	headers := "POST /v2/models/linear/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Slow: " + strings.Repeat("s", 60) + "\r\n"
	body := linearInferBody + strings.Repeat(" ", 60)
	slow := map[string]struct {
		head, trickled string
	}{
		"headers": {"", headers},
		"body":    {"POST /v2/models/linear/infer HTTP/1.1\r\nHost: x\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n", body},
	}
	for name, c := range slow {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(conn, c.head); err != nil {
			t.Fatal(err)
		}
		sent := make(chan int, 1)
		go func() { sent <- trickle(conn, c.trickled, 50*time.Millisecond) }()
		status, _, answer := ts.do(t, "POST", "/v2/models/linear/infer", linearInferBody)
		if status != 200 {
			t.Errorf("a valid request while a client trickles its %s: %d %s", name, status, answer)
		}
		if n := <-sent; n == len(c.trickled) {
			t.Errorf("a client trickling its %s sent all %d bytes: it was not cut off", name, n)
		}
		conn.Close()
	}
}

// Idle connections are closed after Config.IdleTimeout: an HTTP keep-alive connection by the server, a
// gRPC connection with a GOAWAY that sends the client back to IDLE.
func TestIdleConnectionsAreClosed(t *testing.T) {
	cfg := Config{Sessions: 1, IdleTimeout: 200 * time.Millisecond}
	ts := startServer(t, cfg, newModel(t, "linear", linearGraph(), cfg))
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(conn)
	resp, err := http.ReadResponse(rd, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	conn.SetReadDeadline(time.Now().Add(time.Minute)) // a guard against a hang, far past the timeout
	if _, err := rd.ReadByte(); err != io.EOF {
		t.Errorf("an idle keep-alive connection: read %v, want EOF (closed by the server)", err)
	}

	gts := startGRPC(t, cfg, newModel(t, "linear", linearGraph(), cfg))
	gconn, err := grpc.NewClient(gts.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer gconn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := healthpb.NewHealthClient(gconn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	for state := gconn.GetState(); state != connectivity.Idle; state = gconn.GetState() {
		if !gconn.WaitForStateChange(ctx, state) {
			t.Fatalf("the idle gRPC connection stayed %v", state)
		}
	}
}
