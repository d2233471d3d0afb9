// Package loadgen drives an inference server over HTTP the way production traffic does, for the soak test
// and the overload command: closed-loop clients (each sends its next request when the last is answered)
// or an open-loop arrival rate (requests arrive on schedule whether or not the server keeps up), valid and
// malformed requests mixed, and 503s retried after their Retry-After. It reports what an operator reads
// off a dashboard: requests per second, latency percentiles, statuses, retries, bytes, and a process's
// memory and CPU time (this one's, or a server's in a child process, from /proc on Linux).
package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
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
	// HTTPClient, when set, sends the requests, and keeps its connections after the run, so that a run can
	// reuse the connections a warm-up opened; nil is a client of the run's own, with Clients connections.
	HTTPClient *http.Client
	// Send, when set, sends one request in place of an HTTP POST of its Body to URL, for another protocol
	// (gRPC): it gives the answer as an HTTP status (gRPC's codes mapped back) and the body Check sees and
	// the response bytes count. Retry does not apply to it.
	Send func(ctx context.Context, req Request) (status int, body []byte, err error)
}

// Result summarises a run.
type Result struct {
	Sent, OK, ClientErrors, Refused, Retries, Failures int
	// OpenLoopDropped counts arrivals not sent because Clients requests were already in flight: the
	// generator's own limit, not the server's answer.
	OpenLoopDropped int
	FirstFailure    string
	Elapsed         time.Duration
	// RequestBytes and ResponseBytes add up the bodies sent and received (retries included): what the
	// encoding costs on the wire, headers aside.
	RequestBytes, ResponseBytes int64
	// Latencies of the requests answered 200, from the first send (retries included), sorted.
	Latencies []time.Duration
	// SendLags (open loop only, sorted) are how late the generator sent each request after its scheduled
	// arrival: near zero when it offered the rate it was asked to, large when it was short of CPU or
	// workers (then the server was offered less than Rate, and a latency timed from the schedule would
	// charge the generator's delay to the server).
	SendLags []time.Duration
}

// Percentile is the latency below which a fraction p of the answered requests fall.
func (r *Result) Percentile(p float64) time.Duration { return percentile(r.Latencies, p) }

// SendLag is the generator's lateness below which a fraction p of the open loop's requests were sent.
func (r *Result) SendLag(p float64) time.Duration { return percentile(r.SendLags, p) }

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Throughput is the requests answered 200 per second.
func (r *Result) Throughput() float64 { return float64(r.OK) / r.Elapsed.Seconds() }

// Merge adds the figures of another run to r, as if the two were one run of their summed length: for
// runs of the same requests interleaved with others' (so that a drift of the machine hits each alike).
func (r *Result) Merge(o *Result) {
	r.Sent += o.Sent
	r.OK += o.OK
	r.ClientErrors += o.ClientErrors
	r.Refused += o.Refused
	r.Retries += o.Retries
	r.Failures += o.Failures
	r.OpenLoopDropped += o.OpenLoopDropped
	if r.FirstFailure == "" {
		r.FirstFailure = o.FirstFailure
	}
	r.Elapsed += o.Elapsed
	r.RequestBytes += o.RequestBytes
	r.ResponseBytes += o.ResponseBytes
	r.Latencies = append(r.Latencies, o.Latencies...)
	slices.Sort(r.Latencies)
	r.SendLags = append(r.SendLags, o.SendLags...)
	slices.Sort(r.SendLags)
}

// String is one line with every figure, for logs and RELIABILITY.md.
func (r *Result) String() string {
	return fmt.Sprintf("%d requests in %v: %.0f answered/s, p50 %v, p99 %v; 200: %d, 4xx: %d, 503 (final): %d, retries after 503: %d, failures: %d, not sent (generator limit): %d",
		r.Sent, r.Elapsed.Round(time.Millisecond), r.Throughput(), r.Percentile(0.5).Round(time.Microsecond),
		r.Percentile(0.99).Round(time.Microsecond), r.OK, r.ClientErrors, r.Refused, r.Retries, r.Failures, r.OpenLoopDropped)
}

