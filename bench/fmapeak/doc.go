// Package fmapeak measures the machine's peak float32 multiply-add throughput: the denominator of
// "% of peak" in BENCHMARKS.md, measured rather than taken from a datasheet (a base-clock figure
// understates a core that runs at its boost clock; the issue-12 SGEMM reached 90 GFLOP/s against a
// quoted peak of 78).
//
// # Method
//
// Each kernel runs a loop of 12 independent fused multiply-adds into 12 vector accumulators, enough
// to cover the FMA latency (4 cycles on Zen 3/4, Intel since Skylake) times the number of FMA pipes
// (2), so that the pipes never wait on a result. One worker per core, each on a locked OS thread, runs
// the loop for the asked time; the figure is the sum of the workers' rates, counting 2 floating-point
// operations per lane per FMA, the convention SGEMM GFLOP/s figures use. Measure keeps the best of
// several trials: the peak is what the cores can do, not what they did while another process ran.
//
// # Kernels
//
//   - avx2: VFMADD231PS on 8-lane ymm registers (AVX2 + FMA), the instructions onnxrun's SGEMM
//     micro-kernel uses (ops/internal/gemm).
//   - avx512: VFMADD231PS on 16-lane zmm registers (AVX-512F). Zen 4 splits each into two 256-bit
//     halves, so there it peaks near the AVX2 figure; Intel server cores with two 512-bit FMA units
//     reach twice it.
//   - go: the same loop in plain Go, for builds without assembly (-tags noasm, other GOARCH): what
//     the pure-Go kernels can reach, not the machine's peak.
//
// The assembly sits behind the noasm build tag like the rest of onnxrun's SIMD code.
package fmapeak
