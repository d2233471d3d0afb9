package cnn

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops/internal/isa"
)

// The name follows the build, the CPU and ONNXRUN_ISA: the AVX-512 kernel at isa.AVX512, the AVX2
// one at isa.AVX2, the pure-Go one otherwise (-tags noasm, another GOARCH, an older CPU).
func TestSGEMMKernel(t *testing.T) {
	want := map[isa.Level]string{isa.PureGo: "generic", isa.AVX2: "avx2fma", isa.AVX512: "avx512"}[isa.Max()]
	if got := SGEMMKernel(); got != want {
		t.Errorf("SGEMMKernel() = %q at level %v, want %q", got, isa.Max(), want)
	}
}
