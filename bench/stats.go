package bench

import (
	"math"
	"slices"
	"time"
)

// Summary describes a set of latency samples.
type Summary struct {
	N      int
	Min    time.Duration
	Mean   time.Duration
	Stddev time.Duration // sample standard deviation (n-1); 0 for fewer than 2 samples
	P50    time.Duration
	P90    time.Duration
	P99    time.Duration
	Max    time.Duration
}

// Summarize computes the Summary of samples, which it does not modify. No samples give the zero Summary.
func Summarize(samples []time.Duration) Summary {
	n := len(samples)
	if n == 0 {
		return Summary{}
	}
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	var sum float64
	for _, s := range sorted {
		sum += float64(s)
	}
	mean := sum / float64(n)
	var sq float64
	for _, s := range sorted {
		d := float64(s) - mean
		sq += d * d
	}
	std := 0.0
	if n > 1 {
		std = math.Sqrt(sq / float64(n-1))
	}
	return Summary{
		N:      n,
		Min:    sorted[0],
		Mean:   time.Duration(math.Round(mean)),
		Stddev: time.Duration(math.Round(std)),
		P50:    Percentile(sorted, 50),
		P90:    Percentile(sorted, 90),
		P99:    Percentile(sorted, 99),
		Max:    sorted[n-1],
	}
}

// Percentile returns the p-th percentile (0..100) of sorted, which must be in increasing order, by linear
// interpolation between the two nearest ranks (numpy's default "linear" method): rank h = (n-1)·p/100,
// value sorted[⌊h⌋] + (h-⌊h⌋)·(sorted[⌊h⌋+1]-sorted[⌊h⌋]). p outside 0..100 is clamped; no samples give 0.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	p = min(max(p, 0), 100)
	h := float64(n-1) * p / 100
	lo := int(math.Floor(h))
	if lo >= n-1 {
		return sorted[n-1]
	}
	frac := h - float64(lo)
	v := float64(sorted[lo]) + frac*float64(sorted[lo+1]-sorted[lo])
	return time.Duration(math.Round(v))
}

// PerSecond is how many items are done per second when a batch of items takes d: batch / d.
// It is 0 for a zero or negative d.
func PerSecond(items int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(items) / d.Seconds()
}

// GFLOPS is the rate of macs multiply-adds (2 floating-point operations each) done in d, in 10^9 per second.
func GFLOPS(macs int64, d time.Duration) float64 {
	return PerSecond(2*macs, d) / 1e9
}
