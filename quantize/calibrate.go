package quantize

import (
	"fmt"
	"math"
	"strings"
)

// Method is how static quantization turns the activations seen during calibration into a range.
type Method int

const (
	// MinMax takes the smallest and largest value seen.
	MinMax Method = iota
	// Percentile drops the rarest values at both ends: it keeps the central Options.Percentile percent of
	// the values seen (per tensor), read from a histogram of HistogramBins bins.
	Percentile
	// Entropy chooses the clipping threshold T that minimises the KL divergence between the histogram of
	// |x| and the same histogram quantized to QuantizedBins levels below T (TensorRT's and ONNX Runtime's
	// entropy calibration), and clips the seen range to [-T, T].
	Entropy
)

// HistogramBins is the resolution of the histograms the Percentile and Entropy methods read (ONNX
// Runtime's and TensorRT's default).
const HistogramBins = 2048

// QuantizedBins is the number of levels the Entropy method compares the histogram against: 128, the levels
// one sign of an 8-bit value has (ONNX Runtime's num_quantized_bins default).
const QuantizedBins = 128

// ParseMethod reads a method name as the command line gives it.
func ParseMethod(s string) (Method, error) {
	switch strings.ToLower(s) {
	case "minmax", "min-max", "min_max":
		return MinMax, nil
	case "percentile":
		return Percentile, nil
	case "entropy", "kl":
		return Entropy, nil
	}
	return 0, fmt.Errorf("calibration method %q: want minmax, percentile or entropy", s)
}

func (m Method) String() string {
	switch m {
	case MinMax:
		return "minmax"
	case Percentile:
		return "percentile"
	case Entropy:
		return "entropy"
	}
	return fmt.Sprintf("Method(%d)", int(m))
}

// needsHistogram reports whether the method reads a histogram (and so a second pass over the data, once
// the first has found the range the histogram spans).
func (m Method) needsHistogram() bool { return m == Percentile || m == Entropy }

// Histogram counts values in Bins() equal bins spanning [Lo, Hi]; values outside go to the end bins.
type Histogram struct {
	Lo, Hi float64
	Counts []float64
}

// NewHistogram makes an empty histogram of bins bins over [lo, hi].
func NewHistogram(lo, hi float64, bins int) *Histogram {
	return &Histogram{Lo: lo, Hi: hi, Counts: make([]float64, bins)}
}

// Bins is the number of bins.
func (h *Histogram) Bins() int { return len(h.Counts) }

// Width is the width of one bin.
func (h *Histogram) Width() float64 { return (h.Hi - h.Lo) / float64(len(h.Counts)) }

// Add counts values, or their absolute values when abs is set.
func (h *Histogram) Add(values []float32, abs bool) {
	n := len(h.Counts)
	w := h.Width()
	for _, v := range values {
		x := float64(v)
		if abs {
			x = math.Abs(x)
		}
		if math.IsNaN(x) {
			continue
		}
		bin := n - 1
		if w > 0 {
			bin = min(max(int((x-h.Lo)/w), 0), n-1)
		}
		h.Counts[bin]++
	}
}

// PercentileRange returns the range holding the central p percent (0 < p <= 100) of the values counted:
// (100-p)/2 percent of the count is dropped from each end, at bin resolution (the edges returned are bin
// edges, the lower edge of the first bin kept and the upper edge of the last).
func PercentileRange(h *Histogram, p float64) (lo, hi float64) {
	total := 0.0
	for _, c := range h.Counts {
		total += c
	}
	if total == 0 {
		return h.Lo, h.Hi
	}
	drop := total * (100 - p) / 200
	first, last := 0, len(h.Counts)-1
	for seen := 0.0; first < last; first++ {
		if seen+h.Counts[first] > drop {
			break
		}
		seen += h.Counts[first]
	}
	for seen := 0.0; last > first; last-- {
		if seen+h.Counts[last] > drop {
			break
		}
		seen += h.Counts[last]
	}
	w := h.Width()
	return h.Lo + float64(first)*w, h.Lo + float64(last+1)*w
}

