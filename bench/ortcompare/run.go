package main

import (
	"bufio"
	"fmt"
	"os"
	goruntime "runtime"
	"runtime/debug"
	"strings"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/onnxrun/onnxrun/bench"
)

// results is everything one comparison found, what the report is made from.
type results struct {
	started    time.Time
	elapsed    time.Duration
	cfg        *config
	ortVersion string
	cpu        string
	goVersion  string
	loadBefore string // /proc/loadavg's 1-minute average when the run started, and when it ended
	loadAfter  string
	cpus       int
	pairs      []*pair
	memory     []*memPair
	skipped    []string
}

// memPair is one workload's peak memory in each runtime.
type memPair struct {
	w       *workload
	threads int
	onnxrun *memReport
	ort     *memReport
}

func compareAll(cfg *config) error {
	ort.SetSharedLibraryPath(cfg.ortLib)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return fmt.Errorf("loading ONNX Runtime from %s: %w", cfg.ortLib, err)
	}
	defer ort.DestroyEnvironment()

	res := &results{started: time.Now(), cfg: cfg, ortVersion: ort.GetVersion(), cpu: cpuName(), goVersion: goruntime.Version(), loadBefore: loadAverage(), cpus: goruntime.NumCPU()}
	ws, skipped, err := workloads(cfg)
	if err != nil {
		return err
	}
	res.skipped = skipped
	for _, s := range skipped {
		fmt.Fprintln(os.Stderr, "ortcompare: skipped", s)
	}
	for _, w := range ws {
		if cfg.only != nil && !cfg.only.MatchString(w.key) {
			continue
		}
		for _, t := range cfg.threads {
			fmt.Fprintf(os.Stderr, "ortcompare: %s, %d thread(s)...\n", w.name, t)
			p, err := comparePair(w, t, cfg)
			if err != nil {
				return err
			}
			res.pairs = append(res.pairs, p)
			fmt.Fprintf(os.Stderr, "  onnxrun p50 %s ms, ORT p50 %s ms: %.2fx (max |diff| %.2g)\n",
				bench.Millis(p.onnxrun.Latency.P50), bench.Millis(p.ort.Latency.P50), p.ratio(), p.diff)
			if p.ortProfErr != nil {
				fmt.Fprintf(os.Stderr, "  ORT profile: %v\n", p.ortProfErr)
			}
			goruntime.GC()
			debug.FreeOSMemory()
		}
		if cfg.memRuns > 0 && !w.gemm {
			for _, t := range cfg.threads {
				fmt.Fprintf(os.Stderr, "ortcompare: peak memory of %s, %d thread(s)...\n", w.name, t)
				a, b, err := measureMemory(w, t, cfg)
				if err != nil {
					return err
				}
				res.memory = append(res.memory, &memPair{w: w, threads: t, onnxrun: a, ort: b})
			}
		}
	}
	res.elapsed = time.Since(res.started)
	res.loadAfter = loadAverage()

	report := res.markdown()
	if cfg.out == "" {
		fmt.Print(report)
		return nil
	}
	if err := os.WriteFile(cfg.out, []byte(report), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "ortcompare: wrote %s (%s)\n", cfg.out, res.elapsed.Round(time.Second))
	return nil
}

// cpuName is the "model name" of /proc/cpuinfo and the number of CPUs Go sees.
func cpuName() string {
	name := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				name = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d CPUs", name, goruntime.NumCPU())
}

// loadAverage is the 1-minute load average of /proc/loadavg ("?" where there is none): how many
// processes wanted a CPU, to judge how quiet the machine was.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}
