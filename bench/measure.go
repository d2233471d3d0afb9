package bench

import (
	"fmt"
	"time"
)

// Measure says how long the timing loop runs. A run counts only when the loop has done Warmup runs
// first; it then stops once it has at least MinRuns samples and has spent at least MinTime on them,
// or at MaxRuns samples, whichever comes first.
type Measure struct {
	Warmup  int
	MinRuns int
	MaxRuns int           // 0: no limit other than MinRuns and MinTime
	MinTime time.Duration // time spent on counted runs
}

// DefaultMeasure is what `onnxrun bench` uses when no flag says otherwise: enough samples for a stable
// p99 on fast models, and about two seconds on slow ones.
var DefaultMeasure = Measure{Warmup: 5, MinRuns: 20, MaxRuns: 100000, MinTime: 2 * time.Second}

func (m Measure) validate() error {
	if m.Warmup < 0 || m.MinRuns < 1 || m.MaxRuns < 0 || (m.MaxRuns > 0 && m.MaxRuns < m.MinRuns) || m.MinTime < 0 {
		return fmt.Errorf("bench: bad measure settings: warmup=%d (>= 0), min runs=%d (>= 1), max runs=%d (0 or >= min runs), min time=%v (>= 0)",
			m.Warmup, m.MinRuns, m.MaxRuns, m.MinTime)
	}
	return nil
}

// Time runs fn as m says and returns the wall time of every counted run. The first error stops the loop.
func (m Measure) Time(fn func() error) ([]time.Duration, error) {
	return m.time(fn, time.Now)
}

// time is Time with a clock that tests can replace.
func (m Measure) time(fn func() error, now func() time.Time) ([]time.Duration, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	for i := 0; i < m.Warmup; i++ {
		if err := fn(); err != nil {
			return nil, fmt.Errorf("warm-up run %d: %w", i+1, err)
		}
	}
	samples := make([]time.Duration, 0, max(m.MinRuns, 64))
	var spent time.Duration
	for len(samples) < m.MinRuns || spent < m.MinTime {
		if m.MaxRuns > 0 && len(samples) >= m.MaxRuns {
			break
		}
		t0 := now()
		if err := fn(); err != nil {
			return samples, fmt.Errorf("run %d: %w", len(samples)+1, err)
		}
		d := now().Sub(t0)
		samples = append(samples, d)
		spent += d
	}
	return samples, nil
}
