// Package isa says which instruction-set level this process's kernels may use, and picks, among the
// variants of one kernel family, the best one the CPU can run.
//
// A kernel family (the SGEMM micro-kernel, the vectorised exp, depthwise convolution, ...) registers
// its implementations as Variants, each with the Level it needs: the pure-Go twin (PureGo, always
// present), an AVX2+FMA variant, an AVX-512 variant. Pick returns the variant of the highest level
// not above Max: the CPU's level, lowered by the build tag noasm (PureGo) and by the environment
// variable ONNXRUN_ISA (purego, avx2 or avx512), which exists so that a user can rule out a variant
// when debugging and so that the benchmarks can compare levels in one binary. The choice is made
// once, when the kernel package initialises; tests call each variant directly to compare it with its
// twin.
package isa
