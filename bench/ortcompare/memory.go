package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	goruntime "runtime"
	"strings"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/onnxrun/onnxrun/bench"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// memReport is one runtime's memory on one workload, measured in a process of its own (this program
// started again with -child-memory), so that each runtime's peak is its own: in the comparing process
// both runtimes and both copies of the model are resident at once.
type memReport struct {
	Runtime string
	// Baseline is the process's peak resident size before the runtime loads: the Go runtime, this
	// program and the input data, the same for both sides.
	Baseline int64
	// Peak is the peak resident size (VmHWM) after loading the model and running it: the figure compared.
	Peak int64
	// GoHeapSys is the Go heap taken from the OS at the end (onnxrun keeps everything there).
	GoHeapSys uint64
	// LiveHeap is onnxrun's Go heap in use after the runs and a garbage collection, the session still open:
	// what running the model keeps (weights, packed weights, arena), without what only loading needed.
	LiveHeap uint64
	Runs     int
	Load     time.Duration
}

// measureMemory starts this program twice more, once per runtime, to run w at the given threads.
func measureMemory(w *workload, threads int, cfg *config) (onnxrunMem, ortMem *memReport, err error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	run := func(rt string) (*memReport, error) {
		args := []string{"-child-memory", rt, "-child-model", w.modelPath, "-threads", fmt.Sprint(threads),
			"-child-runs", fmt.Sprint(cfg.memRuns), "-ort-lib", cfg.ortLib}
		for i, name := range w.inputNames {
			args = append(args, "-child-input", name+"="+dims(w.inputShapes[i]))
		}
		for i, name := range w.outputNames {
			args = append(args, "-child-output", name+"="+dims(w.outputShapes[i]))
		}
		cmd := exec.Command(exe, args...)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("memory of %s on %s: %w", rt, w.name, err)
		}
		var m memReport
		if err := json.Unmarshal(out, &m); err != nil {
			return nil, fmt.Errorf("memory of %s on %s: %w (output %q)", rt, w.name, err, out)
		}
		return &m, nil
	}
	if onnxrunMem, err = run("onnxrun"); err != nil {
		return nil, nil, err
	}
	if ortMem, err = run("ort"); err != nil {
		return nil, nil, err
	}
	return onnxrunMem, ortMem, nil
}

func dims(s ops.Shape) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return strings.Join(parts, ",")
}

// childMemory is the -child-memory mode: load one model in one runtime, run it, print a memReport as JSON.
func childMemory(cfg *config) error {
	inShapes, err := bench.ParseShapes(cfg.childInputs)
	if err != nil {
		return err
	}
	outShapes, err := bench.ParseShapes(cfg.childOutputs)
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
	base, err := bench.ReadProcMemory()
	if err != nil {
		return err
	}
	rep := memReport{Runtime: cfg.childMemory, Baseline: base.VmHWM, Runs: cfg.childRuns}
	t0 := time.Now()
	switch cfg.childMemory {
	case "onnxrun":
		plan, err := runtime.Load(cfg.childModel, runtime.Options{Threads: cfg.childThreads})
		if err != nil {
			return err
		}
		rep.Load = time.Since(t0)
		sess := plan.NewSession()
		in := make([]*ops.Tensor, len(inNames))
		for i, n := range inNames {
			in[i] = ops.FromSlice(inShapes[n], data[i])
		}
		for i := 0; i < cfg.childRuns; i++ {
			if _, err := sess.Run(context.Background(), in); err != nil {
				return err
			}
		}
		goruntime.GC()
		rep.LiveHeap = bench.ReadGoMemory().HeapInuse
		sess.Close()
	case "ort":
		ort.SetSharedLibraryPath(cfg.ortLib)
		if err := ort.InitializeEnvironment(); err != nil {
			return err
		}
		defer ort.DestroyEnvironment()
		opts, err := ortOptions(cfg.childThreads, "")
		if err != nil {
			return err
		}
		sess, err := ort.NewDynamicAdvancedSession(cfg.childModel, inNames, outNames, opts)
		opts.Destroy()
		if err != nil {
			return err
		}
		rep.Load = time.Since(t0)
		var in, out []ort.Value
		for i, n := range inNames {
			t, err := ort.NewTensor(ortShape(inShapes[n]), data[i])
			if err != nil {
				return err
			}
			in = append(in, t)
		}
		for _, n := range outNames {
			t, err := ort.NewEmptyTensor[float32](ortShape(outShapes[n]))
			if err != nil {
				return err
			}
			out = append(out, t)
		}
		for i := 0; i < cfg.childRuns; i++ {
			if err := sess.Run(in, out); err != nil {
				return err
			}
		}
		sess.Destroy()
	default:
		return fmt.Errorf("-child-memory %q: want onnxrun or ort", cfg.childMemory)
	}
	peak, err := bench.ReadProcMemory()
	if err != nil {
		return err
	}
	rep.Peak = peak.VmHWM
	rep.GoHeapSys = bench.ReadGoMemory().HeapSys
	return json.NewEncoder(os.Stdout).Encode(rep)
}

// names keeps the NAME of NAME=SHAPE settings, in order.
func names(settings []string) []string {
	out := make([]string, len(settings))
	for i, s := range settings {
		out[i], _, _ = strings.Cut(s, "=")
	}
	return out
}
