package serve

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// admission bounds the requests waiting for one model. A request is admitted when it arrives (before its
// body is read, so that refused requests cost no memory) and waits until a session or a batch starts
// running it. It is refused at once with 503 and a Retry-After (gRPC: RESOURCE_EXHAUSTED), rather than
// queued, when queueSize requests already wait, or when the wait it would face exceeds the delay budget:
// the requests ahead of it times the model's service time per request, divided by its sessions. A bound
// on the queue's length alone bounds memory, but not latency: the same length is a short wait for a fast
// model and a long one for a slow model or a larger input, so the wait is what admission bounds, with the
// service time measured as the model runs. Under overload, memory stays flat and the requests admitted
// keep their latency, and a load balancer or client retries elsewhere or later.
//
// The requests running are bounded by the sessions (times the batch size when batching), so a model holds
// at most queueSize + sessions × max(maxBatch, 1) requests, each at most Config.MaxBodyBytes.
type admission struct {
	queueSize int64
	sessions  float64
	// maxDelay is the budget for the expected wait; 0 derives it from the service time measured
	// (DefaultQueueDelayFactor runs).
	maxDelay time.Duration
	waiting  atomic.Int64
	rejected atomic.Uint64

	mu sync.Mutex
	// Moving averages of what runs take: runSeconds per run (a request, or a batch of them), and
	// requestSeconds per request (a batch's time shared among its requests). Zero until the first run: the
	// queue's length alone bounds admission until then.
	runSeconds, requestSeconds float64
}

// serviceTimeWeight is how much each run moves the moving averages: about the last 10 runs count, so
// that a slower input or a busier machine shows within a few runs.
const serviceTimeWeight = 0.1

// DefaultQueueDelayFactor sets the default delay budget (Config.MaxQueueDelay 0): a request is admitted
// while the wait it faces is at most this many of the model's runs, measured as it serves. With steady
// runs this admits about as many as the default queue size (DefaultQueueFactor), but it follows the
// service time: a model whose runs grow slower admits fewer.
const DefaultQueueDelayFactor = 2

// maxRetryAfter caps the Retry-After hint: past a minute the estimate says little, and a client should
// come back and look.
const maxRetryAfter = 60

func newAdmission(queueSize, sessions int, maxDelay time.Duration) *admission {
	return &admission{queueSize: int64(queueSize), sessions: float64(max(sessions, 1)), maxDelay: maxDelay}
}

// ticket is one admitted request: it waits until started, and leaves when its handler is done.
type ticket struct {
	a       *admission
	started atomic.Bool
	left    atomic.Bool
}

// Why admission refused a request: the reason label of onnxrun_rejected_requests_total.
const (
	rejectQueueFull  = "queue_full"  // queueSize requests wait already
	rejectQueueDelay = "queue_delay" // the expected wait is over the delay budget
)

// enter admits a request if fewer than queueSize wait and the wait it faces is within the delay budget;
// the caller must call leave once done. A refusal says why (rejectQueueFull or rejectQueueDelay).
func (a *admission) enter(model string) (t *ticket, refusal string, err error) {
	for {
		n := a.waiting.Load()
		if n >= a.queueSize {
			a.rejected.Add(1)
			return nil, rejectQueueFull, &Error{Status: http.StatusServiceUnavailable, RetryAfter: a.retryAfter(),
				Msg: fmt.Sprintf("model %q is overloaded: its queue of %d waiting requests is full; retry later", model, a.queueSize)}
		}
		if wait, budget := a.expectedWait(n), a.delayBudget(); budget > 0 && wait > budget {
			a.rejected.Add(1)
			return nil, rejectQueueDelay, &Error{Status: http.StatusServiceUnavailable, RetryAfter: a.retryAfter(),
				Msg: fmt.Sprintf("model %q is overloaded: %d requests wait, about %v, over its queue delay budget of %v; retry later",
					model, n, wait.Round(time.Microsecond), budget.Round(time.Microsecond))}
		}
		if a.waiting.CompareAndSwap(n, n+1) {
			return &ticket{a: a}, "", nil
		}
	}
}

// expectedWait is how long a request that finds ahead requests waiting would wait for a session: each of
// them takes the service time per request, and the sessions serve them side by side. Zero before the
// first run.
func (a *admission) expectedWait(ahead int64) time.Duration {
	a.mu.Lock()
	perRequest := a.requestSeconds
	a.mu.Unlock()
	return time.Duration(float64(ahead) * perRequest / a.sessions * float64(time.Second))
}

// delayBudget is the longest expected wait admitted: Config.MaxQueueDelay, or DefaultQueueDelayFactor
// runs as measured; 0 (no bound but the queue's length) before the first run.
func (a *admission) delayBudget() time.Duration {
	if a.maxDelay > 0 {
		return a.maxDelay
	}
	a.mu.Lock()
	run := a.runSeconds
	a.mu.Unlock()
	return time.Duration(DefaultQueueDelayFactor * run * float64(time.Second))
}

// start marks the request as running (a session or a batch took it): it no longer waits.
func (t *ticket) start() {
	if t.left.Load() || !t.started.CompareAndSwap(false, true) {
		return
	}
	t.a.waiting.Add(-1)
}

// leave ends the request's stay; a request that never started (refused, cancelled, malformed) stops waiting.
func (t *ticket) leave() {
	if t.left.Swap(true) {
		return
	}
	if !t.started.Swap(true) {
		t.a.waiting.Add(-1)
	}
}

// observeRun adds a run of the given requests (1, or a batch's) that took d to the service time averages.
func (a *admission) observeRun(d time.Duration, requests int) {
	if requests < 1 {
		return
	}
	run := d.Seconds()
	perRequest := run / float64(requests)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.runSeconds == 0 {
		a.runSeconds, a.requestSeconds = run, perRequest
		return
	}
	a.runSeconds += serviceTimeWeight * (run - a.runSeconds)
	a.requestSeconds += serviceTimeWeight * (perRequest - a.requestSeconds)
}

// retryAfter estimates, in whole seconds (at least 1), how long the requests waiting now take to start.
func (a *admission) retryAfter() int {
	seconds := math.Ceil(a.expectedWait(a.waiting.Load()).Seconds())
	return int(min(max(seconds, 1), maxRetryAfter))
}

// ticketKey finds a request's ticket in its context, for the pool and the batcher to mark it started.
type ticketKey struct{}

func withTicket(ctx context.Context, t *ticket) context.Context {
	return context.WithValue(ctx, ticketKey{}, t)
}

// markStarted marks the request of ctx as running, if it was admitted through a queue.
func markStarted(ctx context.Context) {
	if t, ok := ctx.Value(ticketKey{}).(*ticket); ok {
		t.start()
	}
}
