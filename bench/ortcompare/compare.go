package main

import (
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"time"

	"github.com/onnxrun/onnxrun/bench"
	"github.com/onnxrun/onnxrun/runtime"
)

// sideStats is one runtime's figures for one workload at one thread count.
type sideStats struct {
	Load     time.Duration // onnxrun: decode + compile; ORT: session creation from the same bytes
	FirstRun time.Duration
	Latency  bench.Summary
}

// pair is a workload timed on both runtimes at one thread count.
type pair struct {
	w          *workload
	threads    int
	load       string // the 1-minute load average when the pair started
	onnxrun    sideStats
	ort        sideStats
	diff       float64 // max |onnxrun - ORT| over the outputs
	scale      float64 // max |ORT output|
	prof       *runtime.Profile
	ortProf    *ortProfile
	ortProfErr error
	// heapCompiled and heapFirstRun are onnxrun's live Go heap (after a collection) over what it was
	// before loading: once compiled (which plans the declared shapes), and after the first run at the
	// workload's shapes (which plans those and prepacks for them).
	heapCompiled int64
	heapFirstRun int64
}

// liveHeap collects garbage and returns the Go heap in use. The ORT side lives in C memory, so in this
// process the Go heap is onnxrun's (and this program's).
func liveHeap() int64 {
	goruntime.GC()
	return int64(bench.ReadGoMemory().HeapInuse)
}

// ratio is onnxrun's p50 latency over ORT's: below 1, onnxrun is faster.
func (p *pair) ratio() float64 {
	if p.ort.Latency.P50 <= 0 {
		return 0
	}
	return float64(p.onnxrun.Latency.P50) / float64(p.ort.Latency.P50)
}

// comparePair times w on both runtimes with threads threads. After one first run each and an output
// check, both warm up, then run in alternating blocks of about cfg.block each, for cfg.rounds rounds, the
// order flipping every round (A B, B A, ...) so that a drift in the machine's speed (another process, the
// clock) falls on both sides alike. Every run is one sample.
func comparePair(w *workload, threads int, cfg *config) (*pair, error) {
	p := &pair{w: w, threads: threads}
	heap0 := liveHeap()
	a, loadA, err := newOnnxrunSide(w, threads)
	if err != nil {
		return nil, err
	}
	defer a.close()
	p.heapCompiled = liveHeap() - heap0
	b, loadB, err := newORTSide(w, threads, "")
	if err != nil {
		return nil, err
	}
	defer b.close()
	p.onnxrun.Load, p.ort.Load = loadA, loadB

	if p.onnxrun.FirstRun, err = timeOne(a.run); err != nil {
		return nil, fmt.Errorf("onnxrun: %s: %w", w.name, err)
	}
	p.heapFirstRun = liveHeap() - heap0
	if p.ort.FirstRun, err = timeOne(b.run); err != nil {
		return nil, fmt.Errorf("ORT: %s: %w", w.name, err)
	}
	p.diff, p.scale = maxDiff(a.outputs(), b.outputs())

	meanA, err := warm(a.run, cfg.warmup)
	if err != nil {
		return nil, fmt.Errorf("onnxrun: %s: %w", w.name, err)
	}
	meanB, err := warm(b.run, cfg.warmup)
	if err != nil {
		return nil, fmt.Errorf("ORT: %s: %w", w.name, err)
	}
	kA, kB := blockRuns(cfg.block, meanA), blockRuns(cfg.block, meanB)
	var sa, sb []time.Duration
	rounds := roundsWithin(cfg.rowTime, time.Duration(kA)*meanA+time.Duration(kB)*meanB, cfg.minRounds, cfg.rounds)
	for r := 0; r < rounds; r++ {
		first, second := func() error { return block(a.run, kA, &sa) }, func() error { return block(b.run, kB, &sb) }
		if r%2 == 1 {
			first, second = second, first
		}
		if err := first(); err != nil {
			return nil, fmt.Errorf("%s: %w", w.name, err)
		}
		if err := second(); err != nil {
			return nil, fmt.Errorf("%s: %w", w.name, err)
		}
	}
	p.onnxrun.Latency, p.ort.Latency = bench.Summarize(sa), bench.Summarize(sb)

	if cfg.profileTime > 0 && w.suite != suiteOps { // one operator: its profile would say what its latency says
		runs := max(1, int(cfg.profileTime/max(meanA, time.Microsecond))) // and one more, dropped
		runs = min(runs, 2000)
		p.prof = &runtime.Profile{}
		for i := 0; i <= runs; i++ {
			if _, err := a.sess.RunProfiled(a.ctx, a.inputs, p.prof); err != nil {
				return nil, fmt.Errorf("onnxrun: %s: profile: %w", w.name, err)
			}
			if i == 0 {
				p.prof.Reset() // the first profiled run warms the clocks' code paths
			}
		}
		p.ortProf, p.ortProfErr = profileORT(w, threads, runs, cfg)
	}
	return p, nil
}

func timeOne(run func() error) (time.Duration, error) {
	t0 := time.Now()
	err := run()
	return time.Since(t0), err
}

// warm runs fn at least once and for at least d, and returns the mean time of a run. Once is enough for
// a model whose run takes longer than d (YOLO at batch 8): the first run, before, already warmed it.
func warm(fn func() error, d time.Duration) (time.Duration, error) {
	t0 := time.Now()
	n := 0
	for n < 1 || time.Since(t0) < d {
		if err := fn(); err != nil {
			return 0, err
		}
		n++
	}
	return time.Since(t0) / time.Duration(n), nil
}

// roundsWithin is how many rounds of length round fit in budget, between least and most: a model whose
// runs take a second gets the fewest rounds, so that the suite's time stays bounded.
func roundsWithin(budget, round time.Duration, least, most int) int {
	if round <= 0 {
		return most
	}
	return min(max(least, int(budget/round)), most)
}

// blockRuns is how many runs of mean length fill a block: at least 1, at most 10,000.
func blockRuns(block, mean time.Duration) int {
	if mean <= 0 {
		return 10000
	}
	return min(max(1, int(block/mean)), 10000)
}

func block(fn func() error, k int, samples *[]time.Duration) error {
	for i := 0; i < k; i++ {
		t0 := time.Now()
		if err := fn(); err != nil {
			return err
		}
		*samples = append(*samples, time.Since(t0))
	}
	return nil
}

// profileORT runs w in an ORT session with ORT's own profiler on (runs+1 runs; the first is dropped)
// and reads the per-node times back from the JSON file ORT writes when the session ends.
func profileORT(w *workload, threads, runs int, cfg *config) (*ortProfile, error) {
	dir, err := os.MkdirTemp("", "ortprofile")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	s, _, err := newORTSide(w, threads, filepath.Join(dir, "ort"))
	if err != nil {
		return nil, err
	}
	for i := 0; i <= runs; i++ {
		if err := s.run(); err != nil {
			s.close()
			return nil, err
		}
	}
	s.close() // ORT writes the profile when the session is released
	files, _ := filepath.Glob(filepath.Join(dir, "ort*.json"))
	if len(files) != 1 {
		return nil, fmt.Errorf("ORT wrote %d profile files in %s, want 1", len(files), dir)
	}
	f, err := os.Open(files[0])
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseORTProfile(f)
}
