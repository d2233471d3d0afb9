// Command ortcompare runs onnxrun and ONNX Runtime side by side in one process and writes BENCHMARKS.md.
// Three suites (-suite): cnn, issue 5's set (LeNet at batch 1 and 64, the VGG- and ResNet-18-style CIFAR
// CNNs at batch 8, a 1024³ SGEMM, a Loop); real, issue 15's architectures (ResNet-50, MobileNetV2 and V3,
// EfficientNet-B0, SqueezeNet, ShuffleNetV2, ViT-B/16, BERT-base, a GPT-2 decoder step, a YOLO-style
// detector, a U-Net, DeepLabV3, as make big-models writes them; suite.go); and ops, issue 15's single
// operators (Sigmoid, SiLU, GELU, Softmax, LayerNorm on 16K and 4M elements, in elements per second) and
// MobileNetV2's depthwise convolutions (GFLOP/s against the peak). Each at 1 and 2 threads: latency
// ratios, thread scaling, GFLOP/s against the machine's measured FMA peak (bench/fmapeak), peak memory
// and cold start (load plus first run, a fresh process per runtime per load; coldstart.go) of the CNN
// set and of ResNet-50, BERT-base and ViT-B/16, and where the time goes in both runtimes (onnxrun's
// Session.RunProfiled and ORT's own profiler, by op type side by side for the real suite), with what
// would close each missed target. Each row's timed rounds fit in -row-time, so that slow models cost
// fewer rounds. It records the CPU, its ISA flags and the load average at the start and the end, and
// writes -out only when both loads were below -quiet-load, or with -force (quiet.go).
//
// With -memory-table it runs only the fresh processes of issue 20's memory table (memorytable.go): both
// suites' models at batch 1 and 8 and -memory-model files, each runtime's peak above its own on LeNet and
// onnxrun's load peak above its steady state; `make bench-memory` (scripts/bench-memory.sh) runs it.
//
// It is a module of its own because it links ONNX Runtime through cgo (github.com/yalue/onnxruntime_go),
// which the main module must not. `make bench-compare` (scripts/bench-compare.sh) installs ORT from npm's
// onnxruntime-node, makes the CIFAR models and runs it:
//
//	go run . -ort-lib "$(ORT_VERSION=1.30.0 ../../scripts/setup-ort.sh)" -shared ../../../shared \
//	         -models "$(../../scripts/make-bench-models.sh)" -out ../../BENCHMARKS.md
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/onnxrun/onnxrun/internal/testenv"
)

