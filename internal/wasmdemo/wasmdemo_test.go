package wasmdemo

import (
	"errors"
	"image"
	"image/png"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/tensorio"
)

// shippedDigits are models/lenet's MNIST test digits and their labels.
var shippedDigits = map[string]int{"digit_0": 0, "digit_1": 1, "digit_2": 2, "digit_4": 4, "digit_7": 7}

func lenet(t *testing.T) *Classifier {
	t.Helper()
	model, err := os.ReadFile(testenv.RepoPath(t, "models/lenet/lenet.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClassifier(model)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// canvasFrom paints a grey picture into an RGBA canvas of width x height, scaled up by zoom with its
// top-left corner at (left, top), as a user's strokes on a big canvas; darkOnLight paints it as ink on paper.
func canvasFrom(g *image.Gray, width, height, zoom, left, top int, darkOnLight bool) Canvas {
	c := Canvas{Width: width, Height: height, RGBA: make([]byte, 4*width*height), DarkOnLight: darkOnLight}
	for y := range height {
		for x := range width {
			v := uint8(0)
			if sx, sy := (x-left)/zoom, (y-top)/zoom; x >= left && y >= top && sx < g.Rect.Dx() && sy < g.Rect.Dy() {
				v = g.GrayAt(sx, sy).Y
			}
			if darkOnLight {
				v = 255 - v
			}
			i := 4 * (y*width + x)
			c.RGBA[i], c.RGBA[i+1], c.RGBA[i+2], c.RGBA[i+3] = v, v, v, 255
		}
	}
	return c
}

func readPNG(t *testing.T, name string) *image.Gray {
	t.Helper()
	f, err := os.Open(testenv.RepoPath(t, "models/lenet/"+name+".png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	g, ok := img.(*image.Gray)
	if !ok {
		t.Fatalf("%s.png is a %T, want a grey-scale picture", name, img)
	}
	return g
}

// A shipped digit drawn large and off-centre on a 280x280 canvas, either way round, is classified as
// its label: DigitInput crops, scales and centres it as MNIST's digits are.
func TestDigitInputClassifiesShippedDigitsDrawnLarge(t *testing.T) {
	c := lenet(t)
	for name, label := range shippedDigits {
		g := readPNG(t, name)
		for _, darkOnLight := range []bool{false, true} {
			// 8x the MNIST size, pushed towards the bottom right corner (partly out of the canvas's middle).
			in, err := DigitInput(canvasFrom(g, 280, 280, 8, 60, 50, darkOnLight))
			if err != nil {
				t.Fatal(err)
			}
			if got := in.Shape(); len(got) != 4 || got[0] != 1 || got[1] != 1 || got[2] != 28 || got[3] != 28 {
				t.Fatalf("%s: input shape %v, want [1 1 28 28]", name, got)
			}
			p, err := c.Classify(in)
			if err != nil {
				t.Fatal(err)
			}
			if p.Class != label {
				t.Errorf("%s (dark on light %v): class %d (p=%.3f), want %d", name, darkOnLight, p.Class, p.Probabilities[p.Class], label)
			}
		}
	}
}

// The digit ends up with its centre of mass in the middle of the 28x28 picture and its box 20 pixels on
// its longer side, wherever it was drawn.
func TestDigitInputCentresAndScales(t *testing.T) {
	// A 30x60 bar in the top-left corner of a 300x200 canvas.
	c := Canvas{Width: 300, Height: 200, RGBA: make([]byte, 4*300*200)}
	for y := 5; y < 65; y++ {
		for x := 10; x < 40; x++ {
			i := 4 * (y*300 + x)
			c.RGBA[i], c.RGBA[i+1], c.RGBA[i+2], c.RGBA[i+3] = 255, 255, 255, 255
		}
	}
	in, err := DigitInput(c)
	if err != nil {
		t.Fatal(err)
	}
	px := in.Float32s()
	var sum, sx, sy float64
	rows := map[int]bool{}
	for y := range 28 {
		for x := range 28 {
			v := float64(px[y*28+x])
			sum += v
			sx += v * (float64(x) + 0.5)
			sy += v * (float64(y) + 0.5)
			if v > 0.5 {
				rows[y] = true
			}
		}
	}
	if cx, cy := sx/sum, sy/sum; math.Abs(cx-14) > 0.5 || math.Abs(cy-14) > 0.5 {
		t.Errorf("centre of mass (%.2f, %.2f), want (14, 14)", cx, cy)
	}
	if len(rows) < 19 || len(rows) > 21 {
		t.Errorf("the bar covers %d rows, want 20 (its longer side scaled to 20 of 28)", len(rows))
	}
}

func TestDigitInputErrors(t *testing.T) {
	var inputErr *InputError
	blank := Canvas{Width: 10, Height: 10, RGBA: make([]byte, 400)}
	if _, err := DigitInput(blank); !errors.As(err, &inputErr) || !strings.Contains(err.Error(), "blank") {
		t.Errorf("blank canvas: got %v, want an InputError saying it is blank", err)
	}
	// White paint with zero alpha is no ink.
	transparent := Canvas{Width: 2, Height: 1, RGBA: []byte{255, 255, 255, 0, 255, 255, 255, 0}}
	if _, err := DigitInput(transparent); !errors.As(err, &inputErr) {
		t.Errorf("transparent canvas: got %v, want an InputError", err)
	}
	short := Canvas{Width: 10, Height: 10, RGBA: make([]byte, 399)}
	if _, err := DigitInput(short); !errors.As(err, &inputErr) || !strings.Contains(err.Error(), "needs 400 RGBA bytes, got 399") {
		t.Errorf("short canvas: got %v, want an InputError naming the sizes", err)
	}
}

// Classify gives the shipped digits' labels from their .npy files (what the page's in-browser check
// loads), with probabilities that sum to 1.
func TestClassifyShippedNPY(t *testing.T) {
	c := lenet(t)
	for name, label := range shippedDigits {
		x, err := tensorio.ReadNPYFile(testenv.RepoPath(t, "models/lenet/"+name+".npy"))
		if err != nil {
			t.Fatal(err)
		}
		p, err := c.Classify(x)
		if err != nil {
			t.Fatal(err)
		}
		sum := 0.0
		for _, q := range p.Probabilities {
			sum += q
		}
		if p.Class != label || len(p.Logits) != 10 || math.Abs(sum-1) > 1e-9 {
			t.Errorf("%s: class %d of %d logits, probabilities sum to %v; want class %d of 10, sum 1", name, p.Class, len(p.Logits), sum, label)
		}
	}
}

func TestTimeRuns(t *testing.T) {
	calls := 0
	tm, err := TimeRuns(func() error { calls++; return nil }, 3, 4, 5)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 3+4*5 || tm.Runs != 20 || tm.Rounds != 4 || tm.PerRound != 5 {
		t.Errorf("%d calls, %+v; want 23 calls (3 warm-up), 20 timed in 4 rounds of 5", calls, tm)
	}
	if tm.MeanMS < 0 || tm.MedianMS < 0 {
		t.Errorf("negative times: %+v", tm)
	}
	boom := errors.New("boom")
	if _, err := TimeRuns(func() error { return boom }, 0, 1, 1); !errors.Is(err, boom) {
		t.Errorf("a failing run: got %v, want its error", err)
	}
	if _, err := TimeRuns(func() error { return nil }, 0, 0, 1); err == nil {
		t.Error("0 rounds: no error")
	}
}
