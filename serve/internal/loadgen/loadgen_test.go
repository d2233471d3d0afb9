package loadgen

import (
	"context"
	"net/http"
	"net/http/httptest"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/onnxrun/onnxrun/internal/testenv"
)

func TestOpenLoopSendsOnScheduleAndCountsBytes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Kind") == "busy" {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		w.Write([]byte("0123456789"))
	}))
	defer srv.Close()
	busy := http.Header{"X-Kind": {"busy"}}
	res := Run(context.Background(), Options{URL: srv.URL, Total: 40, Rate: 2000, Clients: 8,
		Requests: []Request{{Body: []byte("abc"), Valid: true}, {Body: []byte("abcd"), Header: busy, Valid: true}}})
	if res.Sent+res.OpenLoopDropped != 40 || res.Failures > 0 {
		t.Fatalf("%s %s", res, res.FirstFailure)
	}
	if len(res.SendLags) != res.Sent || res.SendLag(0.5) < 0 {
		t.Errorf("%d send lags for %d requests, median %v", len(res.SendLags), res.Sent, res.SendLag(0.5))
	}
	if res.OK+res.Refused != res.Sent || res.OK != len(res.Latencies) || res.Refused == 0 {
		t.Errorf("200s and 503s do not add up to the requests sent: %s", res)
	}
	if wantMin, wantMax := int64(3*res.Sent), int64(4*res.Sent); res.RequestBytes < wantMin || res.RequestBytes > wantMax {
		t.Errorf("request bytes %d, want between %d and %d", res.RequestBytes, wantMin, wantMax)
	}
	if res.ResponseBytes != int64(10*res.Sent) {
		t.Errorf("response bytes %d, want %d", res.ResponseBytes, 10*res.Sent)
	}
}

func TestSendReplacesHTTP(t *testing.T) {
	calls := 0
	res := Run(context.Background(), Options{Total: 5, Clients: 1, Requests: []Request{{Body: []byte("xy"), Valid: true}},
		Send: func(ctx context.Context, req Request) (int, []byte, error) {
			calls++
			return http.StatusOK, []byte("answer"), nil
		}})
	if calls != 5 || res.OK != 5 || res.RequestBytes != 10 || res.ResponseBytes != 30 {
		t.Errorf("%d calls, %s, %d bytes out, %d in", calls, res, res.RequestBytes, res.ResponseBytes)
	}
	res = Run(context.Background(), Options{Total: 1, Clients: 1, Requests: []Request{{Valid: true}}})
	if res.Failures != 1 || !strings.Contains(res.FirstFailure, "neither URL nor Send") {
		t.Errorf("without URL or Send: %s %s", res, res.FirstFailure)
	}
}

func TestMergeAddsRuns(t *testing.T) {
	a := &Result{Sent: 2, OK: 2, Elapsed: time.Second, RequestBytes: 5, Latencies: []time.Duration{1, 5}}
	b := &Result{Sent: 3, OK: 2, Refused: 1, Elapsed: time.Second, RequestBytes: 7, FirstFailure: "x", Latencies: []time.Duration{2, 9}}
	a.Merge(b)
	if a.Sent != 5 || a.OK != 4 || a.Refused != 1 || a.RequestBytes != 12 || a.Elapsed != 2*time.Second || a.FirstFailure != "x" {
		t.Errorf("merged: %+v", a)
	}
	if a.Throughput() != 2 || a.Percentile(0.5) != 2 || a.Percentile(1) != 9 {
		t.Errorf("merged throughput %v, p50 %v, p100 %v; want 2, 2, 9", a.Throughput(), a.Percentile(0.5), a.Percentile(1))
	}
}

func TestReadProcessCPUAndMemory(t *testing.T) {
	if goruntime.GOOS != "linux" {
		testenv.Missing(t, "/proc", "Linux's /proc/PID/stat and status are what these read")
	}
	if m, ok := ReadProcessMemory(0); !ok || m.RSS <= 0 || m.HWM < m.RSS {
		t.Errorf("this process's memory: %+v, %v", m, ok)
	}
	before, ok := ReadProcessCPU(0)
	if !ok {
		t.Fatal("this process's CPU time is unreadable")
	}
	// Spin until the ticks move: the count must grow with work done, whatever the machine's speed.
	deadline := time.Now().Add(10 * time.Second)
	sum := 0
	for after, _ := ReadProcessCPU(0); after <= before; after, _ = ReadProcessCPU(0) {
		if time.Now().After(deadline) {
			t.Fatalf("CPU time stuck at %v after 10s of spinning", before)
		}
		for i := range 1 << 20 {
			sum += i
		}
	}
	_ = sum
	if la := LoadAverage(); la == "unknown" || len(strings.Fields(la)) != 3 {
		t.Errorf("load average %q", la)
	}
}
