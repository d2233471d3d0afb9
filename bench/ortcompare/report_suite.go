package main

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/onnxrun/onnxrun/bench"
)

// opTypeRows is how many op types the side-by-side tables list per runtime.
const opTypeRows = 10

// geomeanCheck is issue 15's target on the real-architecture suite as a whole: the geometric mean of the
// onnxrun/ORT ratios of all its rows (every model, batch and thread count) at most 0.9x.
func (r *results) geomeanCheck() (check, bool) {
	var logSum float64
	n := 0
	for _, p := range r.pairs {
		if p.w.suite != suiteReal || p.ratio() <= 0 {
			continue
		}
		logSum += math.Log(p.ratio())
		n++
	}
	if n == 0 {
		return check{}, false
	}
	g := math.Exp(logSum / float64(n))
	c := check{what: fmt.Sprintf("real architectures: geometric mean of the onnxrun / ORT ratios ≤ %.1f×", suiteTargetGeomean),
		measured: fmt.Sprintf("%.2f× over %d rows", g, n), met: g <= suiteTargetGeomean}
	if !c.met {
		c.gap = fmt.Sprintf("missed by %.2f×", g-suiteTargetGeomean)
	}
	return c, true
}

// suiteNames lists the suites the run covered, in their usual order.
func (r *results) suiteNames() []string {
	var out []string
	for _, s := range allSuites {
		if r.cfg.suites[s] {
			out = append(out, s)
		}
	}
	return out
}

// elementRate is elements per run over the time of a run, in millions or billions per second.
func elementRate(elements int64, d time.Duration) string {
	if d <= 0 {
		return "–"
	}
	perSecond := float64(elements) / d.Seconds()
	if perSecond >= 1e9 {
		return fmt.Sprintf("%.2f G", perSecond/1e9)
	}
	return fmt.Sprintf("%.0f M", perSecond/1e6)
}

// operatorTable gives the single-operator workloads in elements per second on both sides.
func (r *results) operatorTable(b *strings.Builder) {
	var rows []string
	for _, p := range r.pairs {
		if p.w.elements == 0 {
			continue
		}
		rows = append(rows, fmt.Sprintf("| %s | %d | %s | %s | %.2f× | %.1e | %s |", p.w.name, p.threads,
			elementRate(p.w.elements, p.onnxrun.Latency.P50), elementRate(p.w.elements, p.ort.Latency.P50), p.ratio(), p.diff, p.load))
	}
	writeSection(b, "## Single operators\n\nOne-node models (the SiLU and Erf-form GELU rows: the nodes torch exports) on float32 inputs in [−4, 4), built in memory, in rows of 1024 (LayerNormalization: rows of 768, so its 16K and 4M are 16,128 and 4,194,048 elements). "+
		"Input elements per second at p50; the target is at least ORT's throughput (a time ratio ≤ 1). ORT fuses Sigmoid→Mul and the Erf-form GELU chain into one kernel of its own.\n\n"+
		"| operator | threads | onnxrun elements/s | ORT elements/s | onnxrun / ORT time | max abs diff | load |\n|---|--:|--:|--:|--:|--:|--:|\n", rows)
}

// writeSection writes a section's heading, text and table header, then its rows; nothing when there are
// no rows (the run did not measure it).
func writeSection(b *strings.Builder, head string, rows []string) {
	if len(rows) == 0 {
		return
	}
	b.WriteString(head)
	b.WriteString(strings.Join(rows, "\n") + "\n\n")
}

