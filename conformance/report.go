package conformance

import (
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/onnxrun/onnxrun/ops"
)

// Counts tallies results by status.
type Counts struct {
	Tests, Passed, Failed, Unsupported, Errors int
}

func (c *Counts) add(s Status) {
	c.Tests++
	switch s {
	case Pass:
		c.Passed++
	case Fail:
		c.Failed++
	case Unsupported:
		c.Unsupported++
	case Error:
		c.Errors++
	}
}

// SuiteStats are the totals of one suite (the folder the cases were found in).
type SuiteStats struct {
	Suite string
	Kind  Kind // the kind of its first case
	All   Counts
	Core  Counts // the cases in the CNN and common-math set (CoreFamily)
}

// OpStats are the node tests of one operator.
type OpStats struct {
	Op     string
	Family string
	Counts
	Opsets []int // distinct opset imports of its passing tests, ascending
	// Kernel lists the opsets a kernel is registered for, e.g. "1-28", "" when there is none.
	Kernel string
}

// FamilyStats are the node tests of one family, core included.
type FamilyStats struct {
	Key string
	Counts
	// Ops are the family's operators that its tests test, sorted; for the core set, only those with a
	// test that does not pass.
	Ops []string
}

// SuiteDescriptions say in a few words where a suite's cases come from, by suite (folder) name.
var SuiteDescriptions = map[string]string{
	"onnx-node-tests": "ONNX 1.23 backend node tests (`../shared/onnx-node-tests`)",
	"onnx-go":         "onnx-go v0.5.0's embedded node tests (`backend/testbackend/onnx`, exported by `make onnxgo-cases`)",
	"models":          "real models with ONNX Runtime's outputs (`../shared/models`)",
	"torchvision":     "torchvision 0.14's ImageNet CNNs, random weights, ONNX Runtime's outputs (`make torchvision-models`)",
	"symbolic":        "models with a symbolic [1,3,H,W] input, compiled once and run at two sizes, ONNX Runtime's outputs at both (`make symbolic-size-models`)",
}

func suiteTitle(suite string) string {
	if d, ok := SuiteDescriptions[suite]; ok {
		return fmt.Sprintf("%s: %s", suite, d)
	}
	return suite
}

// Suites returns the suites in the order their first case appears.
func Suites(results []Result) []SuiteStats {
	var out []SuiteStats
	index := map[string]int{}
	for _, r := range results {
		i, ok := index[r.Suite]
		if !ok {
			i = len(out)
			index[r.Suite] = i
			out = append(out, SuiteStats{Suite: r.Suite, Kind: r.Kind})
		}
		out[i].All.add(r.Status)
		if r.Family == CoreFamily {
			out[i].Core.add(r.Status)
		}
	}
	return out
}

var expandedSuffix = regexp.MustCompile(`_expanded(_ver\d+)?$`)

// SubjectOps returns, for each result, the operators it tests. A test named NAME_expanded (or
// NAME_expanded_verN) runs ONNX's function expansion of the op that test NAME runs, so it is counted for
// that op; any other test counts for the operators it contains, Constant aside unless it is alone.
func SubjectOps(results []Result) [][]string {
	byName := map[string]*Result{}
	for i := range results {
		byName[results[i].Suite+"/"+results[i].Name] = &results[i]
	}
	out := make([][]string, len(results))
	for i, r := range results {
		ops := r.OpTypes
		if loc := expandedSuffix.FindStringIndex(r.Name); loc != nil {
			if twin, ok := byName[r.Suite+"/"+r.Name[:loc[0]]]; ok && len(twin.OpTypes) > 0 {
				ops = twin.OpTypes
			}
		}
		out[i] = withoutConstant(ops)
		if len(out[i]) == 0 {
			out[i] = []string{"(model not read)"}
		}
	}
	return out
}

func withoutConstant(ops []string) []string {
	var out []string
	for _, op := range ops {
		if op != "Constant" {
			out = append(out, op)
		}
	}
	if len(out) == 0 && len(ops) > 0 {
		return ops
	}
	return out
}

