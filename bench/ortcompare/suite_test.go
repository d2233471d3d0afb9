package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/onnxrun/onnxrun/bench"
	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/tensorio"
)

func TestParseSuites(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"all", allSuites},
		{"real", []string{suiteReal}},
		{"cnn, ops", []string{suiteCNN, suiteOps}},
	} {
		got, err := parseSuites(tc.in)
		if err != nil {
			t.Fatalf("parseSuites(%q): %v", tc.in, err)
		}
		if len(got) != len(tc.want) {
			t.Errorf("parseSuites(%q) = %v, want %v", tc.in, got, tc.want)
		}
		for _, s := range tc.want {
			if !got[s] {
				t.Errorf("parseSuites(%q) = %v, lacks %q", tc.in, got, s)
			}
		}
	}
	if _, err := parseSuites("cnn,gpu"); err == nil || !strings.Contains(err.Error(), `"cnn,gpu"`) {
		t.Errorf("parseSuites(\"cnn,gpu\"): error %v, want one naming the flag's value", err)
	}
}

// A slow workload gets fewer rounds, never fewer than the least nor more than the most.
func TestRoundsWithin(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		budget, round time.Duration
		want          int
	}{
		{8 * s, 200 * time.Millisecond, 16}, // 40 fit: capped at 16
		{8 * s, s, 8},
		{8 * s, 3 * s, 4}, // 2 fit: at least 4
		{8 * s, 0, 16},
	} {
		if got := roundsWithin(tc.budget, tc.round, 4, 16); got != tc.want {
			t.Errorf("roundsWithin(%v, %v, 4, 16) = %d, want %d", tc.budget, tc.round, got, tc.want)
		}
	}
}

// The single-operator and depthwise workloads build, compile in onnxrun and count what the report needs.
func TestOperatorWorkloads(t *testing.T) {
	only := regexp.MustCompile(`_16k$|^dw_112x112_c96_s2$`)
	ws, err := operatorWorkloads(only.MatchString)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != len(opWorkloads)+1 {
		t.Fatalf("%d workloads, want %d", len(ws), len(opWorkloads)+1)
	}
	for _, w := range ws {
		if w.suite != suiteOps {
			t.Errorf("%s: suite %q", w.key, w.suite)
		}
		switch {
		case w.key == "op_layernorm_16k":
			if w.elements != 21*768 || !w.inputShapes[0].Equal(ops.Shape{21, 768}) {
				t.Errorf("%s: %d elements of %v, want 16,128 of [21 768]", w.key, w.elements, w.inputShapes[0])
			}
		case strings.HasPrefix(w.key, "op_"):
			if w.elements != 16384 || w.targetRatio != 1 {
				t.Errorf("%s: %d elements, target %v; want 16384 and 1", w.key, w.elements, w.targetRatio)
			}
		default: // the depthwise stride-2 layer: 96·56·56 outputs of 9 multiply-adds each
			if w.macs != 96*56*56*9 || w.peakTarget1 != depthwisePeakShare || !w.outputShapes[0].Equal(ops.Shape{1, 96, 56, 56}) {
				t.Errorf("%s: %d MACs, output %v, peak target %v; want %d, [1 96 56 56], %v",
					w.key, w.macs, w.outputShapes[0], w.peakTarget1, 96*56*56*9, depthwisePeakShare)
			}
		}
	}
}

