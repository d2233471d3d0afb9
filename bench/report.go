package bench

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// Millis formats d in milliseconds with 3 significant decimals for short times: "0.034", "1.12", "36.1".
func Millis(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms < 1:
		return fmt.Sprintf("%.3f", ms)
	case ms < 10:
		return fmt.Sprintf("%.2f", ms)
	case ms < 1000:
		return fmt.Sprintf("%.1f", ms)
	}
	return fmt.Sprintf("%.0f", ms)
}

// WriteText prints the result the way `onnxrun bench` shows it, then the profile when there is one.
func (r *Result) WriteText(w io.Writer, top int) {
	ins := make([]string, len(r.Inputs))
	for i, in := range r.Inputs {
		ins[i] = fmt.Sprintf("%s %s%v", in.Name, in.DType, shapeString(in.Shape))
	}
	l := r.Latency
	fmt.Fprintf(w, "model       %s\n", r.Model)
	fmt.Fprintf(w, "inputs      %s (batch %d)\n", strings.Join(ins, ", "), r.Batch)
	fmt.Fprintf(w, "threads     %d\n", r.Threads)
	fmt.Fprintf(w, "load        %s ms (read, decode, compile); first run %s ms (plans the shapes, binds memory)\n", Millis(r.LoadTime), Millis(r.FirstRun))
	fmt.Fprintf(w, "latency     p50 %s ms, p90 %s ms, p99 %s ms (min %s, mean %s ± %s, max %s; %d runs)\n",
		Millis(l.P50), Millis(l.P90), Millis(l.P99), Millis(l.Min), Millis(l.Mean), Millis(l.Stddev), Millis(l.Max), l.N)
	fmt.Fprintf(w, "throughput  %.1f samples/s\n", r.Throughput)
	c := r.Count
	fmt.Fprintf(w, "compute     %.4g GFLOP per run, %.1f GFLOP/s at p50 (%d of %d steps counted", float64(c.FLOPs())/1e9, r.GFLOPS, c.CountedSteps, c.CountedSteps+c.Uncounted)
	if c.FromKernels > 0 {
		fmt.Fprintf(w, "; %.4g GFLOP as the kernels report it", float64(2*c.FromKernels)/1e9)
	}
	fmt.Fprintf(w, ")\n")
	m := r.Memory
	peak := "n/a"
	if m.PeakRSS > 0 {
		peak = Bytes(m.PeakRSS)
	}
	fmt.Fprintf(w, "memory      peak RSS %s; Go heap %s in use (%s from the OS); arena %s + scratch %s; weights %s\n",
		peak, Bytes(int64(m.Go.HeapInuse)), Bytes(int64(m.Go.HeapSys)), Bytes(m.ArenaBytes), Bytes(m.ScratchBytes), Bytes(m.WeightBytes))
	if r.Profile != nil {
		fmt.Fprintln(w)
		WriteProfile(w, r.Profile, top)
	}
}

// NodeTime is one step's share of a profile.
type NodeTime struct {
	Index   int // position in the plan
	Node    string
	OpType  string // with its domain when not the default one: "onnxrun.FusedConv"
	Output  ops.Shape
	PerRun  time.Duration
	Share   float64 // of the time spent in kernels, 0..1
	MACs    int64
	GFLOPS  float64
	Counted MACSource
	// ForksPerRun is the parallel sections the kernel opened per run (0 when it ran on one thread).
	ForksPerRun float64
}

// OpTypeTime is the time all steps of one op type take.
type OpTypeTime struct {
	OpType string
	Steps  int
	PerRun time.Duration
	Share  float64
	MACs   int64
	GFLOPS float64
}

func opName(st runtime.StepProfile) string { return qualifiedOp(st.Domain, st.OpType) }

func qualifiedOp(domain, opType string) string {
	if domain != "" {
		return domain + "." + opType
	}
	return opType
}

// NodeTimes lists the steps of a profile, slowest first, with their time per run.
func NodeTimes(p *runtime.Profile) []NodeTime {
	runs := max(p.Runs, 1)
	var total time.Duration
	for _, st := range p.Steps {
		total += st.Time
	}
	out := make([]NodeTime, len(p.Steps))
	for i, st := range p.Steps {
		macs, src := StepMACs(st)
		per := st.Time / time.Duration(runs)
		nt := NodeTime{Index: i, Node: st.Node, OpType: opName(st), PerRun: per, MACs: macs, Counted: src, GFLOPS: GFLOPS(macs, per),
			ForksPerRun: float64(st.Forks) / float64(runs)}
		if len(st.OutputShapes) > 0 {
			nt.Output = st.OutputShapes[0]
		}
		if total > 0 {
			nt.Share = float64(st.Time) / float64(total)
		}
		out[i] = nt
	}
	slices.SortStableFunc(out, func(a, b NodeTime) int { return int(b.PerRun - a.PerRun) })
	return out
}

// OpTypeTimes adds a profile's steps up by op type, slowest first.
func OpTypeTimes(p *runtime.Profile) []OpTypeTime {
	runs := max(p.Runs, 1)
	var total time.Duration
	byType := map[string]*OpTypeTime{}
	var order []string
	for _, st := range p.Steps {
		name := opName(st)
		o, ok := byType[name]
		if !ok {
			o = &OpTypeTime{OpType: name}
			byType[name] = o
			order = append(order, name)
		}
		macs, _ := StepMACs(st)
		o.Steps++
		o.PerRun += st.Time
		o.MACs += macs
		total += st.Time
	}
	out := make([]OpTypeTime, 0, len(order))
	for _, name := range order {
		o := byType[name]
		if total > 0 {
			o.Share = float64(o.PerRun) / float64(total)
		}
		o.PerRun /= time.Duration(runs)
		o.GFLOPS = GFLOPS(o.MACs, o.PerRun)
		out = append(out, *o)
	}
	slices.SortStableFunc(out, func(a, b OpTypeTime) int { return int(b.PerRun - a.PerRun) })
	return out
}

