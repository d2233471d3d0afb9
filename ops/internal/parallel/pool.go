package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Task is a unit of parallel work over an index range [lo, hi).
// Passing a pointer to a reusable struct avoids the closure allocation a
// capturing func literal would cost.
type Task interface {
	Do(lo, hi int)
}

// job is one range of one For call, as handed to a worker.
type job struct {
	task   Task
	fn     func(lo, hi int)
	lo, hi int
}

func (j job) run() {
	if j.task != nil {
		j.task.Do(j.lo, j.hi)
	} else {
		j.fn(j.lo, j.hi)
	}
}

// spinTime bounds how long an idle worker, or a caller waiting for its
// workers, polls before it blocks. A session runs its kernels back to back,
// and between two parallel sections there is usually less than that: a
// worker still polling starts at once, where a blocked one takes the Go
// scheduler tens of microseconds to wake on another core (measured with
// BenchmarkForTaskAfterSerialWork: 2 x 37 µs of work after 37 µs of serial
// work took longer on two threads than on one). The poll calls
// runtime.Gosched, so it does not hold up other goroutines; what it costs is
// up to spinTime of a core after the last parallel section of a run.
const spinTime = 100 * time.Microsecond

// spinning tracks one poll: call it once per round; it reports false once
// spinTime has passed since the first round.
type spinning struct {
	rounds   int
	deadline time.Time
}

func (s *spinning) more() bool {
	if s.rounds == 0 {
		s.deadline = time.Now().Add(spinTime)
	}
	s.rounds++
	if s.rounds%16 == 0 && time.Now().After(s.deadline) {
		return false
	}
	runtime.Gosched()
	return true
}

// worker is one background goroutine's mailbox. run bumps seq to say a
// section is open; the worker polls seq, then blocks on wake once it has set
// parked. Both sides write their flag before they read the other's
// (sequentially consistent atomics), so a posted section is never missed:
// either the worker sees the new seq, or run sees parked and sends a wake
// token. A token left over from a race only makes the worker look at seq
// once more, and a worker that arrives after the section's ranges are all
// claimed finds nothing to do.
type worker struct {
	seq    atomic.Uint32
	parked atomic.Bool
	wake   chan struct{} // capacity 1
}

// Pool is a persistent set of worker goroutines. The zero value is not usable;
// call NewPool. A nil *Pool is valid and means "one thread, inline".
type Pool struct {
	threads int
	busy    sync.Mutex // held for the duration of one parallel For
	workers []*worker

	// The open section: cur is its task, n its extent, written by the caller before it publishes claim.
	// claim packs the number of ranges (high 32 bits) and the next range to hand out (low 32 bits):
	// the caller and the workers all take ranges from it until none is left, so a worker that starts
	// late (not yet scheduled, or still waking) loses its range to whoever is free first instead of
	// holding the section up. A claim that succeeds orders the reads of cur after the caller's writes.
	cur      job
	n        int
	claim    atomic.Uint64
	finished atomic.Int32  // ranges of the open section run to the end
	waiting  atomic.Bool   // the caller has stopped polling finished and blocks on done
	done     chan struct{} // capacity 1: whoever finishes the last range wakes a blocked caller

	closeOnce sync.Once
	closed    atomic.Bool // set under busy; workers exit when they see it

	// forks counts the parallel sections: the For calls that handed ranges to workers (an inline For is
	// not one). A profiler reads it around each kernel to show which kernels thread and how often.
	forks atomic.Uint64
	// units adds up the n of those sections: the work units kernels handed the pool. Units per fork
	// below a few times Threads is a split too coarse to balance (one late worker idles the rest).
	units atomic.Uint64
}

// NewPool starts a pool that runs up to threads ranges at once (the caller of
// For counts as one). threads <= 0 means runtime.GOMAXPROCS(0).
func NewPool(threads int) *Pool {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	p := &Pool{threads: threads, done: make(chan struct{}, 1)}
	for i := 1; i < threads; i++ {
		w := &worker{wake: make(chan struct{}, 1)}
		p.workers = append(p.workers, w)
		go p.serve(w)
	}
	return p
}

