package serve

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/serve/grpcpb"
)

// holdSessions takes every session of m's pool, so that requests queue; the returned function gives them back.
func holdSessions(t *testing.T, m *Model) (release func()) {
	t.Helper()
	var held []*pooledSession
	for range cap(m.pool.slots) {
		ps, err := m.pool.acquire(context.Background(), "")
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, ps)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			for _, ps := range held {
				m.pool.release(ps, "")
			}
		})
	}
	t.Cleanup(release)
	return release
}

// waitForQueue waits until n requests wait for m (they were sent from other goroutines).
func waitForQueue(t *testing.T, m *Model, n int64) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); m.queue.waiting.Load() != n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests wait for model %q, want %d", m.queue.waiting.Load(), m.name, n)
		}
	}
}

const linearBody = `{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}],"outputs":[{"name":"cls"}]}`

// With its one session busy and its queue of two full, the model refuses a third request at once with 503
// and Retry-After, the queue gauge shows the two waiting, the rejected counter the one refused; once the
// session is free the two waiting are answered.
func TestFullQueueRefusesWith503(t *testing.T) {
	cfg := Config{Sessions: 1, QueueSize: 2}
	m := newModel(t, "linear", linearGraph(), cfg)
	ts := startServer(t, cfg, m)
	release := holdSessions(t, m)

	statuses := make(chan int, 2)
	for range 2 {
		go postLinear(ts.url, statuses)
	}
	waitForQueue(t, m, 2)

	req, _ := http.NewRequest("POST", ts.url+"/v2/models/linear/infer", strings.NewReader(linearBody))
	status, header, body := send(t, req)
	if status != http.StatusServiceUnavailable || !strings.Contains(string(body), "queue of 2 waiting requests is full") {
		t.Errorf("third request: status %d, body %s; want 503 naming the full queue", status, body)
	}
	if seconds, err := strconv.Atoi(header.Get("Retry-After")); err != nil || seconds < 1 {
		t.Errorf("Retry-After %q, want a whole number of seconds >= 1", header.Get("Retry-After"))
	}
	metrics := ts.scrape(t)
	for _, line := range []string{
		`onnxrun_queue_size{model="linear"} 2`,
		`onnxrun_queue_capacity{model="linear"} 2`,
		`onnxrun_rejected_requests_total{model="linear",reason="queue_full"} 1`,
		`onnxrun_requests_total{endpoint="infer",model="linear",code="503"} 1`,
	} {
		if !strings.Contains(metrics, line+"\n") {
			t.Errorf("metrics lack %q:\n%s", line, metrics)
		}
	}

	release()
	for range 2 {
		if s := <-statuses; s != http.StatusOK {
			t.Errorf("a queued request got %d, want 200", s)
		}
	}
	if n := m.queue.waiting.Load(); n != 0 {
		t.Errorf("%d requests still counted as waiting after all were answered", n)
	}
}

// A refused request is refused before its body is read: a body far over the size limit still gets 503, not
// 413, because nothing of it was read.
func TestFullQueueRefusesBeforeReadingTheBody(t *testing.T) {
	cfg := Config{Sessions: 1, QueueSize: 1, MaxBodyBytes: 1 << 10}
	m := newModel(t, "linear", linearGraph(), cfg)
	ts := startServer(t, cfg, m)
	release := holdSessions(t, m)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := http.Post(ts.url+"/v2/models/linear/infer", "application/json", strings.NewReader(linearBody)); err == nil {
			resp.Body.Close()
		}
	}()
	waitForQueue(t, m, 1)
	big := strings.Repeat(" ", 1<<20) + linearBody
	status, _, body := ts.do(t, "POST", "/v2/models/linear/infer", big)
	if status != http.StatusServiceUnavailable {
		t.Errorf("a large request to a full queue: status %d (%s), want 503", status, body)
	}
	release()
	<-done
}

