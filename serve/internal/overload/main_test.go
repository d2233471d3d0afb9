package main

import (
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/onnxrun/onnxrun/serve/internal/serverproc"
)

// TestMain lets the test binary serve as the child process the command starts (serverproc re-executes
// the running binary).
func TestMain(m *testing.M) { serverproc.RunTests(m) }

// TestShortRun runs the three phases for a fraction of a second each against the shipped LeNet, so that
// the command does not rot: the table comes out, every request got 200 or 503 (none failed), the server
// process's memory was read, and the ratio is a finite number. No figure is held to the targets: the
// machine running the tests is not quiet.
func TestShortRun(t *testing.T) {
	o := options{model: "../../../models/lenet/lenet.onnx", duration: 300 * time.Millisecond, clients: 8, inFlight: 64, factor: 4}
	if testing.Short() {
		o.duration = 100 * time.Millisecond
	}
	var out strings.Builder
	rep, err := run(o, &out)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
	if rep.serverPID == 0 || rep.serverPID == os.Getpid() {
		t.Errorf("the server ran in process %d, this one is %d: want a child of its own", rep.serverPID, os.Getpid())
	}
	for _, want := range []string{"load average at start:", "admitted p99 / unloaded p99", "refused with 503:",
		"| Model | Capacity (req/s) |", "load average at end:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the output has no %q", want)
		}
	}
	for name, r := range map[string]int{"unloaded": rep.unloaded.Failures, "capacity": rep.capacity.Failures, "overload": rep.overload.Failures} {
		if r > 0 {
			t.Errorf("%s phase: %d failures", name, r)
		}
	}
	over := rep.overload
	if over.Sent == 0 || over.OK+over.Refused != over.Sent || over.OK == 0 {
		t.Errorf("overload phase: want every request sent answered 200 or 503, some 200: %s", over)
	}
	if want := float64(o.factor) * rep.capacity.Throughput(); rep.offered != want || rep.offered <= 0 {
		t.Errorf("offered %v/s, want %v x capacity = %v", rep.offered, o.factor, want)
	}
	if ratio := float64(over.Percentile(0.99)) / float64(rep.unloaded.Percentile(0.99)); math.IsNaN(ratio) || math.IsInf(ratio, 0) || ratio <= 0 {
		t.Errorf("p99 ratio %v", ratio)
	}
	// Only signs are checked: the kernel's RSS counters are per-CPU caches, so a VmRSS sample may pass the
	// VmHWM read a moment later by a few pages.
	if rep.haveMemory && (rep.hwmBefore <= 0 || rep.hwmAfter <= 0 || rep.rssDuring <= 0) {
		t.Errorf("server memory: peak %d before, %d after, %d sampled during", rep.hwmBefore, rep.hwmAfter, rep.rssDuring)
	}
}

func TestBadOptions(t *testing.T) {
	if _, err := run(options{model: "x", duration: time.Second, clients: 1, inFlight: 1}, &strings.Builder{}); err == nil || !strings.Contains(err.Error(), "-factor") {
		t.Errorf("factor 0: error %v, want one naming the flags", err)
	}
}