// WriteProfile prints where the time of a run goes: by op type, then the top slowest steps (all when
// top <= 0), with their share of the kernel time and the GFLOP/s of the counted ones.
func WriteProfile(w io.Writer, p *runtime.Profile, top int) {
	if p.Dynamic {
		fmt.Fprintf(w, "profile: the plan is dynamic (shapes depend on input values), so the graph is evaluated while planning and there are no steps to time; %s ms per run\n", Millis(p.Mean()))
		return
	}
	var kernels time.Duration
	for _, st := range p.Steps {
		kernels += st.Time
	}
	runs := max(p.Runs, 1)
	fmt.Fprintf(w, "profile over %d runs: %s ms per run, %s ms of it in %d kernels\n\n", p.Runs, Millis(p.Mean()), Millis(kernels/time.Duration(runs)), len(p.Steps))

	types := textTable{header: []string{"op type", "steps", "ms/run", "share", "GFLOP/s"}, left: 1}
	for _, o := range OpTypeTimes(p) {
		types.add(o.OpType, fmt.Sprint(o.Steps), Millis(o.PerRun), fmt.Sprintf("%.1f%%", 100*o.Share), gflopsCell(o.MACs, o.GFLOPS))
	}
	types.write(w)
	fmt.Fprintln(w)

	nodes := NodeTimes(p)
	title := "steps, slowest first"
	if top > 0 && top < len(nodes) {
		title = fmt.Sprintf("the %d slowest of %d steps", top, len(nodes))
		nodes = nodes[:top]
	}
	fmt.Fprintln(w, title+":")
	// A session with more than one thread gets a forks column: the parallel sections each kernel opened per
	// run, which tells a kernel kept on one thread (0) from one cut into many small sections.
	threaded := false
	for _, st := range p.Steps {
		threaded = threaded || st.Forks > 0
	}
	header := []string{"#", "node", "op type", "output", "ms/run", "share", "cum", "GFLOP/s"}
	if threaded {
		header = append(header, "forks")
	}
	steps := textTable{header: header, left: 4}
	cum := 0.0
	for _, n := range nodes {
		cum += n.Share
		cells := []string{fmt.Sprint(n.Index), n.Node, n.OpType, shapeString(n.Output), Millis(n.PerRun),
			fmt.Sprintf("%.1f%%", 100*n.Share), fmt.Sprintf("%.1f%%", 100*cum), gflopsCell(n.MACs, n.GFLOPS)}
		if threaded {
			cells = append(cells, strconv.FormatFloat(n.ForksPerRun, 'f', -1, 64))
		}
		steps.add(cells...)
	}
	steps.write(w)
	writeBodies(w, p)
}

// writeBodies prints, for each control-flow step, what ran inside its bodies, indented under the node
// (two spaces per level): each body with its runs per model run, then each of its nodes that ran with
// its calls and time per model run, nested bodies under their node in turn.
func writeBodies(w io.Writer, p *runtime.Profile) {
	runs := time.Duration(max(p.Runs, 1))
	first := true
	for i, st := range p.Steps {
		if len(st.Bodies) == 0 {
			continue
		}
		if first {
			fmt.Fprintln(w, "\ninside control-flow bodies (per run of the model; calls add up every iteration):")
			first = false
		}
		fmt.Fprintf(w, "#%d %s (%s)  %s ms/run\n", i, st.Node, opName(st), Millis(st.Time/runs))
		writeBodyProfiles(w, st.Bodies, runs, "  ")
	}
}

func writeBodyProfiles(w io.Writer, bodies []runtime.BodyProfile, runs time.Duration, indent string) {
	for _, b := range bodies {
		fmt.Fprintf(w, "%s%s: %s runs/run\n", indent, b.Attr, perRun(b.Runs, runs))
		for _, st := range b.Steps {
			if st.Calls == 0 {
				continue
			}
			fmt.Fprintf(w, "%s  %s (%s)  %s calls/run  %s ms/run\n", indent, st.Node, qualifiedOp(st.Domain, st.OpType), perRun(st.Calls, runs), Millis(st.Time/runs))
			writeBodyProfiles(w, st.Bodies, runs, indent+"    ")
		}
	}
}

// perRun is a count divided by the number of runs, without decimals when it divides evenly.
func perRun(n int, runs time.Duration) string {
	if n%int(runs) == 0 {
		return fmt.Sprint(n / int(runs))
	}
	return fmt.Sprintf("%.2f", float64(n)/float64(runs))
}

// textTable prints rows in columns two spaces apart: the first `left` columns (after a leading "#"
// column, which is right-aligned like the numbers) aligned left, the rest right.
type textTable struct {
	header []string
	left   int
	rows   [][]string
}

func (t *textTable) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *textTable) write(w io.Writer) {
	widths := make([]int, len(t.header))
	for _, row := range append([][]string{t.header}, t.rows...) {
		for i, c := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	leftCol := func(i int) bool {
		if t.header[0] == "#" {
			return i >= 1 && i < t.left
		}
		return i < t.left
	}
	for _, row := range append([][]string{t.header}, t.rows...) {
		var b strings.Builder
		for i, c := range row {
			if i > 0 {
				b.WriteString("  ")
			}
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if leftCol(i) {
				b.WriteString(c + pad)
			} else {
				b.WriteString(pad + c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

func gflopsCell(macs int64, g float64) string {
	if macs == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", g)
}

// shapeString renders [8 3 32 32] as [8,3,32,32].
func shapeString(s ops.Shape) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, ",") + "]"
}
