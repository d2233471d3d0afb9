package main

import "testing"

// A rewrite of BENCHMARKS.md keeps the Serving section the serve package's load test wrote, and nothing
// else of the old file.
func TestKeptSections(t *testing.T) {
	old := "# Benchmarks\n\n## Latency\n\nold rows\n\n## Serving\n\nserving rows\n\n## Other\n\nx\n"
	report := "# Benchmarks\n\n## Latency\n\nnew rows\n"
	if got, want := keptSections(old, report), "\n## Serving\n\nserving rows\n"; got != want {
		t.Errorf("kept %q, want %q", got, want)
	}
	if got := keptSections(old, report+"\n## Serving\n\nnew serving\n"); got != "" {
		t.Errorf("kept %q from the old file although the report has its own Serving section", got)
	}
	if got := keptSections("# Benchmarks\n", report); got != "" {
		t.Errorf("kept %q from a file without the section", got)
	}
}
