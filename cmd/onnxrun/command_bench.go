package main

import (
	"encoding/json"
	"io"
	goruntime "runtime"
	"time"

	"github.com/spf13/pflag"

	"github.com/onnxrun/onnxrun/bench"
)

func benchCommand() *command {
	return &command{
		name:    "bench",
		summary: "time a model: load time, latency percentiles, throughput, GFLOP/s, memory, per-node profile",
		usage:   "bench [flags] MODEL.onnx",
		help: `Bench loads and compiles MODEL.onnx, makes random inputs at the batch size asked for (uniform in [0,1)
for float inputs, zeros for integer ones, the same for a given --seed), runs the model a few times to warm
up, then times Session.Run until it has at least --runs samples and has spent at least --time on them.

It prints the load time (read, decode, compile) and the first run (which plans the shapes and binds the
session's memory), the p50/p90/p99 latency, throughput in samples per second, GFLOP/s at p50 and peak
memory: the process's peak resident size (VmHWM), the Go heap, the session's arena and the weights.
GFLOP/s counts 2 operations per multiply-add of every Conv, ConvTranspose, Gemm and MatMul (fused forms
included), computed from the shapes as a direct implementation would do them.

A symbolic first input dimension takes the --batch size; any other symbolic dimension needs --shape.
With --profile, separate runs after the timed ones measure every kernel: the time per op type, then the
slowest steps with their share and GFLOP/s (--top of them; 0 lists all), then, indented under each
If, Loop or Scan, the nodes of its bodies with their calls and time per run (every iteration added up).
With more than one thread the steps also show their forks: the parallel sections a kernel opened per
run (0: it ran on one thread), which does not depend on how busy the machine is.

With --threads-report, bench profiles the model on one thread and on --threads threads (0: one per
CPU), alternating runs so that a busy machine slows both alike, and lists the steps by the time they
lose to a perfect split, with their speed-up, forks per run and the work units each fork was cut into.`,
		examples: []string{
			"onnxrun bench lenet.onnx",
			"onnxrun bench --batch 8 --threads 1 --profile vgg_cifar.onnx",
			"onnxrun bench --shape input_ids=1,128 --json bert.onnx",
			"onnxrun bench --threads-report --threads 2 --top 30 resnet50.onnx",
		},
		define: func(fs *pflag.FlagSet) func(*env, []string) error {
			o := benchOptions{measure: bench.DefaultMeasure}
			fs.IntVarP(&o.batch, "batch", "b", 1, "batch size: the size of a symbolic first input dimension")
			fs.IntVar(&o.threads, "threads", 0, "threads per operator (0: one per CPU)")
			fs.IntVar(&o.measure.MinRuns, "runs", o.measure.MinRuns, "time at least this many runs")
			fs.DurationVar(&o.measure.MinTime, "time", o.measure.MinTime, "and spend at least this long on timed runs")
			fs.IntVar(&o.measure.MaxRuns, "max-runs", o.measure.MaxRuns, "but stop after this many runs (0: no limit)")
			fs.IntVar(&o.measure.Warmup, "warmup", o.measure.Warmup, "untimed runs before the timed ones")
			o.profile = switchFlag(fs, "profile", "p", "also time every node (separate runs after the timed ones)")
			o.threadsReport = switchFlag(fs, "threads-report", "", "profile at 1 and at --threads threads and list where the threads lose time")
			fs.IntVar(&o.top, "top", 15, "with --profile or --threads-report, how many of the slowest steps to list (0: all)")
			fs.StringArrayVar(&o.shapes, "shape", nil, shapeFlagHelp)
			fs.Uint64Var(&o.seed, "seed", 1, "seed of the random inputs")
			o.json = switchFlag(fs, "json", "", "print the result as JSON (with the profile's steps when --profile)")
			o.noOptimize = switchFlag(fs, "no-optimize", "", "compile without the graph passes")
			o.noMmap = switchFlag(fs, "no-mmap", "", "read the model file into memory instead of mapping it (to compare memory)")
			return o.run
		},
	}
}

