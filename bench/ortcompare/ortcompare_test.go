package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/onnxrun/onnxrun/bench"
	"github.com/onnxrun/onnxrun/bench/fmapeak"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// An excerpt of the trace ORT writes: session events, then per-node events of two runs; the first run is
// left out.
const ortTrace = `[
{"cat":"Session","pid":1,"tid":1,"dur":900,"ts":10,"ph":"X","name":"model_loading_array","args":{}},
{"cat":"Session","pid":1,"tid":1,"dur":500,"ts":1000,"ph":"X","name":"model_run","args":{}},
{"cat":"Node","pid":1,"tid":1,"dur":400,"ts":1010,"ph":"X","name":"conv1_kernel_time","args":{"op_name":"Conv","provider":"CPUExecutionProvider"}},
{"cat":"Session","pid":1,"tid":1,"dur":100,"ts":2000,"ph":"X","name":"model_run","args":{}},
{"cat":"Node","pid":1,"tid":1,"dur":1,"ts":2001,"ph":"X","name":"conv1_fence_before","args":{"op_name":"Conv"}},
{"cat":"Node","pid":1,"tid":1,"dur":60,"ts":2002,"ph":"X","name":"conv1_kernel_time","args":{"op_name":"Conv"}},
{"cat":"Node","pid":1,"tid":1,"dur":30,"ts":2070,"ph":"X","name":"fc_kernel_time","args":{"op_name":"FusedGemm"}},
{"cat":"Session","pid":1,"tid":1,"dur":120,"ts":3000,"ph":"X","name":"model_run","args":{}},
{"cat":"Node","pid":1,"tid":1,"dur":80,"ts":3002,"ph":"X","name":"conv1_kernel_time","args":{"op_name":"Conv"}},
{"cat":"Node","pid":1,"tid":1,"dur":20,"ts":3090,"ph":"X","name":"fc_kernel_time","args":{"op_name":"FusedGemm"}}
]`

func TestParseORTProfile(t *testing.T) {
	p, err := parseORTProfile(strings.NewReader(ortTrace))
	if err != nil {
		t.Fatal(err)
	}
	us := time.Microsecond
	if p.Runs != 2 || p.PerRun != 110*us || p.Kernels != 95*us {
		t.Errorf("runs %d, per run %v, kernels %v; want 2, 110µs, 95µs", p.Runs, p.PerRun, p.Kernels)
	}
	want := []opTime{{Op: "Conv", Nodes: 1, PerRun: 70 * us}, {Op: "FusedGemm", Nodes: 1, PerRun: 25 * us}}
	if len(p.Ops) != len(want) {
		t.Fatalf("ops %+v, want %+v", p.Ops, want)
	}
	for i := range want {
		if p.Ops[i] != want[i] {
			t.Errorf("op %d = %+v, want %+v", i, p.Ops[i], want[i])
		}
	}

	for _, bad := range []struct{ name, text, want string }{
		{"not JSON", "{", "ORT profile"},
		{"one run", `[{"cat":"Session","name":"model_run","ts":1,"dur":2}]`, "1 model_run events"},
	} {
		if _, err := parseORTProfile(strings.NewReader(bad.text)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: error %v, want one containing %q", bad.name, err, bad.want)
		}
	}
}

func TestCategory(t *testing.T) {
	tests := map[string]string{
		"Conv": "convolution", "onnxrun.FusedConv": "convolution", "FusedConv": "convolution",
		"FusedGemm": "matrix product", "MatMul": "matrix product", "onnxrun.FusedGemm": "matrix product",
		"MaxPool": "pooling", "GlobalAveragePool": "pooling", "Relu": "elementwise", "Add": "elementwise",
		"ReorderOutput": "layout and copies", "Flatten": "layout and copies", "TopK": "other",
	}
	for op, want := range tests {
		if got := category(op); got != want {
			t.Errorf("category(%q) = %q, want %q", op, got, want)
		}
	}
}

func TestBlockRuns(t *testing.T) {
	tests := []struct {
		block, mean time.Duration
		want        int
	}{
		{100 * time.Millisecond, 30 * time.Millisecond, 3},
		{100 * time.Millisecond, 300 * time.Millisecond, 1},
		{100 * time.Millisecond, time.Microsecond, 10000},
		{100 * time.Millisecond, 0, 10000},
	}
	for _, tc := range tests {
		if got := blockRuns(tc.block, tc.mean); got != tc.want {
			t.Errorf("blockRuns(%v, %v) = %d, want %d", tc.block, tc.mean, got, tc.want)
		}
	}
}

func summary(p50 time.Duration) bench.Summary {
	return bench.Summary{N: 10, Min: p50, Mean: p50, P50: p50, P90: p50, P99: p50, Max: p50}
}

