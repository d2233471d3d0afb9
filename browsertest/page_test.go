package browsertest

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/runtime"
	"github.com/onnxrun/onnxrun/serve"
	"github.com/onnxrun/onnxrun/tensorio"
)

var screenshotFile = flag.String("screenshot", "", "write the try-it page after a prediction to this PNG file (make try-it-screenshot)")

// A stroke is a pen path across the canvas, each point as fractions (x, y) of the canvas's width and height.
type stroke [][2]float64

// handDigits are digits drawn as a person would with a mouse, each in the middle of the canvas with the
// margins MNIST leaves around its digits.
var handDigits = []struct {
	class   string
	strokes []stroke
}{
	{"1", []stroke{{{0.52, 0.18}, {0.50, 0.50}, {0.48, 0.84}}}},
	{"7", []stroke{{{0.28, 0.22}, {0.50, 0.21}, {0.72, 0.22}, {0.60, 0.48}, {0.46, 0.84}}}},
}

func TestTryItPage(t *testing.T) {
	ctx := NewBrowser(t, 2*time.Minute)
	lenet, err := serve.Load(serve.ModelSource{Name: "lenet", Path: testenv.RepoPath(t, "models/lenet/lenet.onnx")}, serve.Config{Sessions: 1})
	if err != nil {
		t.Fatal(err)
	}
	base := StartServer(t, serve.Config{Sessions: 1}, lenet, plainLeNet(t))

	const lenetSection = `section[data-model="lenet"]`
	if err := chromedp.Do(ctx, chromedp.Navigate(base), chromedp.WaitVisible(chromedp.CSS(lenetSection+" canvas.draw"))); err != nil {
		t.Fatalf("the page shows no drawing canvas for lenet (models/lenet/lenet.json's preprocessing): %v", err)
	}
	for _, digit := range handDigits {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(lenetSection+" button.clear"))); err != nil {
			t.Fatal(err)
		}
		if err := draw(ctx, lenetSection+" canvas.draw", digit.strokes); err != nil {
			t.Fatalf("drawing a %s: %v", digit.class, err)
		}
		// The page predicts when a stroke ends; the top class lands in the section's data-top-class.
		if err := chromedp.Do(ctx, chromedp.WaitReady(chromedp.CSS(lenetSection+"[data-top-class]"))); err != nil {
			status, _ := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(lenetSection+" .image-status")))
			t.Fatalf("no prediction for a drawn %s (status %q): %v", digit.class, status, err)
		}
		got, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(lenetSection), "data-top-class"))
		if err != nil {
			t.Fatal(err)
		}
		top, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('section[data-model="lenet"] .top li')].map((li) => [...li.children].map((c) => c.textContent).join(" "))`))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("drawn %s: top classes %q", digit.class, top)
		if got.Value != digit.class {
			t.Errorf("a drawn %s is predicted as %s (top classes %q)", digit.class, got.Value, top)
		}
		if len(top) != 5 || !strings.HasPrefix(top[0], digit.class+" ") || !strings.HasSuffix(top[0], "%") {
			t.Errorf("the top classes of a drawn %s are %q, want five, the first %q with its probability", digit.class, top, digit.class)
		}
	}
	if *screenshotFile != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(*screenshotFile, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	checkJSONForm(t, ctx)
}

// TestTryItPageSendsTheToken puts the server behind a proxy that wants a bearer token (what issue 19's
// control plane adds): the page, which loads without it, lists nothing until the token is entered, then
// sends it with every request.
func TestTryItPageSendsTheToken(t *testing.T) {
	ctx := NewBrowser(t, time.Minute)
	srv, err := serve.New(serve.Config{Sessions: 1}, plainLeNet(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(t.Context()) })
	const token = "let-me-in"
	base := ServeHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page := r.URL.Path == "/" || strings.HasPrefix(r.URL.Path, "/try/page.")
		if !page && r.Header.Get("Authorization") != "Bearer "+token {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintln(w, `{"error": "a bearer token is required"}`)
			return
		}
		srv.Handler().ServeHTTP(w, r)
	}))

	if err := chromedp.Do(ctx, chromedp.Navigate(base), chromedp.WaitVisible(chromedp.CSS("#models-status.error"))); err != nil {
		t.Fatalf("without the token the page shows no error: %v", err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#token"), token),
		chromedp.Click(chromedp.CSS("#auth button")),
		chromedp.WaitReady(chromedp.CSS(`section[data-model="digits"]`)),
	); err != nil {
		t.Fatalf("with the token the page lists no model: %v", err)
	}
	checkJSONForm(t, ctx)
}

// checkJSONForm runs the "digits" model (plainLeNet) from its JSON form on MNIST's first test digit, a 7
// (models/lenet/digit_7.npy), and checks that the answer shown is its logits, largest for 7.
func checkJSONForm(t *testing.T, ctx context.Context) {
	t.Helper()
	const section = `section[data-model="digits"]`
	if hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('`+section+` .image').hidden`)); err != nil || !hidden {
		t.Errorf("a model without preprocessing settings shows the image panel (hidden=%v, %v)", hidden, err)
	}
	digit, err := tensorio.ReadFile(testenv.RepoPath(t, "models/lenet/digit_7.npy"))
	if err != nil {
		t.Fatal(err)
	}
	input, err := serve.NewInput("input", digit)
	if err != nil {
		t.Fatal(err)
	}
	request, err := json.Marshal(serve.InferRequest{Inputs: []serve.RequestInput{input}})
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(section+" details.json summary")),
		chromedp.SetValue(chromedp.CSS(section+" textarea.request"), string(request)),
		chromedp.Click(chromedp.CSS(section+" button.run")),
		chromedp.WaitReady(chromedp.CSS(section+"[data-json-done]")),
	); err != nil {
		t.Fatalf("running the JSON form: %v", err)
	}
	status, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(section+" .json-status")))
	if err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(section+" pre.response")))
	if err != nil {
		t.Fatalf("no response shown (status %q): %v", status, err)
	}
	var resp struct {
		Outputs []struct {
			Name  string    `json:"name"`
			Shape []int64   `json:"shape"`
			Data  []float64 `json:"data"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(text), &resp); err != nil {
		t.Fatalf("the JSON form shows %q (status %q), not a response: %v", text, status, err)
	}
	if len(resp.Outputs) != 1 || resp.Outputs[0].Name != "logits" || len(resp.Outputs[0].Data) != 10 {
		t.Fatalf("the JSON form shows %s, want the 10 logits", text)
	}
	logits := resp.Outputs[0].Data
	best := 0
	for i, v := range logits {
		if v > logits[best] {
			best = i
		}
	}
	if best != 7 {
		t.Errorf("MNIST's 7 sent from the JSON form gets logits %v, largest for %d", logits, best)
	}
}

// draw moves the mouse along strokes with the left button down over the element sel matches.
func draw(ctx context.Context, sel string, strokes []stroke) error {
	box, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](fmt.Sprintf(
		`(() => { const r = document.querySelector(%q).getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`, sel)))
	if err != nil {
		return err
	}
	at := func(p [2]float64) (float64, float64) { return box[0] + p[0]*box[2], box[1] + p[1]*box[3] }
	leftDown := func(p *input.DispatchMouseEventParams) {
		p.Button = input.MouseButtonLeft
		p.Buttons = 1
	}
	var steps []chromedp.Action[chromedp.Void]
	for _, s := range strokes {
		x, y := at(s[0])
		steps = append(steps, chromedp.MouseEvent(chromedp.MousePressed, x, y, leftDown, chromedp.ClickCount(1)))
		for i := 1; i < len(s); i++ {
			// Small steps, as a real pointer reports them.
			const substeps = 8
			for k := 1; k <= substeps; k++ {
				f := float64(k) / substeps
				x, y := at([2]float64{s[i-1][0] + f*(s[i][0]-s[i-1][0]), s[i-1][1] + f*(s[i][1]-s[i-1][1])})
				steps = append(steps, chromedp.MouseEvent(chromedp.MouseMoved, x, y, leftDown))
			}
		}
		x, y = at(s[len(s)-1])
		steps = append(steps, chromedp.MouseEvent(chromedp.MouseReleased, x, y, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	}
	return chromedp.Do(ctx, steps...)
}

// plainLeNet serves the shipped LeNet as "digits", compiled without its settings file: a model the page
// offers only the JSON form for.
func plainLeNet(t *testing.T) *serve.Model {
	t.Helper()
	plan, err := runtime.Load(testenv.RepoPath(t, "models/lenet/lenet.onnx"), runtime.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	model, err := serve.NewModel("digits", plan, serve.Config{Sessions: 1})
	if err != nil {
		t.Fatal(err)
	}
	return model
}
