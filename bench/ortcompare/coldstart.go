package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/onnxrun/onnxrun/bench"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
	"github.com/onnxrun/onnxrun/tensorio"
)

// Cold start and peak memory (issues 13 and 20) come from the same child processes: this program started
// again with -child-cold, once per runtime per model per round. A child reads nothing but the model file
// (already in the page cache: the parent reads it first), initialises its runtime (for ORT: loads the
// shared library and creates the environment), then times the load (onnxrun: runtime.Load of the file,
// decode and compile; ORT: session creation from the same file) and one first run at 1 thread, and
// prints a coldReport with the process's peak resident size (VmHWM).
//
// A fresh process per load, rather than loads repeated in one process, because a second load in the same
// process finds the Go heap grown, ORT's allocator arenas and both runtimes' lazily built tables already
// there: it measures a warm start. And VmHWM is a high-water mark per process, which only a fresh process
// resets. Process start and the runtime's own initialisation are outside the timing, at the same point for
// both runtimes.
//
// Memory by the issue-20 method: each runtime's peak on a model minus the same runtime's peak on the
// shipped LeNet (models/lenet/lenet.onnx), so that each runtime's fixed cost (the Go runtime, ORT's 29 MiB
// shared library, thread pools) cancels and what remains is what the model costs.

// coldModel is a model as the children see it: its file, its inputs' names and shapes (random float32
// values), its outputs' names.
type coldModel struct {
	key, name   string
	path        string
	size        int64
	inputNames  []string
	inputShapes []ops.Shape
	outputNames []string
	// reference marks the shipped LeNet whose peak each runtime's peaks are taken above.
	reference bool
	// memoryTarget marks the model whose memory has a target (issue 5: onnxrun's ≤ ORT's).
	memoryTarget bool
}

// coldReport is what one child prints.
type coldReport struct {
	Runtime  string
	Load     time.Duration
	FirstRun time.Duration
	Peak     int64 // VmHWM at the end, bytes
	// LiveHeap (onnxrun only) is the Go heap in use after the run and a collection, the session open;
	// GoHeapSys is the heap taken from the OS.
	LiveHeap  uint64
	GoHeapSys uint64
	// LoadPeak is VmHWM once the model is loaded, before the first run: the peak of the load (issue 20
	// item 3). Steady is VmRSS after the first run with the session open, once a collection has run and
	// the freed heap has gone back to the OS: what the loaded model costs to keep. Without returning the
	// freed pages, the steady state would count the load's garbage and flatter the load peak.
	LoadPeak int64
	Steady   int64
}

// coldSide is one runtime's children on one model: every report, and the medians.
type coldSide struct {
	reports []coldReport
	err     error // the first child that failed; no medians then
}

func (s *coldSide) ok() bool { return s.err == nil && len(s.reports) > 0 }

func (s *coldSide) median(f func(coldReport) float64) float64 {
	v := make([]float64, len(s.reports))
	for i, r := range s.reports {
		v[i] = f(r)
	}
	return median(v)
}

func (s *coldSide) total() time.Duration {
	return time.Duration(s.median(func(r coldReport) float64 { return float64(r.Load + r.FirstRun) }))
}
func (s *coldSide) load() time.Duration {
	return time.Duration(s.median(func(r coldReport) float64 { return float64(r.Load) }))
}
func (s *coldSide) firstRun() time.Duration {
	return time.Duration(s.median(func(r coldReport) float64 { return float64(r.FirstRun) }))
}
func (s *coldSide) peak() int64 {
	return int64(s.median(func(r coldReport) float64 { return float64(r.Peak) }))
}
func (s *coldSide) liveHeap() int64 {
	return int64(s.median(func(r coldReport) float64 { return float64(r.LiveHeap) }))
}
func (s *coldSide) loadPeak() int64 {
	return int64(s.median(func(r coldReport) float64 { return float64(r.LoadPeak) }))
}
func (s *coldSide) steady() int64 {
	return int64(s.median(func(r coldReport) float64 { return float64(r.Steady) }))
}
func (s *coldSide) goHeapSys() int64 {
	return int64(s.median(func(r coldReport) float64 { return float64(r.GoHeapSys) }))
}

// median of v (the mean of the middle two for an even count); 0 for none.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

// coldRow is one model's children in both runtimes.
type coldRow struct {
	m       *coldModel
	load    string // the 1-minute load average when the row started
	onnxrun coldSide
	ort     coldSide
}

