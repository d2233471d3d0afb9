package serve

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// A request is refused with 503 once the wait it would face (the requests ahead × the model's service time
// per request ÷ its sessions) passes the delay budget, however much room the queue has: by default two of
// the model's runs as measured, or Config.MaxQueueDelay. The service time is set here as if the model had
// run, so that the verdicts do not depend on the machine's speed.
func TestQueueDelayBudgetRefusesWith503(t *testing.T) {
	const run = 100 * time.Millisecond
	for _, c := range []struct {
		name     string
		maxDelay time.Duration
		admitted int // requests admitted while the one session is busy
	}{
		{"default: two runs", 0, 3},                          // 0, 1 and 2 ahead wait 0, 100 and 200ms
		{"max queue delay 150ms", 150 * time.Millisecond, 2}, // 0 and 1 ahead
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := Config{Sessions: 1, QueueSize: 100, MaxQueueDelay: c.maxDelay}
			m := newModel(t, "linear", linearGraph(), cfg)
			ts := startServer(t, cfg, m)
			for range 3 {
				m.queue.observeRun(run, 1)
			}
			release := holdSessions(t, m)
			statuses := make(chan int, c.admitted)
			for i := range c.admitted {
				go postLinear(ts.url, statuses)
				waitForQueue(t, m, int64(i+1))
			}
			req, _ := http.NewRequest("POST", ts.url+"/v2/models/linear/infer", strings.NewReader(linearBody))
			status, header, body := send(t, req)
			if status != http.StatusServiceUnavailable || header.Get("Retry-After") != "1" ||
				!strings.Contains(string(body), "queue delay budget") {
				t.Errorf("with %d waiting for %v each: status %d, Retry-After %q, body %s; want 503, 1 and the budget named",
					c.admitted, run, status, header.Get("Retry-After"), body)
			}
			if _, _, metrics := ts.do(t, "GET", "/metrics", ""); !strings.Contains(string(metrics),
				`onnxrun_rejected_requests_total{model="linear",reason="queue_delay"} 1`) {
				t.Errorf("the refusal is not counted with reason queue_delay:\n%s", metrics)
			}
			release()
			for range c.admitted {
				if s := <-statuses; s != http.StatusOK {
					t.Errorf("an admitted request got %d, want 200", s)
				}
			}
		})
	}
}

// Under a stream of bursts offering four times what a fake slow model serves (each run sleeps; two
// sessions), every admitted request finds at most as many requests ahead of it as the sessions clear in the
// delay budget (DefaultQueueDelayFactor runs), so it waits about that many runs plus the one in progress,
// and the others are refused at once; without the budget, the queue's room alone would let hundreds wait.
// The check counts the requests ahead, not wall time, so that a busy machine's scheduler cannot fail it;
// the waits measured are logged.
func TestQueueDelayBudgetBoundsWaitsUnderOverload(t *testing.T) {
	const sessions, sleep = 2, 4 * time.Millisecond
	a := newAdmission(1000, sessions, 0)
	type job struct {
		t       *ticket
		entered time.Time
	}
	jobs := make(chan job, 1000)
	var (
		mu      sync.Mutex
		waits   []time.Duration
		workers sync.WaitGroup
	)
	for range sessions {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for j := range jobs {
				j.t.start()
				began := time.Now()
				mu.Lock()
				waits = append(waits, began.Sub(j.entered))
				mu.Unlock()
				time.Sleep(sleep)
				a.observeRun(time.Since(began), 1)
				j.t.leave()
			}
		}()
	}
	maxAhead := int64(0) // the most requests an admitted one found waiting ahead of it
	offer := func() bool {
		entered := time.Now()
		ahead := a.waiting.Load() // only this goroutine adds waiting requests: enter saw at most this many
		tk, _, err := a.enter("slow")
		if err != nil {
			return false
		}
		maxAhead = max(maxAhead, ahead)
		jobs <- job{tk, entered}
		return true
	}
	// Measure the service time unloaded first, as a server has by the time it is overloaded.
	for range 4 {
		offer()
		time.Sleep(2 * sleep)
	}
	mu.Lock()
	waits = waits[:0]
	mu.Unlock()
	maxAhead = 0

	admitted, refused := 0, 0
	for range 50 {
		for range 4 * sessions { // a run's worth of arrivals, four times over
			if offer() {
				admitted++
			} else {
				refused++
			}
		}
		time.Sleep(sleep)
	}
	close(jobs)
	workers.Wait()

	runTime := time.Duration(a.runSeconds * float64(time.Second))
	budget := a.delayBudget()
	longest := time.Duration(0)
	for _, w := range waits {
		longest = max(longest, w)
	}
	t.Logf("admitted %d, refused %d; measured run %v, budget %v, most requests ahead %d, longest wait %v", admitted, refused, runTime, budget, maxAhead, longest)
	if refused == 0 || admitted < sessions {
		t.Errorf("admitted %d, refused %d: at four times the capacity some must be refused and some served", admitted, refused)
	}
	// Each run here counts as one request, so the budget of DefaultQueueDelayFactor runs admits while
	// ahead/sessions runs fit in it.
	if bound := int64(DefaultQueueDelayFactor * sessions); maxAhead > bound {
		t.Errorf("an admitted request found %d requests ahead of it, over the %d that %d sessions clear in the budget of %v", maxAhead, bound, sessions, budget)
	}
}
