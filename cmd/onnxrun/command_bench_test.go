package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestBenchCommand(t *testing.T) {
	model, _ := lenet(t)
	quick := []string{"--runs", "3", "--time", "0s", "--warmup", "1", "--threads", "1"}

	status, stdout, stderr := runCLI(append(append([]string{"bench"}, quick...), "--batch", "2", "--profile", "--top", "3", model)...)
	if status != exitOK {
		t.Fatalf("status %d, stderr %q", status, stderr)
	}
	for _, want := range []string{
		"inputs      input float32[2,1,28,28] (batch 2)",
		"threads     1",
		"latency     p50 ",
		"; 3 runs)",
		"samples/s",
		// LeNet: 199,968 multiply-adds per image, 2 FLOP each, 2 images.
		"0.0007999 GFLOP per run",
		"peak RSS",
		"op type",
		"the 3 slowest of ",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}

	status, stdout, stderr = runCLI(append(append([]string{"bench"}, quick...), "--json", model)...)
	if status != exitOK {
		t.Fatalf("--json: status %d, stderr %q", status, stderr)
	}
	var res struct {
		Batch   int
		Threads int
		Latency struct{ N int }
		Count   struct{ MACs int64 }
		Profile any
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("--json output does not parse: %v\n%s", err, stdout)
	}
	if res.Batch != 1 || res.Threads != 1 || res.Latency.N != 3 || res.Count.MACs != 199968 || res.Profile != nil {
		t.Errorf("--json gave %+v, want batch 1, 1 thread, 3 runs, 199968 MACs, no profile", res)
	}
}

func TestBenchCommandErrors(t *testing.T) {
	model, input := lenet(t)
	tests := []struct {
		name   string
		args   []string
		status int
		want   string
	}{
		{"no model", []string{"bench"}, exitUsage, "missing the model file"},
		{"two files", []string{"bench", model, input}, exitUsage, "bench takes one model file, got 2 arguments"},
		{"zero batch", []string{"bench", "--batch", "0", model}, exitUsage, "--batch must be 1 or more, got 0"},
		{"max below min", []string{"bench", "--runs", "5", "--max-runs", "2", model}, exitUsage, "--max-runs must be 0 (no limit) or at least --runs (5), got 2"},
		{"bad shape flag", []string{"bench", "--shape", "8,1,28,28", model}, exitUsage, "want NAME=D0,D1,..."},
		{"unknown input", []string{"bench", "--shape", "image=1,1,28,28", model}, exitError, `no such input; its inputs are "input" float32[N,1,28,28]`},
		{"missing file", []string{"bench", "nothere.onnx"}, exitError, "nothere.onnx"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, _, stderr := runCLI(tc.args...)
			if status != tc.status {
				t.Errorf("status %d, want %d (stderr %q)", status, tc.status, stderr)
			}
			oneErrorLine(t, stderr, tc.want)
		})
	}
}

func TestBenchHelp(t *testing.T) {
	status, stdout, _ := runCLI("bench", "--help")
	if status != exitOK || !strings.Contains(stdout, "usage: onnxrun bench [flags] MODEL.onnx") || !strings.Contains(stdout, "--profile") {
		t.Errorf("status %d, help:\n%s", status, stdout)
	}
	_, list, _ := runCLI("help")
	if !strings.Contains(list, "bench") {
		t.Errorf("the command list lacks bench:\n%s", list)
	}
}
