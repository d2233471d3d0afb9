package browsertest

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/serve"
	"github.com/onnxrun/onnxrun/tensorio"
)

// TestTryItPageImageFile opens an image file on LeNet's panel, as a user picking a photo of a digit would:
// MNIST's first test digit (a 7) turned into dark ink on white paper.
func TestTryItPageImageFile(t *testing.T) {
	ctx := NewBrowser(t, time.Minute)
	digit, err := tensorio.ReadFile(testenv.RepoPath(t, "models/lenet/digit_7.npy")) // [1,1,28,28], white on black, pixels / 255
	if err != nil {
		t.Fatal(err)
	}
	paper := image.NewGray(image.Rect(0, 0, 28, 28))
	for i, v := range digit.Float32s() {
		paper.SetGray(i%28, i/28, color.Gray{Y: uint8(math.Round(255 * (1 - float64(v))))})
	}
	var encoded bytes.Buffer
	if err := png.Encode(&encoded, paper); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "seven_on_paper.png")
	if err := os.WriteFile(file, encoded.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	lenet, err := serve.Load(serve.ModelSource{Name: "lenet", Path: testenv.RepoPath(t, "models/lenet/lenet.onnx")}, serve.Config{Sessions: 1})
	if err != nil {
		t.Fatal(err)
	}
	base := StartServer(t, serve.Config{Sessions: 1}, lenet)
	const section = `section[data-model="lenet"]`
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base),
		chromedp.WaitVisible(chromedp.CSS(section+" canvas.draw")),
		chromedp.SetUploadFiles(chromedp.CSS(section+" input.file"), []string{file}),
		chromedp.WaitReady(chromedp.CSS(section+"[data-top-class]")),
	); err != nil {
		t.Fatalf("no prediction for an opened image file: %v", err)
	}
	got, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(section), "data-top-class"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Value != "7" {
		t.Errorf("MNIST's 7 opened as an image file is predicted as %q", got.Value)
	}
}

// TestTryItPreprocessing checks the page's imageTensor against ImagePreprocess's definition on a 2x2 image
// it can compute by hand: gray (BT.601 luma) and RGB, scale, invert, per-channel mean and std, NCHW and
// NHWC; and its probabilities against a softmax.
func TestTryItPreprocessing(t *testing.T) {
	ctx := NewBrowser(t, time.Minute)
	base := StartServer(t, serve.Config{Sessions: 1}, plainLeNet(t))
	if err := chromedp.Do(ctx, chromedp.Navigate(base), chromedp.WaitReady(chromedp.CSS(`section[data-model="digits"]`))); err != nil {
		t.Fatal(err)
	}
	pixels := [4][3]float64{{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {10, 20, 30}} // row-major, 2x2
	const makeImage = `(() => {
		const c = document.createElement("canvas"); c.width = 2; c.height = 2;
		const ctx = c.getContext("2d"); const im = ctx.createImageData(2, 2);
		[[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30]].forEach((p, i) => im.data.set([...p, 255], 4 * i));
		ctx.putImageData(im, 0, 0); return c; })()`
	type tensor struct {
		Shape []int     `json:"shape"`
		Data  []float64 `json:"data"`
	}
	for _, c := range []struct {
		name, settings string
		want           func() tensor
	}{
		{"gray NCHW", `{width: 2, height: 2, channels: 1, scale: 0.5, invert: false, mean: [10], std: [2]}`, func() tensor {
			var d []float64
			for _, p := range pixels {
				d = append(d, ((0.299*p[0]+0.587*p[1]+0.114*p[2])*0.5-10)/2)
			}
			return tensor{[]int{1, 1, 2, 2}, d}
		}},
		{"RGB NHWC inverted", `{width: 2, height: 2, channels: 3, layout: "nhwc", invert: true, mean: [0.5, 0.4, 0.3], std: [0.2, 0.3, 0.4]}`, func() tensor {
			mean, std := []float64{0.5, 0.4, 0.3}, []float64{0.2, 0.3, 0.4}
			var d []float64
			for _, p := range pixels {
				for ch := range 3 {
					d = append(d, (1-p[ch]/255-mean[ch])/std[ch])
				}
			}
			return tensor{[]int{1, 2, 2, 3}, d}
		}},
		{"RGB NCHW", `{width: 2, height: 2, channels: 3, scale: 1}`, func() tensor {
			var d []float64
			for ch := range 3 {
				for _, p := range pixels {
					d = append(d, p[ch])
				}
			}
			return tensor{[]int{1, 3, 2, 2}, d}
		}},
	} {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[tensor](`imageTensor(`+makeImage+`, `+c.settings+`)`))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		want := c.want()
		if !sameFloats(got.Data, want.Data, 1e-9) || len(got.Shape) != 4 || [4]int(got.Shape) != [4]int(want.Shape) {
			t.Errorf("%s: the page makes %+v, want %+v", c.name, got, want)
		}
	}

	probs, err := chromedp.Run(ctx, chromedp.Evaluate[[][]float64](`[probabilities([1, 2, 3]), probabilities([0.25, 0.75])]`))
	if err != nil {
		t.Fatal(err)
	}
	e1, e2, e3 := math.Exp(1), math.Exp(2), math.Exp(3)
	softmax := []float64{e1 / (e1 + e2 + e3), e2 / (e1 + e2 + e3), e3 / (e1 + e2 + e3)}
	if !sameFloats(probs[0], softmax, 1e-12) || !sameFloats(probs[1], []float64{0.25, 0.75}, 0) {
		t.Errorf("probabilities gives %v for logits [1 2 3] (want their softmax %v) and %v for probabilities [0.25 0.75] (want them unchanged)", probs[0], softmax, probs[1])
	}
}

func sameFloats(got, want []float64, tol float64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol {
			return false
		}
	}
	return true
}
