package main

import (
	"os"
	goruntime "runtime"
	"runtime/debug"
	"strings"
	"testing"

	"golang.org/x/sys/cpu"

	"github.com/onnxrun/onnxrun/ops"
)

func TestVersionCommand(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		status, stdout, stderr := runCLI(args...)
		if status != exitOK || stderr != "" {
			t.Fatalf("%v: status %d, stderr %q", args, status, stderr)
		}
		// go test stamps no VCS revision, as the builds here are made.
		for _, want := range []string{"onnxrun ", "\nrevision: unknown (built without VCS stamping)\n",
			"\ngo: " + goruntime.Version() + " " + goruntime.GOOS + "/" + goruntime.GOARCH + "\n", "\nkernels on this CPU:\n"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("%v: output lacks %q:\n%s", args, want, stdout)
			}
		}
		// What this CPU and build get: the AVX-512 GEMM on an amd64 that has it, else the AVX2+FMA one,
		// unless -tags noasm (or ONNXRUN_ISA lowers the level: see ops/internal/isa).
		wantGemm := "  gemm: " + ops.PureGo + "\n"
		x := cpu.X86
		switch isaEnv := os.Getenv("ONNXRUN_ISA"); {
		case builtWithNoasm || goruntime.GOARCH != "amd64" || isaEnv == "purego":
		case x.HasAVX512F && x.HasAVX512BW && x.HasAVX512DQ && x.HasAVX512VL && x.HasAVX2 && x.HasFMA && isaEnv != "avx2":
			wantGemm = "  gemm: AVX-512 6x32\n"
		case x.HasAVX2 && x.HasFMA:
			wantGemm = "  gemm: AVX2+FMA 6x16\n"
		}
		if !strings.Contains(stdout, wantGemm) {
			t.Errorf("%v: output lacks %q:\n%s", args, wantGemm, stdout)
		}
		if builtWithNoasm {
			for _, line := range strings.Split(strings.TrimSpace(stdout[strings.Index(stdout, "kernels on this CPU:\n"):]), "\n")[1:] {
				if !strings.HasSuffix(line, ": "+ops.PureGo) {
					t.Errorf("-tags noasm, yet %q", line)
				}
			}
		}
		for _, family := range []string{"gemv", "conv winograd", "pooling"} {
			if !strings.Contains(stdout, "\n  "+family+": ") {
				t.Errorf("%v: no kernel line for %s:\n%s", args, family, stdout)
			}
		}
	}
	status, _, stderr := runCLI("version", "extra")
	if status != exitUsage {
		t.Errorf("version extra: status %d", status)
	}
	oneErrorLine(t, stderr, "version takes no arguments")
}

func TestWriteVersionFromBuildInfo(t *testing.T) {
	info := &debug.BuildInfo{Main: debug.Module{Path: "github.com/onnxrun/onnxrun", Version: "v1.4.0"}, Settings: []debug.BuildSetting{
		{Key: "-tags", Value: "noasm"}, {Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "7e1cdea0123"},
		{Key: "vcs.time", Value: "2026-12-07T04:40:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	kernels := []ops.KernelVariant{{Family: "gemm", Variant: ops.PureGo}}
	var b strings.Builder
	if err := writeVersion(&b, info, kernels); err != nil {
		t.Fatal(err)
	}
	want := "onnxrun v1.4.0\nrevision: 7e1cdea0123 (2026-12-07T04:40:00Z, modified)\ngo: " + goruntime.Version() + " " +
		goruntime.GOOS + "/" + goruntime.GOARCH + "\nbuild tags: noasm\nkernels on this CPU:\n  gemm: pure Go\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	if err := writeVersion(&b, nil, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "onnxrun (devel)\nrevision: unknown (built without VCS stamping)\n") {
		t.Errorf("without build information:\n%s", b.String())
	}
}
