package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/onnxrun/onnxrun/bench"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/tensorio"
)

// The memory table of issue 20 item 6 (-memory-table, `make bench-memory`): the CNN suite's models and the
// real-architecture suite's at batch 1 and 8, the BERT-base encoder whose layers share one set of weights
// (bert_base_shared in the big-models folder) and any model given with -memory-model, each measured by
// the cold-start children (coldstart.go): fresh processes per runtime per model, medians, each
// runtime's peak above its own peak on the shipped LeNet. Only the children run: no latency rounds, no
// FMA peak, so the whole table takes minutes, not the half hour of the full comparison.
//
// Memory is not timing: the figures move little with the machine's load, but other processes compete
// for the page cache, so the table is still taken on a quiet machine, and it says what the load was.

// Issue 20's targets.
const (
	memoryTargetRatio    = 1.0 // onnxrun's model memory at most ORT's, every model, batch 1 and 8
	loadPeakTargetOfFile = 1.3 // the load's peak above the steady state, at most this many times the file's size
)

// memoryBatches are the batch sizes of the table.
var memoryBatches = []int{1, 8}

// memoryTableModels are the real suite's models (suite.go) and the encoder with shared weights that
// m-once's export script writes as bert_base_shared.
func memoryTableModels() []suiteModel {
	out := append([]suiteModel(nil), suiteModels...)
	return append(out, suiteModel{key: "bert_shared", name: "BERT-base encoder, all layers sharing one set of weights (seq 128)",
		bases: []string{"bert_base_shared"}})
}

// memoryModels lists the table's models whose key -only matches, the memory reference first, and a note
// for each one missing or unreadable.
func memoryModels(cfg *config) ([]*coldModel, []string, error) {
	lenet := filepath.Join(cfg.repo, "models", "lenet", "lenet.onnx")
	ref, err := fileColdModel("lenet_ref", "shipped LeNet batch 1 (memory reference)", lenet, []ops.Shape{{1, 1, 28, 28}})
	if err != nil {
		return nil, nil, fmt.Errorf("the memory reference: %w", err)
	}
	ref.reference = true
	out := []*coldModel{ref}
	var skipped []string
	add := func(key, name, path string, batch int, shapes func(*onnx.Model) ([]ops.Shape, error)) {
		key = fmt.Sprintf("%s_b%d", key, batch)
		if cfg.only != nil && !cfg.only.MatchString(key) {
			return
		}
		name = fmt.Sprintf("%s batch %d", name, batch)
		m, err := batchColdModel(key, name, path, batch, shapes)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("%s: %v", name, err))
			return
		}
		out = append(out, m)
	}
	declared := func(batch int) func(*onnx.Model) ([]ops.Shape, error) {
		return func(m *onnx.Model) ([]ops.Shape, error) { return declaredShapes(m, batch) }
	}
	if cfg.suites[suiteCNN] {
		for _, c := range []struct{ key, name, path string }{
			{"lenet", "LeNet", filepath.Join(cfg.shared, "models", "lenet_torch_opset13", "model.onnx")},
			{"vgg", "VGG CIFAR", filepath.Join(cfg.models, "vgg_cifar.onnx")},
			{"resnet18", "ResNet-18 CIFAR", filepath.Join(cfg.models, "resnet18_cifar.onnx")},
		} {
			for _, batch := range memoryBatches {
				add(c.key, c.name, c.path, batch, declared(batch))
			}
		}
	}
	if cfg.suites[suiteReal] && cfg.bigModels == "" {
		skipped = append(skipped, "the real-architecture suite: no -big-models folder (run make big-models)")
	} else if cfg.suites[suiteReal] {
		for _, s := range memoryTableModels() {
			for _, batch := range memoryBatches {
				base := s.bases[0]
				for _, b := range s.bases {
					if _, err := os.Stat(filepath.Join(cfg.bigModels, b+".onnx")); err == nil {
						base = b
						break
					}
				}
				add(s.key, s.name, filepath.Join(cfg.bigModels, base+".onnx"), batch, suiteShapes(cfg.bigModels, base, batch))
			}
		}
	}
	for _, path := range cfg.memoryModels {
		base := strings.TrimSuffix(filepath.Base(path), ".onnx")
		for _, batch := range memoryBatches {
			add(base, base, path, batch, func(m *onnx.Model) ([]ops.Shape, error) {
				if shapes, err := suiteShapes(filepath.Dir(path), base, batch)(m); err == nil {
					return shapes, nil
				}
				return declaredShapes(m, batch)
			})
		}
	}
	return out, skipped, nil
}

