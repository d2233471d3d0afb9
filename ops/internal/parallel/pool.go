package parallel

import (
	"runtime"
	"sync"
)

// Task is a unit of parallel work over an index range [lo, hi).
// Passing a pointer to a reusable struct avoids the closure allocation a
// capturing func literal would cost.
type Task interface {
	Do(lo, hi int)
}

// job is one range of one For call, as sent to a worker. It is passed by
// value over a buffered channel, so dispatch does not allocate.
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

// Pool is a persistent set of worker goroutines. The zero value is not usable;
// call NewPool. A nil *Pool is valid and means "one thread, inline".
type Pool struct {
	threads int
	busy    sync.Mutex // held for the duration of one parallel For
	work    []chan job // one per background worker
	done    chan struct{}

	closeOnce sync.Once
	closed    bool // guarded by busy
}

// NewPool starts a pool that runs up to threads ranges at once (the caller of
// For counts as one). threads <= 0 means runtime.GOMAXPROCS(0).
func NewPool(threads int) *Pool {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	p := &Pool{threads: threads}
	if threads > 1 {
		p.work = make([]chan job, threads-1)
		p.done = make(chan struct{}, threads-1)
		for i := range p.work {
			ch := make(chan job, 1)
			p.work[i] = ch
			go worker(ch, p.done)
		}
	}
	return p
}

func worker(work <-chan job, done chan<- struct{}) {
	for j := range work {
		j.run()
		done <- struct{}{}
	}
}

// Threads reports how many ranges For runs at once; 1 for a nil Pool.
func (p *Pool) Threads() int {
	if p == nil {
		return 1
	}
	return p.threads
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
	if p.closed {
		j.lo, j.hi = 0, n
		j.run()
		return
	}
	// Range r is [r*n/parts, (r+1)*n/parts); the caller takes range 0.
	for r := 1; r < parts; r++ {
		w := j
		w.lo, w.hi = r*n/parts, (r+1)*n/parts
		p.work[r-1] <- w
	}
	j.lo, j.hi = 0, n/parts
	j.run()
	for r := 1; r < parts; r++ {
		<-p.done
	}
}

// Close stops the background workers after any running For finishes. Later
// calls to For run inline. Close is idempotent and safe on a nil Pool; a Pool
// never closed keeps its (idle, blocked) goroutines until the program exits.
func (p *Pool) Close() {
	if p == nil {
		return
	}
	p.closeOnce.Do(func() {
		p.busy.Lock()
		p.closed = true
		for _, ch := range p.work {
			close(ch)
		}
		p.busy.Unlock()
	})
}
