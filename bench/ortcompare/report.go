package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/onnxrun/onnxrun/bench"
	"github.com/onnxrun/onnxrun/runtime"
)

// Targets of issue 5 that are not per-workload settings.
const (
	sgemmTarget1      = 0.80 // of one core's peak, on 1 thread
	sgemmTargetN      = 0.75 // of the cores' peak, on 2 or more
	scalingTarget     = 1.8  // 1 → 2 threads speed-up of onnxrun
	nodeRowsPerReport = 8
)

func ms(d time.Duration) string { return bench.Millis(d) + " ms" }

// check is one target: what it asks, what was measured, and for a miss, the paragraph that says by how
// much, where the time goes and what would close it.
type check struct {
	what     string
	measured string
	met      bool
	gap      string // for a miss: by how much
	explain  func(b *strings.Builder)
}

func (r *results) pair(key string, threads int) *pair {
	for _, p := range r.pairs {
		if p.w.key == key && p.threads == threads {
			return p
		}
	}
	return nil
}

// keys lists the workloads compared, in order.
func (r *results) keys() []*workload {
	var out []*workload
	for _, p := range r.pairs {
		if !slices.Contains(out, p.w) {
			out = append(out, p.w)
		}
	}
	return out
}

func (r *results) markdown() string {
	var b strings.Builder
	r.header(&b)
	checks := r.checks()
	r.targetTable(&b, checks)
	r.latencyTable(&b)
	r.scalingTable(&b)
	r.sgemmTable(&b)
	r.operatorTable(&b)
	r.depthwiseTable(&b)
	r.int8Table(&b)
	r.opTypeTables(&b)
	r.loopTable(&b)
	r.memoryTable(&b)
	r.coldTable(&b)
	r.missedSection(&b, checks)
	r.timeSection(&b)
	if r.cfg.notes != "" {
		if notes, err := os.ReadFile(r.cfg.notes); err == nil {
			b.WriteString("\n")
			b.Write(notes)
		} else {
			fmt.Fprintf(&b, "\n(notes file %s: %v)\n", r.cfg.notes, err)
		}
	}
	return b.String()
}

func (r *results) header(b *strings.Builder) {
	fmt.Fprintf(b, "# Benchmarks: onnxrun next to ONNX Runtime\n\n")
	fmt.Fprintf(b, "Written by `%s` (scripts/bench-compare.sh, which runs bench/ortcompare) on %s, in %s.\n\n",
		r.cfg.command, r.started.UTC().Format("2006-01-02 15:04 MST"), r.elapsed.Round(time.Second))
	fmt.Fprintf(b, "- Suites: %s (`make bench-compare SUITE=...`: cnn, real, ops, int8 or all; ONLY=REGEXP of workload keys)", strings.Join(r.suiteNames(), ", "))
	if r.cfg.only != nil {
		fmt.Fprintf(b, ", only the workloads matching `%s`", r.cfg.only)
	}
	fmt.Fprintf(b, "; the whole run took %s.\n", r.elapsed.Round(time.Second))
	fmt.Fprintf(b, "- Machine: %s.\n", r.machine)
	quiet := "**not quiet**: figures taken while other work ran, to be read with care"
	if r.quiet() {
		quiet = fmt.Sprintf("quiet (both below %.2f)", r.cfg.quietLoad)
	}
	fmt.Fprintf(b, "- Load average (1 minute): %s when the run started, %s when it ended (read after waiting up to %s for the run's own load to decay): %s. The load when each row started is beside it in the tables.\n",
		r.loadBefore, r.loadAfter, r.waitedAfter, quiet)
	r.peakLine(b)
	fmt.Fprintf(b, "- onnxrun: this tree, %s. ONNX Runtime %s (the C library of npm's onnxruntime-node, through github.com/yalue/onnxruntime_go), CPU execution provider, all graph optimisations, sequential execution, intra-op threads as listed, its defaults otherwise.\n", r.goVersion, r.ortVersion)
	fmt.Fprintf(b, "- Method: both runtimes in one process, on the same input bytes, writing into preallocated outputs. "+
		"After a first run each (outputs compared) and %v of warm-up each, up to %d rounds (as many as fit in %v, at least %d: a slow model gets fewer) alternate a block of about %v of runs of one runtime with a block of the other, the order flipping every round; "+
		"every run is a sample. Ratios are onnxrun's p50 over ORT's p50 at the same thread count (below 1: onnxrun is faster). "+
		"GFLOP/s counts 2 operations per multiply-add of the convolutions and matrix products, from their shapes as a direct implementation does them (so a Winograd convolution, which multiplies less, can show more than the peak). "+
		"Cold start and peak memory come from %d fresh processes per runtime per model (medians): each loads the model file (in the page cache) at 1 thread and runs it once. "+
		"Per-node times come from separate profiled runs: onnxrun's Session.RunProfiled and ORT's own profiler.\n",
		r.cfg.warmup, r.cfg.rounds, r.cfg.rowTime, r.cfg.minRounds, r.cfg.block, r.cfg.coldRuns)
	for _, s := range r.skipped {
		fmt.Fprintf(b, "- Skipped: %s.\n", s)
	}
	b.WriteString("\n")
}

