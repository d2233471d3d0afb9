package serve

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	goruntime "runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onnxrun/onnxrun/bench"
	"github.com/onnxrun/onnxrun/ops"
)

var benchmarksFile = flag.String("serve.benchmarks", "",
	`write the load test's results into the "## Serving" section of this file (e.g. ../BENCHMARKS.md)`)

// loadCase is one request body of the load and how to check its answer. A body with binary tensor data
// has headerLength > 0: the length of its JSON part.
type loadCase struct {
	body         []byte
	headerLength int
	check        func(*InferResponse) error
}

// loadResult summarises a run of the load generator.
type loadResult struct {
	requests, errors int
	firstError       error
	elapsed          time.Duration
	p50, p90, p99    time.Duration
	max              time.Duration
}

func (r loadResult) throughput() float64 { return float64(r.requests) / r.elapsed.Seconds() }

// generateLoad posts n requests (cycling through cases) from `concurrency` clients with keep-alive
// connections, and checks every answer.
func generateLoad(url string, cases []loadCase, n, concurrency int) loadResult {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: concurrency, DisableCompression: true}}
	defer client.CloseIdleConnections()
	latencies := make([]time.Duration, n)
	var next atomic.Int64
	var mu sync.Mutex
	res := loadResult{requests: n}
	fail := func(err error) {
		mu.Lock()
		res.errors++
		if res.firstError == nil {
			res.firstError = err
		}
		mu.Unlock()
	}
	start := time.Now()
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				c := cases[i%len(cases)]
				t0 := time.Now()
				req, err := http.NewRequest("POST", url, bytes.NewReader(c.body))
				if err != nil {
					fail(err)
					continue
				}
				req.Header.Set("Content-Type", "application/json")
				if c.headerLength > 0 {
					req.Header.Set("Content-Type", "application/octet-stream")
					req.Header.Set(HeaderContentLength, strconv.Itoa(c.headerLength))
				}
				resp, err := client.Do(req)
				if err != nil {
					fail(err)
					continue
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				latencies[i] = time.Since(t0)
				if err == nil && resp.StatusCode != 200 {
					err = fmt.Errorf("status %d: %s", resp.StatusCode, body)
				}
				var out InferResponse
				var header, rest []byte
				if err == nil {
					header, rest, err = splitBody(body, resp.Header.Get(HeaderContentLength))
				}
				if err == nil {
					err = json.Unmarshal(header, &out)
				}
				if err == nil {
					err = attachOutputBinary(out.Outputs, rest)
				}
				if err == nil {
					err = c.check(&out)
				}
				if err != nil {
					fail(fmt.Errorf("request %d: %w", i, err))
				}
			}
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	pct := func(p float64) time.Duration { return latencies[int(float64(n)*p+0.999999)-1] }
	res.p50, res.p90, res.p99, res.max = pct(0.50), pct(0.90), pct(0.99), latencies[n-1]
	return res
}

// workload is a model to serve under load, the requests to send it and a sentence saying what they are.
type workload struct {
	name  string
	load  func(Config) *Model
	cases []loadCase
	what  string
}

