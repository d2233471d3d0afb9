package main

import (
	"context"
	"runtime/debug"
	"strings"
	"testing"
)

func TestParseByteSize(t *testing.T) {
	for in, want := range map[string]int64{
		"512MiB": 512 << 20, "2GB": 2_000_000_000, "2gib": 2 << 30, "1.5 GiB": 3 << 29, "1048576": 1 << 20,
		"100B": 100, "64KiB": 64 << 10, "3 kb": 3000, "0": 0, "1TiB": 1 << 40,
	} {
		if got, err := parseByteSize(in); err != nil || got != want {
			t.Errorf("parseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for in, msg := range map[string]string{
		"512M":       `unknown unit "M"`,
		"2 GBs":      `unknown unit "GBs"`,
		"MiB":        `"" is not a number`,
		"-1GiB":      `"-1" is not a number of 0 or more`,
		"":           `"" is not a number`,
		"9000000TiB": "over the largest size",
		"1,5GiB":     `"1,5" is not a number`,
	} {
		if _, err := parseByteSize(in); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("parseByteSize(%q): error %v, want one with %q", in, err, msg)
		}
	}
}

// --memory-limit sets the Go runtime's limit while the server runs, and the command puts the previous
// one back when it returns; a malformed size is a usage error.
func TestServeMemoryLimit(t *testing.T) {
	model, _ := lenet(t)
	before := debug.SetMemoryLimit(-1) // -1 reads without changing
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, logs, done := startServeCommand(t, ctx, []string{"--host", "127.0.0.1", "--http-port", "0", "--memory-limit", "512MiB", model}, "listening on ", " ")
	if got := debug.SetMemoryLimit(-1); got != 512<<20 {
		t.Errorf("while serving, the memory limit is %d, want %d", got, 512<<20)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("after serving, the memory limit is %d, want the previous %d back", got, before)
	}
	if !strings.Contains(logs.String(), "memory limit 536870912 bytes") {
		t.Errorf("the log does not name the limit:\n%s", logs.String())
	}

	status, _, stderr := runCLI("serve", "--memory-limit", "512M", model)
	if status != exitUsage || !strings.Contains(stderr, `unknown unit "M"`) {
		t.Errorf("--memory-limit 512M: status %d, %s", status, stderr)
	}
}
