package parallel

import (
	goruntime "runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

type countTask struct{ hits []int32 }

func (c *countTask) Do(lo, hi int) {
	for i := lo; i < hi; i++ {
		atomic.AddInt32(&c.hits[i], 1)
	}
}

func TestForCoversEachIndexOnce(t *testing.T) {
	for _, threads := range []int{1, 2, 3, 8} {
		p := NewPool(threads)
		for _, n := range []int{0, 1, 2, 3, 7, 100} {
			hits := make([]int32, n)
			var calls atomic.Int32
			p.For(n, func(lo, hi int) {
				calls.Add(1)
				if lo >= hi {
					t.Errorf("threads=%d n=%d: empty range [%d,%d)", threads, n, lo, hi)
				}
				for i := lo; i < hi; i++ {
					atomic.AddInt32(&hits[i], 1)
				}
			})
			for i, h := range hits {
				if h != 1 {
					t.Errorf("threads=%d n=%d: index %d hit %d times", threads, n, i, h)
				}
			}
			want := min(threads, n)
			if got := int(calls.Load()); got != want {
				t.Errorf("threads=%d n=%d: %d ranges, want %d", threads, n, got, want)
			}
			task := &countTask{hits: make([]int32, n)}
			p.ForTask(n, task)
			for i, h := range task.hits {
				if h != 1 {
					t.Errorf("ForTask threads=%d n=%d: index %d hit %d times", threads, n, i, h)
				}
			}
		}
		p.Close()
		p.Close()
	}
}

func TestNilPoolRunsInline(t *testing.T) {
	var p *Pool
	if p.Threads() != 1 {
		t.Fatalf("nil pool Threads() = %d, want 1", p.Threads())
	}
	var got [2]int
	p.For(5, func(lo, hi int) { got = [2]int{lo, hi} })
	if got != [2]int{0, 5} {
		t.Fatalf("nil pool range = %v, want [0 5]", got)
	}
	p.Close()
}

func TestNestedAndAfterCloseRunInline(t *testing.T) {
	p := NewPool(2)
	var total atomic.Int32
	p.For(4, func(lo, hi int) {
		// The pool is busy, so this nested For must run inline, not deadlock.
		p.For(10, func(lo, hi int) { total.Add(int32(hi - lo)) })
	})
	if total.Load() != 20 {
		t.Fatalf("nested total = %d, want 20", total.Load())
	}
	p.Close()
	total.Store(0)
	p.For(6, func(lo, hi int) { total.Add(int32(hi - lo)) })
	if total.Load() != 6 {
		t.Fatalf("after Close total = %d, want 6", total.Load())
	}
}

func TestConcurrentCallers(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	done := make(chan int32)
	for g := 0; g < 4; g++ {
		go func() {
			var total atomic.Int32
			for it := 0; it < 200; it++ {
				p.For(9, func(lo, hi int) { total.Add(int32(hi - lo)) })
			}
			done <- total.Load()
		}()
	}
	for g := 0; g < 4; g++ {
		if got := <-done; got != 9*200 {
			t.Errorf("goroutine total = %d, want %d", got, 9*200)
		}
	}
}

func TestForTaskDoesNotAllocate(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	task := &countTask{hits: make([]int32, 64)}
	if n := testing.AllocsPerRun(100, func() { p.ForTask(64, task) }); n != 0 {
		t.Fatalf("ForTask allocs = %v, want 0", n)
	}
}

func BenchmarkForTaskOverhead(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(map[int]string{1: "threads=1", 2: "threads=2"}[threads], func(b *testing.B) {
			p := NewPool(threads)
			defer p.Close()
			task := &countTask{hits: make([]int32, 2)}
			b.ReportAllocs()
			for b.Loop() {
				p.ForTask(2, task)
			}
		})
	}
}

// spinTask busies each range for a fixed number of iterations.
type spinTask struct{ iters int }

var spinSink float64

func (s *spinTask) Do(lo, hi int) {
	x := 1.0
	for i := 0; i < s.iters*(hi-lo); i++ {
		x = x*1.0000001 + 1e-9
	}
	spinSink += x
}

// BenchmarkForTaskAfterSerialWork is a kernel's parallel section after some single-threaded work (another
// kernel, or the previous run's tail): the time a worker that has gone idle takes to start counts. Each
// iteration does about 20 µs of serial work, then 2 x 20 µs of parallel work.
func BenchmarkForTaskAfterSerialWork(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(map[int]string{1: "threads=1", 2: "threads=2"}[threads], func(b *testing.B) {
			p := NewPool(threads)
			defer p.Close()
			serial, par := &spinTask{iters: 20000}, &spinTask{iters: 20000}
			for b.Loop() {
				serial.Do(0, 1)
				p.ForTask(2, par)
			}
		})
	}
}