type benchOptions struct {
	batch         int
	threads       int
	measure       bench.Measure
	profile       *bool
	threadsReport *bool
	top           int
	shapes        []string
	seed          uint64
	json          *bool
	noOptimize    *bool
	noMmap        *bool
}

func (o *benchOptions) run(e *env, args []string) error {
	cmd := findCommand("bench")
	switch {
	case len(args) == 0:
		return usagef(cmd, "missing the model file")
	case len(args) > 1:
		return usagef(cmd, "bench takes one model file, got %d arguments (inputs are random: set their shapes with --batch and --shape)", len(args))
	case o.batch < 1:
		return usagef(cmd, "--batch must be 1 or more, got %d", o.batch)
	case o.threads < 0:
		return usagef(cmd, "--threads must be 0 or more, got %d", o.threads)
	case o.measure.MinRuns < 1:
		return usagef(cmd, "--runs must be 1 or more, got %d", o.measure.MinRuns)
	case o.measure.MaxRuns < 0 || (o.measure.MaxRuns > 0 && o.measure.MaxRuns < o.measure.MinRuns):
		return usagef(cmd, "--max-runs must be 0 (no limit) or at least --runs (%d), got %d", o.measure.MinRuns, o.measure.MaxRuns)
	case o.measure.Warmup < 0:
		return usagef(cmd, "--warmup must be 0 or more, got %d", o.measure.Warmup)
	case o.measure.MinTime < 0:
		return usagef(cmd, "--time must be 0 or more, got %v", o.measure.MinTime)
	case o.top < 0:
		return usagef(cmd, "--top must be 0 or more, got %d", o.top)
	}
	shapes, err := parsePins(cmd, o.shapes)
	if err != nil {
		return err
	}
	cfg := bench.Config{Batch: o.batch, Threads: o.threads, Shapes: shapes, Seed: o.seed, Measure: o.measure,
		Profile: *o.profile, NoOptimize: *o.noOptimize, NoMmap: *o.noMmap}
	if o.measure.MinTime < bench.DefaultProfileMeasure.MinTime {
		// A quick benchmark asks for a quick profile too.
		cfg.ProfileMeasure = bench.DefaultProfileMeasure
		cfg.ProfileMeasure.MinTime = max(o.measure.MinTime, time.Duration(0))
		cfg.ProfileMeasure.MinRuns = min(cfg.ProfileMeasure.MinRuns, o.measure.MinRuns)
	}
	if *o.threadsReport {
		return o.reportThreads(e, args[0], cfg)
	}
	res, err := bench.Run(e.ctx, args[0], cfg)
	if err != nil {
		return err
	}
	return o.write(e, res, res.WriteText)
}

// write prints a report as indented JSON with --json, else as the report's text with --top rows.
func (o *benchOptions) write(e *env, report any, writeText func(io.Writer, int)) error {
	if *o.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(report)
	}
	writeText(e.stdout, o.top)
	return nil
}

// reportThreads runs --threads-report: the model profiled at 1 and at --threads threads, step by step.
func (o *benchOptions) reportThreads(e *env, path string, cfg bench.Config) error {
	threads := o.threads
	if threads == 0 {
		threads = goruntime.GOMAXPROCS(0)
	}
	if threads < 2 {
		return usagef(findCommand("bench"), "--threads-report compares 1 thread with --threads, which must be 2 or more (GOMAXPROCS is %d), got %d", goruntime.GOMAXPROCS(0), threads)
	}
	if cfg.ProfileMeasure == (bench.Measure{}) {
		cfg.ProfileMeasure = cfg.Measure
	}
	rep, err := bench.CompareThreads(e.ctx, path, cfg, threads)
	if err != nil {
		return err
	}
	return o.write(e, rep, rep.WriteText)
}
