package main

import (
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
	machine    bench.Machine
	goVersion  string
	loadBefore string // /proc/loadavg's 1-minute average when the run started, and when it ended
	loadAfter  string
	// waitedAfter is how long the end's reading waited for the run's own load to decay.
	waitedAfter time.Duration
	peaks       *peaks
	pairs       []*pair
	cold        []*coldRow
	skipped     []string
}

// quiet reports whether the load average was below the limit at the start and at the end.
func (r *results) quiet() bool {
	return bench.IsQuiet(r.loadBefore, r.cfg.quietLoad) && bench.IsQuiet(r.loadAfter, r.cfg.quietLoad)
}

// notQuietError is returned when a run would write -out from a machine that was not quiet.
type notQuietError struct {
	loads string // what was read, and when
	limit float64
	wrote string // where the report went instead ("" when the run did not start)
}

func (e *notQuietError) Error() string {
	msg := fmt.Sprintf("the machine was not quiet: 1-minute load average %s, the limit %.2f", e.loads, e.limit)
	if e.wrote != "" {
		msg += "; the report went to " + e.wrote + " instead"
	}
	return msg + "; rerun on a quiet machine, or pass -force (QUIET_OK=1 for scripts/bench-compare.sh) to write it anyway"
}

func compareAll(cfg *config) error {
	res := &results{cfg: cfg, machine: bench.ReadMachine(), goVersion: goruntime.Version()}
	var waited time.Duration
	res.loadBefore, waited = bench.WaitQuiet(cfg.quietLoad, cfg.waitQuiet, os.Stderr)
	if !bench.IsQuiet(res.loadBefore, cfg.quietLoad) && cfg.out != "" && !cfg.force {
		return &notQuietError{loads: fmt.Sprintf("%s at the start after waiting %s", res.loadBefore, waited), limit: cfg.quietLoad}
	}
	res.started = time.Now()

	ort.SetSharedLibraryPath(cfg.ortLib)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return fmt.Errorf("loading ONNX Runtime from %s: %w", cfg.ortLib, err)
	}
	defer ort.DestroyEnvironment()
	res.ortVersion = ort.GetVersion()

	var err error
	if res.peaks, err = measurePeaks(cfg, os.Stderr); err != nil {
		return err
	}
	ws, skipped, err := workloads(cfg)
	if err != nil {
		return err
	}
	res.skipped = skipped
	var chosen []*workload
	for _, w := range ws {
		failed := false
		for _, t := range cfg.threads {
			fmt.Fprintf(os.Stderr, "ortcompare: %s, %d thread(s)...\n", w.name, t)
			load := bench.LoadAverage()
			var p *pair
			err := withoutPanic(func() (err error) {
				p, err = comparePair(w, t, cfg)
				return err
			})
			if err != nil && w.suite != suiteCNN {
				// A model of issue 15's suites that either runtime cannot run is a finding for the report,
				// not a reason to lose the rest of the run.
				fmt.Fprintf(os.Stderr, "  failed: %v\n", err)
				res.skipped = append(res.skipped, fmt.Sprintf("%s, %d thread%s: %v", w.name, t, plural(t), err))
				failed = true
				break
			}
			if err != nil {
				return err
			}
			p.load = load
			res.pairs = append(res.pairs, p)
			fmt.Fprintf(os.Stderr, "  onnxrun p50 %s ms, ORT p50 %s ms: %.2fx (max |diff| %.2g)\n",
				bench.Millis(p.onnxrun.Latency.P50), bench.Millis(p.ort.Latency.P50), p.ratio(), p.diff)
			if p.ortProfErr != nil {
				fmt.Fprintf(os.Stderr, "  ORT profile: %v\n", p.ortProfErr)
			}
			goruntime.GC()
			debug.FreeOSMemory()
		}
		if !failed {
			chosen = append(chosen, w)
		}
	}
	if cfg.coldRuns > 0 {
		if err := res.measureColdRows(chosen); err != nil {
			return err
		}
	}
	for _, s := range res.skipped {
		fmt.Fprintln(os.Stderr, "ortcompare: skipped", s)
	}
	res.elapsed = time.Since(res.started)
	res.loadAfter, res.waitedAfter = bench.WaitQuiet(cfg.quietLoad, cfg.waitQuiet, os.Stderr)

	report := res.markdown()
	if cfg.out == "" {
		fmt.Print(report)
		return nil
	}
	out := cfg.out
	var notQuiet error
	if !res.quiet() && !cfg.force {
		f, err := os.CreateTemp("", "BENCHMARKS.not-quiet.*.md")
		if err != nil {
			return err
		}
		out = f.Name()
		f.Close()
		notQuiet = &notQuietError{loads: fmt.Sprintf("%s at the start, %s at the end (after waiting %s)", res.loadBefore, res.loadAfter, res.waitedAfter),
			limit: cfg.quietLoad, wrote: out}
	}
	// Sections other commands write into the same file (the serve package's load test writes "## Serving")
	// are carried over from the file it replaces.
	if old, err := os.ReadFile(cfg.out); err == nil {
		report += keptSections(string(old), report)
	}
	if err := os.WriteFile(out, []byte(report), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "ortcompare: wrote %s (%s)\n", out, res.elapsed.Round(time.Second))
	return notQuiet
}

// measureColdRows fills r.cold: the cold-start and memory children of the memory reference, of the
// workloads compared and of the large models.
func (r *results) measureColdRows(chosen []*workload) error {
	tmp, err := os.MkdirTemp("", "ortcompare")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	models, skipped, err := coldModels(r.cfg, chosen, tmp)
	if err != nil {
		return err
	}
	r.skipped = append(r.skipped, skipped...)
	for _, m := range models {
		if r.cfg.only != nil && !m.reference && !r.cfg.only.MatchString(m.key) {
			continue
		}
		fmt.Fprintf(os.Stderr, "ortcompare: cold start and peak memory of %s, %d processes per runtime...\n", m.name, r.cfg.coldRuns)
		row, err := measureCold(m, r.cfg)
		if err != nil {
			return err
		}
		for _, s := range []*coldSide{&row.onnxrun, &row.ort} {
			if s.err != nil {
				fmt.Fprintf(os.Stderr, "  %v\n", s.err)
			} else if s.ok() {
				fmt.Fprintf(os.Stderr, "  %s: load + first run %s, peak %s\n", s.reports[0].Runtime, ms(s.total()), bench.Bytes(s.peak()))
			}
		}
		r.cold = append(r.cold, row)
	}
	return nil
}

// foreignSections are the sections of BENCHMARKS.md that other commands write; ortcompare keeps them.
var foreignSections = []string{"## Serving"}

// keptSections returns the foreignSections of old (each up to the next "## " heading) that report does
// not have, to be appended to it.
func keptSections(old, report string) string {
	var kept strings.Builder
	for _, heading := range foreignSections {
		if strings.Contains(report, "\n"+heading+"\n") {
			continue
		}
		start := strings.Index(old, "\n"+heading+"\n")
		if start < 0 {
			continue
		}
		section := old[start+1:]
		if next := strings.Index(section[len(heading):], "\n## "); next >= 0 {
			section = section[:len(heading)+next+1]
		}
		kept.WriteString("\n" + strings.TrimRight(section, "\n") + "\n")
	}
	return kept.String()
}
