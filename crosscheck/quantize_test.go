package crosscheck

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/quantize"
)

// TestQuantizedLeNetAgreesWithONNXRuntime quantizes the committed LeNet with `onnxrun quantize`'s library,
// dynamically and statically (1,000 training images for calibration), and runs each result on the 10,000
// MNIST test digits in ONNX Runtime (which fuses the QDQ into its integer kernels) and in onnxrun. Their
// top-1 must agree on every digit whose top-1/top-2 gap in ORT's logits exceeds one quantization step,
// taken as the logits' range over the test set divided by 255 (the resolution of a uint8 output): closer
// calls can flip on rounding that each runtime is entitled to.
func TestQuantizedLeNetAgreesWithONNXRuntime(t *testing.T) {
	initORT(t)
	train, test := loadMNIST(t)
	m, err := onnx.Load(testenv.RepoPath(t, "models/lenet/lenet.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	calibration := quantize.MNISTData(train, 0, 1000).Sets
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		opts quantize.Options
	}{
		{"dynamic", quantize.Options{Mode: quantize.Dynamic}},
		{"dynamic_per_channel", quantize.Options{Mode: quantize.Dynamic, PerChannel: true}},
		{"static_minmax", quantize.Options{Mode: quantize.Static, Method: quantize.MinMax}},
		{"static_minmax_per_channel", quantize.Options{Mode: quantize.Static, Method: quantize.MinMax, PerChannel: true}}, // issue 16 item 5's LeNet
		{"static_entropy_per_channel", quantize.Options{Mode: quantize.Static, Method: quantize.Entropy, PerChannel: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.opts.Calibration = calibration
			q, _, err := quantize.Quantize(m, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, c.name+".onnx")
			if err := q.Save(path); err != nil {
				t.Fatal(err)
			}
			want := ortLogits(t, path, test, 10)
			got := onnxrunLogits(t, path, test)
			step := float64(slices.Max(want)-slices.Min(want)) / 255
			clear, differ, ortRight, ourRight, worst := 0, 0, 0, 0, 0.0
			for i, label := range test.Labels {
				g, w := got[i*10:(i+1)*10], want[i*10:(i+1)*10]
				pg, pw := argmax(g), argmax(w)
				if pw == int(label) {
					ortRight++
				}
				if pg == int(label) {
					ourRight++
				}
				for j := range g {
					worst = max(worst, float64(abs32(g[j]-w[j])))
				}
				if topGap(w) <= step {
					continue
				}
				clear++
				if pg != pw {
					differ++
					if differ <= 5 {
						t.Errorf("image %d: onnxrun says %d, ONNX Runtime %d (gap %.3g > step %.3g; logits %v vs %v)", i, pg, pw, topGap(w), step, g, w)
					}
				}
			}
			if differ > 0 {
				t.Errorf("%d of %d clear-cut digits differ", differ, clear)
			}
			t.Logf("%s: %d of %d digits clear-cut (gap > %.3g), largest logit difference %.3g; accuracy ONNX Runtime %.2f%%, onnxrun %.2f%%",
				c.name, clear, test.N, step, worst, 100*float64(ortRight)/float64(test.N), 100*float64(ourRight)/float64(test.N))
		})
	}
}

// topGap is the difference between the largest and second-largest of v.
func topGap(v []float32) float64 {
	first, second := float32(-1e38), float32(-1e38)
	for _, x := range v {
		switch {
		case x > first:
			first, second = x, first
		case x > second:
			second = x
		}
	}
	return float64(first - second)
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}