// coldModels lists the models of the cold-start and memory tables: the shipped LeNet (the memory
// reference), every workload of the latency comparison, and the large models of make_big_models.py
// found in cfg.bigModels. tmp holds files written for the workloads built in memory.
func coldModels(cfg *config, ws []*workload, tmp string) ([]*coldModel, []string, error) {
	var out []*coldModel
	var skipped []string
	lenet := filepath.Join(cfg.repo, "models", "lenet", "lenet.onnx")
	ref, err := fileColdModel("lenet_ref", "shipped LeNet batch 1 (memory reference)", lenet, []ops.Shape{{1, 1, 28, 28}})
	if err != nil {
		return nil, nil, fmt.Errorf("the memory reference: %w", err)
	}
	ref.reference = true
	out = append(out, ref)
	for _, w := range ws {
		if w.suite != suiteCNN {
			continue // issue 15's suites are about speed; their cold starts would add minutes
		}
		path := w.modelPath
		if _, err := os.Stat(path); err != nil {
			path = filepath.Join(tmp, w.key+".onnx")
			if err := os.WriteFile(path, w.modelBytes, 0o644); err != nil {
				return nil, nil, err
			}
		}
		out = append(out, &coldModel{key: w.key, name: w.name, path: path, size: int64(len(w.modelBytes)),
			inputNames: w.inputNames, inputShapes: w.inputShapes, outputNames: w.outputNames, memoryTarget: w.memory})
	}
	if cfg.bigModels == "" || !(cfg.suites[suiteCNN] || cfg.suites[suiteReal]) {
		return out, skipped, nil
	}
	for _, b := range []struct {
		key, name string
		files     []string // the first that exists
	}{
		{"resnet50", "ResNet-50 batch 1", []string{"resnet50"}},
		{"bert", "BERT-base encoder batch 1 (seq 128)", []string{"bert_base_enc", "bert_base_enc_manual"}},
		{"vit", "ViT-B/16 batch 1", []string{"vit_b_16"}},
	} {
		var m *coldModel
		var errs []string
		for _, f := range b.files {
			in, err := tensorio.ReadNPYFile(filepath.Join(cfg.bigModels, f+"_in_1.npy"))
			if err != nil {
				errs = append(errs, err.Error())
				continue
			}
			if m, err = fileColdModel(b.key, b.name, filepath.Join(cfg.bigModels, f+".onnx"), []ops.Shape{in.Shape().Clone()}); err != nil {
				errs = append(errs, err.Error())
				continue
			}
			break
		}
		if m == nil {
			skipped = append(skipped, fmt.Sprintf("%s: %s (run make big-models)", b.name, strings.Join(errs, "; ")))
			continue
		}
		out = append(out, m)
	}
	return out, skipped, nil
}

// fileColdModel reads the names of a model file's inputs (those without an initializer) and outputs.
func fileColdModel(key, name, path string, shapes []ops.Shape) (*coldModel, error) {
	m, err := onnx.Load(path)
	if err != nil {
		return nil, err
	}
	return coldModelOf(m, key, name, path, shapes)
}

// coldModelOf is fileColdModel on a model already loaded.
func coldModelOf(m *onnx.Model, key, name, path string, shapes []ops.Shape) (*coldModel, error) {
	g := m.Proto.GetGraph()
	c := &coldModel{key: key, name: name, path: path, inputShapes: shapes, inputNames: graphInputs(m)}
	for _, o := range g.GetOutput() {
		c.outputNames = append(c.outputNames, o.GetName())
	}
	if len(c.inputNames) != len(shapes) {
		return nil, fmt.Errorf("%s: %d inputs %q, %d shapes given", path, len(c.inputNames), c.inputNames, len(shapes))
	}
	if st, err := os.Stat(path); err == nil {
		c.size = st.Size()
	}
	return c, nil
}

// measureCold runs cfg.coldRuns rounds of one child per runtime on m, the order of the two flipping every
// round, after reading the file once so that it is in the page cache for both.
func measureCold(m *coldModel, cfg *config) (*coldRow, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	if _, err := os.ReadFile(m.path); err != nil {
		return nil, err
	}
	row := &coldRow{m: m, load: bench.LoadAverage()}
	sides := []*coldSide{&row.onnxrun, &row.ort}
	names := []string{"onnxrun", "ort"}
	for r := 0; r < cfg.coldRuns; r++ {
		for i := range sides {
			j := i
			if r%2 == 1 {
				j = len(sides) - 1 - i
			}
			if sides[j].err != nil {
				continue
			}
			rep, err := runColdChild(exe, names[j], m, cfg)
			if err != nil {
				sides[j].err = err
				continue
			}
			sides[j].reports = append(sides[j].reports, *rep)
		}
	}
	return row, nil
}

// childEnv is set in every child's environment.
const childEnv = "ORTCOMPARE_CHILD"

// coldChildArgs are the arguments of a -child-cold process.
func coldChildArgs(rt string, m *coldModel, ortLib string) []string {
	args := []string{"-child-cold", rt, "-child-model", m.path, "-ort-lib", ortLib}
	for i, name := range m.inputNames {
		args = append(args, "-child-input", name+"="+dims(m.inputShapes[i]))
	}
	for _, name := range m.outputNames {
		args = append(args, "-child-output", name)
	}
	return args
}

