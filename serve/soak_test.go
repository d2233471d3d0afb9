package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onnxrun/onnxrun/serve/internal/loadgen"
)

// soakRequests mixes the workload's valid requests with malformed ones, one malformed in every five:
// broken JSON, an unknown input, a wrong datatype, a shape that does not fit, data shorter than the shape,
// a body over the size limit.
func soakRequests(w workload, maxBody int) []loadgen.Request {
	var valid []loadgen.Request
	for _, c := range w.cases {
		check := c.check
		valid = append(valid, loadgen.Request{Body: c.body, Valid: true, Check: func(body []byte) error {
			var out InferResponse
			if err := json.Unmarshal(body, &out); err != nil {
				return err
			}
			return check(&out)
		}})
	}
	var input RequestInput
	var req InferRequest
	if err := json.Unmarshal(w.cases[0].body, &req); err == nil && len(req.Inputs) == 1 {
		input = req.Inputs[0]
	}
	mutate := func(f func(in *RequestInput)) []byte {
		in := input
		f(&in)
		body, _ := json.Marshal(InferRequest{Inputs: []RequestInput{in}})
		return body
	}
	malformed := [][]byte{
		[]byte(`{"inputs": [`),
		mutate(func(in *RequestInput) { in.Name = "no_such_input" }),
		mutate(func(in *RequestInput) { in.Datatype = "INT64" }),
		mutate(func(in *RequestInput) { in.Shape = append([]int64{3}, in.Shape[1:]...) }),
		mutate(func(in *RequestInput) { in.Data = json.RawMessage(`[1, 2, 3]`) }),
		[]byte(`{"inputs":[` + strings.Repeat(" ", maxBody) + `]}`),
	}
	var mixed []loadgen.Request
	for i := range 5 * len(malformed) {
		if i%5 == 4 {
			mixed = append(mixed, loadgen.Request{Body: malformed[i/5]})
		} else {
			mixed = append(mixed, valid[i%len(valid)])
		}
	}
	return mixed
}

// TestSoak sends 20,000 requests from 64 concurrent clients over loopback, a fifth of them malformed,
// with the queue sized for the clients: every valid request must be answered 200 with the right class (a
// 503 retried after its Retry-After counts), every malformed one 4xx, and the process's resident memory
// after the run must stay within twice what it was after a warm-up of 2,000 requests in the same test.
// make test runs a tenth of it (2,000 requests, a few seconds even under the race detector); the full
// 20,000 run with ONNXRUN_SOAK=1 (`make soak`, in CI, which prints its figures for RELIABILITY.md).
func TestSoak(t *testing.T) {
	total, clients := 20000, 64
	if os.Getenv("ONNXRUN_SOAK") != "1" {
		total = 2000
	}
	if v, err := strconv.Atoi(os.Getenv("ONNXRUN_SOAK_REQUESTS")); err == nil && v > 0 {
		total = v
	}
	w := lenetWorkload(t, false)
	const maxBody = 256 << 10
	// The queue holds every client and the delay budget does not refuse them: the soak tests that all are
	// answered, not how admission sheds load (admission_test.go does).
	cfg := Config{MaxBatch: 8, QueueSize: clients, MaxQueueDelay: time.Minute, MaxBodyBytes: maxBody}
	ts := startServer(t, cfg, w.load(cfg))
	opts := loadgen.Options{URL: ts.url + "/v2/models/" + w.name + "/infer", Requests: soakRequests(w, maxBody),
		Clients: clients, Retry: true, RetryScale: 1, MaxRetries: 10}

	opts.Total = total / 10
	warm := loadgen.Run(context.Background(), opts)
	if warm.Failures > 0 {
		t.Fatalf("warm-up: %s; first failure: %s", warm, warm.FirstFailure)
	}
	debug.FreeOSMemory()
	before, haveMemory := loadgen.ReadMemory()

	opts.Total = total
	res := loadgen.Run(context.Background(), opts)
	debug.FreeOSMemory()
	after, _ := loadgen.ReadMemory()

	t.Logf("soak: %s, %d clients: %s", w.name, clients, res)
	if haveMemory {
		t.Logf("soak: resident memory after warm-up %s, after the soak %s (peak %s)", loadgen.MiB(before.RSS), loadgen.MiB(after.RSS), loadgen.MiB(after.HWM))
	}
	fmt.Printf("| %s | %d | %d | %.0f | %v | %v | %d | %d | %s | %s |\n", w.name, res.Sent, clients, res.Throughput(),
		res.Percentile(0.5).Round(10e3), res.Percentile(0.99).Round(10e3), res.Retries, res.ClientErrors,
		loadgen.MiB(before.RSS), loadgen.MiB(after.RSS))
	if res.Failures > 0 || res.Refused > 0 {
		t.Errorf("%d wrong answers, %d valid requests refused after %d retries; first failure: %s", res.Failures, res.Refused, opts.MaxRetries, res.FirstFailure)
	}
	if want := res.Sent / 5; res.ClientErrors != want {
		t.Errorf("%d requests got a 4xx, want the %d malformed ones", res.ClientErrors, want)
	}
	if haveMemory && after.RSS > 2*before.RSS {
		t.Errorf("resident memory grew from %s after the warm-up to %s after ten times as many requests", loadgen.MiB(before.RSS), loadgen.MiB(after.RSS))
	}
}
