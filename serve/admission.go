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
// running it; at most queueSize requests wait at once. Past that the request is refused at once with 503
// and a Retry-After estimated from the model's recent service rate (gRPC: RESOURCE_EXHAUSTED), rather than
// queueing without bound: under overload memory stays flat and the requests admitted keep their latency,
// and a load balancer or client retries elsewhere or later.
//
// The requests running are bounded by the sessions (times the batch size when batching), so a model holds
// at most queueSize + sessions × max(maxBatch, 1) requests, each at most Config.MaxBodyBytes.
type admission struct {
	queueSize int64
	waiting   atomic.Int64
	rejected  atomic.Uint64

	mu sync.Mutex
	// secondsPerRequest is a moving average of the time between two requests starting to run: the inverse
	// of the service rate, which turns a queue length into the wait a newcomer would face.
	secondsPerRequest float64
	lastStart         time.Time
}

// serviceRateWeight is how much each new interval moves the moving average: about the last 20 starts count.
const serviceRateWeight = 0.05

// maxRetryAfter caps the Retry-After hint: past a minute the estimate says little, and a client should
// come back and look.
const maxRetryAfter = 60

func newAdmission(queueSize int) *admission { return &admission{queueSize: int64(queueSize)} }

// ticket is one admitted request: it waits until started, and leaves when its handler is done.
type ticket struct {
	a       *admission
	started atomic.Bool
	left    atomic.Bool
}

// overloadError refuses a request the queue has no room for.
func (a *admission) overloadError(model string) *Error {
	return &Error{Status: http.StatusServiceUnavailable, RetryAfter: a.retryAfter(),
		Msg: fmt.Sprintf("model %q is overloaded: its queue of %d waiting requests is full; retry later", model, a.queueSize)}
}

// enter admits a request if fewer than queueSize wait; the caller must call leave once done.
func (a *admission) enter(model string) (*ticket, error) {
	for {
		n := a.waiting.Load()
		if n >= a.queueSize {
			a.rejected.Add(1)
			return nil, a.overloadError(model)
		}
		if a.waiting.CompareAndSwap(n, n+1) {
			return &ticket{a: a}, nil
		}
	}
}

// start marks the request as running (a session or a batch took it): it no longer waits.
func (t *ticket) start() {
	if t.left.Load() || !t.started.CompareAndSwap(false, true) {
		return
	}
	t.a.waiting.Add(-1)
	t.a.observeStart(time.Now())
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

func (a *admission) observeStart(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.lastStart.IsZero() {
		interval := now.Sub(a.lastStart).Seconds()
		if a.secondsPerRequest == 0 {
			a.secondsPerRequest = interval
		} else {
			a.secondsPerRequest += serviceRateWeight * (interval - a.secondsPerRequest)
		}
	}
	a.lastStart = now
}

// retryAfter estimates, in whole seconds (at least 1), how long the requests waiting now take to start:
// the queue's length times the time between starts lately.
func (a *admission) retryAfter() int {
	a.mu.Lock()
	perRequest := a.secondsPerRequest
	a.mu.Unlock()
	seconds := math.Ceil(float64(a.waiting.Load()) * perRequest)
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