// Run sends the requests and checks every answer: a valid request must end 200 (and pass Check), a
// malformed one 4xx; anything else is a failure, counted and the first one kept. Each client (closed
// loop) or worker (open loop: Clients of them, started before the clock) reuses its response buffer, so
// the generator's own cost per request is the HTTP client's.
func Run(ctx context.Context, o Options) *Result {
	client := o.HTTPClient
	if client == nil {
		client = NewHTTPClient(o.Clients)
		defer client.CloseIdleConnections()
	}
	if o.Send == nil {
		o.Send = func(ctx context.Context, req Request) (int, []byte, error) { return 0, nil, errNoSend }
	}
	var (
		mu  sync.Mutex
		res = &Result{Latencies: make([]time.Duration, 0, min(o.Total, 1<<16))}
	)
	one := func(i int, due time.Time, buf *bytes.Buffer) {
		req := o.Requests[i%len(o.Requests)]
		start := time.Now()
		var (
			status, retries int
			body            []byte
			sent            int64
			err             error
		)
		if o.URL != "" {
			status, retries, body, sent, err = send(ctx, client, o, req, buf)
		} else {
			status, body, err = o.Send(ctx, req)
			sent = int64(len(req.Body))
		}
		latency := time.Since(start)
		if err == nil {
			err = judge(req, status, body)
		}
		mu.Lock()
		defer mu.Unlock()
		res.Sent++
		if !due.IsZero() {
			res.SendLags = append(res.SendLags, start.Sub(due))
		}
		res.Retries += retries
		res.RequestBytes += sent
		res.ResponseBytes += int64(len(body))
		switch {
		case err != nil:
			res.Failures++
			if res.FirstFailure == "" {
				res.FirstFailure = fmt.Sprintf("request %d: %v", i, err)
			}
		case status == http.StatusOK:
			res.OK++
			res.Latencies = append(res.Latencies, latency)
		case status == http.StatusServiceUnavailable:
			res.Refused++
		default:
			res.ClientErrors++
		}
	}

	var wg sync.WaitGroup
	if o.Rate <= 0 {
		var next atomic.Int64
		start := time.Now()
		for range o.Clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var buf bytes.Buffer
				for i := int(next.Add(1)) - 1; i < o.Total && ctx.Err() == nil; i = int(next.Add(1)) - 1 {
					if o.Duration > 0 && time.Since(start) > o.Duration {
						return
					}
					one(i, time.Time{}, &buf)
				}
			}()
		}
		wg.Wait()
		res.Elapsed = time.Since(start)
	} else {
		type arrival struct {
			i   int
			due time.Time
		}
		// Unbuffered: an arrival is taken only by a worker waiting for one, so at most Clients requests
		// are in flight and the others are dropped at once, never queued in the generator.
		arrivals := make(chan arrival)
		for range o.Clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var buf bytes.Buffer
				for a := range arrivals {
					one(a.i, a.due, &buf)
				}
			}()
		}
		interval := time.Duration(float64(time.Second) / o.Rate)
		start := time.Now()
		for i := 0; i < o.Total && ctx.Err() == nil; i++ {
			due := start.Add(time.Duration(i) * interval)
			if wait := time.Until(due); wait > 0 {
				time.Sleep(wait)
			}
			select {
			case arrivals <- arrival{i, due}:
			default:
				mu.Lock()
				res.OpenLoopDropped++
				mu.Unlock()
			}
		}
		close(arrivals)
		wg.Wait()
		res.Elapsed = time.Since(start)
	}
	slices.Sort(res.Latencies)
	slices.Sort(res.SendLags)
	return res
}

// NewHTTPClient is a client keeping up to conns connections to a host open, without compression (the
// server sends none; a benchmark should not pay for asking).
func NewHTTPClient(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}}
}

