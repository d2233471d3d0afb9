// Package loadgen drives an inference server over HTTP the way production traffic does, for the soak test
// and the overload command: closed-loop clients (each sends its next request when the last is answered)
// or an open-loop arrival rate (requests arrive on schedule whether or not the server keeps up), valid and
// malformed requests mixed, and 503s retried after their Retry-After. It reports what an operator reads
// off a dashboard: requests per second, latency percentiles, statuses, retries, and the process's memory.
package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Request is one request body to send and what a correct answer is.
type Request struct {
	Body   []byte
	Header http.Header
	// Valid requests must be answered 200 (after retries); the others must get a 4xx.
	Valid bool
	// Check, when set, checks a 200 answer's body.
	Check func(body []byte) error
}

// Options set a run.
type Options struct {
	URL      string    // the infer endpoint
	Requests []Request // sent in turn, cycling
	Total    int       // requests to send (each counts once, however many times it is retried)
	// Duration, when above 0, stops a closed-loop run from starting requests after that long (Total
	// still bounds it); the requests in flight finish.
	Duration time.Duration
	Clients  int // closed loop: this many clients; open loop: the most requests in flight at once
	// Rate, when above 0, sends Total requests open-loop at this many per second; 0 is closed loop.
	Rate float64
	// Retry makes a 503 with Retry-After wait that long (scaled by RetryScale) and send again, up to
	// MaxRetries times; without it a 503 is final.
	Retry      bool
	RetryScale float64 // multiplies Retry-After's seconds (1 honours it; a test may shorten it)
	MaxRetries int
}

// Result summarises a run.
type Result struct {
	Sent, OK, ClientErrors, Refused, Retries, Failures int
	// OpenLoopDropped counts arrivals not sent because Clients requests were already in flight: the
	// generator's own limit, not the server's answer.
	OpenLoopDropped int
	FirstFailure    string
	Elapsed         time.Duration
	// Latencies of the requests answered 200 (from the first send, retries included), sorted.
	Latencies []time.Duration
}

// Percentile is the latency below which a fraction p of the answered requests fall.
func (r *Result) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(float64(len(r.Latencies))*p+0.999999) - 1
	return r.Latencies[min(max(i, 0), len(r.Latencies)-1)]
}

// Throughput is the requests answered 200 per second.
func (r *Result) Throughput() float64 { return float64(r.OK) / r.Elapsed.Seconds() }

// String is one line with every figure, for logs and RELIABILITY.md.
func (r *Result) String() string {
	return fmt.Sprintf("%d requests in %v: %.0f answered/s, p50 %v, p99 %v; 200: %d, 4xx: %d, 503 (final): %d, retries after 503: %d, failures: %d, not sent (generator limit): %d",
		r.Sent, r.Elapsed.Round(time.Millisecond), r.Throughput(), r.Percentile(0.5).Round(time.Microsecond),
		r.Percentile(0.99).Round(time.Microsecond), r.OK, r.ClientErrors, r.Refused, r.Retries, r.Failures, r.OpenLoopDropped)
}