// Over gRPC a full queue is RESOURCE_EXHAUSTED, with the retry hint in the message and the trailer.
func TestGRPCFullQueueIsResourceExhausted(t *testing.T) {
	cfg := Config{Sessions: 1, QueueSize: 1}
	m := newModel(t, "linear", linearGraph(), cfg)
	ts := startGRPC(t, cfg, m)
	release := holdSessions(t, m)
	infer := func(opts ...grpc.CallOption) error {
		_, err := ts.client.ModelInfer(context.Background(), &grpcpb.ModelInferRequest{ModelName: "linear",
			Inputs: []*grpcpb.ModelInferRequest_InferInputTensor{{Name: "x", Datatype: "FP32", Shape: []int64{1, 4},
				Contents: &grpcpb.InferTensorContents{Fp32Contents: []float32{1, 2, 3, 4}}}}}, opts...)
		return err
	}
	first := make(chan error, 1)
	go func() { first <- infer() }()
	waitForQueue(t, m, 1)
	var trailer metadata.MD
	err := infer(grpc.Trailer(&trailer))
	wantCode(t, "a call to a full queue", err, codes.ResourceExhausted, "retry after")
	if v := trailer.Get(trailerRetryAfter); len(v) != 1 {
		t.Errorf("trailer %s = %v, want one value", trailerRetryAfter, v)
	} else if seconds, err := strconv.Atoi(v[0]); err != nil || seconds < 1 {
		t.Errorf("trailer %s = %q, want a whole number of seconds >= 1", trailerRetryAfter, v[0])
	}
	release()
	if err := <-first; err != nil {
		t.Errorf("the queued call: %v", err)
	}
}

// Retry-After is the queue's length times the service time per request over the sessions, rounded up,
// within [1, 60].
func TestRetryAfterFollowsTheServiceRate(t *testing.T) {
	a := newAdmission(100, 2, time.Hour)
	for range 10 {
		a.observeRun(2*time.Second, 2) // a batch of two a second per session: two sessions serve two a second
	}
	for _, c := range []struct {
		waiting int64
		want    int
	}{{0, 1}, {1, 1}, {5, 3}, {40, 20}, {1000, maxRetryAfter}} {
		a.waiting.Store(c.waiting)
		if got := a.retryAfter(); got != c.want {
			t.Errorf("%d waiting at 2 requests/s: Retry-After %d, want %d", c.waiting, got, c.want)
		}
	}
}

// A client's Request-Timeout header, or Triton's timeout parameter, ends its request with 504 while it waits
// for a busy session, long before the server's own timeout; malformed values are 400.
func TestClientTimeout(t *testing.T) {
	cfg := Config{Sessions: 1, RequestTimeout: time.Hour}
	m := newModel(t, "linear", linearGraph(), cfg)
	ts := startServer(t, cfg, m)
	release := holdSessions(t, m)
	defer release()
	withParameter := strings.Replace(linearBody, `{"inputs"`, `{"parameters":{"timeout":50000},"inputs"`, 1)
	for _, c := range []struct {
		what, header, body string
		status             int
		msg                string
	}{
		{"header as a duration", "50ms", linearBody, http.StatusGatewayTimeout, "timed out"},
		{"header in seconds", "0.05", linearBody, http.StatusGatewayTimeout, "timed out"},
		{"Triton's parameter", "", withParameter, http.StatusGatewayTimeout, "timed out"},
		{"a header that is no duration", "soon", linearBody, http.StatusBadRequest, "neither a duration"},
		{"a negative header", "-1s", linearBody, http.StatusBadRequest, "not a positive timeout"},
		{"a fractional parameter", "", strings.Replace(withParameter, "50000", "0.5", 1), http.StatusBadRequest, "whole number of microseconds"},
	} {
		req, _ := http.NewRequest("POST", ts.url+"/v2/models/linear/infer", strings.NewReader(c.body))
		if c.header != "" {
			req.Header.Set(HeaderRequestTimeout, c.header)
		}
		status, _, body := send(t, req)
		if status != c.status || !strings.Contains(string(body), c.msg) {
			t.Errorf("%s: status %d %s, want %d with %q", c.what, status, body, c.status, c.msg)
		}
	}
}

