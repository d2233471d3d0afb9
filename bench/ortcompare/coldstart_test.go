package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onnxrun/onnxrun/bench"
	"github.com/onnxrun/onnxrun/internal/testenv"
)

// TestMain runs the program itself when a test starts this binary as a -child-cold process.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// The cold-start and memory children on the shipped LeNet, both runtimes, give sane rows: every
// process reports, load and first run take some time but not seconds, the peaks hold at least a Go
// runtime and ORT's library, and the table and the memory reference come out of them.
func TestColdStartLeNet(t *testing.T) {
	lib := testenv.ORTLibrary(t)
	cfg := &config{ortLib: lib, repo: "../..", coldRuns: 3, quietLoad: 0.5, threads: []int{1}}
	models, skipped, err := coldModels(cfg, nil, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(models) != 1 || !models[0].reference || len(skipped) != 0 {
		t.Fatalf("models %+v, skipped %q: want the memory reference alone", models, skipped)
	}
	m := models[0]
	if strings.Join(m.inputNames, ",") != "input" || strings.Join(m.outputNames, ",") != "logits" || m.size < 100_000 {
		t.Errorf("LeNet as read: inputs %q, outputs %q, %d bytes", m.inputNames, m.outputNames, m.size)
	}
	row, err := measureCold(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*coldSide{&row.onnxrun, &row.ort} {
		if s.err != nil || len(s.reports) != cfg.coldRuns {
			t.Fatalf("side error %v, %d reports; want %d", s.err, len(s.reports), cfg.coldRuns)
		}
		for _, r := range s.reports {
			if r.Load <= 0 || r.FirstRun <= 0 || r.Load+r.FirstRun > 10*time.Second {
				t.Errorf("%s: load %v, first run %v", r.Runtime, r.Load, r.FirstRun)
			}
			if r.Peak < 4<<20 || r.Peak > 1<<30 {
				t.Errorf("%s: peak %d bytes", r.Runtime, r.Peak)
			}
		}
	}
	if row.onnxrun.reports[0].Runtime != "onnxrun" || row.ort.reports[0].Runtime != "ort" {
		t.Errorf("runtimes %q and %q", row.onnxrun.reports[0].Runtime, row.ort.reports[0].Runtime)
	}
	// ORT's process holds its shared library (tens of MiB) on top of what a Go process has.
	if row.ort.peak() < row.onnxrun.peak() {
		t.Errorf("ORT's peak %d below onnxrun's %d: the library is not counted", row.ort.peak(), row.onnxrun.peak())
	}
	if row.onnxrun.liveHeap() <= 0 {
		t.Error("onnxrun's live heap is 0")
	}
	if mem, ok := modelMemory(&row.onnxrun, &row.onnxrun); !ok || mem != 0 {
		t.Errorf("model memory of the reference against itself = %d, %v", mem, ok)
	}
	res := &results{cfg: cfg, cold: []*coldRow{row}}
	var b strings.Builder
	res.coldTable(&b)
	res.memoryTable(&b)
	if !strings.Contains(b.String(), "| shipped LeNet batch 1 (memory reference) |") || !strings.Contains(b.String(), "Reference peaks (shipped LeNet): onnxrun ") {
		t.Errorf("tables:\n%s", b.String())
	}

	// A model a runtime cannot load is a failed side with the child's message, not an error of the run.
	bad := filepath.Join(t.TempDir(), "bad.onnx")
	if err := os.WriteFile(bad, []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	badModel := *m
	badModel.path, badModel.name = bad, "garbage"
	row, err = measureCold(&badModel, &config{ortLib: lib, coldRuns: 2})
	if err != nil {
		t.Fatal(err)
	}
	if row.onnxrun.err == nil || row.ort.err == nil || len(row.onnxrun.reports) != 0 {
		t.Errorf("a garbage file: onnxrun %v, ORT %v", row.onnxrun.err, row.ort.err)
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

const cpuinfo = `processor	: 0
vendor_id	: AuthenticAMD
cpu family	: 25
model		: 97
model name	: AMD Ryzen 9 7950X 16-Core Processor
flags		: fpu sse4_2 fma avx avx2 avx512f avx512bw avx512vl avx512_vnni sha_ni

processor	: 1
model name	: Other
`

func TestParseCPUInfo(t *testing.T) {
	m := bench.ParseCPUInfo(strings.NewReader(cpuinfo), bench.Machine{CPUs: 2})
	want := "AMD Ryzen 9 7950X 16-Core Processor (family 25 model 97), 2 CPUs; ISA flags: sse4_2 avx avx2 fma avx512f avx512bw avx512vl avx512_vnni"
	if m.String() != want {
		t.Errorf("got  %s\nwant %s", m, want)
	}
}

func TestIsQuiet(t *testing.T) {
	for load, want := range map[string]bool{"0.10": true, "0.49": true, "0.50": false, "2.28": false, "?": false} {
		if got := bench.IsQuiet(load, 0.5); got != want {
			t.Errorf("bench.IsQuiet(%q) = %v, want %v", load, got, want)
		}
	}
}

// On a busy machine the run refuses to start writing -out, unless forced; it waits for the load first.
func TestRefusesBusyMachine(t *testing.T) {
	saved := bench.LoadAverage
	defer func() { bench.LoadAverage = saved }()
	reads := 0
	bench.LoadAverage = func() string { reads++; return "3.00" }
	out := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	err := compareAll(&config{out: out, quietLoad: 0.5, waitQuiet: 10 * time.Millisecond, ortLib: "/nonexistent/libonnxruntime.so"})
	var nq *notQuietError
	if !errors.As(err, &nq) || !strings.Contains(err.Error(), "3.00 at the start") || !strings.Contains(err.Error(), "-force") {
		t.Fatalf("error %v, want a notQuietError", err)
	}
	if reads < 2 {
		t.Errorf("the load was read %d times: no waiting", reads)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s was written", out)
	}
	// Forced, the run goes on (and here stops at the missing library, past the check).
	err = compareAll(&config{out: out, quietLoad: 0.5, force: true, ortLib: "/nonexistent/libonnxruntime.so"})
	if err == nil || errors.As(err, &nq) || !strings.Contains(err.Error(), "loading ONNX Runtime") {
		t.Errorf("forced: error %v, want the library's", err)
	}
}
