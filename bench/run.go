package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// Config is one benchmark: the inputs, the threads, how long to time and whether to profile.
type Config struct {
	Batch   int                  // the size of a symbolic first input dimension (see InputShapes); 0 means 1
	Threads int                  // threads per operator; 0 means GOMAXPROCS
	Shapes  map[string]ops.Shape // input shapes by name, pinned at Load (runtime.Options.InputShapes)
	Seed    uint64               // for the random inputs
	Measure Measure              // the timed runs; the zero value means DefaultMeasure
	// Profile adds the time of every step, from separate runs through Session.RunProfiled made after the
	// timed ones (ProfileMeasure; the zero value means DefaultProfileMeasure).
	Profile        bool
	ProfileMeasure Measure
	// NoOptimize compiles without the graph passes, to see what they are worth.
	NoOptimize bool
	// NoMmap reads the model file instead of mapping it (runtime.Options.NoMmap), to compare the memory.
	NoMmap bool
}

// DefaultProfileMeasure is enough profiled runs for stable per-node means without doubling the
// benchmark's time.
var DefaultProfileMeasure = Measure{Warmup: 1, MinRuns: 5, MaxRuns: 10000, MinTime: time.Second}

// Result is what a benchmark found. Times are wall times; memory is in bytes.
type Result struct {
	Model   string
	Batch   int
	Threads int
	Inputs  []NamedShape
	// LoadTime is reading, decoding and compiling the model (graph passes, kernels bound, the declared
	// shapes planned once): what a program waits before it can run.
	LoadTime time.Duration
	// FirstRun is the first Run at the benchmark's shapes, which plans them, binds the session's memory
	// and prepacks weights; it is not among the samples.
	FirstRun time.Duration
	Latency  Summary
	Samples  []time.Duration `json:"-"`
	// Throughput is batch items per second at the mean latency.
	Throughput float64
	// Count is the arithmetic of one run; GFLOPS is 2·Count.MACs per p50 latency.
	Count  Count
	GFLOPS float64
	Memory Memory
	// Profile is set when Config.Profile is: the steps of the plan with their time over Profile.Runs runs.
	Profile *runtime.Profile `json:",omitempty"`
}

// NamedShape is an input's name and the shape it was run at.
type NamedShape struct {
	Name  string
	DType string
	Shape ops.Shape
}

// Memory is the memory a benchmark used, read after the timed runs.
type Memory struct {
	// PeakRSS is the process's peak resident memory (VmHWM): everything, the Go runtime and the model's
	// file bytes included. 0 where /proc is not available.
	PeakRSS int64
	// Go is the Go heap: weights, packed weights, the session's arena and whatever the load left.
	Go GoMemory
	// ArenaBytes and ScratchBytes are the session's buffers for intermediate values and kernel scratch,
	// WeightBytes the plan's constants (initializers after constant folding); all three are in the Go heap.
	ArenaBytes   int64
	ScratchBytes int64
	WeightBytes  int64
}

// Run benchmarks the model file at path.
func Run(ctx context.Context, path string, cfg Config) (*Result, error) {
	if cfg.Batch == 0 {
		cfg.Batch = 1
	}
	if cfg.Threads < 0 {
		return nil, fmt.Errorf("bench: threads must be 0 or more, got %d", cfg.Threads)
	}
	if cfg.Measure == (Measure{}) {
		cfg.Measure = DefaultMeasure
	}
	if cfg.ProfileMeasure == (Measure{}) {
		cfg.ProfileMeasure = DefaultProfileMeasure
	}
	if err := cfg.Measure.validate(); err != nil {
		return nil, err
	}
	if err := cfg.ProfileMeasure.validate(); err != nil {
		return nil, err
	}

	t0 := time.Now()
	plan, err := runtime.Load(path, runtime.Options{Threads: cfg.Threads, NoOptimize: cfg.NoOptimize, InputShapes: cfg.Shapes, NoMmap: cfg.NoMmap})
	if err != nil {
		return nil, err // it names the file already
	}
	loadTime := time.Since(t0)

	specs := plan.Inputs()
	shapes, err := InputShapes(specs, cfg.Batch, cfg.Shapes)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	inputs, err := RandomInputs(specs, shapes, cfg.Seed)
	if err != nil {
		return nil, err
	}
	r := &Result{Model: path, Batch: cfg.Batch, Threads: plan.Options().Threads, LoadTime: loadTime}
	for i, s := range specs {
		r.Inputs = append(r.Inputs, NamedShape{Name: s.Name, DType: s.DType.String(), Shape: shapes[i]})
	}

	sess := plan.NewSession()
	defer sess.Close()
	t1 := time.Now()
	if _, err := sess.Run(ctx, inputs); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r.FirstRun = time.Since(t1)

	r.Samples, err = cfg.Measure.Time(func() error {
		_, err := sess.Run(ctx, inputs)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r.Latency = Summarize(r.Samples)
	r.Throughput = PerSecond(int64(cfg.Batch), r.Latency.Mean)

	prof, err := plan.NewProfile(shapes...)
	if err != nil {
		return nil, err
	}
	if cfg.Profile {
		if _, err := cfg.ProfileMeasure.Time(func() error {
			_, err := sess.RunProfiled(ctx, inputs, prof)
			return err
		}); err != nil {
			return nil, fmt.Errorf("%s: profiling: %w", path, err)
		}
		r.Profile = prof
	}
	r.Count = CountMACs(prof)
	r.GFLOPS = GFLOPS(r.Count.MACs, r.Latency.P50)

	r.Memory = Memory{ArenaBytes: prof.ArenaBytes, ScratchBytes: prof.ScratchBytes, WeightBytes: plan.WeightBytes(), Go: ReadGoMemory()}
	if pm, err := ReadProcMemory(); err == nil {
		r.Memory.PeakRSS = pm.VmHWM
	}
	return r, nil
}
