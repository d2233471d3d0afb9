package cnn

import "github.com/onnxrun/onnxrun/ops/internal/gemm"

// SGEMMKernel names the micro-kernel of the matrix product under Conv, Gemm and MatMul on this CPU
// and build: "avx512" (AVX-512 on 16-lane zmm registers), "avx2fma" (AVX2 + FMA on 8-lane ymm
// registers) or "generic" (plain Go, with -tags noasm, on other GOARCH, on a CPU without AVX2 and FMA
// or with ONNXRUN_ISA=purego). bench/ortcompare measures the FMA peak of that
// instruction set for its "% of peak".
func SGEMMKernel() string { return gemm.KernelName() }
