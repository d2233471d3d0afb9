package quantize

import (
	"math"
	"slices"
	"testing"
)

func TestHistogramAddClampsToTheEndBins(t *testing.T) {
	h := NewHistogram(0, 4, 4)
	h.Add([]float32{-1, 0, 0.5, 1, 3.99, 4, 9, float32(math.NaN())}, false)
	want := []float64{3, 1, 0, 3} // -1 and 0 and 0.5; 1; none; 3.99, 4 and 9; NaN skipped
	for i := range want {
		if h.Counts[i] != want[i] {
			t.Fatalf("counts %v, want %v", h.Counts, want)
		}
	}
	abs := NewHistogram(0, 2, 2)
	abs.Add([]float32{-1.5, 1.5, -0.5}, true)
	if abs.Counts[0] != 1 || abs.Counts[1] != 2 {
		t.Errorf("abs counts %v, want [1 2]", abs.Counts)
	}
}

func TestPercentileRange(t *testing.T) {
	// 100 bins over [0, 100], one value in each: the central 98% drops the first and last bin.
	h := NewHistogram(0, 100, 100)
	for i := range h.Counts {
		h.Counts[i] = 1
	}
	for _, c := range []struct{ p, lo, hi float64 }{{100, 0, 100}, {98, 1, 99}, {90, 5, 95}, {98.5, 0, 100}} {
		lo, hi := PercentileRange(h, c.p)
		if lo != c.lo || hi != c.hi {
			t.Errorf("percentile %g: [%g, %g], want [%g, %g]", c.p, lo, hi, c.lo, c.hi)
		}
	}
	// A lone outlier far out is dropped by 99.9 (it is 1 in 10,001 values) but kept by 100.
	o := NewHistogram(-10, 1000, 1010)
	o.Counts[10] = 10000 // the values in [0, 1)
	o.Counts[1009] = 1
	if lo, hi := PercentileRange(o, 99.9); lo != 0 || hi != 1 {
		t.Errorf("with an outlier, 99.9: [%g, %g], want [0, 1]", lo, hi)
	}
	if _, hi := PercentileRange(o, 100); hi != 1000 {
		t.Errorf("with an outlier, 100: hi %g, want 1000", hi)
	}
}

func TestEntropyThreshold(t *testing.T) {
	// Values decaying exponentially over [0, 10) and one far outlier at 100: the threshold clips the
	// outlier. (A flat bulk would not do: KL compares shapes, and a flat one merges without loss.)
	h := NewHistogram(0, 100, HistogramBins)
	edge := int(10 / h.Width())
	for i := range edge {
		h.Counts[i] = math.Round(1e4 * math.Exp(-float64(i)/40))
	}
	h.Counts[HistogramBins-1] = 1
	if got := EntropyThreshold(h, QuantizedBins); got < 9.5 || got > 20 {
		t.Errorf("bulk in [0, 10), outlier at 100: threshold %g, want about 10", got)
	}
	// Values spread evenly over the whole histogram, nothing to clip: the threshold is the top.
	u := NewHistogram(0, 8, HistogramBins)
	for i := range u.Counts {
		u.Counts[i] = 5
	}
	if got := EntropyThreshold(u, QuantizedBins); got < 7.9 {
		t.Errorf("uniform over [0, 8]: threshold %g, want 8", got)
	}
	// A spike of exact zeros does not drag the threshold down to the first quantizedBins bins.
	z := NewHistogram(0, 8, HistogramBins)
	for i := range z.Counts {
		z.Counts[i] = 5
	}
	z.Counts[0] = 1e6
	if got := EntropyThreshold(z, QuantizedBins); got < 7.9 {
		t.Errorf("uniform over [0, 8] with zeros: threshold %g, want 8", got)
	}
	if z.Counts[0] != 1e6 {
		t.Errorf("EntropyThreshold changed its histogram")
	}
}

// TestEntropyThresholdSpikes reads a histogram shaped like the |x| of LeNet's first ReLU output over
// MNIST: 44% exact zeros, two channels' ReLU'd bias over the blank background as spikes of a tenth of the
// values each at bins 3 and 16, and a long tail to the top. Merging the spikes with their neighbours
// cost so much divergence that the threshold fell to a fifth of the range, clipping a sixth of the
// non-zero values; spikes are represented by one level whatever the threshold, so they must not choose it.
func TestEntropyThresholdSpikes(t *testing.T) {
	h := NewHistogram(0, 2.6, HistogramBins)
	for b := range h.Counts {
		h.Counts[b] = math.Round(4000*math.Exp(-float64(b)/60) + 400*math.Exp(-float64(b)/800))
	}
	h.Counts[0] = 1.8e6
	h.Counts[3] = 4.3e5
	h.Counts[16] = 4.3e5
	before := append([]float64(nil), h.Counts...)
	// 256 levels: the tensor is non-negative.
	if got := EntropyThreshold(h, 2*QuantizedBins); got < 0.9*h.Hi {
		t.Errorf("ReLU output with bias spikes over [0, %g]: threshold %g, want near the top", h.Hi, got)
	}
	if !slices.Equal(h.Counts, before) {
		t.Errorf("EntropyThreshold changed its histogram")
	}
	// A few values far out, alone among empty bins, are not a spike (too few to fill a level): the
	// divergence of clipping them still counts, and here keeps them in range.
	o := NewHistogram(0, 100, HistogramBins)
	for b := range o.Counts[:205] {
		o.Counts[b] = 1000
	}
	o.Counts[HistogramBins-1000] = 9
	if got := EntropyThreshold(o, QuantizedBins); got < 51 {
		t.Errorf("bulk in [0, 10), 9 values at 51: threshold %g, want above 51", got)
	}
}

func TestQuantizationParameters(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		scale  float64
		zp     uint8
	}{
		{0, 2.55, 0.01, 0}, {-1.275, 1.275, 0.01, 128}, {1, 2.55, 0.01, 0}, {-2.55, -1, 0.01, 255}, {0, 0, 1, 0},
	} {
		scale, zp := uint8Params(c.lo, c.hi)
		if math.Abs(scale-c.scale) > 1e-7 || zp != c.zp {
			t.Errorf("uint8Params(%g, %g) = %g, %d; want %g, %d", c.lo, c.hi, scale, zp, c.scale, c.zp)
		}
	}
	if s := int8Scale(12.7); math.Abs(float64(s)-0.1) > 1e-7 {
		t.Errorf("int8Scale(12.7) = %g, want 0.1", s)
	}
	if s := int8Scale(0); s != 1 {
		t.Errorf("int8Scale(0) = %g, want 1", s)
	}
}

func TestParseMethodAndMode(t *testing.T) {
	for name, want := range map[string]Method{"minmax": MinMax, "percentile": Percentile, "entropy": Entropy} {
		if got, err := ParseMethod(name); err != nil || got != want || got.String() != name {
			t.Errorf("ParseMethod(%q) = %v, %v", name, got, err)
		}
	}
	if _, err := ParseMethod("mse"); err == nil {
		t.Error("ParseMethod(mse): no error")
	}
	if _, err := ParseMode("both"); err == nil {
		t.Error("ParseMode(both): no error")
	}
}
