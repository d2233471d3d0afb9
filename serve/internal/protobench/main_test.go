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

// TestShortRun runs the whole command for a fraction of a second per slot, so that it does not rot: both
// tables come out, every request was answered, and every figure is a finite positive number. No figure is
// held to a threshold: the machine running the tests is not quiet.
func TestShortRun(t *testing.T) {
	o := options{model: "../../../models/lenet/lenet.onnx", duration: 150 * time.Millisecond, rounds: 2, clients: 4,
		identityClients: 2, identityDuration: 150 * time.Millisecond}
	if testing.Short() {
		o.duration, o.identityDuration, o.rounds = 50*time.Millisecond, 50*time.Millisecond, 2
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
	for _, want := range []string{"load average at start:", "| JSON HTTP |", "| binary HTTP |", "| gRPC (raw contents) |",
		"| JSON |", "| binary |", "load average at end:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the output has no %q", want)
		}
	}
	if len(rep.protocols) != 3 || len(rep.encodings) != 2 {
		t.Fatalf("%d protocols and %d encodings measured, want 3 and 2", len(rep.protocols), len(rep.encodings))
	}
	json := rep.protocols[0].result
	for _, m := range append(rep.protocols, rep.encodings...) {
		r := m.result
		if r.OK == 0 || r.OK != r.Sent || r.Failures+r.Refused+r.ClientErrors > 0 {
			t.Errorf("%s: not every request answered 200: %s", m.name, r)
		}
		if p99 := r.Percentile(0.99); p99 <= 0 || p99 < r.Percentile(0.5) {
			t.Errorf("%s: p99 %v, p50 %v", m.name, p99, r.Percentile(0.5))
		}
		for _, x := range []float64{r.Throughput() / json.Throughput(), float64(r.Percentile(0.99)) / float64(json.Percentile(0.99))} {
			if math.IsNaN(x) || math.IsInf(x, 0) || x <= 0 {
				t.Errorf("%s: a ratio to JSON is %v", m.name, x)
			}
		}
	}
	jsonImage, binaryImage := rep.encodings[0].result, rep.encodings[1].result
	// The image is 150,528 float32s: 602,112 bytes raw, plus the JSON header; as decimal text, more.
	const rawBytes = 3 * 224 * 224 * 4
	for name, r := range map[string]int64{"request": binaryImage.RequestBytes, "response": binaryImage.ResponseBytes} {
		if perRequest := r / int64(binaryImage.Sent); perRequest < rawBytes || perRequest > rawBytes+1024 {
			t.Errorf("binary %s body of %d bytes, want the %d raw bytes and a short header", name, perRequest, rawBytes)
		}
	}
	if perRequest := jsonImage.RequestBytes / int64(jsonImage.Sent); perRequest <= rawBytes {
		t.Errorf("JSON request body of %d bytes, want more than the %d raw bytes", perRequest, rawBytes)
	}
}

func TestBadOptions(t *testing.T) {
	if _, err := run(options{model: "x", duration: time.Second, rounds: 0, clients: 1, identityClients: 1, identityDuration: time.Second}, &strings.Builder{}); err == nil || !strings.Contains(err.Error(), "-rounds") {
		t.Errorf("0 rounds: error %v, want one naming the flags", err)
	}
}