var errNoSend = errors.New("loadgen: Options has neither URL nor Send")

// send posts req, retrying after a 503's Retry-After when the options say so. The body it returns is
// in buf, valid until the next call with it.
func send(ctx context.Context, client *http.Client, o Options, req Request, buf *bytes.Buffer) (status, retries int, body []byte, sent int64, err error) {
	for {
		hr, err := http.NewRequestWithContext(ctx, "POST", o.URL, bytes.NewReader(req.Body))
		if err != nil {
			return 0, retries, nil, sent, err
		}
		hr.Header.Set("Content-Type", "application/json")
		for k, v := range req.Header {
			hr.Header[k] = v
		}
		sent += int64(len(req.Body))
		resp, err := client.Do(hr)
		if err != nil {
			return 0, retries, nil, sent, err
		}
		buf.Reset()
		_, err = buf.ReadFrom(resp.Body)
		resp.Body.Close()
		if err != nil {
			return 0, retries, nil, sent, err
		}
		body = buf.Bytes()
		if resp.StatusCode != http.StatusServiceUnavailable || !o.Retry || retries >= o.MaxRetries {
			return resp.StatusCode, retries, body, sent, nil
		}
		seconds, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		if err != nil || seconds < 1 {
			return resp.StatusCode, retries, body, sent, fmt.Errorf("503 with Retry-After %q, want whole seconds >= 1: %s", resp.Header.Get("Retry-After"), body)
		}
		retries++
		select {
		case <-time.After(time.Duration(float64(seconds) * o.RetryScale * float64(time.Second))):
		case <-ctx.Done():
			return 0, retries, nil, sent, ctx.Err()
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

// Memory is a process's resident memory, from /proc/PID/status (Linux).
type Memory struct {
	RSS, HWM int64 // VmRSS now and VmHWM (the peak), in bytes
}

// ReadMemory reads this process's resident memory; ok is false where /proc is absent.
func ReadMemory() (m Memory, ok bool) { return ReadProcessMemory(0) }

// ReadProcessMemory reads the resident memory of process pid (0: this one); ok is false where /proc is
// absent or the process is gone.
func ReadProcessMemory(pid int) (m Memory, ok bool) {
	data, err := os.ReadFile(procFile(pid, "status"))
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

// userHZ is the unit of /proc/PID/stat's CPU times: the kernel reports them in USER_HZ ticks, a constant
// of its ABI (100 on every architecture Linux exports it for), whatever the kernel's own HZ.
const userHZ = 100

// ReadProcessCPU is the user and system CPU time process pid (0: this one) has used, all its threads,
// from /proc/PID/stat; ok is false where /proc is absent or the process is gone. The resolution is 10ms:
// compare it over runs of seconds.
func ReadProcessCPU(pid int) (cpu time.Duration, ok bool) {
	data, err := os.ReadFile(procFile(pid, "stat"))
	if err != nil {
		return 0, false
	}
	// The command name (field 2) is in parentheses and may hold spaces: count the fields after its end.
	closing := bytes.LastIndexByte(data, ')')
	if closing < 0 {
		return 0, false
	}
	fields := strings.Fields(string(data[closing+1:]))
	// After the name: state (field 3) ... utime (14) and stime (15), i.e. indexes 11 and 12 here.
	if len(fields) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(utime+stime) * time.Second / userHZ, true
}

// LoadAverage is /proc/loadavg's first three fields (1, 5 and 15 minutes), or "unknown": the figures of a
// run are worth what the machine's quiet was, so the tools print it at their start and end.
func LoadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	fields := strings.Fields(string(data))
	if len(fields) < 3 {
		return "unknown"
	}
	return strings.Join(fields[:3], " ")
}

func procFile(pid int, name string) string {
	if pid == 0 {
		return "/proc/self/" + name
	}
	return "/proc/" + strconv.Itoa(pid) + "/" + name
}

// MiB formats bytes as mebibytes.
func MiB(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