// Run sends the requests and checks every answer: a valid request must end 200 (and pass Check), a
// malformed one 4xx; anything else is a failure, counted and the first one kept.
func Run(ctx context.Context, o Options) *Result {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.Clients, MaxConnsPerHost: o.Clients, DisableCompression: true}}
	defer client.CloseIdleConnections()
	var (
		mu  sync.Mutex
		res = &Result{Latencies: make([]time.Duration, 0, o.Total)}
	)
	record := func(f func(*Result)) {
		mu.Lock()
		f(res)
		mu.Unlock()
	}
	one := func(i int) {
		req := o.Requests[i%len(o.Requests)]
		start := time.Now()
		status, retries, body, err := send(ctx, client, o, req)
		latency := time.Since(start)
		if err == nil {
			err = judge(req, status, body)
		}
		record(func(r *Result) {
			r.Sent++
			r.Retries += retries
			switch {
			case err != nil:
				r.Failures++
				if r.FirstFailure == "" {
					r.FirstFailure = fmt.Sprintf("request %d: %v", i, err)
				}
			case status == http.StatusOK:
				r.OK++
				r.Latencies = append(r.Latencies, latency)
			case status == http.StatusServiceUnavailable:
				r.Refused++
			default:
				r.ClientErrors++
			}
		})
	}

	start := time.Now()
	var wg sync.WaitGroup
	if o.Rate <= 0 {
		var next atomic.Int64
		for range o.Clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := int(next.Add(1)) - 1; i < o.Total && ctx.Err() == nil; i = int(next.Add(1)) - 1 {
					if o.Duration > 0 && time.Since(start) > o.Duration {
						return
					}
					one(i)
				}
			}()
		}
	} else {
		inFlight := make(chan struct{}, o.Clients)
		interval := time.Duration(float64(time.Second) / o.Rate)
		for i := 0; i < o.Total && ctx.Err() == nil; i++ {
			if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
				time.Sleep(wait)
			}
			select {
			case inFlight <- struct{}{}:
			default:
				record(func(r *Result) { r.OpenLoopDropped++ })
				continue
			}
			wg.Add(1)
			go func() {
				defer func() { <-inFlight; wg.Done() }()
				one(i)
			}()
		}
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	sort.Slice(res.Latencies, func(i, j int) bool { return res.Latencies[i] < res.Latencies[j] })
	return res
}

// send posts req, retrying after a 503's Retry-After when the options say so.
func send(ctx context.Context, client *http.Client, o Options, req Request) (status, retries int, body []byte, err error) {
	for {
		hr, err := http.NewRequestWithContext(ctx, "POST", o.URL, bytes.NewReader(req.Body))
		if err != nil {
			return 0, retries, nil, err
		}
		hr.Header.Set("Content-Type", "application/json")
		for k, v := range req.Header {
			hr.Header[k] = v
		}
		resp, err := client.Do(hr)
		if err != nil {
			return 0, retries, nil, err
		}
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return 0, retries, nil, err
		}
		if resp.StatusCode != http.StatusServiceUnavailable || !o.Retry || retries >= o.MaxRetries {
			return resp.StatusCode, retries, body, nil
		}
		seconds, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		if err != nil || seconds < 1 {
			return resp.StatusCode, retries, body, fmt.Errorf("503 with Retry-After %q, want whole seconds >= 1: %s", resp.Header.Get("Retry-After"), body)
		}
		retries++
		select {
		case <-time.After(time.Duration(float64(seconds) * o.RetryScale * float64(time.Second))):
		case <-ctx.Done():
			return 0, retries, nil, ctx.Err()
		}
	}
}

// judge checks an answer against what the request deserves.
func judge(req Request, status int, body []byte) error {
	switch {
	case req.Valid && status == http.StatusOK:
		if req.Check != nil {
			return req.Check(body)
		}
		return nil
	case req.Valid && status == http.StatusServiceUnavailable:
		return nil // refused for overload: counted apart, not a wrong answer
	case req.Valid:
		return fmt.Errorf("a valid request got %d: %s", status, trim(body))
	case status >= 400 && status < 500:
		return nil
	}
	return fmt.Errorf("a malformed request got %d, want a 4xx: %s", status, trim(body))
}

func trim(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

// Memory is the process's resident memory, from /proc/self/status (Linux).
type Memory struct {
	RSS, HWM int64 // VmRSS now and VmHWM (the peak), in bytes
}

// ReadMemory reads the process's resident memory; ok is false where /proc is absent.
func ReadMemory() (m Memory, ok bool) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return Memory{}, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		field, value, found := strings.Cut(line, ":")
		if !found {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch field {
		case "VmRSS":
			m.RSS = kb << 10
		case "VmHWM":
			m.HWM = kb << 10
		}
	}
	return m, m.RSS > 0
}

// MiB formats bytes as mebibytes.
func MiB(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