// depthwiseTable gives MobileNetV2's depthwise convolutions in GFLOP/s against the peak.
func (r *results) depthwiseTable(b *strings.Builder) {
	var rows []string
	for _, p := range r.pairs {
		if p.w.peakTarget1 == 0 || p.w.gemm {
			continue
		}
		peak := r.peaks.forThreads(p.threads)
		target := p.w.peakTarget1
		if p.threads > 1 {
			target = p.w.peakTargetN
		}
		ga, go_ := bench.GFLOPS(p.w.macs, p.onnxrun.Latency.P50), bench.GFLOPS(p.w.macs, p.ort.Latency.P50)
		rows = append(rows, fmt.Sprintf("| %s | %d | %s | %.1f | %.0f%% | %.1f | %.0f%% | %.2f× | ≥ %.0f%% (%.1f) |", p.w.name, p.threads,
			ms(p.onnxrun.Latency.P50), ga, 100*ga/peak, go_, 100*go_/peak, p.ratio(), 100*target, target*peak))
	}
	writeSection(b, "## Depthwise convolution\n\nThe depthwise 3×3 convolutions of MobileNetV2 at 224², batch 1 (pads 1, bias, no activation; one row per distinct shape), GFLOP/s at p50 against the measured FMA peak of the cores used.\n\n"+
		"| layer | threads | onnxrun p50 | onnxrun GFLOP/s | of peak | ORT GFLOP/s | of peak | onnxrun / ORT | target |\n|---|--:|--:|--:|--:|--:|--:|--:|---|\n", rows)
}

// opTypeTables gives, per model of the real-architecture suite at 1 thread, both runtimes' op types side
// by side, slowest first: the time per run in kernels of each op type (from the profiled runs, scaled to
// the p50) and its share of the p50.
func (r *results) opTypeTables(b *strings.Builder) {
	first := true
	for _, p := range r.pairs {
		if p.w.suite != suiteReal || p.threads != 1 || (p.prof == nil && p.ortProf == nil) {
			continue
		}
		if first {
			b.WriteString("## By op type: the real architectures at 1 thread\n\nEach runtime's op types after its own graph optimisations (ORT's FusedConv is a Conv with its activation; onnxrun's fused nodes are in the onnxrun domain), slowest first: nodes, time per run scaled to the p50 from the profiled runs, and share of the p50.\n\n")
			first = false
		}
		fmt.Fprintf(b, "### %s\n\n", p.w.name)
		ours := opTypeCells(p)
		theirs := ortOpTypeCells(p)
		b.WriteString("| # | onnxrun op | nodes | ms | share | ORT op | nodes | ms | share |\n|--:|---|--:|--:|--:|---|--:|--:|--:|\n")
		for i := 0; i < max(len(ours), len(theirs)) && i < opTypeRows; i++ {
			cell := func(cells []string) string {
				if i < len(cells) {
					return cells[i]
				}
				return " | | | "
			}
			fmt.Fprintf(b, "| %d | %s | %s |\n", i+1, cell(ours), cell(theirs))
		}
		fmt.Fprintf(b, "| | **p50** | | **%s** | | **ORT p50** | | **%s** | |\n\n", bench.Millis(p.onnxrun.Latency.P50), bench.Millis(p.ort.Latency.P50))
		if p.ortProfErr != nil {
			fmt.Fprintf(b, "ORT profile: %v.\n\n", p.ortProfErr)
		}
	}
}

// opTypeCells are onnxrun's op types of a pair as table cells (op | nodes | ms | share).
func opTypeCells(p *pair) []string {
	if p.prof == nil {
		return nil
	}
	sc := profileScale(p)
	var out []string
	for _, o := range bench.OpTypeTimes(p.prof) {
		out = append(out, typeCell(o.OpType, o.Steps, time.Duration(float64(o.PerRun)*sc), p.onnxrun.Latency.P50))
	}
	return out
}

// ortOpTypeCells are ORT's op types of a pair as table cells.
func ortOpTypeCells(p *pair) []string {
	if p.ortProf == nil || p.ortProf.PerRun <= 0 {
		return nil
	}
	sc := float64(p.ort.Latency.P50) / float64(p.ortProf.PerRun)
	var out []string
	for _, o := range p.ortProf.Ops {
		out = append(out, typeCell(o.Op, o.Nodes, time.Duration(float64(o.PerRun)*sc), p.ort.Latency.P50))
	}
	return out
}

func typeCell(op string, nodes int, perRun, p50 time.Duration) string {
	share := 0.0
	if p50 > 0 {
		share = 100 * float64(perRun) / float64(p50)
	}
	return fmt.Sprintf("%s | %d | %s | %.1f%%", op, nodes, bench.Millis(perRun), share)
}