// lenetWorkload makes one request per reference digit, each answer checked against ONNX Runtime's class;
// without ../shared it falls back to the small linear model, so that the load test runs anywhere. With
// binary, the digits and the logits travel as raw bytes (the binary tensor data extension).
func lenetWorkload(t *testing.T, binary bool) workload {
	model, input, expected, err := sharedLenet()
	if err != nil {
		return linearWorkload(t, binary)
	}
	digits, _, classes := lenetDigits(t, input, expected)
	w := workload{name: "lenet", load: func(cfg Config) *Model {
		m, err := Load(ModelSource{Name: "lenet", Path: model}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}}
	for i, class := range classes {
		body, headerLength := loadBody(t, binary, "input", digit(digits, i), nil)
		w.cases = append(w.cases, loadCase{body: body, headerLength: headerLength, check: func(r *InferResponse) error {
			if len(r.Outputs) != 1 {
				return fmt.Errorf("%d outputs, want 1", len(r.Outputs))
			}
			out, err := r.Outputs[0].Tensor()
			if err != nil {
				return err
			}
			if got := argmax(out.Float32s()); got != class {
				return fmt.Errorf("class %d, want %d", got, class)
			}
			return nil
		}})
	}
	w.what = fmt.Sprintf("LeNet-5 (`../shared/models/lenet_torch_opset13`), one 28×28 digit per request (about %.1f KB "+
		"of JSON), cycling through its 64 reference digits; every answer's class is checked against ONNX Runtime's",
		float64(len(w.cases[0].body))/1024)
	return w
}

// loadBody encodes a request for one input as the client would, in JSON or binary.
func loadBody(t *testing.T, binary bool, name string, x *ops.Tensor, outputs []RequestOutput) (body []byte, headerLength int) {
	newInput := NewInput
	if binary {
		newInput = NewBinaryInput
	}
	in, err := newInput(name, x)
	if err != nil {
		t.Fatal(err)
	}
	client := &Client{BinaryOutputs: binary}
	body, headerLength, err = client.encodeInfer(&InferRequest{Inputs: []RequestInput{in}, Outputs: outputs})
	if err != nil {
		t.Fatal(err)
	}
	return body, headerLength
}

func linearWorkload(t *testing.T, binary bool) workload {
	w := workload{name: "linear", load: func(cfg Config) *Model { return newModel(t, "linear", linearGraph(), cfg) },
		what: "a 4→3 linear layer with an argmax (../shared is absent, so no LeNet)"}
	for i := range 16 {
		x := []float32{float32(i), float32(i % 3), 1, 0.5}
		_, cls := linearRow(x)
		body, headerLength := loadBody(t, binary, "x", ops.FromSlice(ops.Shape{1, 4}, x), []RequestOutput{{Name: "cls"}})
		w.cases = append(w.cases, loadCase{body: body, headerLength: headerLength, check: func(r *InferResponse) error {
			if len(r.Outputs) != 1 {
				return fmt.Errorf("%d outputs, want 1", len(r.Outputs))
			}
			out, err := r.Outputs[0].Tensor()
			if err != nil {
				return err
			}
			if got := out.Int64s()[0]; got != cls {
				return fmt.Errorf("class %d, want %d", got, cls)
			}
			return nil
		}})
	}
	return w
}

// TestLoadLoopback serves the model on 127.0.0.1 and sends it a bounded number of requests from
// concurrent clients, without and with dynamic batching. It fails on any error or wrong answer; the
// throughput and latency it measures are reported (with -v), not asserted, and written to BENCHMARKS.md
// with -args -serve.benchmarks=../BENCHMARKS.md.
func TestLoadLoopback(t *testing.T) {
	loadBefore := bench.LoadAverage()
	w, wBinary := lenetWorkload(t, false), lenetWorkload(t, true)
	n := 4000
	if testing.Short() {
		n = 300
	}
	cores := goruntime.GOMAXPROCS(0)
	setups := []struct {
		label       string
		cfg         Config
		concurrency int
		w           workload
	}{
		{fmt.Sprintf("%d sessions x 1 thread, one run per request", cores), Config{}, 8, w},
		{fmt.Sprintf("%d sessions x 1 thread, dynamic batching (max 16 rows, 2ms wait)", cores),
			Config{MaxBatch: 16, MaxBatchDelay: 2 * time.Millisecond}, 32, w},
		// JSON against binary tensors at batch 1 from 32 clients, one after the other in the same run.
		{fmt.Sprintf("%d sessions x 1 thread, one run per request, JSON tensors", cores), Config{}, 32, w},
		{fmt.Sprintf("%d sessions x 1 thread, one run per request, binary tensors", cores), Config{}, 32, wBinary},
	}
	var rows []string
	for _, setup := range setups {
		t.Run(setup.label, func(t *testing.T) {
			// The queue holds every client and the delay budget lets them wait: this measures what the
			// server sustains, not what it refuses.
			setup.cfg.QueueSize, setup.cfg.MaxQueueDelay = setup.concurrency, time.Minute
			ts := startServer(t, setup.cfg, setup.w.load(setup.cfg))
			url := ts.url + "/v2/models/" + setup.w.name + "/infer"
			if warm := generateLoad(url, setup.w.cases, len(setup.w.cases), 4); warm.errors > 0 {
				t.Fatalf("warm-up: %d errors, the first: %v", warm.errors, warm.firstError)
			}
			before := ts.scrape(t)
			res := generateLoad(url, setup.w.cases, n, setup.concurrency)
			after := ts.scrape(t)
			if res.errors > 0 {
				t.Errorf("%d of %d requests failed; the first: %v", res.errors, res.requests, res.firstError)
			}
			runs := metricValue(after, "onnxrun_batch_size_count", setup.w.name) - metricValue(before, "onnxrun_batch_size_count", setup.w.name)
			rowsRun := metricValue(after, "onnxrun_batch_size_sum", setup.w.name) - metricValue(before, "onnxrun_batch_size_sum", setup.w.name)
			meanBatch := rowsRun / max(runs, 1)
			t.Logf("%d requests, %d concurrent: %d errors, %.0f req/s, p50 %v, p90 %v, p99 %v, max %v, %.0f model runs (mean batch %.2f rows)",
				n, setup.concurrency, res.errors, res.throughput(), ms(res.p50), ms(res.p90), ms(res.p99), ms(res.max), runs, meanBatch)
			rows = append(rows, fmt.Sprintf("| %s | %d | %d | %d | %.0f | %v | %v | %v | %v | %.1f |",
				setup.label, n, setup.concurrency, res.errors, res.throughput(), ms(res.p50), ms(res.p90), ms(res.p99), ms(res.max), meanBatch))
		})
	}
	if *benchmarksFile == "" || t.Failed() {
		return
	}
	loadAfter := bench.LoadAverage()
	quiet := "quiet (both below 0.50)"
	if !bench.IsQuiet(loadBefore, 0.5) || !bench.IsQuiet(loadAfter, 0.5) {
		quiet = "**not quiet** (other work shared the CPUs: rerun on a quiet machine before reading the figures)"
	}
	section := fmt.Sprintf(`Requests to `+"`onnxrun serve`"+` over HTTP on loopback (127.0.0.1) from the Go load generator in
serve/load_test.go: %d requests per setup from concurrent keep-alive clients, after one warm-up pass.

- Model: %s. The binary rows send the same digits as raw bytes and get the logits back so (the binary
  tensor data extension): %d bytes of body per request instead of %d.
- Machine: %s; %d CPUs seen by Go (GOMAXPROCS), %s %s/%s. 1-minute load average %s when the test started
  and %s when it ended: %s. The load generator shares the CPUs with the server: these are end-to-end
  numbers of one box, JSON encoding and answer checking included.
- Command:

      go test ./serve -run TestLoadLoopback -count=1 -v -args -serve.benchmarks=../BENCHMARKS.md

| setup | requests | clients | errors | throughput (req/s) | p50 | p90 | p99 | max | mean batch (rows/run) |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
%s

"Mean batch" comes from the server's own onnxrun_batch_size histogram (/metrics) over the measured requests.
`, n, w.what, len(wBinary.cases[0].body), len(w.cases[0].body), bench.ReadMachine(), cores, goruntime.Version(), goruntime.GOOS, goruntime.GOARCH, loadBefore, loadAfter, quiet,
		strings.Join(rows, "\n"))
	if err := writeSection(*benchmarksFile, "## Serving", section); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote the Serving section of %s", *benchmarksFile)
}

// ms rounds a latency for printing.
func ms(d time.Duration) time.Duration {
	if d < 10*time.Millisecond {
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(100 * time.Microsecond)
}

// metricValue reads the sample name{model="model"} from a /metrics text (0 when absent).
func metricValue(text, name, model string) float64 {
	prefix := fmt.Sprintf(`%s{model=%q} `, name, model)
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			var f float64
			fmt.Sscan(v, &f)
			return f
		}
	}
	return 0
}

