package parallel

import (
	"sync/atomic"
	"testing"
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