// batchColdModel reads the model at path and its input shapes at batch.
func batchColdModel(key, name, path string, batch int, shapes func(*onnx.Model) ([]ops.Shape, error)) (*coldModel, error) {
	m, err := onnx.Load(path)
	if err != nil {
		return nil, err
	}
	in, err := shapes(m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return coldModelOf(m, key, name, path, in)
}

// suiteShapes reads the input shapes at batch from the .npy files make big-models writes beside base.onnx
// (suiteInputFile), in the order of the model's inputs.
func suiteShapes(dir, base string, batch int) func(*onnx.Model) ([]ops.Shape, error) {
	return func(m *onnx.Model) ([]ops.Shape, error) {
		var out []ops.Shape
		for i, in := range graphInputs(m) {
			t, err := tensorio.ReadNPYFile(filepath.Join(dir, suiteInputFile(base, batch, i, in)))
			if err != nil {
				return nil, fmt.Errorf("input %q: %w", in, err)
			}
			out = append(out, t.Shape().Clone())
		}
		return out, nil
	}
}

// declaredShapes is the shapes the model declares for its inputs, with a symbolic (or unset) first
// dimension taken as the batch. Any other symbolic dimension, or a fixed first dimension other than the
// batch, is an error naming the input: the table needs the shape the model runs at.
func declaredShapes(m *onnx.Model, batch int) ([]ops.Shape, error) {
	declared := map[string][]int64{}
	symbolic := map[string][]bool{}
	for _, in := range m.Proto.GetGraph().GetInput() {
		for _, d := range in.GetType().GetTensorType().GetShape().GetDim() {
			declared[in.GetName()] = append(declared[in.GetName()], d.GetDimValue())
			symbolic[in.GetName()] = append(symbolic[in.GetName()], d.GetDimParam() != "" || d.GetDimValue() <= 0)
		}
	}
	var out []ops.Shape
	for _, name := range graphInputs(m) {
		dims := declared[name]
		if len(dims) == 0 {
			return nil, fmt.Errorf("input %q declares no shape: give its inputs as make big-models does (%s)", name, suiteInputFile("BASE", batch, 0, name))
		}
		shape := make(ops.Shape, len(dims))
		for i, d := range dims {
			switch {
			case i == 0 && symbolic[name][0]:
				shape[0] = batch
			case i == 0 && d != int64(batch):
				return nil, fmt.Errorf("input %q has a fixed batch of %d, not %d", name, d, batch)
			case symbolic[name][i]:
				return nil, fmt.Errorf("input %q: dimension %d is symbolic: give its inputs as make big-models does (%s)", name, i, suiteInputFile("BASE", batch, 0, name))
			default:
				shape[i] = int(d)
			}
		}
		out = append(out, shape)
	}
	return out, nil
}

// memoryTableRun is the -memory-table mode: the children of every model of memoryModels, then the table
// to cfg.out (or stdout).
func memoryTableRun(cfg *config) error {
	models, skipped, err := memoryModels(cfg)
	if err != nil {
		return err
	}
	res := &results{cfg: cfg, machine: bench.ReadMachine(), skipped: skipped, started: time.Now(), loadBefore: bench.LoadAverage()}
	for _, m := range models {
		fmt.Fprintf(os.Stderr, "ortcompare: memory of %s, %d processes per runtime...\n", m.name, cfg.coldRuns)
		row, err := measureCold(m, cfg)
		if err != nil {
			return err
		}
		res.cold = append(res.cold, row)
	}
	res.elapsed, res.loadAfter = time.Since(res.started), bench.LoadAverage()
	var b strings.Builder
	res.issueMemoryTable(&b)
	if cfg.out == "" {
		_, err := os.Stdout.WriteString(b.String())
		return err
	}
	return os.WriteFile(cfg.out, []byte(b.String()), 0o644)
}

// issueMemoryTable writes issue 20's memory table: per model and batch, both runtimes' memory above their
// reference, the ratio and its target, and onnxrun's load peak above its steady state against the file.
func (r *results) issueMemoryTable(b *strings.Builder) {
	ref := r.reference()
	if ref == nil {
		return
	}
	fmt.Fprintf(b, "## Memory\n\nMade by `%s` on %s (%s), %d fresh processes per runtime per model (medians), in %s; 1-minute load average %s at the start, %s at the end.\n\n",
		r.cfg.command, r.started.Format("2006-01-02"), r.machine, r.cfg.coldRuns, r.elapsed.Round(time.Second), r.loadBefore, r.loadAfter)
	b.WriteString("By the method of issue 20: the peak resident size (VmHWM) of a process that loads the model in one runtime at 1 thread and runs it once, " +
		"minus the same runtime's peak on the shipped LeNet (models/lenet/lenet.onnx, batch 1), so that each runtime's fixed cost cancels; " +
		"pages of memory-mapped files count as resident (VmHWM counts them). Target: onnxrun at most ORT on every model at batch 1 and 8.\n\n" +
		"Load peak is onnxrun's VmHWM once the model is loaded (read, decode, compile), before the first run; steady state is its VmRSS after the first run, the session open, " +
		"once a collection has run and the freed heap has gone back to the OS. Target: load peak minus steady state at most 1.3× the file's size. " +
		"A negative difference means the load never held more than the loaded model keeps once run (its arena included).\n\n")
	fmt.Fprintf(b, "Reference peaks (shipped LeNet): onnxrun %s, ORT %s.\n\n", sidePeak(&ref.onnxrun), sidePeak(&ref.ort))
	b.WriteString("| model | file | onnxrun | ORT | onnxrun / ORT | ≤ ORT | onnxrun steady state | load peak − steady | ÷ file | ≤ 1.3× |\n" +
		"|---|--:|--:|--:|--:|:-:|--:|--:|--:|:-:|\n")
	var failures []string
	for _, c := range r.cold {
		if c.m.reference {
			continue
		}
		for _, s := range []*coldSide{&c.onnxrun, &c.ort} {
			if s.err != nil {
				failures = append(failures, fmt.Sprintf("%s: %v", c.m.name, s.err))
			}
		}
		a, okA := modelMemory(&c.onnxrun, &ref.onnxrun)
		o, okO := modelMemory(&c.ort, &ref.ort)
		ratio, met := "–", "–"
		if okA && okO && o > 0 {
			ratio = fmt.Sprintf("%.2f×", float64(a)/float64(o))
			met = mark(float64(a) <= memoryTargetRatio*float64(o))
		}
		steady, over, ofFile, loadMet := "–", "–", "–", "–"
		if c.onnxrun.ok() {
			extra := c.onnxrun.loadPeak() - c.onnxrun.steady()
			steady, over = bench.Bytes(c.onnxrun.steady()), bench.Bytes(extra)
			if c.m.size > 0 {
				ofFile = fmt.Sprintf("%.2f×", float64(extra)/float64(c.m.size))
				loadMet = mark(float64(extra) <= loadPeakTargetOfFile*float64(c.m.size))
			}
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", c.m.name, bench.Bytes(c.m.size),
			memOrDash(a, okA), memOrDash(o, okO), ratio, met, steady, over, ofFile, loadMet)
	}
	b.WriteString("\n")
	if len(failures)+len(r.skipped) > 0 {
		b.WriteString("Not measured:\n\n")
		for _, f := range append(failures, r.skipped...) {
			fmt.Fprintf(b, "- %s\n", f)
		}
		b.WriteString("\n")
	}
}

// mark is a target's cell: met or missed.
func mark(met bool) string {
	if met {
		return "yes"
	}
	return "**no**"
}
