package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onnxrun/onnxrun/bench"
)

// The int8 suite without its folders is one note, not a failure; with a quantized model missing, that
// row is a note and the others are still listed.
func TestInt8WorkloadsMissing(t *testing.T) {
	all := func(string) bool { return true }
	ws, skipped := int8Workloads("", all)
	if len(ws) != 0 || len(skipped) != 1 || !strings.Contains(skipped[0], "make quant-models") {
		t.Fatalf("no folders: %d workloads, notes %q; want none and one note naming make quant-models", len(ws), skipped)
	}
	empty := t.TempDir()
	ws, skipped = int8Workloads(empty, func(key string) bool { return key == "int8_resnet50_qdq_b8" })
	if len(ws) != 0 || len(skipped) != 1 || !strings.Contains(skipped[0], "ResNet-50 static QDQ int8 batch 8") {
		t.Fatalf("-only one missing row: %d workloads, notes %q; want one note naming the row", len(ws), skipped)
	}
	if _, err := os.Stat(filepath.Join(empty, "resnet50_qdq_static")); err == nil {
		t.Fatal("the suite wrote into the quant folder")
	}
}

// The int8 rows carry issue 16's targets: every quantized row at most 1.0x ORT, static QDQ at least 1.5x
// faster than onnxrun's float32 on the same model at the same threads; the table puts the float32 time
// beside each quantized row.
func TestInt8Report(t *testing.T) {
	msd := time.Millisecond
	f32 := &workload{key: int8Key("resnet50", "f32", 1), name: "ResNet-50 float32 batch 1", suite: suiteInt8, format: "float32"}
	qdq := &workload{key: int8Key("resnet50", "qdq", 1), name: "ResNet-50 static QDQ int8 batch 1", suite: suiteInt8, format: "static QDQ int8",
		targetRatio: int8TargetRatio, floatKey: f32.key, floatSpeedup: int8FloatSpeedup}
	dyn := &workload{key: int8Key("resnet50", "dynamic", 1), name: "ResNet-50 dynamic int8 batch 1", suite: suiteInt8, format: "dynamic int8",
		targetRatio: int8TargetRatio, floatKey: f32.key}
	res := &results{
		cfg:        &config{command: "make bench-compare", quietLoad: 0.5, suites: map[string]bool{suiteInt8: true}, rowTime: 8 * time.Second, minRounds: 4, rounds: 16},
		loadBefore: "0.1", loadAfter: "0.1", machine: bench.Machine{CPUs: 2}, elapsed: time.Minute,
		peaks: &peaks{byCores: map[int]float64{1: 100, 2: 200}},
		pairs: []*pair{
			{w: f32, threads: 1, onnxrun: sideStats{Latency: summary(30 * msd)}, ort: sideStats{Latency: summary(30 * msd)}},
			{w: qdq, threads: 1, onnxrun: sideStats{Latency: summary(24 * msd)}, ort: sideStats{Latency: summary(12 * msd)}},
			{w: dyn, threads: 1, onnxrun: sideStats{Latency: summary(15 * msd)}, ort: sideStats{Latency: summary(20 * msd)}},
			// A float32 row at 2 threads without its int8 row: no speed-up check from it.
			{w: f32, threads: 2, onnxrun: sideStats{Latency: summary(16 * msd)}, ort: sideStats{Latency: summary(16 * msd)}},
		},
	}
	md := res.markdown()
	for _, want := range []string{
		"| ResNet-50 static QDQ int8 batch 1, 1 thread: ≤ 1.0× ORT | 2.00× (24.0 ms vs 12.0 ms) | **missed by 1.00×",
		"| ResNet-50 static QDQ int8 batch 1, 1 thread: ≥ 1.5× faster than onnxrun float32 | 1.25× (24.0 ms vs 30.0 ms) | **missed: 1.25× of the 1.5×** |",
		"| ResNet-50 dynamic int8 batch 1, 1 thread: ≤ 1.0× ORT | 0.75× (15.0 ms vs 20.0 ms) | met |",
		"## int8",
		"| ResNet-50 static QDQ int8 batch 1 | 1 | 24.0 | 12.0 | **2.00×** | 30.0 | 1.25× | ≤ 1.0× ORT, ≥ 1.5× float32 |",
		"| ResNet-50 dynamic int8 batch 1 | 1 | 15.0 | 20.0 | **0.75×** | 30.0 | 2.00× | ≤ 1.0× ORT |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if n := strings.Count(md, "faster than onnxrun float32"); n != 1 {
		t.Errorf("%d speed-up checks, want 1 (static QDQ at 1 thread only)", n)
	}
	if strings.Contains(md, "| ResNet-50 float32 batch 1 | 1 | 30.0 |") {
		t.Error("the float32 row is listed in the int8 table as a quantized row")
	}
	if t.Failed() {
		t.Log(md)
	}
}