// TestBlockedWorkersAndCallersWake covers the slow paths of the handoff: a worker idle for longer than
// spinTime blocks and must be woken by the next For, and a caller whose worker takes longer than spinTime
// blocks and must be woken when it finishes.
func TestBlockedWorkersAndCallersWake(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	var hits [2]atomic.Int32
	for round := 0; round < 5; round++ {
		// Wait for the worker to give up polling (a loaded machine may not schedule it at once).
		for start := time.Now(); !p.workers[0].parked.Load(); time.Sleep(spinTime) {
			if time.Since(start) > 10*time.Second {
				t.Fatalf("round %d: the worker is still polling after 10 s idle", round)
			}
		}
		p.For(2, func(lo, hi int) {
			if lo == 1 {
				time.Sleep(4 * spinTime) // the caller gives up polling meanwhile
			}
			hits[lo].Add(1)
		})
		if a, b := hits[0].Load(), hits[1].Load(); a != int32(round+1) || b != int32(round+1) {
			t.Fatalf("round %d: ranges ran %d and %d times, want %d each", round, a, b, round+1)
		}
	}
}

// TestTaskSlotLendsOnceAtATime: the slot's value goes to one holder at a time; a second Get while it is
// out gets a distinct value, and the slot is lent again (cleared) after Put.
func TestTaskSlotLendsOnceAtATime(t *testing.T) {
	var s TaskSlot[[2]int]
	a := s.Get()
	a[0] = 7
	if b := s.Get(); b == a {
		t.Fatal("a second Get while the slot is out returned the same value")
	} else {
		s.Put(b) // not the slot's: ignored
	}
	s.Put(a)
	if c := s.Get(); c != a || c[0] != 0 {
		t.Errorf("after Put, Get = %p %v, want the slot's value %p cleared", c, *c, a)
	}
}

func TestForksCountsOnlyParallelSections(t *testing.T) {
	var nilPool *Pool
	nilPool.For(8, func(lo, hi int) {})
	if nilPool.Forks() != 0 {
		t.Fatalf("nil pool Forks() = %d, want 0", nilPool.Forks())
	}
	p := NewPool(2)
	defer p.Close()
	p.For(1, func(lo, hi int) {}) // one range: inline
	if got := p.Forks(); got != 0 {
		t.Fatalf("after an inline For: Forks() = %d, want 0", got)
	}
	p.For(8, func(lo, hi int) {
		p.For(8, func(lo, hi int) {}) // nested: inline
	})
	task := &countTask{hits: make([]int32, 4)}
	p.ForTask(4, task)
	if got := p.Forks(); got != 2 {
		t.Fatalf("after two parallel sections and a nested For: Forks() = %d, want 2", got)
	}
	one := NewPool(1)
	one.For(8, func(lo, hi int) {})
	if got := one.Forks(); got != 0 {
		t.Fatalf("one-thread pool: Forks() = %d, want 0", got)
	}
}

func TestForksAndUnitsCountParallelSectionsOnly(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	task := &countTask{hits: make([]int32, 64)}
	p.ForTask(64, task)
	p.ForTask(1, task) // one unit: inline, not a parallel section
	p.For(5, func(lo, hi int) {})
	if got := p.Forks(); got != 2 {
		t.Errorf("Forks = %d, want 2", got)
	}
	if got := p.Units(); got != 64+5 {
		t.Errorf("Units = %d, want %d", got, 64+5)
	}
	var inline *Pool
	inline.ForTask(64, task)
	if inline.Units() != 0 || inline.Forks() != 0 {
		t.Errorf("nil pool counts forks %d units %d, want 0 0", inline.Forks(), inline.Units())
	}
}

// goroutineID reads the running goroutine's number from its stack header, "goroutine 7 [running]:".
func goroutineID() string {
	buf := make([]byte, 64)
	buf = buf[:goruntime.Stack(buf, false)]
	return strings.Fields(string(buf))[1]
}

// A caller that finishes its own range takes the ranges its workers have not started, instead of
// waiting for them to be scheduled. With one P the worker cannot run until the caller yields, so the
// caller must run every range of the section itself; with the ranges handed out per worker it ran one
// and waited for the worker to run the other.
func TestCallerTakesRangesOfLateWorkers(t *testing.T) {
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(1))
	p := NewPool(4)
	defer p.Close()
	caller := goroutineID()
	for it := range 20 {
		var ran [4]string
		p.For(4, func(lo, hi int) { ran[lo] = goroutineID() })
		for r, g := range ran {
			if g != caller {
				t.Fatalf("round %d: range %d ran on goroutine %s, want the caller's %s (all: %v)", it, r, g, caller, ran)
			}
		}
	}
}
