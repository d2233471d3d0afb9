// Command wasmbench prints the WebAssembly comparison of BENCHMARKS.md as a Markdown table (`make
// wasm-bench`, docs/wasm.md): the size of onnxrun's .wasm and LeNet's batch-1 latency for onnxrun's
// WebAssembly build and for onnxruntime-web (its wasm backend, one thread), both in the same headless
// Chromium on the same input (models/lenet/digit_7.npy) and timed the same way (internal/wasmdemo.TimeRuns
// and the page's copy of it), next to native onnxrun with its assembly kernels and with pure Go (-tags
// noasm), measured by `onnxrun bench`.
//
//	go run ./wasmbench --demo ../build/wasm-demo --ort-web ../.cache/ort-web/node_modules/onnxruntime-web/dist --repo ..
//
// It prints the 1-minute load average before and after: figures taken on a busy machine are not for the
// docs.
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/onnxrun/onnxrun/browsertest"
)

type options struct {
	demo, ortWeb, repo string
	rounds, perRound   int
	timeout            time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.demo, "demo", "", "the folder `make wasm-demo` wrote (required)")
	flag.StringVar(&o.ortWeb, "ort-web", "", "onnxruntime-web's dist folder, with ort.min.js (scripts/setup-ort-web.sh prints it; required)")
	flag.StringVar(&o.repo, "repo", "..", "the repository root, where `go run ./cmd/onnxrun bench` runs")
	flag.IntVar(&o.rounds, "rounds", 50, "timed rounds per runtime")
	flag.IntVar(&o.perRound, "per-round", 20, "runs per round (the browser's clock is too coarse to time one run)")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "give up after this long")
	flag.Parse()
	if o.demo == "" || o.ortWeb == "" {
		fmt.Fprintln(os.Stderr, "wasmbench: --demo and --ort-web are required (make wasm-bench passes them)")
		os.Exit(2)
	}
	if err := run(o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "wasmbench:", err)
		os.Exit(1)
	}
}

// timing is what the pages' timing functions return, in milliseconds per run.
type timing struct {
	Runs     int     `json:"runs"`
	MeanMS   float64 `json:"meanMS"`
	MedianMS float64 `json:"medianMS"`
	Error    string  `json:"error"`
}

// row is one line of the table.
type row struct {
	runtime, where, size string
	t                    timing
}

func run(o options, w io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	loadBefore := loadAverage()

	wasmPath := filepath.Join(o.demo, "onnxrun.wasm")
	wasmSize, err := fileSizes(wasmPath)
	if err != nil {
		return fmt.Errorf("%w (run make wasm-demo)", err)
	}
	ortWasmSize, err := fileSizes(filepath.Join(o.ortWeb, "ort-wasm-simd-threaded.wasm"))
	if err != nil {
		return fmt.Errorf("onnxruntime-web: %w", err)
	}
	ortVersion := packageVersion(filepath.Join(o.ortWeb, "..", "package.json"))

	base, stop, err := serve(o.demo, o.ortWeb)
	if err != nil {
		return err
	}
	defer stop()
	tab, product, closeBrowser, err := startBrowser(ctx)
	if err != nil {
		return err
	}
	defer closeBrowser()

	var rows []row
	onnxrunWasm, err := timePage(tab, base+"index.html",
		fmt.Sprintf(`classifyShippedDigit("digit_7").then(() => timeLeNet(%d, %d))`, o.rounds, o.perRound))
	if err != nil {
		return fmt.Errorf("onnxrun's page: %w", err)
	}
	rows = append(rows, row{"onnxrun, GOOS=js GOARCH=wasm", product, wasmSize, onnxrunWasm})
	ortWeb, err := timePage(tab, base+"ort.html", fmt.Sprintf(`started.then(() => timeORT(%d, %d))`, o.rounds, o.perRound))
	if err != nil {
		return fmt.Errorf("onnxruntime-web's page: %w", err)
	}
	rows = append(rows, row{"onnxruntime-web " + ortVersion + " (wasm backend, 1 thread)", product, ortWasmSize + " (ort-wasm-simd-threaded.wasm)", ortWeb})

	for _, native := range []struct{ name, tags string }{
		{"onnxrun native, pure Go (-tags noasm)", "noasm"},
		{"onnxrun native, assembly (`onnxrun bench`)", ""},
	} {
		t, err := nativeBench(ctx, o.repo, native.tags)
		if err != nil {
			return fmt.Errorf("%s: %w", native.name, err)
		}
		rows = append(rows, row{native.name, "native linux", "", t})
	}

	fmt.Fprintf(w, "LeNet (models/lenet/lenet.onnx) batch 1, one thread, ms per run; %s; load average %s before, %s after\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), loadBefore, loadAverage())
	fmt.Fprintln(w, "| runtime | where | .wasm size (gzip) | mean | median |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s | %.3f ms | %.3f ms |\n", r.runtime, r.where, r.size, r.t.MeanMS, r.t.MedianMS)
	}
	fmt.Fprintf(w, "\nIn the browser: %d rounds of %d runs after 20 warm-up runs (mean over all runs, median of the rounds' means); native: `onnxrun bench --threads 1 --batch 1` (mean and p50).\n", o.rounds, o.perRound)
	return nil
}

