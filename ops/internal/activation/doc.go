// Package activation is the element-wise function a fused product (FusedConv, FusedGemm) applies to its
// output: its name and parameters as the fused node's attributes state them, a scalar reference, and a
// vectorised row form the kernels run on each tile or row right after the product, while it is in cache.
//
// Relu and Clip are clamps the GEMM micro-kernel applies in its store (Clamp); the others run as a pass
// over the rows the kernel has just written (Row), through ops/internal/vecmath (the transcendental ones)
// and ops/internal/vecarith (the piecewise-linear ones).
package activation