// OpTable tallies the node tests of results (models are left out) by the operators they test, sorted
// by operator name.
func OpTable(results []Result) []OpStats {
	subjects := SubjectOps(results)
	byOp := map[string]*OpStats{}
	opsets := map[string]map[int]bool{}
	for i, r := range results {
		if r.Kind != NodeTest {
			continue
		}
		for _, op := range subjects[i] {
			s := byOp[op]
			if s == nil {
				s = &OpStats{Op: op, Family: FamilyOfOp(op), Kernel: kernelOpsets(op)}
				byOp[op] = s
				opsets[op] = map[int]bool{}
			}
			s.add(r.Status)
			if r.Status == Pass && r.Opset > 0 {
				opsets[op][r.Opset] = true
			}
		}
	}
	out := make([]OpStats, 0, len(byOp))
	for op, s := range byOp {
		for v := range opsets[op] {
			s.Opsets = append(s.Opsets, v)
		}
		sort.Ints(s.Opsets)
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Op) < strings.ToLower(out[j].Op) })
	return out
}

// FamilyTable tallies node tests by family: core first, then Families in their order; families with no
// test are left out.
func FamilyTable(results []Result) []FamilyStats {
	byKey := map[string]*FamilyStats{}
	ops := map[string]map[string]bool{}
	subjects := SubjectOps(results)
	for i, r := range results {
		if r.Kind != NodeTest {
			continue
		}
		s := byKey[r.Family]
		if s == nil {
			s = &FamilyStats{Key: r.Family}
			byKey[r.Family] = s
			ops[r.Family] = map[string]bool{}
		}
		s.add(r.Status)
		for _, op := range subjects[i] {
			// For the core set, the operators still failing; for a family, its operators met.
			if FamilyOfOp(op) == r.Family && (r.Family != CoreFamily || r.Status != Pass) {
				ops[r.Family][op] = true
			}
		}
	}
	var out []FamilyStats
	for _, key := range append([]string{CoreFamily}, familyKeys()...) {
		if s := byKey[key]; s != nil {
			s.Ops = sortedKeys(ops[key])
			out = append(out, *s)
		}
	}
	return out
}

func familyKeys() []string {
	keys := make([]string, len(Families))
	for i, f := range Families {
		keys[i] = f.Key
	}
	return keys
}

func familyTitle(key string) string {
	if key == CoreFamily {
		return "CNN and common math (core)"
	}
	if f := FamilyByKey(key); f != nil {
		return f.Title
	}
	return key
}

// kernelOpsets returns the opsets the registry has a kernel for, for an op named as describeModel names
// it, with adjacent ranges merged: "1-28", "7-12, 13-28" only when there is a gap.
func kernelOpsets(op string) string {
	domain, opType, ok := strings.Cut(op, "::")
	if !ok {
		domain, opType = "", op
	}
	var merged []ops.OpsetRange
	for _, r := range ops.Registrations() {
		if r.Domain != domain || r.OpType != opType {
			continue
		}
		if n := len(merged); n > 0 && r.Range.Min <= merged[n-1].Max+1 {
			merged[n-1].Max = max(merged[n-1].Max, r.Range.Max)
			continue
		}
		merged = append(merged, r.Range)
	}
	parts := make([]string, len(merged))
	for i, r := range merged {
		parts[i] = r.String()
	}
	return strings.Join(parts, ", ")
}