// checks evaluates every target of issue 5 that this run measured.
func (r *results) checks() []check {
	var out []check
	for _, p := range r.pairs {
		if p.w.targetRatio == 0 {
			continue
		}
		p := p
		ratio := p.ratio()
		c := check{what: fmt.Sprintf("%s, %d thread%s: ≤ %.1f× ORT", p.w.name, p.threads, plural(p.threads), p.w.targetRatio),
			measured: fmt.Sprintf("%.2f× (%s vs %s)", ratio, ms(p.onnxrun.Latency.P50), ms(p.ort.Latency.P50)),
			met:      ratio <= p.w.targetRatio}
		if p.w.elements > 0 {
			c.what = fmt.Sprintf("%s, %d thread%s: ≥ ORT's throughput", p.w.name, p.threads, plural(p.threads))
			c.measured = fmt.Sprintf("%s vs %s elements/s (%.2f× ORT's time)", elementRate(p.w.elements, p.onnxrun.Latency.P50),
				elementRate(p.w.elements, p.ort.Latency.P50), ratio)
		}
		if !c.met {
			need := time.Duration(p.w.targetRatio * float64(p.ort.Latency.P50))
			if p.w.suite == suiteOps {
				c.gap = fmt.Sprintf("missed: %.2f× ORT's time", ratio)
				out = append(out, c)
				continue
			}
			c.gap = fmt.Sprintf("missed by %.2f×: onnxrun needs %s, %.0f%% less time", ratio-p.w.targetRatio, ms(need),
				100*(1-float64(need)/float64(p.onnxrun.Latency.P50)))
			c.explain = func(b *strings.Builder) { r.explainLatency(b, p, need) }
		}
		out = append(out, c)
	}
	for _, p := range r.pairs {
		if p.w.parity == 0 {
			continue
		}
		ratio := p.ratio()
		c := check{what: fmt.Sprintf("%s, %d thread%s: within %.0f%% of ORT", p.w.name, p.threads, plural(p.threads), 100*(p.w.parity-1)),
			measured: fmt.Sprintf("%.2f× (%s vs %s)", ratio, ms(p.onnxrun.Latency.P50), ms(p.ort.Latency.P50)),
			met:      ratio <= p.w.parity}
		if !c.met {
			c.gap = fmt.Sprintf("missed by %.2f×", ratio-p.w.parity)
		}
		out = append(out, c)
	}
	if c, ok := r.geomeanCheck(); ok {
		out = append(out, c)
	}
	out = append(out, r.int8SpeedupChecks()...)
	for _, p := range r.pairs {
		if p.w.peakTarget1 == 0 {
			continue
		}
		p := p
		target := p.w.peakTarget1
		if p.threads > 1 {
			target = p.w.peakTargetN
		}
		peak := r.peaks.forThreads(p.threads)
		g := bench.GFLOPS(p.w.macs, p.onnxrun.Latency.P50)
		c := check{what: fmt.Sprintf("%s, %d thread%s: ≥ %.0f%% of %.0f GFLOP/s", p.w.name, p.threads, plural(p.threads), 100*target, peak),
			measured: fmt.Sprintf("%.1f GFLOP/s, %.0f%% (ORT %.1f)", g, 100*g/peak, bench.GFLOPS(p.w.macs, p.ort.Latency.P50)),
			met:      g >= target*peak}
		if !c.met {
			c.gap = fmt.Sprintf("missed by %.1f GFLOP/s (%.0f points)", target*peak-g, 100*(target-g/peak))
			if p.w.gemm {
				c.explain = func(b *strings.Builder) { r.explainSGEMM(b, p, target*peak) }
			}
		}
		out = append(out, c)
	}
	for _, w := range r.keys() {
		p1, p2 := r.pair(w.key, 1), r.pair(w.key, 2)
		if w.scalingTarget == 0 || p1 == nil || p2 == nil {
			continue
		}
		s := float64(p1.onnxrun.Latency.P50) / float64(p2.onnxrun.Latency.P50)
		c := check{what: fmt.Sprintf("%s: onnxrun 1 → 2 threads ≥ %.1f×", w.name, w.scalingTarget),
			measured: fmt.Sprintf("%.2f× (ORT %.2f×)", s, float64(p1.ort.Latency.P50)/float64(p2.ort.Latency.P50)),
			met:      s >= w.scalingTarget}
		if !c.met {
			c.gap = fmt.Sprintf("missed by %.2f×: at 2 threads onnxrun needs %s", w.scalingTarget-s, ms(time.Duration(float64(p1.onnxrun.Latency.P50)/w.scalingTarget)))
			c.explain = func(b *strings.Builder) { r.explainScaling(b, p1, p2) }
		}
		out = append(out, c)
	}
	ref := r.reference()
	for _, c := range r.cold {
		if c.m.reference {
			continue
		}
		c := c
		if c.onnxrun.ok() && c.ort.ok() {
			a, o := c.onnxrun.total(), c.ort.total()
			ck := check{what: fmt.Sprintf("%s, cold start (load + first run, 1 thread) ≤ ORT's", c.m.name),
				measured: fmt.Sprintf("%s vs %s", ms(a), ms(o)), met: a <= o}
			if !ck.met {
				ck.gap = fmt.Sprintf("missed by %s (%.0f%% more)", ms(a-o), 100*(float64(a)/float64(o)-1))
			}
			out = append(out, ck)
		}
		if !c.m.memoryTarget || ref == nil {
			continue
		}
		a, okA := modelMemory(&c.onnxrun, &ref.onnxrun)
		o, okO := modelMemory(&c.ort, &ref.ort)
		if !okA || !okO {
			continue
		}
		ck := check{what: fmt.Sprintf("%s, 1 thread: model memory (peak above the same runtime's on the shipped LeNet) ≤ ORT's", c.m.name),
			measured: fmt.Sprintf("%s vs %s", bench.Bytes(a), bench.Bytes(o)), met: a <= o}
		if !ck.met {
			ck.gap = fmt.Sprintf("missed by %s (%.0f%% more)", bench.Bytes(a-o), 100*(float64(a)/float64(max(o, 1))-1))
			ck.explain = func(b *strings.Builder) { r.explainMemory(b, c, ref) }
		}
		out = append(out, ck)
	}
	return out
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func (r *results) targetTable(b *strings.Builder, checks []check) {
	met := 0
	for _, c := range checks {
		if c.met {
			met++
		}
	}
	fmt.Fprintf(b, "## Targets\n\n")
	if !r.quiet() {
		fmt.Fprintf(b, "**This run was not on a quiet machine (1-minute load average %s at the start, %s at the end, on %d CPUs; quiet means both below %.2f).** "+
			"Interleaving keeps the onnxrun/ORT ratios comparable, but absolute times are inflated and the 2-thread figures, the thread scaling, "+
			"the cold starts and SGEMM against the peak mostly measure the contention: rerun `%s` on a quiet machine before reading those.\n\n",
			r.loadBefore, r.loadAfter, r.machine.CPUs, r.cfg.quietLoad, r.cfg.command)
	}
	fmt.Fprintf(b, "%d of %d targets met.\n\n| target | measured | status |\n|---|---|---|\n", met, len(checks))
	for _, c := range checks {
		status := "met"
		if !c.met {
			status = "**" + c.gap + "**"
		}
		fmt.Fprintf(b, "| %s | %s | %s |\n", c.what, c.measured, status)
	}
	b.WriteString("\n")
}

func (r *results) latencyTable(b *strings.Builder) {
	b.WriteString("## Latency\n\nMilliseconds per run; samples per side in brackets. GFLOP/s at p50.\n\n")
	b.WriteString("| workload | threads | onnxrun p50 | p90 | p99 | ORT p50 | p90 | p99 | onnxrun / ORT | onnxrun GFLOP/s | ORT GFLOP/s | max abs diff | load |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, p := range r.pairs {
		a, o := p.onnxrun.Latency, p.ort.Latency
		fmt.Fprintf(b, "| %s | %d | %s (%d) | %s | %s | %s (%d) | %s | %s | **%.2f×** | %.1f | %.1f | %.1e | %s |\n",
			p.w.name, p.threads, bench.Millis(a.P50), a.N, bench.Millis(a.P90), bench.Millis(a.P99),
			bench.Millis(o.P50), o.N, bench.Millis(o.P90), bench.Millis(o.P99), p.ratio(),
			bench.GFLOPS(p.w.macs, a.P50), bench.GFLOPS(p.w.macs, o.P50), p.diff, p.load)
	}
	b.WriteString("\n")
}

func (r *results) scalingTable(b *strings.Builder) {
	var rows []string
	for _, w := range r.keys() {
		p1, p2 := r.pair(w.key, 1), r.pair(w.key, 2)
		if p1 == nil || p2 == nil {
			continue
		}
		target := ""
		if w.scalingTarget > 0 {
			target = fmt.Sprintf("≥ %.1f×", w.scalingTarget)
		}
		rows = append(rows, fmt.Sprintf("| %s | %.2f× | %.2f× | %s |", w.name,
			float64(p1.onnxrun.Latency.P50)/float64(p2.onnxrun.Latency.P50), float64(p1.ort.Latency.P50)/float64(p2.ort.Latency.P50), target))
	}
	writeSection(b, "## Thread scaling\n\np50 at 1 thread over p50 at 2 threads.\n\n| workload | onnxrun | ORT | target |\n|---|--:|--:|---|\n", rows)
}

// loopTable gives the Loop workload's time per Run and per iteration on both sides: per iteration is the
// overhead of iterating, the body's two kernels on 16 floats costing a few nanoseconds.
func (r *results) loopTable(b *strings.Builder) {
	var rows []string
	for _, p := range r.pairs {
		if p.w.iterations == 0 {
			continue
		}
		n := time.Duration(p.w.iterations)
		rows = append(rows, fmt.Sprintf("| %s | %d | %s | %s | %.2f× | %s | %s | ≤ %.1f× |", p.w.name, p.threads, ms(p.onnxrun.Latency.P50), ms(p.ort.Latency.P50),
			p.ratio(), p.onnxrun.Latency.P50/n, p.ort.Latency.P50/n, p.w.targetRatio))
	}
	writeSection(b, "## Loop\n\nA Loop whose body adds and multiplies a carried float32[16] (bench.LoopModel; trip count constant, cond true): p50 per Run and per iteration, the cost of iterating.\n\n"+
		"| workload | threads | onnxrun | ORT | ratio | onnxrun per iteration | ORT per iteration | target |\n|---|--:|--:|--:|--:|--:|--:|---|\n", rows)
}

func (r *results) sgemmTable(b *strings.Builder) {
	var rows []string
	overPeak := false
	for _, p := range r.pairs {
		if !p.w.gemm {
			continue
		}
		peak := r.peaks.forThreads(p.threads)
		target := sgemmTarget1
		if p.threads > 1 {
			target = sgemmTargetN
		}
		ga, go_ := bench.GFLOPS(p.w.macs, p.onnxrun.Latency.P50), bench.GFLOPS(p.w.macs, p.ort.Latency.P50)
		overPeak = overPeak || ga > peak || go_ > peak
		rows = append(rows, fmt.Sprintf("| %d | %.1f | %.0f%% | %.1f | %.0f%% | ≥ %.0f%% (%.1f) |", p.threads, ga, 100*ga/peak, go_, 100*go_/peak, 100*target, target*peak))
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("## SGEMM\n\nC = A·B with A, B and C 1024×1024 float32, as a MatMul whose operands are both inputs (so B is packed on every run). GFLOP/s at p50, and the share of the peak of the cores used: the measured FMA peak of the ISA onnxrun's SGEMM kernel uses (see Machine above).\n\n")
	b.WriteString("| threads | onnxrun GFLOP/s | of peak | ORT GFLOP/s | of peak | target |\n|--:|--:|--:|--:|--:|---|\n")
	b.WriteString(strings.Join(rows, "\n") + "\n\n")
	if overPeak {
		b.WriteString("A share above 100% means the matrix product ran faster than the FMA loop did when the peak was measured (a clock that varies with load and temperature, or an override by -peak).\n\n")
	}
}

func (r *results) memoryTable(b *strings.Builder) {
	ref := r.reference()
	if ref == nil {
		return
	}
	b.WriteString("## Peak memory\n\nBy the method of issue 20: the peak resident size (VmHWM) of a process that loads the model in one runtime and runs it once at 1 thread, " +
		"minus the same runtime's peak on the shipped LeNet (models/lenet/lenet.onnx, batch 1), so that each runtime's fixed cost (the Go runtime; ORT's shared library and environment) cancels. " +
		"Medians over the processes of the cold-start table. onnxrun's weights are its constants after the graph passes. Both peaks include the model file's bytes as read.\n\n")
	fmt.Fprintf(b, "Reference peaks (shipped LeNet): onnxrun %s, ORT %s.\n\n", sidePeak(&ref.onnxrun), sidePeak(&ref.ort))
	b.WriteString("| model | file | onnxrun peak | onnxrun model memory | ORT peak | ORT model memory | onnxrun / ORT |\n|---|--:|--:|--:|--:|--:|--:|\n")
	for _, c := range r.cold {
		if c.m.reference {
			continue
		}
		a, okA := modelMemory(&c.onnxrun, &ref.onnxrun)
		o, okO := modelMemory(&c.ort, &ref.ort)
		ratio := "–"
		if okA && okO && o > 0 {
			ratio = fmt.Sprintf("%.2f×", float64(a)/float64(o))
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s |\n", c.m.name, bench.Bytes(c.m.size),
			sidePeak(&c.onnxrun), memOrDash(a, okA), sidePeak(&c.ort), memOrDash(o, okO), ratio)
	}
	b.WriteString("\n")
}

func sidePeak(s *coldSide) string {
	if !s.ok() {
		return "failed"
	}
	return bench.Bytes(s.peak())
}

func memOrDash(n int64, ok bool) string {
	if !ok {
		return "–"
	}
	return bench.Bytes(n)
}

func (r *results) coldTable(b *strings.Builder) {
	if len(r.cold) == 0 {
		return
	}
	fmt.Fprintf(b, "## Cold start\n\nLoad plus first run at 1 thread, the median of %d fresh processes per runtime (alternating), the model file read once before so that it is in the page cache, and both runtimes given the same file: "+
		"onnxrun's runtime.Load (read, decode, compile) then Session.Run; ORT's session creation from the file (all graph optimisations) then Run. "+
		"Process start and each runtime's own initialisation (ORT: loading its shared library, creating the environment) come before the clock starts. A fresh process per load, because a second load in one process finds the heap, the allocators and the runtimes' lazily built tables warm. "+
		"Failures are listed below the table.\n\n", r.cfg.coldRuns)
	b.WriteString("| model | file | onnxrun load | first run | **total** | ORT session | first run | **total** | onnxrun / ORT | load |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	var failures []string
	for _, c := range r.cold {
		cells := func(s *coldSide) string {
			if !s.ok() {
				failures = append(failures, fmt.Sprintf("%s: %v", c.m.name, s.err))
				return "failed | – | –"
			}
			return fmt.Sprintf("%s | %s | **%s**", ms(s.load()), ms(s.firstRun()), ms(s.total()))
		}
		ratio := "–"
		if c.onnxrun.ok() && c.ort.ok() {
			ratio = fmt.Sprintf("**%.2f×**", float64(c.onnxrun.total())/float64(c.ort.total()))
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", c.m.name, bench.Bytes(c.m.size), cells(&c.onnxrun), cells(&c.ort), ratio, c.load)
	}
	b.WriteString("\n")
	for _, f := range failures {
		fmt.Fprintf(b, "- Failed: %s\n", f)
	}
	if len(failures) > 0 {
		b.WriteString("\n")
	}
}

func (r *results) missedSection(b *strings.Builder, checks []check) {
	first := true
	for _, c := range checks {
		if c.met || c.explain == nil {
			continue
		}
		if first {
			b.WriteString("## Missed targets: by how much, where the time goes, what would close it\n\n")
			first = false
		}
		fmt.Fprintf(b, "### %s\n\nMeasured %s: %s.\n\n", c.what, c.measured, c.gap)
		c.explain(b)
		b.WriteString("\n")
	}
}

// breakdown is one runtime's p50 split by kind of work: the shares its profiled runs give, scaled so that
// they add up to the p50 of the timed runs. Profiled runs are separate and slower (clocks around every
// kernel; ORT writes events), so their shares are what they tell, not their absolute times.
type breakdown struct {
	work    map[string]time.Duration // by category
	outside time.Duration            // not in any kernel: the executor's loop, input checks
	ok      bool
}

func newBreakdown(p50, profiledRun time.Duration, kernels time.Duration, byOp map[string]time.Duration) breakdown {
	b := breakdown{work: map[string]time.Duration{}}
	if profiledRun <= 0 {
		return b
	}
	s := float64(p50) / float64(profiledRun)
	for op, d := range byOp {
		b.work[category(op)] += time.Duration(float64(d) * s)
	}
	b.outside = time.Duration(float64(max(0, profiledRun-kernels)) * s)
	b.ok = true
	return b
}

// breakdowns gives both runtimes' breakdowns of a pair.
func breakdowns(p *pair) (ours, theirs breakdown) {
	if p.prof != nil {
		byOp := map[string]time.Duration{}
		for _, o := range bench.OpTypeTimes(p.prof) {
			byOp[o.OpType] += o.PerRun
		}
		ours = newBreakdown(p.onnxrun.Latency.P50, p.prof.Mean(), kernelTime(p.prof), byOp)
	}
	if p.ortProf != nil {
		byOp := map[string]time.Duration{}
		for _, o := range p.ortProf.Ops {
			byOp[o.Op] += o.PerRun
		}
		theirs = newBreakdown(p.ort.Latency.P50, p.ortProf.PerRun, p.ortProf.Kernels, byOp)
	}
	return ours, theirs
}

// profileScale turns onnxrun's profiled times into times at the p50 of the timed runs.
func profileScale(p *pair) float64 {
	if p.prof == nil || p.prof.Mean() <= 0 {
		return 1
	}
	return float64(p.onnxrun.Latency.P50) / float64(p.prof.Mean())
}

func kernelTime(p *runtime.Profile) time.Duration {
	var t time.Duration
	for _, st := range p.Steps {
		t += st.Time
	}
	return t / time.Duration(max(p.Runs, 1))
}

func writeBreakdown(b *strings.Builder, ours, theirs breakdown, withGap bool) {
	if withGap {
		b.WriteString("| work | onnxrun | ORT | onnxrun − ORT |\n|---|--:|--:|--:|\n")
	} else {
		b.WriteString("| work | onnxrun | ORT |\n|---|--:|--:|\n")
	}
	row := func(name string, a, o time.Duration) {
		if withGap {
			fmt.Fprintf(b, "| %s | %s | %s | %+.3f ms |\n", name, ms(a), ms(o), float64(a-o)/1e6)
		} else {
			fmt.Fprintf(b, "| %s | %s | %s |\n", name, ms(a), ms(o))
		}
	}
	for _, c := range categories {
		if ours.work[c] == 0 && theirs.work[c] == 0 {
			continue
		}
		row(c, ours.work[c], theirs.work[c])
	}
	row("outside kernels", ours.outside, theirs.outside)
}

// explainLatency says where onnxrun's time goes next to ORT's, by category, and how far matching ORT in
// each would bring the ratio, largest gap first.
func (r *results) explainLatency(b *strings.Builder, p *pair, need time.Duration) {
	ours, theirs := breakdowns(p)
	if !ours.ok || !theirs.ok {
		fmt.Fprintf(b, "No profiles to compare (-profile-time 0, or ORT's profile failed: %v).\n", p.ortProfErr)
		return
	}
	type gap struct {
		cat string
		d   time.Duration
	}
	var gaps []gap
	for _, c := range categories {
		if d := ours.work[c] - theirs.work[c]; d > 0 {
			gaps = append(gaps, gap{c, d})
		}
	}
	if d := ours.outside - theirs.outside; d > 0 {
		gaps = append(gaps, gap{"outside kernels", d})
	}
	slices.SortFunc(gaps, func(a, b gap) int { return int(b.d - a.d) })
	fmt.Fprintf(b, "The p50 of each runtime split by kind of work, in the shares their profiled runs show:\n\n")
	writeBreakdown(b, ours, theirs, true)
	b.WriteString("\n")

	left := p.onnxrun.Latency.P50
	var steps []string
	for _, g := range gaps {
		left -= g.d
		steps = append(steps, fmt.Sprintf("%s (−%s → %.2f×)", g.cat, ms(g.d), float64(left)/float64(p.ort.Latency.P50)))
		if left <= need {
			break
		}
	}
	if len(steps) > 0 {
		fmt.Fprintf(b, "What would close it: matching ORT's time in %s", strings.Join(steps, ", then "))
		if left > need {
			fmt.Fprintf(b, "; even all of that leaves %s to find below ORT's own times", ms(left-need))
		}
		b.WriteString(".\n\n")
	} else {
		fmt.Fprintf(b, "onnxrun is at or below ORT's time in every kind of work; the target asks for %s less than ORT overall.\n\n", ms(p.ort.Latency.P50-need))
	}
	r.slowestSteps(b, p)
}

// slowestSteps lists onnxrun's slowest steps with their GFLOP/s against the peak of the threads used.
func (r *results) slowestSteps(b *strings.Builder, p *pair) {
	if p.prof == nil {
		return
	}
	peak := r.peaks.forThreads(p.threads)
	nodes := bench.NodeTimes(p.prof)
	if len(nodes) > nodeRowsPerReport {
		nodes = nodes[:nodeRowsPerReport]
	}
	fmt.Fprintf(b, "onnxrun's slowest steps (%s, %d thread%s; times scaled to the p50 like the table above):\n\n| # | node | op | output | ms/run | share | GFLOP/s | of peak |\n|--:|---|---|---|--:|--:|--:|--:|\n",
		p.w.name, p.threads, plural(p.threads))
	sc := profileScale(p)
	for _, n := range nodes {
		per := time.Duration(float64(n.PerRun) * sc)
		g, of := "-", "-"
		if n.MACs > 0 {
			gf := bench.GFLOPS(n.MACs, per)
			g, of = fmt.Sprintf("%.1f", gf), fmt.Sprintf("%.0f%%", 100*gf/peak)
		}
		fmt.Fprintf(b, "| %d | %s | %s | %s | %s | %.1f%% | %s | %s |\n", n.Index, n.Node, n.OpType, shape(n.Output), bench.Millis(per), 100*n.Share, g, of)
	}
	b.WriteString("\n")
}

func shape(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func (r *results) explainSGEMM(b *strings.Builder, p *pair, needGFLOPS float64) {
	need := time.Duration(float64(2*p.w.macs) / needGFLOPS)
	fmt.Fprintf(b, "A run takes %s and would need to take %s. The whole run is the one MatMul step, so the gap is the GEMM itself: "+
		"its micro-kernel's share of FMA throughput, the packing of A and B (both are inputs, so both are packed every run; ORT packs them too), "+
		"and at 2 threads the split of the work between the threads.\n", ms(p.onnxrun.Latency.P50), ms(need))
}

// explainScaling lists the steps that lose most against a perfect 2× speed-up.
func (r *results) explainScaling(b *strings.Builder, p1, p2 *pair) {
	if p1.prof == nil || p2.prof == nil || len(p1.prof.Steps) != len(p2.prof.Steps) {
		b.WriteString("No comparable profiles at 1 and 2 threads.\n")
		return
	}
	type loss struct {
		i       int
		t1, t2  time.Duration
		excess  time.Duration // t2 − t1/2
		speedup float64
	}
	var losses []loss
	var total time.Duration
	r1, r2 := time.Duration(max(p1.prof.Runs, 1)), time.Duration(max(p2.prof.Runs, 1))
	s1, s2 := profileScale(p1), profileScale(p2)
	for i := range p1.prof.Steps {
		t1 := time.Duration(float64(p1.prof.Steps[i].Time/r1) * s1)
		t2 := time.Duration(float64(p2.prof.Steps[i].Time/r2) * s2)
		l := loss{i: i, t1: t1, t2: t2, excess: t2 - t1/2}
		if t2 > 0 {
			l.speedup = float64(t1) / float64(t2)
		}
		total += l.excess
		losses = append(losses, l)
	}
	slices.SortFunc(losses, func(a, b loss) int { return int(b.excess - a.excess) })
	if ortSpeedup := float64(p1.ort.Latency.P50) / float64(p2.ort.Latency.P50); ortSpeedup < 1.3 {
		fmt.Fprintf(b, "ORT did not gain much from the second thread either (%.2f×): the second CPU was likely busy with other work during this run, so the table below shows contention as much as onnxrun's own scaling.\n\n", ortSpeedup)
	}
	out1 := time.Duration(float64(max(0, p1.prof.Mean()-kernelTime(p1.prof))) * s1)
	out2 := time.Duration(float64(max(0, p2.prof.Mean()-kernelTime(p2.prof))) * s2)
	over1 := out2 - out1/2
	fmt.Fprintf(b, "At 2 threads the kernels take %s more than half their 1-thread time, and the time outside kernels %+.3f ms. "+
		"The steps that lose most against a perfect 2× (their 2-thread time minus half their 1-thread time, profiles scaled to each p50); making these split evenly between the threads would close most of the gap:\n\n",
		ms(total), float64(over1)/1e6)
	b.WriteString("| # | node | op | output | 1 thread | 2 threads | speed-up | lost |\n|--:|---|---|---|--:|--:|--:|--:|\n")
	for _, l := range losses[:min(len(losses), nodeRowsPerReport)] {
		st := p1.prof.Steps[l.i]
		out := []int(nil)
		if len(st.OutputShapes) > 0 {
			out = st.OutputShapes[0]
		}
		op := st.OpType
		if st.Domain != "" {
			op = st.Domain + "." + op
		}
		fmt.Fprintf(b, "| %d | %s | %s | %s | %s | %s | %.2f× | %s |\n", l.i, st.Node, op, shape(out), ms(l.t1), ms(l.t2), l.speedup, ms(l.excess))
	}
}

func (r *results) explainMemory(b *strings.Builder, c, ref *coldRow) {
	var arena, scratch int64
	p := r.pair(c.m.key, 1)
	if p != nil && p.prof != nil {
		arena, scratch = p.prof.ArenaBytes, p.prof.ScratchBytes
	}
	above, _ := modelMemory(&c.onnxrun, &ref.onnxrun)
	theirs, _ := modelMemory(&c.ort, &ref.ort)
	live := c.onnxrun.liveHeap()
	var weights int64
	if p != nil {
		weights = p.w.weightBytes
	}
	kernels := max(0, live-weights-arena-scratch)
	fmt.Fprintf(b, "onnxrun's process peaks %s above its peak on the shipped LeNet; ORT's %s above its own. "+
		"After the run and a garbage collection, with the session open, onnxrun's Go heap holds %s: "+
		"the plan's weights %s, the session's arena %s and scratch %s, and %s more, which is what the kernels keep for themselves "+
		"(weights packed for the GEMM or transformed for Winograd, in addition to the plain copies). "+
		"Loading needs the rest of the peak (the file's bytes, the decoded protobuf, tensors before packing) "+
		"and the collector's headroom (GOGC=100 lets the heap grow to twice what is live before collecting); the heap ends at %s taken from the OS.\n\n",
		bench.Bytes(above), bench.Bytes(theirs), bench.Bytes(live), bench.Bytes(weights),
		bench.Bytes(arena), bench.Bytes(scratch), bench.Bytes(kernels), bench.Bytes(c.onnxrun.goHeapSys()))
	var fixes []string
	if p != nil && p.heapFirstRun > 0 {
		perPlan := p.heapFirstRun - p.heapCompiled
		fmt.Fprintf(b, "In the comparing process, onnxrun's live heap was %s once compiled (Compile plans the declared shapes, batch 1, and prepacks for them) "+
			"and %s after the first run at batch %d, which plans these shapes and prepacks every weight again: %s for the second plan.\n\n",
			bench.Bytes(p.heapCompiled), bench.Bytes(p.heapFirstRun), p.w.batch, bench.Bytes(perPlan))
		if perPlan > weights/4 {
			fixes = append(fixes, fmt.Sprintf("pack each weight once and share it between the plans of all input shapes, or keep no kernels for the plan Compile makes only to check the declared shapes (%s here)", bench.Bytes(perPlan)))
		}
	}
	if weights > 0 && kernels > weights/2 {
		fixes = append(fixes, fmt.Sprintf("drop the plain copy of a weight once its kernel has packed it (%s; needed again only to plan other shapes, which can re-read the file)", bench.Bytes(weights)))
	}
	if len(fixes) == 0 {
		fixes = append(fixes, "shrink what the kernels keep, the largest part above, and what only loading needs")
	}
	fmt.Fprintf(b, "What would close it: %s.\n", strings.Join(fixes, "; "))
}

// timeSection shows, for every workload and thread count, the time by kind of work in both runtimes and
// onnxrun's slowest steps.
func (r *results) timeSection(b *strings.Builder) {
	if r.cfg.profileTime <= 0 {
		return
	}
	b.WriteString("## Where the time goes\n\nEach runtime's p50 split in the shares its profiled runs show (the profiled runs themselves are slower: clocks around every kernel), then the raw profiled time per op type. ORT's op types are its own after its graph optimisations (FusedConv is Conv with its activation; on x86 it may run convolutions in its NCHWc layout, with ReorderInput/ReorderOutput around them).\n\n")
	for _, p := range r.pairs {
		if p.w.suite == suiteOps {
			continue // one operator: the tables above say it all
		}
		fmt.Fprintf(b, "### %s, %d thread%s\n\n", p.w.name, p.threads, plural(p.threads))
		ours, theirs := breakdowns(p)
		writeBreakdown(b, ours, theirs, false)
		fmt.Fprintf(b, "| **p50** | **%s** | **%s** |\n\n", ms(p.onnxrun.Latency.P50), ms(p.ort.Latency.P50))
		if p.prof != nil {
			var parts []string
			for _, o := range bench.OpTypeTimes(p.prof) {
				parts = append(parts, fmt.Sprintf("%s ×%d %s", o.OpType, o.Steps, ms(o.PerRun)))
			}
			fmt.Fprintf(b, "onnxrun by op type: %s.\n\n", strings.Join(parts, ", "))
		}
		if p.ortProf != nil {
			var parts []string
			for _, o := range p.ortProf.Ops {
				parts = append(parts, fmt.Sprintf("%s ×%d %s", o.Op, o.Nodes, ms(o.PerRun)))
			}
			fmt.Fprintf(b, "ORT by op type: %s.\n\n", strings.Join(parts, ", "))
		} else if p.ortProfErr != nil {
			fmt.Fprintf(b, "ORT profile: %v.\n\n", p.ortProfErr)
		}
		if !p.w.gemm {
			r.slowestSteps(b, p)
		}
	}
}

// peakLine says which FMA peaks were measured and which one "% of peak" uses.
func (r *results) peakLine(b *strings.Builder) {
	p := r.peaks
	if p == nil {
		return
	}
	var parts []string
	for _, m := range p.all {
		parts = append(parts, fmt.Sprintf("%s %d core%s %.1f GFLOP/s", m.ISA, m.Cores, plural(m.Cores), m.GFLOPS))
	}
	fmt.Fprintf(b, "- Peak float32 FMA throughput, measured by bench/fmapeak (12 independent FMA chains per core, one locked thread per core, best of %d × %v): %s. ",
		r.cfg.peakTrials, r.cfg.peakTrial, strings.Join(parts, "; "))
	if p.overridden > 0 {
		fmt.Fprintf(b, "\"%% of peak\" uses %.1f GFLOP/s per core, given by -peak.\n", p.overridden)
		return
	}
	fmt.Fprintf(b, "\"%% of peak\" uses the %s figures: onnxrun's SGEMM micro-kernel is %s.\n", p.sgemmISA, p.sgemmKernel)
}
