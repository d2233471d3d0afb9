package bench

import (
	"testing"
	"time"
)

func ms(v ...float64) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, x := range v {
		out[i] = time.Duration(x * float64(time.Millisecond))
	}
	return out
}

func TestPercentile(t *testing.T) {
	oneToTen := ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		// numpy.percentile([1..10], q) with the default linear method.
		{"p50 of 1..10", oneToTen, 50, 5500 * time.Microsecond},
		{"p90 of 1..10", oneToTen, 90, 9100 * time.Microsecond},
		{"p99 of 1..10", oneToTen, 99, 9910 * time.Microsecond},
		{"p0 is the minimum", oneToTen, 0, time.Millisecond},
		{"p100 is the maximum", oneToTen, 100, 10 * time.Millisecond},
		{"clamped above", oneToTen, 150, 10 * time.Millisecond},
		{"clamped below", oneToTen, -5, time.Millisecond},
		{"one sample", ms(3), 99, 3 * time.Millisecond},
		{"two samples", ms(1, 2), 50, 1500 * time.Microsecond},
		{"none", nil, 50, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Percentile(tc.sorted, tc.p); got != tc.want {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tc.sorted, tc.p, got, tc.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		name    string
		samples []time.Duration
		want    Summary
	}{
		{"none", nil, Summary{}},
		{"one", ms(2), Summary{N: 1, Min: 2 * time.Millisecond, Mean: 2 * time.Millisecond, P50: 2 * time.Millisecond,
			P90: 2 * time.Millisecond, P99: 2 * time.Millisecond, Max: 2 * time.Millisecond}},
		// Unsorted input; mean 5 ms, sample variance ((3²+1²+1²+3²)/3 = 20/3) ms², stddev 2.5820 ms.
		{"four unsorted", ms(8, 2, 6, 4), Summary{N: 4, Min: 2 * time.Millisecond, Mean: 5 * time.Millisecond,
			Stddev: 2581989 * time.Nanosecond, P50: 5 * time.Millisecond, P90: 7400 * time.Microsecond,
			P99: 7940 * time.Microsecond, Max: 8 * time.Millisecond}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := append([]time.Duration(nil), tc.samples...)
			got := Summarize(tc.samples)
			if got != tc.want {
				t.Errorf("Summarize(%v) =\n %+v, want\n %+v", tc.samples, got, tc.want)
			}
			for i := range before {
				if tc.samples[i] != before[i] {
					t.Fatalf("Summarize reordered its input: %v, was %v", tc.samples, before)
				}
			}
		})
	}
}

func TestRates(t *testing.T) {
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{"64 images in 2 ms", PerSecond(64, 2*time.Millisecond), 32000},
		{"zero time", PerSecond(64, 0), 0},
		// 1024³ multiply-adds = 2·1024³ FLOP in 30 ms: 71.58 GFLOP/s.
		{"SGEMM 1024 in 30 ms", GFLOPS(1<<30, 30*time.Millisecond), 2 * float64(1<<30) / 0.030 / 1e9},
		{"negative time", GFLOPS(10, -time.Second), 0},
	}
	for _, tc := range tests {
		if diff := tc.got - tc.want; diff > 1e-9*tc.want || diff < -1e-9*tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}
