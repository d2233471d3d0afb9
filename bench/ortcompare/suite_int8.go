package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/onnxrun/onnxrun/bench"
)

// Issue 16's targets (same process as ONNX Runtime, same threads, 1 and 2).
const (
	int8TargetRatio  = 1.0 // static QDQ and dynamic rows at most 1.0x ORT's int8 time
	int8FloatSpeedup = 1.5 // static QDQ at least 1.5x faster than onnxrun's own float32 on the same model
)

// int8Model is one architecture of the int8 suite: make quant-models writes its float32 model to
// quant/float/<base>.onnx with inputs quant/float/<base>_in_B.npy (make big-models' naming), and its
// quantized forms to quant/<base>_<format>/model.onnx; every form is fed the same inputs.
type int8Model struct {
	key, name, base string
}

var int8Models = []int8Model{
	{"mobilenetv2", "MobileNetV2", "mobilenet_v2"},
	{"resnet50", "ResNet-50", "resnet50"},
}

// int8Format is one way make quant-models quantizes a model: the folder suffix, the label, and whether
// issue 16 asks it to be 1.5x faster than float32 in onnxrun.
type int8Format struct {
	key, folder, label string
	floatSpeedup       bool
}

var int8Formats = []int8Format{
	{"qdq", "qdq_static", "static QDQ int8", true},
	{"dynamic", "dynamic", "dynamic int8", false},
}

var int8Batches = []int{1, 8}

// int8Workloads lists the int8 suite: per model and batch, its float32 form (the speed-up's reference,
// run in both runtimes like any row) and its quantized forms, with a note for each missing or failing to
// prepare in onnxrun (a quantized model onnxrun cannot load yet is a finding, not a reason to stop).
func int8Workloads(quantDir string, only func(key string) bool) ([]*workload, []string) {
	if quantDir == "" {
		return nil, []string{"the int8 suite: no -quant-models folder (run make quant-models)"}
	}
	floatDir := filepath.Join(quantDir, "float")
	var out []*workload
	var skipped []string
	add := func(key, name, format, path, base string, batch int) *workload {
		if !only(key) {
			return nil
		}
		if _, err := os.Stat(path); err != nil {
			skipped = append(skipped, fmt.Sprintf("%s: %v (run make quant-models)", name, err))
			return nil
		}
		w, err := suiteWorkloadFrom(key, name, path, floatDir, base, batch)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("%s: %v", name, err))
			return nil
		}
		w.suite, w.format = suiteInt8, format
		out = append(out, w)
		return w
	}
	for _, m := range int8Models {
		for _, batch := range int8Batches {
			floatKey := int8Key(m.key, "f32", batch)
			add(floatKey, fmt.Sprintf("%s float32 batch %d", m.name, batch), "float32", filepath.Join(floatDir, m.base+".onnx"), m.base, batch)
			for _, f := range int8Formats {
				w := add(int8Key(m.key, f.key, batch), fmt.Sprintf("%s %s batch %d", m.name, f.label, batch), f.label,
					filepath.Join(quantDir, m.base+"_"+f.folder, "model.onnx"), m.base, batch)
				if w == nil {
					continue
				}
				w.targetRatio, w.floatKey = int8TargetRatio, floatKey
				if f.floatSpeedup {
					w.floatSpeedup = int8FloatSpeedup
				}
			}
		}
	}
	return out, skipped
}

// int8Key is an int8 workload's -only key: int8_resnet50_qdq_b8.
func int8Key(model, format string, batch int) string {
	return fmt.Sprintf("int8_%s_%s_b%d", model, format, batch)
}

// int8SpeedupChecks are issue 16's "at least 1.5x faster than onnxrun's own float32 on the same model"
// targets this run measured: each int8 row with a speed-up target whose float32 twin ran at the same
// thread count.
func (r *results) int8SpeedupChecks() []check {
	var out []check
	for _, p := range r.pairs {
		if p.w.floatSpeedup == 0 {
			continue
		}
		f := r.pair(p.w.floatKey, p.threads)
		if f == nil {
			continue
		}
		speedup := int8Speedup(f.onnxrun.Latency.P50, p.onnxrun.Latency.P50)
		c := check{what: fmt.Sprintf("%s, %d thread%s: ≥ %.1f× faster than onnxrun float32", p.w.name, p.threads, plural(p.threads), p.w.floatSpeedup),
			measured: fmt.Sprintf("%.2f× (%s vs %s)", speedup, ms(p.onnxrun.Latency.P50), ms(f.onnxrun.Latency.P50)),
			met:      speedup >= p.w.floatSpeedup}
		if !c.met {
			c.gap = fmt.Sprintf("missed: %.2f× of the %.1f×", speedup, p.w.floatSpeedup)
		}
		out = append(out, c)
	}
	return out
}

// int8Speedup is how many times faster the int8 run is than the float32 one (0 when either is unknown).
func int8Speedup(float32Time, int8Time time.Duration) float64 {
	if float32Time <= 0 || int8Time <= 0 {
		return 0
	}
	return float64(float32Time) / float64(int8Time)
}

// int8Table gives the int8 suite: per model, batch and threads, each quantized form in both runtimes
// beside onnxrun's float32 on the same model.
func (r *results) int8Table(b *strings.Builder) {
	var rows []string
	for _, p := range r.pairs {
		if p.w.suite != suiteInt8 || p.w.format == "float32" {
			continue
		}
		floatCell, speedupCell := "–", "–"
		if f := r.pair(p.w.floatKey, p.threads); f != nil {
			floatCell = bench.Millis(f.onnxrun.Latency.P50)
			speedupCell = fmt.Sprintf("%.2f×", int8Speedup(f.onnxrun.Latency.P50, p.onnxrun.Latency.P50))
		}
		target := fmt.Sprintf("≤ %.1f× ORT", p.w.targetRatio)
		if p.w.floatSpeedup > 0 {
			target += fmt.Sprintf(", ≥ %.1f× float32", p.w.floatSpeedup)
		}
		rows = append(rows, fmt.Sprintf("| %s | %d | %s | %s | **%.2f×** | %s | %s | %s | %.1e | %s |", p.w.name, p.threads,
			bench.Millis(p.onnxrun.Latency.P50), bench.Millis(p.ort.Latency.P50), p.ratio(), floatCell, speedupCell, target, p.diff, p.load))
	}
	writeSection(b, "## int8\n\nIssue 16's quantized models (`make quant-models`: built with onnx.helper in the shapes ONNX Runtime's quantize_static (QDQ, "+
		"int8 weights per channel, uint8 activations calibrated min/max) and quantize_dynamic (DynamicQuantizeLinear, ConvInteger, MatMulInteger) write) "+
		"from torchvision's MobileNetV2 and ResNet-50 (random weights, batch norms fitted to random data), every form on the same inputs. Milliseconds at p50; the float32 column is onnxrun on the float model the "+
		"quantized one came from, at the same batch and threads, and the speed-up is its time over onnxrun's int8 time.\n\n"+
		"| workload | threads | onnxrun p50 | ORT p50 | onnxrun / ORT | onnxrun float32 p50 | speed-up over float32 | target | max abs diff | load |\n"+
		"|---|--:|--:|--:|--:|--:|--:|---|--:|--:|\n", rows)
}
