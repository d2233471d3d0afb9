package fmapeak

import (
	"fmt"
	goruntime "runtime"
	"sync"
	"time"
)

// ISA names a kernel: "avx2", "avx512" or "go".
type ISA string

const (
	AVX2   ISA = "avx2"
	AVX512 ISA = "avx512"
	Go     ISA = "go"
)

// accumulators is the number of independent FMA chains every kernel keeps in flight.
const accumulators = 12

// kernel is one ISA's loop: iters iterations of `accumulators` FMAs acc[j] += x*y over lanes lanes,
// then the accumulators' lane-wise sum written to sum[:lanes]. With x = y = 1 every lane of sum holds
// accumulators*iters (exactly, below 2^24), which the tests check.
type kernel struct {
	lanes int
	run   func(iters int, x *float32, sum *[16]float32)
}

// kernels holds the ISAs this CPU and build can run; fma_amd64.go adds the assembly ones.
var kernels = map[ISA]kernel{
	Go: {lanes: 8, run: fmaLoopGo},
}

// Available lists the ISAs Measure accepts on this machine and build, in the order avx2, avx512, go.
func Available() []ISA {
	var out []ISA
	for _, isa := range []ISA{AVX2, AVX512, Go} {
		if _, ok := kernels[isa]; ok {
			out = append(out, isa)
		}
	}
	return out
}

// Result is one measurement: the best of the trials.
type Result struct {
	ISA    ISA
	Cores  int
	GFLOPS float64 // all cores together
	Trials int
	Trial  time.Duration // length of one trial
}

// PerCore is GFLOPS over the cores used.
func (r Result) PerCore() float64 { return r.GFLOPS / float64(r.Cores) }

func (r Result) String() string {
	return fmt.Sprintf("%s on %d core(s): %.1f GFLOP/s (%.1f per core; best of %d × %v)", r.ISA, r.Cores, r.GFLOPS, r.PerCore(), r.Trials, r.Trial)
}

// UnavailableError is returned by Measure for an ISA this CPU or build cannot run.
type UnavailableError struct{ ISA ISA }

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("fmapeak: %s is not available on this CPU or build (available: %v)", e.ISA, Available())
}

// Measure runs isa's kernel on cores workers (one per core, each on a locked OS thread) for trials
// trials of about trial each, and returns the best trial's total GFLOP/s. GOMAXPROCS must be at least
// cores, or the workers would share CPUs.
func Measure(isa ISA, cores, trials int, trial time.Duration) (Result, error) {
	k, ok := kernels[isa]
	if !ok {
		return Result{}, &UnavailableError{ISA: isa}
	}
	if cores < 1 || trials < 1 || trial <= 0 {
		return Result{}, fmt.Errorf("fmapeak: want cores ≥ 1, trials ≥ 1 and a positive trial time, got %d, %d, %v", cores, trials, trial)
	}
	if p := goruntime.GOMAXPROCS(0); p < cores {
		return Result{}, fmt.Errorf("fmapeak: %d cores asked but GOMAXPROCS is %d", cores, p)
	}
	res := Result{ISA: isa, Cores: cores, Trials: trials, Trial: trial}
	chunk := calibrate(k)
	for t := 0; t < trials; t++ {
		res.GFLOPS = max(res.GFLOPS, runTrial(k, cores, chunk, trial))
	}
	return res, nil
}

// calibrate returns an iteration count that takes about a millisecond, so that a worker checks the
// clock rarely enough not to disturb the loop and often enough to stop near the trial's end.
func calibrate(k kernel) int {
	x := float32(1)
	var sum [16]float32
	iters := 1 << 10
	for {
		t0 := time.Now()
		k.run(iters, &x, &sum)
		if d := time.Since(t0); d >= 200*time.Microsecond || iters >= 1<<30 {
			return max(1, int(float64(iters)*float64(time.Millisecond)/float64(max(d, time.Nanosecond))))
		}
		iters *= 4
	}
}

// runTrial starts cores workers together and returns the sum of their GFLOP/s.
func runTrial(k kernel, cores, chunk int, trial time.Duration) float64 {
	flopsPerIter := float64(2 * accumulators * k.lanes)
	rates := make([]float64, cores)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(cores)
	done.Add(cores)
	for w := 0; w < cores; w++ {
		go func(w int) {
			defer done.Done()
			goruntime.LockOSThread()
			defer goruntime.UnlockOSThread()
			x := float32(1)
			var sum [16]float32
			ready.Done()
			<-start
			t0 := time.Now()
			iters := 0
			for time.Since(t0) < trial {
				k.run(chunk, &x, &sum)
				iters += chunk
			}
			rates[w] = flopsPerIter * float64(iters) / time.Since(t0).Seconds() / 1e9
		}(w)
	}
	ready.Wait()
	close(start)
	done.Wait()
	total := 0.0
	for _, r := range rates {
		total += r
	}
	return total
}

// fmaLoopGo is the kernel's semantics in plain Go: 12 accumulators of 8 lanes.
func fmaLoopGo(iters int, x *float32, sum *[16]float32) {
	var acc [accumulators][8]float32
	a, b := *x, *x
	for i := 0; i < iters; i++ {
		for j := range acc {
			for l := range acc[j] {
				acc[j][l] += a * b
			}
		}
	}
	for l := range acc[0] {
		sum[l] = 0
	}
	for j := range acc {
		for l := range acc[j] {
			sum[l] += acc[j][l]
		}
	}
}
