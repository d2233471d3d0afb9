package cnn

import "github.com/onnxrun/onnxrun/ops/internal/gemm"

// SGEMMKernel names the micro-kernel of the matrix product under Conv, Gemm and MatMul on this CPU
// and build: "avx2fma" (AVX2 + FMA on 8-lane ymm registers) or "generic" (plain Go, with -tags noasm,
// on other GOARCH or on a CPU without AVX2 and FMA). bench/ortcompare measures the FMA peak of that
// instruction set for its "% of peak".
func SGEMMKernel() string { return gemm.KernelName() }
