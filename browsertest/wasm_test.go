package browsertest

import (
	"fmt"
	"math"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
	"github.com/onnxrun/onnxrun/tensorio"
)

// buildWASMDemo runs `make wasm-demo` into a temporary folder and returns it: the test serves exactly
// what the make target ships.
func buildWASMDemo(t *testing.T) string {
	t.Helper()
	makeBin := testenv.RequireTool(t, "make", "apt-get install make")
	dir := t.TempDir()
	cmd := exec.Command(makeBin, "-C", testenv.RepoPath(t, "."), "wasm-demo", "WASM_DEMO="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, out)
	}
	return dir
}

// wasmPrediction is what the demo page's classify functions return.
type wasmPrediction struct {
	Class         int       `json:"class"`
	Logits        []float64 `json:"logits"`
	Probabilities []float64 `json:"probabilities"`
	Error         string    `json:"error"`
}

// TestWASMDemo builds the demo, serves its folder from a plain file server (which runs no model: all
// inference is in the page's WebAssembly module), draws digits on its canvas with the mouse and reads the
// prediction, classifies the shipped MNIST digits in the page and compares with native onnxrun, and
// checks the page's timing function.
func TestWASMDemo(t *testing.T) {
	RequireBrowser(t) // before the build, so that a machine without a browser skips at once
	dir := buildWASMDemo(t)
	base := ServeHandler(t, http.FileServer(http.Dir(dir)))
	ctx := NewBrowser(t, 3*time.Minute)

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"index.html"), chromedp.WaitReady(chromedp.CSS("body[data-ready]"))); err != nil {
		t.Fatalf("opening the demo: %v", err)
	}
	if ready, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("body"), "data-ready")); err != nil || ready.Value != "true" {
		status, _ := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS("#status")))
		t.Fatalf("the demo did not start (data-ready=%q, %v): %s", ready.Value, err, status)
	}

	t.Run("draw", func(t *testing.T) {
		for _, digit := range HandDigits {
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#clear"))); err != nil {
				t.Fatal(err)
			}
			if err := DrawStrokes(ctx, "#pad", digit.Strokes...); err != nil {
				t.Fatalf("drawing a %d: %v", digit.Class, err)
			}
			// The page classifies when a stroke ends and puts the class in #prediction's data-class.
			if err := chromedp.Do(ctx, chromedp.WaitReady(chromedp.CSS("#prediction[data-class]"))); err != nil {
				shown, _ := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS("#prediction")))
				t.Fatalf("no prediction for a drawn %d (the page shows %q): %v", digit.Class, shown, err)
			}
			got, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("#prediction"), "data-class"))
			if err != nil {
				t.Fatal(err)
			}
			top, _ := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS("#top")))
			t.Logf("drawn %d: predicted %s (top classes %q)", digit.Class, got.Value, top)
			if got.Value != strconv.Itoa(digit.Class) {
				t.Errorf("a drawn %d is predicted as %s (top classes %q)", digit.Class, got.Value, top)
			}
		}
	})

	t.Run("blank", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#clear")), chromedp.Click(chromedp.CSS("#classify")),
			chromedp.WaitReady(chromedp.CSS("#prediction.error"))); err != nil {
			t.Fatalf("classifying an empty canvas shows no error: %v", err)
		}
		if shown, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS("#prediction"))); err != nil || !strings.Contains(shown, "blank") {
			t.Errorf("an empty canvas shows %q (%v), want the error saying it is blank", shown, err)
		}
	})

	t.Run("shipped digits match native", func(t *testing.T) {
		plan, err := runtime.Load(testenv.RepoPath(t, "models/lenet/lenet.onnx"), runtime.Options{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		sess := plan.NewSession()
		defer sess.Close()
		for _, name := range []string{"digit_0", "digit_1", "digit_2", "digit_4", "digit_7"} {
			x, err := tensorio.ReadNPYFile(testenv.RepoPath(t, "models/lenet/"+name+".npy"))
			if err != nil {
				t.Fatal(err)
			}
			outs, err := sess.Run(t.Context(), []*ops.Tensor{x})
			if err != nil {
				t.Fatal(err)
			}
			native := outs[0].Float32s()
			inPage, err := chromedp.Run(ctx, chromedp.Evaluate[wasmPrediction](fmt.Sprintf("classifyShippedDigit(%q)", name), chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatalf("%s in the page: %v", name, err)
			}
			if inPage.Error != "" || len(inPage.Logits) != len(native) {
				t.Fatalf("%s in the page: %+v, want %d logits", name, inPage, len(native))
			}
			nativeClass := 0
			for i, v := range native {
				if v > native[nativeClass] {
					nativeClass = i
				}
				// The browser runs the pure-Go kernels, native runs the assembly ones: the sums are in
				// another order, so the logits agree to rounding, not bit for bit.
				if d := math.Abs(inPage.Logits[i] - float64(v)); d > 1e-4*math.Max(1, math.Abs(float64(v))) {
					t.Errorf("%s logit %d: %v in the page, %v native", name, i, inPage.Logits[i], v)
				}
			}
			if inPage.Class != nativeClass {
				t.Errorf("%s: class %d in the page, %d native", name, inPage.Class, nativeClass)
			}
		}
	})

	t.Run("timing", func(t *testing.T) {
		timing, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]float64](`timeLeNet(3, 4)`))
		if err != nil {
			t.Fatal(err)
		}
		if timing["runs"] != 12 || timing["rounds"] != 3 || timing["perRound"] != 4 || !(timing["meanMS"] > 0) || !(timing["medianMS"] > 0) {
			t.Errorf("timeLeNet(3, 4) = %v, want 12 runs in 3 rounds of 4 with positive times", timing)
		}
		shown, _ := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS("#timing")))
		if !strings.HasPrefix(shown, "12 runs: mean ") {
			t.Errorf("the page shows %q after timing, want the figures", shown)
		}
	})
}
