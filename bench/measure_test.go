package bench

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// fakeClock advances by step every time it is read twice (once before and once after a run), so each run
// seems to take exactly step.
type fakeClock struct {
	now  time.Time
	step time.Duration
	n    int
}

func (c *fakeClock) read() time.Time {
	c.n++
	if c.n%2 == 0 {
		c.now = c.now.Add(c.step)
	}
	return c.now
}

func TestMeasureTime(t *testing.T) {
	tests := []struct {
		name      string
		m         Measure
		runTime   time.Duration
		wantCalls int // warm-up included
		wantRuns  int
	}{
		{"runs bound", Measure{Warmup: 2, MinRuns: 5}, time.Millisecond, 7, 5},
		{"time bound", Measure{Warmup: 1, MinRuns: 5, MinTime: 50 * time.Millisecond}, 10 * time.Millisecond, 6, 5},
		{"time beyond runs", Measure{MinRuns: 3, MinTime: 50 * time.Millisecond}, 10 * time.Millisecond, 5, 5},
		{"time not a whole number of runs", Measure{MinRuns: 1, MinTime: 25 * time.Millisecond}, 10 * time.Millisecond, 3, 3},
		{"max runs caps the time", Measure{MinRuns: 2, MaxRuns: 4, MinTime: time.Hour}, 10 * time.Millisecond, 4, 4},
		{"max runs equal to min runs", Measure{MinRuns: 3, MaxRuns: 3}, time.Millisecond, 3, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{now: time.Unix(0, 0), step: tc.runTime}
			calls := 0
			samples, err := tc.m.time(func() error { calls++; return nil }, clock.read)
			if err != nil {
				t.Fatal(err)
			}
			if calls != tc.wantCalls || len(samples) != tc.wantRuns {
				t.Errorf("%d calls and %d samples, want %d and %d", calls, len(samples), tc.wantCalls, tc.wantRuns)
			}
			for i, s := range samples {
				if s != tc.runTime {
					t.Errorf("sample %d = %v, want %v", i, s, tc.runTime)
				}
			}
		})
	}
}

func TestMeasureErrors(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name     string
		m        Measure
		failAt   int // call number (1-based) that fails; 0: none
		want     string
		wantRuns int
	}{
		{"no runs", Measure{MinRuns: 0}, 0, "min runs=0", 0},
		{"negative warm-up", Measure{Warmup: -1, MinRuns: 1}, 0, "warmup=-1", 0},
		{"max below min", Measure{MinRuns: 5, MaxRuns: 2}, 0, "max runs=2", 0},
		{"negative time", Measure{MinRuns: 1, MinTime: -time.Second}, 0, "min time=-1s", 0},
		{"fails in warm-up", Measure{Warmup: 3, MinRuns: 2}, 2, "warm-up run 2: boom", 0},
		{"fails while timing", Measure{Warmup: 1, MinRuns: 5}, 4, "run 3: boom", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			clock := &fakeClock{step: time.Millisecond}
			samples, err := tc.m.time(func() error {
				calls++
				if calls == tc.failAt {
					return boom
				}
				return nil
			}, clock.read)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if tc.failAt > 0 && !errors.Is(err, boom) {
				t.Errorf("error %v does not wrap the run's error", err)
			}
			if len(samples) != tc.wantRuns {
				t.Errorf("%d samples before the error, want %d", len(samples), tc.wantRuns)
			}
		})
	}
}

// The real clock works too: a trivial function is timed MinRuns times.
func TestMeasureRealClock(t *testing.T) {
	samples, err := Measure{MinRuns: 10}.Time(func() error { return nil })
	if err != nil || len(samples) != 10 {
		t.Fatalf("got %d samples, err %v; want 10, nil", len(samples), err)
	}
}
