package fmapeak

import (
	"errors"
	"fmt"
	goruntime "runtime"
	"testing"
	"time"
)

// Every kernel this machine runs does accumulators FMAs per lane per iteration, in every lane it
// claims, and writes no lane beyond them: with x = 1, each lane of the sum is 12·iters. A kernel with a
// chain missing, or fewer lanes than its FLOP count assumes, fails here.
func TestKernelSums(t *testing.T) {
	const iters = 1000
	for _, isa := range Available() {
		k := kernels[isa]
		x := float32(1)
		var sum [16]float32
		for i := range sum {
			sum[i] = -1 // a guard: lanes past k.lanes must keep it
		}
		k.run(iters, &x, &sum)
		for l := range sum {
			want := float32(accumulators * iters)
			if l >= k.lanes {
				want = -1
			}
			if sum[l] != want {
				t.Errorf("%s: lane %d = %v, want %v", isa, l, sum[l], want)
			}
		}
		k.run(0, &x, &sum)
		for l := 0; l < k.lanes; l++ {
			if sum[l] != 0 {
				t.Errorf("%s, 0 iterations: lane %d = %v, want 0", isa, l, sum[l])
			}
		}
	}
}

func TestAvailableHasGo(t *testing.T) {
	av := Available()
	if len(av) == 0 || av[len(av)-1] != Go {
		t.Errorf("Available() = %v, want it to end with the pure-Go kernel", av)
	}
}

func TestMeasure(t *testing.T) {
	for _, isa := range Available() {
		r, err := Measure(isa, 1, 2, 20*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		// Any CPU this runs on does more than 0.05 GFLOP/s even in plain Go, and no core does 1000
		// (a 512-bit FMA unit pair at 5 GHz is 320).
		if r.GFLOPS < 0.05 || r.PerCore() > 1000 || r.Cores != 1 || r.ISA != isa {
			t.Errorf("%s: implausible result %+v", isa, r)
		}
		t.Log(r)
	}
	if _, err := Measure("sse9", 1, 1, time.Millisecond); !errors.As(err, new(*UnavailableError)) {
		t.Errorf("Measure(sse9) error %v, want an UnavailableError", err)
	}
	if _, err := Measure(Go, 0, 1, time.Millisecond); err == nil {
		t.Error("Measure with 0 cores: no error")
	}
	if _, err := Measure(Go, goruntime.GOMAXPROCS(0)+1, 1, time.Millisecond); err == nil {
		t.Error("Measure with more cores than GOMAXPROCS: no error")
	}
}

// BenchmarkPeak reports each kernel's GFLOP/s on 1 core and on every core Go may use:
//
//	go test -run '^$' -bench Peak ./bench/fmapeak
func BenchmarkPeak(b *testing.B) {
	for _, isa := range Available() {
		for _, cores := range []int{1, goruntime.GOMAXPROCS(0)} {
			b.Run(fmt.Sprintf("%s/cores=%d", isa, cores), func(b *testing.B) {
				var best Result
				for i := 0; i < b.N; i++ {
					r, err := Measure(isa, cores, 1, 200*time.Millisecond)
					if err != nil {
						b.Fatal(err)
					}
					best.GFLOPS = max(best.GFLOPS, r.GFLOPS)
				}
				b.ReportMetric(best.GFLOPS, "GFLOP/s")
			})
			if cores == goruntime.GOMAXPROCS(0) {
				break
			}
		}
	}
}