// EntropyThreshold returns the clipping threshold of a histogram of absolute values (Lo = 0) that
// minimises KL(P || Q), where, for a candidate threshold at the upper edge of bin i-1 (i from
// quantizedBins to Bins()), P is the first i bins with every count beyond them added to the last, and Q
// is the first i bins merged into quantizedBins levels, each level's count spread evenly over the bins of
// it that were not empty (so that empty bins stay empty). The smallest threshold of equal divergence wins.
//
// The first bin is counted as holding what the second does: ReLU outputs and images are mostly exact
// zeros, and that spike, merged into the first level, would dominate the divergence and pull the threshold
// down to quantizedBins bins whatever the rest of the distribution (NVIDIA's pytorch-quantization entropy
// calibrator sets it aside the same way). Spikes inside the histogram are set aside alike (see
// flattenSpikes): a convolution's bias over a blank background (MNIST's, padding) gives one exact value
// per channel at every such pixel. h is not changed.
func EntropyThreshold(h *Histogram, quantizedBins int) float64 {
	n := len(h.Counts)
	if quantizedBins >= n || n < 2 {
		return h.Hi
	}
	h = &Histogram{Lo: h.Lo, Hi: h.Hi, Counts: append([]float64(nil), h.Counts...)}
	h.Counts[0] = h.Counts[1]
	flattenSpikes(h.Counts, quantizedBins)
	beyond := make([]float64, n+1) // beyond[i]: the count in bins i and up
	for i := n - 1; i >= 0; i-- {
		beyond[i] = beyond[i+1] + h.Counts[i]
	}
	if beyond[0] == 0 {
		return h.Hi
	}
	const eps = 1e-12 // stands in for an empty bin of Q where P has mass, as a finite penalty
	best, bestKL := n, math.Inf(1)
	q := make([]float64, n)
	for i := quantizedBins; i <= n; i++ {
		// Q: merge the first i bins into quantizedBins levels, spread over their non-empty bins.
		for level := range quantizedBins {
			from, to := level*i/quantizedBins, (level+1)*i/quantizedBins
			sum, nonEmpty := 0.0, 0
			for b := from; b < to; b++ {
				sum += h.Counts[b]
				if h.Counts[b] > 0 {
					nonEmpty++
				}
			}
			for b := from; b < to; b++ {
				q[b] = 0
				if h.Counts[b] > 0 {
					q[b] = sum / float64(nonEmpty)
				}
			}
		}
		pTotal := beyond[0]          // P keeps every count (the outliers folded into its last bin)
		qTotal := pTotal - beyond[i] // Q holds only the first i bins
		if qTotal == 0 {
			continue
		}
		kl := 0.0
		for b := range i {
			p := h.Counts[b]
			if b == i-1 {
				p += beyond[i]
			}
			if p == 0 {
				continue
			}
			pn, qn := p/pTotal, q[b]/qTotal
			kl += pn * math.Log(pn/max(qn, eps))
		}
		if kl < bestKL {
			best, bestKL = i, kl
		}
	}
	return h.Lo + float64(best)*h.Width()
}

// spikeFactor is how many times the count of both its neighbours a bin must hold to be a spike.
const spikeFactor = 8

// flattenSpikes lowers every spike of counts to its larger neighbour. A spike is an interior bin holding
// more than spikeFactor times each neighbour and at least an even share of one of quantizedBins levels
// (so that noise in a sparse tail is left alone): values repeated exactly, such as a ReLU'd bias over
// a constant background. Any 8-bit range represents such a value by one level, within half a step, yet
// the divergence charges a spike merged with its neighbours into a level as a large loss, growing with
// the bins per level, that is with the threshold: spikes of a tenth of the values each, as LeNet's first
// ReLU output has, drag the threshold to the first candidate where they happen to sit alone in a level,
// a fifth of the range, and clip a sixth of the non-zero values. The last bin is kept: it holds the
// largest values, and what clipping them would cost must stay in the divergence.
func flattenSpikes(counts []float64, quantizedBins int) {
	total := 0.0
	for _, c := range counts {
		total += c
	}
	minSpike := total / float64(quantizedBins)
	prev := counts[0] // the left neighbour's count before any flattening
	for b := 1; b+1 < len(counts); b++ {
		c, neighbour := counts[b], max(prev, counts[b+1])
		prev = c
		if c > spikeFactor*neighbour && c >= minSpike {
			counts[b] = neighbour
		}
	}
}
