package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/pflag"

	"github.com/onnxrun/onnxrun/conformance"
)

func conformanceCommand() *command {
	return &command{
		name:    "conformance",
		summary: "run folders of ONNX backend tests or reference models and report what passes",
		usage:   "conformance [flags] DIR...",
		help: `Conformance runs every test case found in each DIR: a folder that is a case itself, or a folder of
cases. A case is a model.onnx with either ONNX's backend-test data (test_data_set_N/input_K.pb and
output_K.pb, as in ONNX's node tests and ONNX Runtime's onnx_test_runner) or reference-model data
(input_K.npy and expected_K.npy, the outputs of ONNX Runtime, as in ../shared/models).

Outputs are compared with ONNX's tolerance, |got - want| <= 1e-7 + 1e-3*|want| (exact for integers, bools
and strings; NaN equals NaN), and whole models with 1e-4 + 1e-4*|want|. A data set must have reference
outputs, and the engine must give exactly as many outputs as the reference has, as ONNX's own runner
requires. The cases that need another tolerance, and those that do not pass, are listed with their
reasons in conformance/overrides.txt.

It prints one line per case: pass with the worst |diff| (and how much of the tolerance it used), or
FAIL, unsupported or ERROR with the reason. Then, for each folder of node tests, a table by operator
(tests, passes, failures, the opsets that pass) and by family (the CNN and common-math core set, then
control flow, RNNs, quantization, ...), and the totals.

--markdown writes the same report as Markdown (CONFORMANCE.md). --write-expected writes the names of
the passing cases, the list CI holds the suite to. --expected checks a run against such a list.

Exit status: 0 when the run completes, whatever passed; 1 when --expected is given and a listed case
did not pass (a regression), or a folder cannot be read; 2 on a malformed command line.`,
		examples: []string{
			"onnxrun conformance ../shared/onnx-node-tests",
			"onnxrun conformance --run '^test_conv' -v ../shared/onnx-node-tests",
			"onnxrun conformance -q --expected conformance/expected_pass.txt ../shared/onnx-node-tests",
			"onnxrun conformance --markdown CONFORMANCE.md ../shared/onnx-node-tests ../shared/models",
		},
		define: func(fs *pflag.FlagSet) func(*env, []string) error {
			var o conformanceOptions
			fs.StringVar(&o.pattern, "run", "", "only the cases whose folder name matches this regular expression")
			fs.IntVarP(&o.jobs, "jobs", "j", 0, "cases run at once (0: one per CPU)")
			o.quiet = switchFlag(fs, "quiet", "q", "print only the cases that do not pass, then the summary")
			o.noSummary = switchFlag(fs, "no-summary", "", "print the case lines and totals, not the tables by operator and family")
			fs.StringVar(&o.markdown, "markdown", "", "write the report as Markdown to this file")
			fs.StringVar(&o.writeExpected, "write-expected", "", "write the names of the passing cases to this file")
			fs.StringVar(&o.expected, "expected", "", "check against this list of cases that must pass")
			return o.run
		},
	}
}

type conformanceOptions struct {
	pattern       string
	jobs          int
	quiet         *bool
	noSummary     *bool
	markdown      string
	writeExpected string
	expected      string
}

// expectedHeader heads a file written by --write-expected.
const expectedHeader = `Cases that pass: CI fails when one of them stops passing (conformance tests, or
onnxrun conformance --expected). Regenerate with make expected-pass after a change makes more pass.`

