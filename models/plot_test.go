package models

import (
	"encoding/xml"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// syntheticHistory is a 10-epoch run with a finer step curve and a validation set, shaped like a real one.
func syntheticHistory() *History {
	h := &History{}
	for e := 1; e <= 10; e++ {
		loss := 2.3 * math.Exp(-0.4*float64(e))
		h.Epochs = append(h.Epochs, EpochStats{Epoch: e, TrainLoss: loss, TrainAccuracy: 1 - loss/2.5,
			ValLoss: loss * 1.1, ValAccuracy: 1 - loss/2.3})
		for s := 0; s < 4; s++ {
			x := float64(e-1) + float64(s+1)/4
			h.Steps = append(h.Steps, StepStats{Epoch: x, Loss: 2.3 * math.Exp(-0.4*x) * (1 + 0.1*math.Sin(7*x)), Accuracy: 1 - 0.9*math.Exp(-0.4*x)})
		}
	}
	return h
}

// countColor counts the pixels of exactly c in the columns [x0, x1).
func countColor(img image.Image, c color.RGBA, x0, x1 int) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := x0; x < x1; x++ {
			if color.RGBAModel.Convert(img.At(x, y)) == c {
				n++
			}
		}
	}
	return n
}

func TestPlotHistoryPNG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "curves.png")
	if err := PlotHistory(syntheticHistory(), "lenet", path); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("the plot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != plotWidth || b.Dy() != plotHeight {
		t.Fatalf("picture is %v, want %dx%d", b, plotWidth, plotHeight)
	}
	// Each panel holds all three curves (their line centres are painted in the exact colour) and text.
	for _, half := range []struct {
		name   string
		x0, x1 int
	}{{"loss", 0, plotWidth / 2}, {"accuracy", plotWidth / 2, plotWidth}} {
		for _, c := range []struct {
			name  string
			color color.RGBA
			min   int
		}{{"steps", stepColor, 300}, {"training", trainColor, 300}, {"validation", valColor, 300}, {"text and axes", axisColor, 1000}} {
			if n := countColor(img, c.color, half.x0, half.x1); n < c.min {
				t.Errorf("%s panel: %d pixels of the %s colour, want at least %d", half.name, n, c.name, c.min)
			}
		}
	}
	// The loss falls: the validation curve's pixels sit higher (smaller y) on the left of the loss panel
	// than on its right.
	meanY := func(x0, x1 int) float64 {
		sum, n := 0, 0
		for y := panelMarginTop + 1; y < plotHeight-panelMarginBottom; y++ {
			for x := x0; x < x1; x++ {
				if color.RGBAModel.Convert(img.At(x, y)) == valColor {
					sum, n = sum+y, n+1
				}
			}
		}
		if n == 0 {
			t.Fatalf("no validation pixel in columns %d..%d", x0, x1)
		}
		return float64(sum) / float64(n)
	}
	if early, late := meanY(panelMarginLeft, 200), meanY(300, plotWidth/2-panelMarginRight); early >= late {
		t.Errorf("validation loss drawn at mean y %.0f early and %.0f late: a falling loss must sink on screen (y grows downwards)", early, late)
	}
}

func TestPlotHistorySVG(t *testing.T) {
	h := syntheticHistory()
	path := filepath.Join(t.TempDir(), "curves.SVG")
	if err := PlotHistory(h, "a<b & c", path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XMLName   xml.Name `xml:"svg"`
		Polylines []struct {
			Points string `xml:"points,attr"`
			Stroke string `xml:"stroke,attr"`
		} `xml:"polyline"`
		Texts []string `xml:"text"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("the plot is not well-formed SVG: %v", err)
	}
	// Per panel: the step curve has a point per step, the epoch curves a point per epoch (plus the legend's
	// two-point samples).
	want := map[string]int{svgColor(stepColor): len(h.Steps), svgColor(trainColor): len(h.Epochs), svgColor(valColor): len(h.Epochs)}
	got := map[string]int{}
	for _, p := range doc.Polylines {
		n := len(strings.Fields(p.Points))
		if want[p.Stroke] == n {
			got[p.Stroke]++
			for _, xy := range strings.Fields(p.Points) {
				x, y, _ := strings.Cut(xy, ",")
				fx, errx := strconv.ParseFloat(x, 64)
				fy, erry := strconv.ParseFloat(y, 64)
				if errx != nil || erry != nil || fx < 0 || fx > plotWidth || fy < panelMarginTop || fy > plotHeight-panelMarginBottom {
					t.Errorf("curve %s: point %q outside the plot areas", p.Stroke, xy)
				}
			}
		}
	}
	for c := range want {
		if got[c] != 2 {
			t.Errorf("%d curves of colour %s with %d points, want 2 (one per panel)", got[c], c, want[c])
		}
	}
	text := strings.Join(doc.Texts, "|")
	for _, s := range []string{"a<b & c - loss", "a<b & c - accuracy", "epoch", "cross-entropy", "validation", "training (epoch mean)", "1.0"} {
		if !strings.Contains(text, s) {
			t.Errorf("no text %q in the SVG (texts: %s)", s, text)
		}
	}
}

func TestPlotHistoryEdgeCases(t *testing.T) {
	dir := t.TempDir()
	if err := PlotHistory(&History{}, "empty", filepath.Join(dir, "empty.png")); err == nil {
		t.Error("plotting an empty history gave no error")
	}
	// A diverged run (NaN loss), no validation data and a single epoch still draw.
	h := &History{Epochs: []EpochStats{{Epoch: 1, TrainLoss: math.NaN(), TrainAccuracy: 0.1, ValLoss: math.NaN()}},
		Steps: []StepStats{{Epoch: 0.5, Loss: 2}, {Epoch: 1, Loss: math.Inf(1)}}}
	for _, name := range []string{"one.png", "one.svg"} {
		if err := PlotHistory(h, "one", filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := PlotHistory(syntheticHistory(), "x", filepath.Join(dir, "no-such-dir", "c.png")); err == nil {
		t.Error("writing into a missing folder gave no error")
	}
}

func TestNiceTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		labels string
	}{
		{0, 10, "0 2 4 6 8 10"},
		{0.05, 2.31, "0.0 0.5 1.0 1.5 2.0 2.5"},
		{0.83, 1, "0.80 0.85 0.90 0.95 1.00"},
		{3, 3, "2.4 2.6 2.8 3.0 3.2 3.4 3.6"},
		{-1e-17, 1, "0.0 0.2 0.4 0.6 0.8 1.0"}, // no "-0.0" from a rounding residue
	} {
		tk := niceTicks(c.lo, c.hi)
		var labels []string
		for _, v := range tk.values() {
			labels = append(labels, tk.label(v))
		}
		if got := strings.Join(labels, " "); got != c.labels {
			t.Errorf("niceTicks(%g, %g): labels %q, want %q", c.lo, c.hi, got, c.labels)
		}
	}
}