// serve is a worker goroutine: wait for a section, take ranges from it until
// none is left, until Close.
func (p *Pool) serve(w *worker) {
	var seen uint32
	for {
		for spin := (spinning{}); w.seq.Load() == seen; {
			if spin.more() {
				continue
			}
			w.parked.Store(true)
			if w.seq.Load() == seen {
				<-w.wake
			}
			w.parked.Store(false)
			spin = spinning{}
		}
		seen = w.seq.Load()
		if p.closed.Load() {
			return
		}
		p.runRanges()
	}
}

// runRanges takes ranges of the open section and runs them until none is
// left; the caller and the workers all run it.
func (p *Pool) runRanges() {
	for {
		c := p.claim.Load()
		parts, next := int(c>>32), int(uint32(c))
		if next >= parts {
			return
		}
		if !p.claim.CompareAndSwap(c, c+1) {
			continue
		}
		j := p.cur
		j.lo, j.hi = next*p.n/parts, (next+1)*p.n/parts
		j.run()
		if int(p.finished.Add(1)) == parts && p.waiting.Load() {
			select {
			case p.done <- struct{}{}:
			default:
			}
		}
	}
}

// post tells w a section is open, waking it if it blocked.
func (w *worker) post() {
	w.seq.Add(1)
	if w.parked.Load() {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// Threads reports how many ranges For runs at once; 1 for a nil Pool.
func (p *Pool) Threads() int {
	if p == nil {
		return 1
	}
	return p.threads
}

// Forks reports how many parallel sections the pool has run: For and ForTask calls that handed ranges to
// its workers (not those it ran inline on the caller: one thread, n <= 1, the pool busy or closed); 0 for
// a nil Pool. The difference around a kernel call is how many fork/joins that kernel paid for.
func (p *Pool) Forks() uint64 {
	if p == nil {
		return 0
	}
	return p.forks.Load()
}

// Units reports how many work units the pool's parallel sections were given in all: the n of every For
// and ForTask call counted by Forks; 0 for a nil Pool. Read around a kernel with Forks, it tells how
// finely the kernel cut its work (units per fork) and so whether the threads can balance it.
func (p *Pool) Units() uint64 {
	if p == nil {
		return 0
	}
	return p.units.Load()
}

// For calls fn over a partition of [0, n) into at most Threads() contiguous,
// non-empty, near-equal ranges and waits for all of them. n <= 0 does nothing.
func (p *Pool) For(n int, fn func(lo, hi int)) {
	p.run(n, job{fn: fn})
}

// ForTask is For with a Task, for callers that must not allocate.
func (p *Pool) ForTask(n int, t Task) {
	p.run(n, job{task: t})
}

func (p *Pool) run(n int, j job) {
	if n <= 0 {
		return
	}
	parts := p.Threads()
	if parts > n {
		parts = n
	}
	if parts <= 1 || !p.busy.TryLock() {
		j.lo, j.hi = 0, n
		j.run()
		return
	}
	defer p.busy.Unlock()
	if p.closed.Load() {
		j.lo, j.hi = 0, n
		j.run()
		return
	}
	// Range r is [r*n/parts, (r+1)*n/parts). The caller publishes the
	// section, wakes as many workers as there are other ranges, then takes
	// ranges itself like any worker.
	p.forks.Add(1)
	p.units.Add(uint64(n))
	p.cur, p.n = j, n
	p.finished.Store(0)
	p.claim.Store(uint64(parts) << 32)
	for _, w := range p.workers[:parts-1] {
		w.post()
	}
	p.runRanges()
	p.wait(int32(parts))
	p.cur = job{} // let the task go
}

// wait returns once every range of the open section has finished: polling
// first, then blocked on done.
func (p *Pool) wait(parts int32) {
	for spin := (spinning{}); spin.more(); {
		if p.finished.Load() == parts {
			return
		}
	}
	p.waiting.Store(true)
	for p.finished.Load() != parts {
		<-p.done // a token left from an earlier For only sends us round again
	}
	p.waiting.Store(false)
}

// Close stops the background workers after any running For finishes. Later
// calls to For run inline. Close is idempotent and safe on a nil Pool; a Pool
// never closed keeps its goroutines (blocked, once idle) until the program
// exits.
func (p *Pool) Close() {
	if p == nil {
		return
	}
	p.closeOnce.Do(func() {
		p.busy.Lock()
		p.closed.Store(true)
		for _, w := range p.workers {
			w.post()
		}
		p.busy.Unlock()
	})
}
