package main

import (
	"testing"

	"github.com/onnxrun/onnxrun/bench/fmapeak"
)

// "% of peak" divides by the FMA peak of the instructions the SGEMM kernel runs.
func TestSGEMMISAFollowsTheKernel(t *testing.T) {
	for kernel, want := range map[string]fmapeak.ISA{"avx512": fmapeak.AVX512, "avx2fma": fmapeak.AVX2, "generic": fmapeak.Go} {
		if got := sgemmISA(kernel); got != want {
			t.Errorf("sgemmISA(%q) = %q, want %q", kernel, got, want)
		}
	}
}