// A suite model's inputs are read by the model's input names, the first from NAME_in_B.npy and the others
// from NAME_in_B.INPUT.npy; a missing model is a note, not an error.
func TestRealWorkloads(t *testing.T) {
	dir := t.TempDir()
	b := exporter.NewGraph("step")
	x := b.Input("hidden", onnxpb.TensorProto_FLOAT, "N", 4)
	past := b.Input("past_0", onnxpb.TensorProto_FLOAT, 2, "N", 3)
	b.NodeNamed("relu", "Relu", "", []string{x}, []string{"out"}, nil)
	b.NodeNamed("neg", "Neg", "", []string{past}, []string{"present_0"}, nil)
	b.Output("out", onnxpb.TensorProto_FLOAT, "N", 4)
	b.Output("present_0", onnxpb.TensorProto_FLOAT, 2, "N", 3)
	m, err := b.Model(exporter.ModelOptions{Opset: 13})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, shape ops.Shape) {
		t.Helper()
		data := make([]float32, shape.Size())
		if err := tensorio.WriteNPYFile(filepath.Join(dir, name), ops.FromSlice(shape, data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "gpt2_step.onnx"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	write("gpt2_step_in_1.npy", ops.Shape{1, 4})
	write("gpt2_step_in_1.past_0.npy", ops.Shape{2, 1, 3})

	ws, skipped := realWorkloads(dir, regexp.MustCompile(`^(gpt2step|resnet50)_b1$`).MatchString)
	if len(ws) != 1 || ws[0].key != "gpt2step_b1" {
		t.Fatalf("workloads %v, want gpt2step_b1 only", ws)
	}
	w := ws[0]
	if len(w.inputNames) != 2 || w.inputNames[1] != "past_0" || !w.inputShapes[1].Equal(ops.Shape{2, 1, 3}) || w.suite != suiteReal || w.targetRatio != suiteTargetRatio {
		t.Errorf("inputs %v %v, suite %q, target %v", w.inputNames, w.inputShapes, w.suite, w.targetRatio)
	}
	if len(skipped) != 1 || !strings.Contains(skipped[0], "ResNet-50 batch 1: none of resnet50.onnx") {
		t.Errorf("skipped %q, want ResNet-50's missing file only", skipped)
	}
}

// The report's issue-15 sections: the single operators in elements per second, the depthwise layers
// against the peak, the op types side by side, and the geometric mean and parity targets.
func TestMarkdownSuite(t *testing.T) {
	msd := time.Millisecond
	sigmoid := &workload{key: "op_sigmoid_4m", name: "Sigmoid, 4M elements", suite: suiteOps, elements: 4 << 20, targetRatio: 1}
	dw := &workload{key: "dw_56x56_c144_s2", name: "Depthwise 3×3 conv, 144 channels, 56², stride 2", suite: suiteOps,
		macs: 144 * 28 * 28 * 9, peakTarget1: depthwisePeakShare, peakTargetN: depthwisePeakShare}
	yolo := &workload{key: "yolo_b1", name: "YOLO batch 1", suite: suiteReal, targetRatio: 1}
	unet := &workload{key: "unet_b1", name: "U-Net batch 1", suite: suiteReal, targetRatio: 1}
	resnet := &workload{key: "resnet8", name: "ResNet-18 CIFAR batch 8", suite: suiteCNN, targetRatio: 1, parity: parityRatio}
	ortProf := &ortProfile{Runs: 10, PerRun: 4 * msd, Kernels: 4 * msd, Ops: []opTime{{Op: "FusedConv", Nodes: 3, PerRun: 3 * msd}, {Op: "QuickGelu", Nodes: 2, PerRun: msd}}}
	res := &results{
		cfg:        &config{command: "make bench-compare", quietLoad: 0.5, suites: map[string]bool{suiteReal: true, suiteOps: true}, rowTime: 8 * time.Second, minRounds: 4, rounds: 16},
		loadBefore: "0.1", loadAfter: "0.1", machine: bench.Machine{CPUs: 2}, elapsed: 25 * time.Minute,
		peaks: &peaks{byCores: map[int]float64{1: 100, 2: 200}},
		pairs: []*pair{
			// 4,194,304 elements in 2 ms: 2.10 G/s; ORT in 4 ms: 1.05 G/s.
			{w: sigmoid, threads: 1, onnxrun: sideStats{Latency: summary(2 * msd)}, ort: sideStats{Latency: summary(4 * msd)}},
			// 1,016,064 MACs in 0.1 ms: 20.3 GFLOP/s, 20% of 100: missed.
			{w: dw, threads: 1, onnxrun: sideStats{Latency: summary(100 * time.Microsecond)}, ort: sideStats{Latency: summary(50 * time.Microsecond)}},
			// ratios 0.5 and 2: geometric mean 1.0, missing 0.9.
			{w: yolo, threads: 1, onnxrun: sideStats{Latency: summary(4 * msd)}, ort: sideStats{Latency: summary(8 * msd)},
				prof: fakeProfile(3*msd, msd), ortProf: ortProf},
			{w: unet, threads: 1, onnxrun: sideStats{Latency: summary(8 * msd)}, ort: sideStats{Latency: summary(4 * msd)}},
			{w: resnet, threads: 1, onnxrun: sideStats{Latency: summary(104 * msd)}, ort: sideStats{Latency: summary(100 * msd)}},
		},
	}
	md := res.markdown()
	for _, want := range []string{
		"- Suites: real, ops (`make bench-compare SUITE=...`: cnn, real, ops, int8 or all; ONLY=REGEXP of workload keys); the whole run took 25m0s.",
		"up to 16 rounds (as many as fit in 8s, at least 4: a slow model gets fewer)",
		"| Sigmoid, 4M elements, 1 thread: ≥ ORT's throughput | 2.10 G vs 1.05 G elements/s (0.50× ORT's time) | met |",
		"| Sigmoid, 4M elements | 1 | 2.10 G | 1.05 G | 0.50× |",
		"| Depthwise 3×3 conv, 144 channels, 56², stride 2, 1 thread: ≥ 25% of 100 GFLOP/s | 20.3 GFLOP/s, 20% (ORT 40.6) | **missed by 4.7 GFLOP/s (5 points)** |",
		"| Depthwise 3×3 conv, 144 channels, 56², stride 2 | 1 | 0.100 ms | 20.3 | 20% | 40.6 | 41% | 2.00× | ≥ 25% (25.0) |",
		"| real architectures: geometric mean of the onnxrun / ORT ratios ≤ 0.9× | 1.00× over 2 rows | **missed by 0.10×** |",
		"| ResNet-18 CIFAR batch 8, 1 thread: within 5% of ORT | 1.04× (104.0 ms vs 100.0 ms) | met |",
		"## By op type: the real architectures at 1 thread",
		"### YOLO batch 1",
		"| 1 | Conv | 1 | 3.00 | 75.0% | FusedConv | 3 | 6.00 | 75.0% |",
		"| 2 | Relu | 1 | 1.00 | 25.0% | QuickGelu | 2 | 2.00 | 25.0% |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if strings.Contains(md, "### Sigmoid, 4M elements, 1 thread") {
		t.Error("the single-operator rows have a where-the-time-goes section")
	}
	if t.Failed() {
		t.Log(md)
	}
}

// A panic in onnxrun on one model of the suite becomes that model's error.
func TestWithoutPanic(t *testing.T) {
	err := withoutPanic(func() error {
		var s []int
		_ = s[:len(s)-8]
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "onnxrun panicked: runtime error: slice bounds out of range [:-8]") {
		t.Errorf("error %v, want the panic as an error", err)
	}
	if err := withoutPanic(func() error { return os.ErrNotExist }); err != os.ErrNotExist {
		t.Errorf("error %v, want fn's own error", err)
	}
}