func (o *conformanceOptions) run(e *env, args []string) error {
	cmd := findCommand("conformance")
	if len(args) == 0 {
		return usagef(cmd, "missing the folder of test cases (e.g. ../shared/onnx-node-tests)")
	}
	if o.jobs < 0 {
		return usagef(cmd, "--jobs must be 0 or more, got %d", o.jobs)
	}
	var filter *regexp.Regexp
	if o.pattern != "" {
		var err error
		if filter, err = regexp.Compile(o.pattern); err != nil {
			return usagef(cmd, "--run %q: %v", o.pattern, err)
		}
	}
	if _, err := conformance.Overrides(); err != nil {
		return err
	}
	var expected map[string]bool
	if o.expected != "" {
		var err error
		if expected, err = conformance.ExpectedPass(o.expected); err != nil {
			return fmt.Errorf("--expected: %w", err)
		}
	}
	cases, err := conformance.Discover(args...)
	if err != nil {
		return err
	}
	if filter != nil {
		kept := cases[:0]
		for _, c := range cases {
			if filter.MatchString(c.Name) {
				kept = append(kept, c)
			}
		}
		cases = kept
	}
	if len(cases) == 0 {
		return fmt.Errorf("no case in %s matches --run %q", strings.Join(args, ", "), o.pattern)
	}

	results := conformance.RunAll(cases, o.jobs, func(r conformance.Result) {
		if !*o.quiet || r.Status != conformance.Pass {
			fmt.Fprintln(e.stdout, r.SummaryLine())
		}
	})
	if *o.noSummary {
		printTotals(e, results)
	} else if err := conformance.WriteText(e.stdout, results); err != nil {
		return err
	}

	if o.markdown != "" {
		var b strings.Builder
		opts := conformance.MarkdownOptions{Command: "onnxrun conformance --markdown " + o.markdown + " " + strings.Join(relativePaths(args), " ")}
		if err := conformance.WriteMarkdown(&b, results, opts); err != nil {
			return err
		}
		if err := os.WriteFile(o.markdown, []byte(b.String()), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote %s\n", o.markdown)
	}
	if o.writeExpected != "" {
		if err := conformance.WriteExpected(o.writeExpected, results, expectedHeader); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote %s\n", o.writeExpected)
	}
	if expected != nil {
		return reportExpected(e, o.expected, conformance.CheckExpected(results, expected), filter != nil)
	}
	return nil
}

func printTotals(e *env, results []conformance.Result) {
	for _, s := range conformance.Suites(results) {
		c := s.All
		fmt.Fprintf(e.stdout, "%s: %d cases, %d pass, %d fail, %d unsupported, %d error\n", s.Suite, c.Tests, c.Passed, c.Failed, c.Unsupported, c.Errors)
	}
}

// reportExpected prints the cases that newly pass (so the list can grow) and fails on regressions.
// Listed cases that did not run are mentioned only when no --run filter explains it.
func reportExpected(e *env, file string, c conformance.ExpectedCheck, filtered bool) error {
	if len(c.NewlyPassing) > 0 {
		fmt.Fprintf(e.stdout, "\n%d cases pass but are not in %s (add them with make expected-pass):\n", len(c.NewlyPassing), file)
		for _, n := range c.NewlyPassing {
			fmt.Fprintf(e.stdout, "  %s\n", n)
		}
	}
	if len(c.Missing) > 0 && !filtered {
		fmt.Fprintf(e.stdout, "\n%d cases of %s were not found:\n", len(c.Missing), file)
		for _, n := range c.Missing {
			fmt.Fprintf(e.stdout, "  %s\n", n)
		}
	}
	if len(c.Regressions) == 0 {
		fmt.Fprintf(e.stdout, "\nno regression against %s\n", file)
		return nil
	}
	fmt.Fprintf(e.stdout, "\n%d regressions: listed in %s, but did not pass:\n", len(c.Regressions), file)
	for _, r := range c.Regressions {
		fmt.Fprintf(e.stdout, "  %s\n", r.SummaryLine())
	}
	return fmt.Errorf("%d cases of %s no longer pass (the first: %s, %s)", len(c.Regressions), file, c.Regressions[0].Name, c.Regressions[0].Status)
}

// relativePaths rewrites absolute paths relative to the working directory, so that the command quoted in
// a generated report reads the same on every machine (../shared/onnx-node-tests, not /home/...).
func relativePaths(paths []string) []string {
	wd, err := os.Getwd()
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = p
		if err != nil || !filepath.IsAbs(p) {
			continue
		}
		if rel, err := filepath.Rel(wd, p); err == nil {
			out[i] = rel
		}
	}
	return out
}