type config struct {
	ortLib      string
	shared      string
	models      string
	out         string
	threads     []int
	rounds      int
	block       time.Duration
	warmup      time.Duration
	profileTime time.Duration
	peakPerCore float64 // 0: measure (bench/fmapeak)
	peakTrials  int
	peakTrial   time.Duration
	peakOnly    bool
	only        *regexp.Regexp
	command     string
	notes       string
	repo        string // the repository's root (the shipped LeNet of the memory reference)
	bigModels   string // folder of make big-models' output ("": none)
	quantModels string // folder of make quant-models' output ("": none)
	suites      map[string]bool
	rowTime     time.Duration // the timed rounds' budget per workload and thread count
	minRounds   int
	coldRuns    int // children per runtime per model for cold start and memory (0: none)
	// memoryTable runs only issue 20's memory table (memorytable.go), of the suites chosen and of
	// memoryModels, further model files.
	memoryTable  bool
	memoryModels []string
	quietLoad    float64
	waitQuiet    time.Duration
	force        bool

	// -child-cold mode (see coldstart.go)
	childCold    string
	childModel   string
	childInputs  []string
	childOutputs []string
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func parseFlags(args []string) (*config, error) {
	cfg := &config{}
	fs := flag.NewFlagSet("ortcompare", flag.ContinueOnError)
	fs.StringVar(&cfg.ortLib, "ort-lib", "", "path of libonnxruntime.so (scripts/setup-ort.sh prints it)")
	fs.StringVar(&cfg.shared, "shared", defaultShared(), "the shared folder (LeNet and its inputs)")
	fs.StringVar(&cfg.models, "models", defaultModels(), "folder with vgg_cifar.onnx, resnet18_cifar.onnx, cifar_8.npy (scripts/make-bench-models.sh)")
	fs.StringVar(&cfg.out, "out", "", "write the markdown report here (default: stdout only gets the summary)")
	threads := fs.String("threads", "1,2", "thread counts to compare, comma-separated")
	fs.IntVar(&cfg.rounds, "rounds", 16, "the most interleaved rounds per workload and thread count")
	fs.DurationVar(&cfg.rowTime, "row-time", 8*time.Second, "the time budget of the timed rounds per workload and thread count: a slow workload gets fewer rounds (never fewer than -min-rounds)")
	fs.IntVar(&cfg.minRounds, "min-rounds", 4, "the fewest interleaved rounds per workload and thread count")
	suites := fs.String("suite", "all", "the suites to run, comma-separated: cnn (issue 5's LeNet, CIFAR CNNs, SGEMM, Loop), real (issue 15's architectures, from -big-models), ops (single operators and MobileNetV2's depthwise convolutions), int8 (issue 16's quantized MobileNetV2 and ResNet-50 from -quant-models, beside their float32 models), or all")
	fs.DurationVar(&cfg.block, "block", 100*time.Millisecond, "length of one runtime's block of runs within a round")
	fs.DurationVar(&cfg.warmup, "warmup", 300*time.Millisecond, "warm-up time per runtime before the rounds")
	fs.DurationVar(&cfg.profileTime, "profile-time", time.Second, "time to spend profiling each runtime per workload (0: no profiles)")
	fs.IntVar(&cfg.coldRuns, "cold-runs", 5, "fresh processes per runtime per model for the cold-start and peak-memory tables, whose medians they show (0: none)")
	fs.BoolVar(&cfg.memoryTable, "memory-table", false, "write only issue 20's memory table (the cnn and real suites' models at batch 1 and 8, and -memory-model files), from -cold-runs fresh processes per runtime per model; needs no quiet machine to run")
	fs.Var((*listFlag)(&cfg.memoryModels), "memory-model", "a further model file for -memory-table (repeatable); its inputs from BASE_in_B.npy beside it as make big-models writes them, else its declared shapes with the batch as first dimension")
	fs.Float64Var(&cfg.peakPerCore, "peak", 0, "the machine's peak float32 GFLOP/s per core for \"% of peak\" (0: measure it with bench/fmapeak on the SGEMM kernel's ISA)")
	fs.IntVar(&cfg.peakTrials, "peak-trials", 5, "trials of the FMA peak measurement; the best counts")
	fs.DurationVar(&cfg.peakTrial, "peak-trial", 300*time.Millisecond, "length of one FMA peak trial")
	fs.BoolVar(&cfg.peakOnly, "peak-only", false, "measure and print the FMA peaks, then stop (needs no ORT)")
	fs.StringVar(&cfg.repo, "repo", "../..", "the repository's root (models/lenet/lenet.onnx is the memory reference)")
	fs.StringVar(&cfg.bigModels, "big-models", "", "folder of make big-models' models (scripts/make-big-models.sh) for the real-architecture suite and the cold-start table; empty: none")
	fs.StringVar(&cfg.quantModels, "quant-models", "", "folder of make quant-models' models (scripts/make_quant_models.py) for the int8 suite; empty: none")
	fs.Float64Var(&cfg.quietLoad, "quiet-load", 0.5, "the 1-minute load average below which the machine counts as quiet, at the start and at the end")
	fs.DurationVar(&cfg.waitQuiet, "wait-quiet", 3*time.Minute, "how long to wait for the load to fall below -quiet-load, before starting and again after the run (the run's own threads raise it)")
	fs.BoolVar(&cfg.force, "force", false, "write -out even when the machine was not quiet (the report then says so)")
	only := fs.String("only", "", "run only the workloads whose key matches this regexp (cnn: lenet1, lenet64, vgg8, resnet8, sgemm1024, loop1000; real: resnet50_b1, bert_b1, yolo_b8, ...; ops: op_sigmoid_16k, op_layernorm_4m, dw_56x56_c144_s2, ...; int8: int8_resnet50_qdq_b1, int8_mobilenetv2_dynamic_b8, int8_resnet50_f32_b1, ...)")
	fs.StringVar(&cfg.command, "command", "make bench-compare", "the command to name in the report as the one that made it")
	fs.StringVar(&cfg.notes, "notes", "", "a markdown file appended to the report as its closing notes")
	fs.StringVar(&cfg.childCold, "child-cold", "", "internal: time one runtime's load and first run (onnxrun or ort), print JSON with the peak memory")
	fs.StringVar(&cfg.childModel, "child-model", "", "internal: the model file of -child-cold")
	fs.Var((*listFlag)(&cfg.childInputs), "child-input", "internal: NAME=D0,D1,... of an input of -child-cold")
	fs.Var((*listFlag)(&cfg.childOutputs), "child-output", "internal: NAME of an output of -child-cold")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for _, f := range strings.Split(*threads, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-threads %q: want thread counts of 1 or more, comma-separated", *threads)
		}
		cfg.threads = append(cfg.threads, n)
	}
	var err error
	if cfg.suites, err = parseSuites(*suites); err != nil {
		return nil, err
	}
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			return nil, fmt.Errorf("-only: %w", err)
		}
		cfg.only = re
	}
	if cfg.rounds < 1 || cfg.block <= 0 || cfg.minRounds < 1 || cfg.minRounds > cfg.rounds {
		return nil, fmt.Errorf("-rounds and -min-rounds must be at least 1, -min-rounds at most -rounds, and -block positive")
	}
	if cfg.peakTrials < 1 || cfg.peakTrial <= 0 {
		return nil, fmt.Errorf("-peak-trials must be at least 1 and -peak-trial positive")
	}
	if cfg.memoryTable && cfg.command == "make bench-compare" {
		cfg.command = "make bench-memory"
	}
	if cfg.memoryTable && cfg.coldRuns < 1 {
		return nil, fmt.Errorf("-memory-table needs -cold-runs of 1 or more (the table is made of those processes)")
	}
	if cfg.ortLib == "" && !cfg.peakOnly {
		return nil, fmt.Errorf("-ort-lib is required: the path of libonnxruntime.so (run scripts/setup-ort.sh)")
	}
	return cfg, nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "ortcompare:", err)
		os.Exit(2)
	}
	if cfg.childCold != "" {
		if err := childCold(cfg); err != nil {
			fmt.Fprintln(os.Stderr, "ortcompare -child-cold:", err)
			os.Exit(1)
		}
		return
	}
	if cfg.memoryTable {
		if err := memoryTableRun(cfg); err != nil {
			fmt.Fprintln(os.Stderr, "ortcompare:", err)
			os.Exit(1)
		}
		return
	}
	if cfg.peakOnly {
		peaks, err := measurePeaks(cfg, io.Discard)
		if err != nil {
			fmt.Fprintln(os.Stderr, "ortcompare:", err)
			os.Exit(1)
		}
		for _, p := range peaks.all {
			fmt.Println(p)
		}
		return
	}
	if err := compareAll(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "ortcompare:", err)
		os.Exit(1)
	}
}

// defaultShared is the shared folder internal/testenv finds ($ONNXRUN_SHARED when it exists, else
// ../shared beside the repository), so the tool and the tests agree on where it is.
func defaultShared() string {
	dir, _ := testenv.SharedDir() // when absent, dir still names where it was looked for
	return dir
}

// defaultModels is .cache/models in the repository, where scripts/make-bench-models.sh writes.
func defaultModels() string {
	root, err := testenv.Root()
	if err != nil {
		return filepath.Join("..", "..", ".cache", "models")
	}
	return filepath.Join(root, ".cache", "models")
}
