package cnn

import (
	"testing"

	"golang.org/x/sys/cpu"
)

// The name follows the build and the CPU: the assembly kernel exactly when this build has assembly
// and the CPU has AVX2 and FMA.
func TestSGEMMKernel(t *testing.T) {
	want := "generic"
	if asmBuild && cpu.X86.HasAVX && cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		want = "avx2fma"
	}
	if got := SGEMMKernel(); got != want {
		t.Errorf("SGEMMKernel() = %q, want %q", got, want)
	}
}