// writeSection puts body under heading in the Markdown file at path, replacing what was under that heading
// up to the next "## " heading, appending the section when the file lacks it, creating the file when it
// does not exist. Other sections are left byte for byte.
func writeSection(path, heading, body string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	section := heading + "\n\n" + strings.TrimSpace(body) + "\n"
	text := string(old)
	if text == "" {
		text = "# Benchmarks\n\n" + section
	} else if start := headingAt(text, heading); start >= 0 {
		end := len(text)
		if next := strings.Index(text[start+len(heading):], "\n## "); next >= 0 {
			end = start + len(heading) + next + 1
			section += "\n"
		}
		text = text[:start] + section + text[end:]
	} else {
		if !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		text += "\n" + section
	}
	return os.WriteFile(path, []byte(text), 0o644)
}

// headingAt finds heading as a whole line of text, or -1.
func headingAt(text, heading string) int {
	for off := 0; ; {
		i := strings.Index(text[off:], heading)
		if i < 0 {
			return -1
		}
		i += off
		lineStart := i == 0 || text[i-1] == '\n'
		after := i + len(heading)
		lineEnd := after == len(text) || text[after] == '\n' || text[after] == '\r'
		if lineStart && lineEnd {
			return i
		}
		off = after
	}
}

func TestWriteSection(t *testing.T) {
	tests := []struct {
		name, before, want string
	}{
		{"no file", "", "# Benchmarks\n\n## Serving\n\nnew\n"},
		{"no section", "# B\n\n## Kernels\n\nk\n", "# B\n\n## Kernels\n\nk\n\n## Serving\n\nnew\n"},
		{"no final newline", "# B\n\n## Kernels\n\nk", "# B\n\n## Kernels\n\nk\n\n## Serving\n\nnew\n"},
		{"section last", "# B\n\n## Serving\n\nold\nold\n", "# B\n\n## Serving\n\nnew\n"},
		{"section in the middle", "# B\n\n## Serving\n\nold\n\n## Kernels\n\nk\n", "# B\n\n## Serving\n\nnew\n\n## Kernels\n\nk\n"},
		{"a longer heading is another section", "# B\n\n## Serving notes\n\nx\n", "# B\n\n## Serving notes\n\nx\n\n## Serving\n\nnew\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := t.TempDir() + "/BENCHMARKS.md"
			if tc.before != "" {
				if err := os.WriteFile(path, []byte(tc.before), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := writeSection(path, "## Serving", "new\n"); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(path)
			if string(got) != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