// formatOpsets writes ascending numbers with runs collapsed: 7, 9, 11-13.
func formatOpsets(v []int) string {
	var parts []string
	for i := 0; i < len(v); {
		j := i
		for j+1 < len(v) && v[j+1] == v[j]+1 {
			j++
		}
		switch {
		case j == i:
			parts = append(parts, strconv.Itoa(v[i]))
		case j == i+1:
			parts = append(parts, strconv.Itoa(v[i]), strconv.Itoa(v[j]))
		default:
			parts = append(parts, fmt.Sprintf("%d-%d", v[i], v[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// WriteText prints the summary that follows the per-case lines of `onnxrun conformance`: for each suite
// of node tests a table by operator, then the families, then the totals.
func WriteText(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range Suites(results) {
		if s.Kind != NodeTest {
			continue
		}
		rs := suiteResults(results, s.Suite)
		fmt.Fprintf(tw, "\n%s, by operator:\n", s.Suite)
		fmt.Fprintln(tw, "op\tfamily\ttests\tpass\tfail\tunsupported\terror\tkernel opsets\topsets passed")
		for _, o := range OpTable(rs) {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n", o.Op, o.Family, o.Tests, o.Passed, o.Failed, o.Unsupported, o.Errors,
				dashIfEmpty(o.Kernel), formatOpsets(o.Opsets))
		}
		tw.Flush()
		fmt.Fprintf(tw, "\n%s, by family:\n", s.Suite)
		fmt.Fprintln(tw, "family\ttests\tpass\tfail\tunsupported\terror")
		for _, f := range FamilyTable(rs) {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\n", f.Key, f.Tests, f.Passed, f.Failed, f.Unsupported, f.Errors)
		}
		tw.Flush()
	}
	fmt.Fprintln(tw, "\nsuite\tcases\tpass\tfail\tunsupported\terror\tcore set passing")
	for _, s := range Suites(results) {
		core := "-"
		if s.Kind == NodeTest {
			core = fmt.Sprintf("%d of %d", s.Core.Passed, s.Core.Tests)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\n", s.Suite, s.All.Tests, s.All.Passed, s.All.Failed, s.All.Unsupported, s.All.Errors, core)
	}
	return tw.Flush()
}

func suiteResults(results []Result, suite string) []Result {
	var out []Result
	for _, r := range results {
		if r.Suite == suite {
			out = append(out, r)
		}
	}
	return out
}

// MarkdownOptions add what the results alone do not say to the Markdown report.
type MarkdownOptions struct {
	// Command is the command line that made the report, quoted in its header.
	Command string
	// Notes are paragraphs added after the totals (for sources that were not run, say).
	Notes []string
}

// WriteMarkdown writes CONFORMANCE.md: totals per suite, the whole models, what is left by family, a table
// per operator for each suite of node tests, and the reason of every case that does not pass.
func WriteMarkdown(w io.Writer, results []Result, opts MarkdownOptions) error {
	b := &strings.Builder{}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("# Conformance\n\n")
	p("What onnxrun runs, checked against reference outputs. Generated by `make conformance`")
	if opts.Command != "" {
		p(" (`%s`)", opts.Command)
	}
	p("; edit the code, not this file.\n\n")
	p("Node tests are compared with ONNX's tolerance: |got - want| <= %g + %g·|want| for floating point, exact for "+
		"integers, bools and strings, NaN equal to NaN. Whole models are compared with ONNX Runtime's outputs within "+
		"%g + %g·|want|. ", DefaultTolerance.ATol, DefaultTolerance.RTol, ModelTolerance.ATol, ModelTolerance.RTol)
	if ovs, err := Overrides(); err == nil {
		known, fails := 0, 0
		for _, o := range ovs {
			switch {
			case o.Known:
				known++
			case o.Fails:
				fails++
			}
		}
		p("`conformance/overrides.txt` gives %d cases their own tolerance, explains %d known failures that are not onnxrun's "+
			"and names %d cases or groups of cases onnxrun does not pass yet, each with its reason.", len(ovs)-known-fails, known, fails)
	}
	p("\n\n%s", otherRulesParagraph)
	p("\n\nA node test is in the **core set** (CNN and common math) when none of its operators or input/output " +
		"types belongs to one of the families of [What is left](#what-is-left). " +
		"Statuses: *fail* ran but differs from the reference; *unsupported* refused at compile time (an operator, opset " +
		"or type onnxrun lacks); *error* failed while running or could not be read.\n\n")

	p("## Totals\n\n| suite | cases | pass | fail | unsupported | error |\n|---|---:|---:|---:|---:|---:|\n")
	for _, s := range Suites(results) {
		c := s.All
		p("| %s | %d | %d | %d | %d | %d |\n", suiteTitle(s.Suite), c.Tests, c.Passed, c.Failed, c.Unsupported, c.Errors)
		if s.Kind == NodeTest && s.Core.Tests != s.All.Tests {
			c = s.Core
			p("| &nbsp;&nbsp;of which the core set | %d | %d | %d | %d | %d |\n", c.Tests, c.Passed, c.Failed, c.Unsupported, c.Errors)
		}
	}
	p("\n")
	for _, n := range opts.Notes {
		p("%s\n\n", strings.TrimSpace(n))
	}

	var models []Result
	for _, r := range results {
		if r.Kind == ModelDir {
			models = append(models, r)
		}
	}
	if len(models) > 0 {
		p("## Whole models\n\nEach model runs at the batch of its input file and, when its batch dimension is symbolic, " +
			"again at batch 1; time is one compile plus all runs, one thread.\n\n")
		p("| model | suite | opset | operators | status | worst \\|diff\\| | time |\n|---|---|---:|---|---|---:|---:|\n")
		for _, r := range models {
			status := r.Status.String()
			if r.Status != Pass {
				status += ": " + mdEscape(Shorten(r.Reason, 200))
			}
			p("| %s | %s | %d | %s | %s | %.2g | %s |\n", r.Name, r.Suite, r.Opset, strings.Join(r.OpTypes, ", "),
				status, r.WorstAbs, r.Elapsed.Round(100*time.Millisecond))
		}
		p("\n")
	}

	for _, s := range Suites(results) {
		if s.Kind != NodeTest {
			continue
		}
		rs := suiteResults(results, s.Suite)
		p("## What is left\n\n")
		if len(Suites(results)) > 1 {
			p("In %s. ", s.Suite)
		}
		p("Node tests by family: the core set first, then the families onnxrun does not cover yet and what each " +
			"would take.\n\n| family | tests | pass | operators | what it would take |\n|---|---:|---:|---|---|\n")
		for _, f := range FamilyTable(rs) {
			work := ""
			if fam := FamilyByKey(f.Key); fam != nil {
				work = fam.Work
			} else if len(f.Ops) > 0 {
				work = "Kernels for the operators listed, which have core tests that do not pass (see below)."
			}
			p("| %s | %d | %d | %s | %s |\n", familyTitle(f.Key), f.Tests, f.Passed, strings.Join(f.Ops, ", "), work)
		}
		p("\n")
		break // one family section, from the first suite of node tests
	}

	for _, s := range Suites(results) {
		if s.Kind != NodeTest {
			continue
		}
		rs := suiteResults(results, s.Suite)
		p("## %s by operator\n\n%s. A test counts for the operator it tests (an `_expanded` test for the op it expands); "+
			"*kernel* gives the opsets onnxrun has a kernel for, *passing at* the opset imports of the passing tests.\n\n", s.Suite, suiteTitle(s.Suite))
		p("| op | family | tests | pass | fail | unsupported | error | kernel | passing at |\n|---|---|---:|---:|---:|---:|---:|---|---|\n")
		for _, o := range OpTable(rs) {
			p("| %s | %s | %d | %d | %s | %s | %s | %s | %s |\n", o.Op, o.Family, o.Tests, o.Passed,
				blankZero(o.Failed), blankZero(o.Unsupported), blankZero(o.Errors), dashIfEmpty(o.Kernel), formatOpsets(o.Opsets))
		}
		p("\n")
	}

	var coreFailing, otherFailing []Result
	for _, r := range results {
		switch {
		case r.Status == Pass:
		case r.Family == CoreFamily:
			coreFailing = append(coreFailing, r)
		default:
			otherFailing = append(otherFailing, r)
		}
	}
	failureTable := func(rs []Result) {
		p("| case | suite | family | status | reason |\n|---|---|---|---|---|\n")
		for _, r := range rs {
			p("| %s | %s | %s | %s | %s |\n", r.Name, r.Suite, r.Family, r.Status, mdEscape(Shorten(r.Reason, 240)))
		}
	}
	if len(coreFailing) > 0 {
		p("## Core-set cases that do not pass\n\nThe cases that should pass: a missing kernel, a missing element type, or a " +
			"reference known to be wrong (*known:*, from `conformance/overrides.txt`).\n\n")
		failureTable(coreFailing)
		p("\n")
	}
	if len(otherFailing) > 0 {
		p("## Other cases that do not pass\n\nThe cases of the families above.\n\n<details><summary>%d cases</summary>\n\n", len(otherFailing))
		failureTable(otherFailing)
		p("\n</details>\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func blankZero(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// mdEscape keeps a message inside one Markdown table cell.
func mdEscape(s string) string {
	r := strings.NewReplacer("|", "\\|", "<", "&lt;", ">", "&gt;", "\n", " ")
	return r.Replace(s)
}

// otherRulesParagraph says which node tests overrides.txt checks by a rule other than a tolerance, and why.
const otherRulesParagraph = "Two families are checked by rules of their own. Bernoulli's references are draws of numpy's " +
	"global random stream, which no other generator reproduces: its cases are checked by their distribution (the " +
	"reference's dtype and shape, values in {0, 1}, a number of ones within 4 sigma of what the probabilities lead to " +
	"expect; the `bernoulli` lines of overrides.txt). ImageDecoder's JPEG cases (test_image_decoder_decode_jpeg_rgb, " +
	"_bgr and _grayscale) are compared within 2 levels (the `levels` lines): their references come from Pillow, whose " +
	"JPEG decoder is libjpeg's, and onnxrun decodes with Go's image/jpeg, whose inverse DCT rounds otherwise than " +
	"libjpeg's integer one, so about 1.5% of the luma and chroma samples differ by 1, and RGB values by up to 2 after " +
	"colour conversion. Everything after the inverse DCT (libjpeg-turbo's fancy chroma upsampling, its YCbCr-to-RGB " +
	"tables, Pillow's grayscale rule) is reproduced bit for bit, and PNG, BMP, TIFF, PNM and WebP decode bit for bit."