func runColdChild(exe, rt string, m *coldModel, cfg *config) (*coldReport, error) {
	cmd := exec.Command(exe, coldChildArgs(rt, m, cfg.ortLib)...)
	// childEnv tells a test binary (TestMain) to run main instead of the tests; the program ignores it.
	cmd.Env = append(os.Environ(), childEnv+"=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:]
		}
		return nil, fmt.Errorf("%s on %s: %w: %s", rt, m.name, err, msg)
	}
	var rep coldReport
	if err := json.Unmarshal(out, &rep); err != nil {
		return nil, fmt.Errorf("%s on %s: %w (output %q)", rt, m.name, err, out)
	}
	return &rep, nil
}

func dims(s ops.Shape) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return strings.Join(parts, ",")
}

// childCold is the -child-cold mode: initialise one runtime, time loading cfg.childModel and one run at
// 1 thread, print a coldReport as JSON.
func childCold(cfg *config) error {
	inShapes, err := bench.ParseShapes(cfg.childInputs)
	if err != nil {
		return err
	}
	inNames, outNames := names(cfg.childInputs), names(cfg.childOutputs)
	rng := rand.New(rand.NewPCG(3, 4))
	data := make([][]float32, len(inNames))
	for i, n := range inNames {
		data[i] = make([]float32, inShapes[n].Size())
		for j := range data[i] {
			data[i][j] = rng.Float32()
		}
	}
	rep := coldReport{Runtime: cfg.childCold}
	switch cfg.childCold {
	case "onnxrun":
		in := make([]*ops.Tensor, len(inNames))
		for i, n := range inNames {
			in[i] = ops.FromSlice(inShapes[n], data[i])
		}
		t0 := time.Now()
		plan, err := runtime.Load(cfg.childModel, runtime.Options{Threads: 1})
		if err != nil {
			return err
		}
		rep.Load = time.Since(t0)
		if rep.LoadPeak, err = processPeak(); err != nil {
			return err
		}
		sess := plan.NewSession()
		t1 := time.Now()
		if _, err := sess.Run(context.Background(), in); err != nil {
			return err
		}
		rep.FirstRun = time.Since(t1)
		goruntime.GC()
		rep.LiveHeap = bench.ReadGoMemory().HeapInuse
		debug.FreeOSMemory()
		if rep.Steady, err = processResident(); err != nil {
			return err
		}
		sess.Close()
	case "ort":
		ort.SetSharedLibraryPath(cfg.ortLib)
		if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
			return err
		}
		defer ort.DestroyEnvironment()
		var in []ort.Value
		for i, n := range inNames {
			t, err := ort.NewTensor(ortShape(inShapes[n]), data[i])
			if err != nil {
				return err
			}
			defer t.Destroy()
			in = append(in, t)
		}
		opts, err := ortOptions(1, "")
		if err != nil {
			return err
		}
		t0 := time.Now()
		sess, err := ort.NewDynamicAdvancedSession(cfg.childModel, inNames, outNames, opts)
		opts.Destroy()
		if err != nil {
			return err
		}
		rep.Load = time.Since(t0)
		if rep.LoadPeak, err = processPeak(); err != nil {
			return err
		}
		out := make([]ort.Value, len(outNames)) // nil: ORT allocates each output
		t1 := time.Now()
		if err := sess.Run(in, out); err != nil {
			return err
		}
		rep.FirstRun = time.Since(t1)
		for _, v := range out {
			if v != nil {
				v.Destroy()
			}
		}
		if rep.Steady, err = processResident(); err != nil {
			return err
		}
		sess.Destroy()
	default:
		return fmt.Errorf("-child-cold %q: want onnxrun or ort", cfg.childCold)
	}
	peak, err := bench.ReadProcMemory()
	if err != nil {
		return err
	}
	// The kernel updates VmHWM lazily (when the resident size shrinks, or the memory map changes), so a
	// VmRSS read earlier can exceed it: the peak is at least every size this process read.
	rep.Peak = max(peak.VmHWM, peak.VmRSS, rep.Steady, rep.LoadPeak)
	rep.GoHeapSys = bench.ReadGoMemory().HeapSys
	return json.NewEncoder(os.Stdout).Encode(rep)
}

// processPeak is the process's peak resident size so far (VmHWM); processResident its resident size now
// (VmRSS). Both count the pages of memory-mapped files.
func processPeak() (int64, error) {
	m, err := bench.ReadProcMemory()
	return m.VmHWM, err
}

func processResident() (int64, error) {
	m, err := bench.ReadProcMemory()
	return m.VmRSS, err
}

// names keeps the NAME of NAME=SHAPE settings, in order.
func names(settings []string) []string {
	out := make([]string, len(settings))
	for i, s := range settings {
		out[i], _, _ = strings.Cut(s, "=")
	}
	return out
}

// reference is the row of the memory reference, or nil.
func (r *results) reference() *coldRow {
	for _, c := range r.cold {
		if c.m.reference {
			return c
		}
	}
	return nil
}

// modelMemory is a side's peak above the same runtime's peak on the reference LeNet; ok is false when
// either is missing.
func modelMemory(s, ref *coldSide) (int64, bool) {
	if !s.ok() || ref == nil || !ref.ok() {
		return 0, false
	}
	return s.peak() - ref.peak(), true
}
