// Command ortcompare runs onnxrun and ONNX Runtime side by side in one process on the benchmark set of
// issue 5 (LeNet at batch 1 and 64, the VGG- and ResNet-18-style CIFAR CNNs at batch 8, a 1024³ SGEMM),
// at 1 and 2 threads, and writes BENCHMARKS.md: latency ratios, thread scaling, SGEMM GFLOP/s against
// the machine's peak, peak memory (each runtime in a process of its own), load times, and where the time
// goes in both runtimes (onnxrun's Session.RunProfiled and ORT's own profiler), with what would close each
// missed target.
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
	memRuns     int
	peakPerCore float64
	only        *regexp.Regexp
	command     string
	notes       string

	// -child-memory mode (see memory.go)
	childMemory  string
	childModel   string
	childThreads int
	childRuns    int
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
	fs.IntVar(&cfg.rounds, "rounds", 16, "interleaved rounds per workload and thread count")
	fs.DurationVar(&cfg.block, "block", 100*time.Millisecond, "length of one runtime's block of runs within a round")
	fs.DurationVar(&cfg.warmup, "warmup", 300*time.Millisecond, "warm-up time per runtime before the rounds")
	fs.DurationVar(&cfg.profileTime, "profile-time", time.Second, "time to spend profiling each runtime per workload (0: no profiles)")
	fs.IntVar(&cfg.memRuns, "mem-runs", 5, "runs in each peak-memory process (0: no memory measurement)")
	fs.Float64Var(&cfg.peakPerCore, "peak", 78, "the machine's peak float32 GFLOP/s per core (2 AVX2 FMA units)")
	only := fs.String("only", "", "run only the workloads whose key matches this regexp (lenet1, lenet64, vgg8, resnet8, sgemm1024)")
	fs.StringVar(&cfg.command, "command", "make bench-compare", "the command to name in the report as the one that made it")
	fs.StringVar(&cfg.notes, "notes", "", "a markdown file appended to the report as its closing notes")
	fs.StringVar(&cfg.childMemory, "child-memory", "", "internal: measure one runtime's memory (onnxrun or ort) and print JSON")
	fs.StringVar(&cfg.childModel, "child-model", "", "internal: the model of -child-memory")
	fs.IntVar(&cfg.childRuns, "child-runs", 5, "internal: runs of -child-memory")
	fs.Var((*listFlag)(&cfg.childInputs), "child-input", "internal: NAME=D0,D1,... of an input of -child-memory")
	fs.Var((*listFlag)(&cfg.childOutputs), "child-output", "internal: NAME=D0,D1,... of an output of -child-memory")
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
	cfg.childThreads = cfg.threads[0]
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			return nil, fmt.Errorf("-only: %w", err)
		}
		cfg.only = re
	}
	if cfg.rounds < 1 || cfg.block <= 0 {
		return nil, fmt.Errorf("-rounds must be at least 1 and -block positive")
	}
	if cfg.ortLib == "" {
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
	if cfg.childMemory != "" {
		if err := childMemory(cfg); err != nil {
			fmt.Fprintln(os.Stderr, "ortcompare -child-memory:", err)
			os.Exit(1)
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