// In a dynamic batch shared by three clients, the one that gives up while the batch waits for a session
// gets its context's error and the other two their own rows, computed in a batch of two without its row.
func TestCancelledClientLeavesItsBatch(t *testing.T) {
	// Three rows fill the batch, which then waits for the session the test holds: which requests share it
	// is certain, and the delay (an hour) never runs it early.
	cfg := Config{MaxBatch: 3, MaxBatchDelay: time.Hour, Sessions: 1}
	m := newModel(t, "linear", linearGraph(), cfg)
	ts := startServer(t, cfg, m)
	release := holdSessions(t, m) // the batch waits for the session, its jobs all submitted
	rows := [][]float32{{1, 0, 0, 0}, {0, 5, 0, 0}, {0, 0, 9, 1}}
	type result struct {
		outs []*ops.Tensor
		err  error
	}
	results := make([]chan result, len(rows))
	var cancelSecond context.CancelFunc
	for i, x := range rows {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		if i == 1 {
			cancelSecond = cancel
		}
		admitted, leave, err := m.admit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		results[i] = make(chan result, 1)
		go func() {
			defer leave()
			r := &request{inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{1, 4}, x)}, want: []int{0, 1}}
			outs, err := m.run(admitted, r)
			results[i] <- result{outs, err}
		}()
	}
	waitForQueue(t, m, 3)
	for deadline := time.Now().Add(30 * time.Second); m.pool.waiters.Load() != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the full batch never asked the pool for a session")
		}
	}
	cancelSecond()
	if res := <-results[1]; res.err != context.Canceled {
		t.Errorf("the cancelled client got %v, want context.Canceled", res.err)
	}
	release()
	for _, i := range []int{0, 2} {
		res := <-results[i]
		if res.err != nil {
			t.Errorf("client %d: %v", i, res.err)
			continue
		}
		wantY, wantCls := linearRow(rows[i])
		if got := res.outs[0].Float32s(); fmt.Sprint(got) != fmt.Sprint(wantY) || res.outs[1].Int64s()[0] != wantCls {
			t.Errorf("client %d: y = %v, cls = %v; want %v, %d", i, got, res.outs[1].Int64s(), wantY, wantCls)
		}
	}
	metrics := ts.scrape(t)
	if !strings.Contains(metrics, `onnxrun_batch_size_sum{model="linear"} 2`+"\n") {
		t.Errorf("the batch did not run the two remaining rows alone:\n%s", metrics)
	}
}

// Without a queue size, a model's queue holds two rounds of what its sessions run at once; a model's
// own setting (NAME.json's queue_size through ModelSettings.Apply) replaces it.
func TestDefaultQueueSize(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want int
	}{
		{Config{Sessions: 3}, 2 * 3},
		{Config{Sessions: 3, MaxBatch: 4}, 2 * 3 * 4},
		{Config{Sessions: 3, MaxBatch: 4, QueueSize: 5}, 5},
	} {
		if got := newModel(t, "linear", linearGraph(), c.cfg).QueueSize(); got != c.want {
			t.Errorf("%+v: queue size %d, want %d", c.cfg, got, c.want)
		}
	}
	queueSize := 7
	if got := newModel(t, "linear", linearGraph(), ModelSettings{QueueSize: &queueSize}.Apply(Config{Sessions: 3})).QueueSize(); got != 7 {
		t.Errorf("queue_size 7 in the model's settings: queue size %d", got)
	}
}

// postLinear posts linearBody to the linear model at url and sends the answer's status to statuses (0 when
// the request failed), for the tests that queue requests behind held sessions.
func postLinear(url string, statuses chan<- int) {
	resp, err := http.Post(url+"/v2/models/linear/infer", "application/json", strings.NewReader(linearBody))
	if err != nil {
		statuses <- 0
		return
	}
	resp.Body.Close()
	statuses <- resp.StatusCode
}