// fakeProfile is a two-step profile of 10 runs: a Conv taking conv per run and a Relu taking relu.
func fakeProfile(conv, relu time.Duration) *runtime.Profile {
	return &runtime.Profile{Runs: 10, Total: 10 * (conv + relu), Steps: []runtime.StepProfile{
		{Node: "c1", OpType: "Conv", InputShapes: []ops.Shape{{8, 3, 32, 32}, {64, 3, 3, 3}}, OutputShapes: []ops.Shape{{8, 64, 32, 32}}, Time: 10 * conv},
		{Node: "r1", OpType: "Relu", InputShapes: []ops.Shape{{8, 64, 32, 32}}, OutputShapes: []ops.Shape{{8, 64, 32, 32}}, Time: 10 * relu},
	}}
}

// The report on made-up results: met and missed targets with their gaps, every section, and the
// explanations of the misses.
func TestMarkdown(t *testing.T) {
	msd := time.Millisecond
	vgg := &workload{key: "vgg8", name: "VGG CIFAR batch 8", targetRatio: 1, scalingTarget: scalingTarget, memory: true, suite: suiteCNN, macs: 1_000_000_000, weightBytes: 10 << 20}
	lenet := &workload{key: "lenet1", name: "LeNet batch 1", targetRatio: 0.8, macs: 199968}
	gemm := &workload{key: "sgemm1024", name: "SGEMM 1024³", gemm: true, peakTarget1: sgemmTarget1, peakTargetN: sgemmTargetN, macs: 1 << 30}
	ortProf := &ortProfile{Runs: 10, PerRun: 10 * msd, Kernels: 10 * msd, Ops: []opTime{{Op: "FusedConv", Nodes: 1, PerRun: 10 * msd}}}
	res := &results{
		started: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC), elapsed: time.Minute, ortVersion: "1.30.0", goVersion: "go1.26",
		machine:    bench.Machine{Model: "Test CPU", Family: "family 25 model 97", CPUs: 2, Flags: []string{"avx2", "fma", "avx512f"}},
		loadBefore: "0.20", loadAfter: "0.40", waitedAfter: 90 * time.Second,
		peaks: &peaks{sgemmKernel: "avx2fma", sgemmISA: "avx2", byCores: map[int]float64{1: 78, 2: 150},
			all: []fmapeak.Result{{ISA: "avx2", Cores: 1, GFLOPS: 78}, {ISA: "avx2", Cores: 2, GFLOPS: 150}, {ISA: "avx512", Cores: 1, GFLOPS: 80}}},
		cfg: &config{command: "make bench-compare", rounds: 16, block: 100 * msd, warmup: 300 * msd, coldRuns: 5, quietLoad: 0.5, peakTrials: 5, peakTrial: 300 * msd, profileTime: time.Second},
		pairs: []*pair{
			// VGG, 1 thread: 12 ms vs 10 ms (missed), its conv 2 ms slower than ORT's.
			{w: vgg, threads: 1, onnxrun: sideStats{Latency: summary(12 * msd)}, ort: sideStats{Latency: summary(10 * msd)},
				prof: fakeProfile(11*msd, msd), ortProf: ortProf},
			// VGG, 2 threads: 7 ms vs 8 ms (met), scaling 12/7 = 1.71 (missed).
			{w: vgg, threads: 2, onnxrun: sideStats{Latency: summary(7 * msd)}, ort: sideStats{Latency: summary(8 * msd)},
				prof: fakeProfile(6*msd, msd), ortProf: ortProf},
			{w: lenet, threads: 1, onnxrun: sideStats{Latency: summary(20 * time.Microsecond)}, ort: sideStats{Latency: summary(30 * time.Microsecond)}},
			// SGEMM at 1 thread: 2·2^30 FLOP in 30 ms = 71.6 GFLOP/s, 92% of 78: met.
			{w: gemm, threads: 1, onnxrun: sideStats{Latency: summary(30 * msd)}, ort: sideStats{Latency: summary(33 * msd)}},
		},
		cold: []*coldRow{
			{m: &coldModel{key: "lenet_ref", name: "shipped LeNet", reference: true}, load: "0.20",
				onnxrun: coldSide{reports: []coldReport{{Peak: 30 << 20}}}, ort: coldSide{reports: []coldReport{{Peak: 60 << 20}, {Peak: 62 << 20}, {Peak: 70 << 20}}}},
			// VGG: model memory 130-30 = 100 MiB against 152-62 = 90 MiB (missed); cold start 25 ms vs 40 ms (met).
			{m: &coldModel{key: "vgg8", name: "VGG CIFAR batch 8", memoryTarget: true, size: 9 << 20}, load: "0.30",
				onnxrun: coldSide{reports: []coldReport{{Load: 20 * msd, FirstRun: 5 * msd, Peak: 130 << 20, LiveHeap: 50 << 20, GoHeapSys: 80 << 20}}},
				ort:     coldSide{reports: []coldReport{{Load: 30 * msd, FirstRun: 10 * msd, Peak: 152 << 20}}}},
			{m: &coldModel{key: "bert", name: "BERT"}, load: "0.30",
				onnxrun: coldSide{err: errors.New("onnxrun on BERT: exit status 1: unsupported op")},
				ort:     coldSide{reports: []coldReport{{Load: 300 * msd, FirstRun: 100 * msd, Peak: 500 << 20}}}},
		},
	}
	md := res.markdown()
	for _, want := range []string{
		"Written by `make bench-compare`",
		"4 of 7 targets met.",
		"- Machine: Test CPU (family 25 model 97), 2 CPUs; ISA flags: avx2 fma avx512f.",
		"0.20 when the run started, 0.40 when it ended (read after waiting up to 1m30s for the run's own load to decay): quiet (both below 0.50)",
		"avx2 1 core 78.0 GFLOP/s; avx2 2 cores 150.0 GFLOP/s; avx512 1 core 80.0 GFLOP/s",
		"uses the avx2 figures: onnxrun's SGEMM micro-kernel is avx2fma",
		"| VGG CIFAR batch 8, cold start (load + first run, 1 thread) ≤ ORT's | 25.0 ms vs 40.0 ms | met |",
		"| VGG CIFAR batch 8 | 9.0 MiB | 20.0 ms | 5.00 ms | **25.0 ms** | 30.0 ms | 10.0 ms | **40.0 ms** | **0.62×** | 0.30 |",
		"| BERT | 0 B | failed | – | – | 300.0 ms | 100.0 ms | **400.0 ms** | – | 0.30 |",
		"- Failed: BERT: onnxrun on BERT: exit status 1: unsupported op",
		"Reference peaks (shipped LeNet): onnxrun 30.0 MiB, ORT 62.0 MiB.",
		"| VGG CIFAR batch 8 | 9.0 MiB | 130.0 MiB | 100.0 MiB | 152.0 MiB | 90.0 MiB | 1.11× |",
		"## Cold start",
		"| VGG CIFAR batch 8, 1 thread: ≤ 1.0× ORT | 1.20× (12.0 ms vs 10.0 ms) | **missed by 0.20×: onnxrun needs 10.0 ms, 17% less time** |",
		"| VGG CIFAR batch 8, 2 threads: ≤ 1.0× ORT | 0.88× (7.00 ms vs 8.00 ms) | met |",
		"| LeNet batch 1, 1 thread: ≤ 0.8× ORT | 0.67× (0.020 ms vs 0.030 ms) | met |",
		"| SGEMM 1024³, 1 thread: ≥ 80% of 78 GFLOP/s | 71.6 GFLOP/s, 92% (ORT 65.1) | met |",
		"| VGG CIFAR batch 8: onnxrun 1 → 2 threads ≥ 1.8× | 1.71× (ORT 1.25×) |",
		"| VGG CIFAR batch 8, 1 thread: model memory (peak above the same runtime's on the shipped LeNet) ≤ ORT's | 100.0 MiB vs 90.0 MiB | **missed by 10.0 MiB (11% more)** |",
		"## Latency", "## Thread scaling", "## SGEMM", "## Peak memory", "## Where the time goes",
		"## Missed targets",
		// VGG 1 thread: onnxrun conv 11 ms, relu 1 ms scaled to 12 ms p50; ORT all 10 ms in FusedConv.
		"| convolution | 11.0 ms | 10.0 ms | +1.000 ms |",
		"What would close it: matching ORT's time in convolution (−1.00 ms → 1.10×), then elementwise (−1.00 ms → 1.00×).",
		"| 0 | c1 | Conv | [8,64,32,32] | 11.0 | 91.7% | 2.6 | 3% |",
		"The steps that lose most against a perfect 2×",
		"| 0 | c1 | Conv | [8,64,32,32] | 11.0 ms | 6.00 ms | 1.83× | 0.500 ms |",
		"onnxrun's Go heap holds 50.0 MiB: the plan's weights 10.0 MiB, the session's arena 0 B and scratch 0 B, and 40.0 MiB more",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(md)
	}
}

// A run on a machine busy with other work says so above the targets.
func TestMarkdownBusyMachine(t *testing.T) {
	res := &results{cfg: &config{command: "make bench-compare", quietLoad: 0.5}, loadBefore: "0.45", loadAfter: "0.50", machine: bench.Machine{CPUs: 2}}
	if md := res.markdown(); !strings.Contains(md, "**This run was not on a quiet machine (1-minute load average 0.45 at the start, 0.50 at the end, on 2 CPUs; quiet means both below 0.50).**") ||
		!strings.Contains(md, "**not quiet**") {
		t.Errorf("no warning about the load:\n%s", md)
	}
	res.loadAfter = "0.49"
	if md := res.markdown(); strings.Contains(md, "not on a quiet machine") || !strings.Contains(md, "quiet (both below 0.50)") {
		t.Errorf("a warning on a quiet machine:\n%s", md)
	}
}