// fileSizes gives a file's size and its gzip-compressed size (what a server sending it compressed sends).
func fileSizes(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var z bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	gz.Write(b)
	gz.Close()
	return fmt.Sprintf("%.1f MB (%.1f MB)", float64(len(b))/1e6, float64(z.Len())/1e6), nil
}

// packageVersion reads an npm package.json's version.
func packageVersion(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(version unknown)"
	}
	var pkg struct{ Version string }
	if json.Unmarshal(b, &pkg) != nil || pkg.Version == "" {
		return "(version unknown)"
	}
	return pkg.Version
}

// serve serves the demo folder at / and onnxruntime-web's dist folder at /ort/ on 127.0.0.1.
func serve(demo, ortWeb string) (base string, stop func(), err error) {
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir(demo)))
	mux.Handle("/ort/", http.StripPrefix("/ort/", http.FileServer(http.Dir(ortWeb))))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String() + "/", func() { srv.Close() }, nil
}

// startBrowser starts headless Chromium (browsertest.FindChromium) and returns a tab and the browser's
// name and version.
func startBrowser(ctx context.Context) (tab context.Context, product string, stop func(), err error) {
	exe, err := browsertest.FindChromium()
	if err != nil {
		return nil, "", nil, fmt.Errorf("no browser: %w (apt-get install chromium, or set ONNXRUN_CHROMIUM)", err)
	}
	dataDir, err := os.MkdirTemp("", "wasmbench-chromium-")
	if err != nil {
		return nil, "", nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.UserDataDir(dataDir), chromedp.NoSandbox)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tab, cancelTab := chromedp.NewContext(allocCtx)
	stop = func() {
		cancelTab()
		cancelAlloc()
		os.RemoveAll(dataDir)
	}
	userAgent, err := chromedp.Run(tab, chromedp.Evaluate[string]("navigator.userAgent"))
	if err != nil {
		stop()
		return nil, "", nil, fmt.Errorf("starting %s: %w", exe, err)
	}
	return tab, "headless Chromium " + chromeVersion(userAgent), stop, nil
}

// chromeVersion picks the version out of a Chromium user agent ("... HeadlessChrome/120.0.6099.224 ...").
func chromeVersion(userAgent string) string {
	for _, f := range strings.Fields(userAgent) {
		if _, v, ok := strings.Cut(f, "Chrome/"); ok {
			return v
		}
	}
	return "(version unknown)"
}

// timePage opens url, waits for the page to be ready and evaluates expr, a promise of a timing.
func timePage(tab context.Context, url, expr string) (timing, error) {
	if err := chromedp.Do(tab, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body[data-ready]"))); err != nil {
		return timing{}, err
	}
	ready, err := chromedp.Run(tab, chromedp.AttributeValue(chromedp.CSS("body"), "data-ready"))
	if err != nil {
		return timing{}, err
	}
	if ready.Value != "true" {
		status, _ := chromedp.Run(tab, chromedp.TextContent(chromedp.CSS("#status")))
		return timing{}, fmt.Errorf("the page did not start: %s", status)
	}
	t, err := chromedp.Run(tab, chromedp.Evaluate[timing](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		return timing{}, err
	}
	if t.Error != "" {
		return timing{}, errors.New(t.Error)
	}
	return t, nil
}

// nativeBench runs `onnxrun bench --json` on LeNet at batch 1, one thread, built with the given tags.
func nativeBench(ctx context.Context, repo, tags string) (timing, error) {
	args := []string{"run"}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	args = append(args, "./cmd/onnxrun", "bench", "--json", "--threads", "1", "--batch", "1", "models/lenet/lenet.onnx")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = repo
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return timing{}, fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var res struct {
		Latency struct {
			N         int
			Mean, P50 time.Duration
		}
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return timing{}, fmt.Errorf("reading onnxrun bench --json: %w", err)
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return timing{Runs: res.Latency.N, MeanMS: ms(res.Latency.Mean), MedianMS: ms(res.Latency.P50)}, nil
}

// loadAverage is the 1-minute load average from /proc/loadavg, or "unknown".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "unknown"
}
