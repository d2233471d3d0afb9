// Package gemm is onnxrun's single-precision matrix multiply (SGEMM), shared by
// the Gemm, MatMul and Conv kernels and by the trainer.
//
// # Entry points
//
// Sgemm is the BLAS-like call: C = alpha*op(A)*op(B) + beta*C on row-major
// matrices with row strides, on the calling goroutine. SgemmReference is its
// plain-loop twin and the statement of its semantics.
//
// Multiply takes a Params and adds what operator kernels need:
//
//   - Prepacked operands. PackA / PackB pack a constant operand (Conv or Gemm
//     weights) once, at plan time, into the micro-kernel's panel layout;
//     Params.PackedA / PackedB then replace A / B and the per-call packing of
//     that operand disappears. Packed values are immutable and may be shared
//     by sessions and threads.
//   - A fused epilogue. Params.Epilogue adds a per-row bias (Conv: one per
//     output channel) or per-column bias (Gemm: one per output feature) and
//     applies ReLU or Clip(min, max) while each tile is still in registers:
//     C = act(alpha*op(A)*op(B) + beta*C + bias).
//   - Threads. Params.Pool (a *parallel.Pool, nil = one thread) splits C
//     into contiguous ranges of whole N panels (or M panels when that
//     balances better); each thread packs its own part and writes disjoint C.
//     Products below 128³ multiply-adds (~50 µs on one core) stay on one
//     thread: waking a parked worker costs tens of µs.
//   - Scratch. Params.Workspace of WorkspaceSize(M, N, K, threads) floats
//     holds the packing buffers, so a planner can account for them in its
//     arena. Without it, buffers come from an internal sync.Pool: that keeps
//     steady-state calls allocation-free and safe for concurrent callers
//     without a size the caller must know.
//
// Validate checks a Params once (plan time); Multiply trusts it. MultiplyReference
// is the plain-loop twin of Multiply.
//
// # Use from an operator kernel
//
// A Conv kernel lowers to C[M=outC][N=oh*ow] = W[M][K=C*kh*kw] · cols[K][N]:
//
//	// Prepare: once per model.
//	packedW := gemm.PackA(false, M, K, w, K)
//	// Run: per inference, cols from im2col in ctx.Scratch.
//	pool, _ := ctx.Pool.(*parallel.Pool) // nil: one thread
//	gemm.Multiply(&gemm.Params{M: M, N: N, K: K, Alpha: 1,
//		PackedA: packedW, B: cols, LDB: N, C: y, LDC: N,
//		Epilogue: gemm.Epilogue{Bias: bias, BiasMode: gemm.BiasPerRow, Act: gemm.ActReLU},
//		Pool:     pool})
//
// A Gemm kernel with constant B (ONNX's usual transB=1 weights) packs them
// with PackB(true, K, N, w, K) and uses BiasPerCol.
//
// # Layout and algorithm
//
// The driver is the classic five-loop blocked GEMM: N blocks (≤ ncMax
// columns), balanced K blocks (≤ kcMax) for which a B block is packed into
// nr-column panels, M blocks (≤ mcMax rows) for which an A block is packed
// into mr-row panels, then an mr×nr micro-kernel over B panels (L1-resident)
// and A panels (L2-resident). Edge tiles run the same kernel on a private tile
// and copy the valid corner, so the kernel always does full tiles. The first K
// block applies beta, the last applies the epilogue.
//
// An untransposed B is read in place (the kernel takes a B row stride) rather
// than packed when packing would not pay: for M <= 24, where each packed
// element would be reused only a few times, and for any M when the row stride
// does not alias in the cache (see readBInPlace). Only the last partial panel
// is then packed.
//
// # Variants
//
// The micro-kernel is chosen at start-up: a 6×16 AVX2+FMA kernel in Go
// assembly on amd64 CPUs that have both (golang.org/x/sys/cpu), otherwise the
// pure-Go kernel. Build with -tags noasm to force the pure-Go kernel. All
// variants share packing and blocking, and one test suite runs against each.
//
// # Aliasing and invariants
//
// C must not overlap A, B or the bias. With Beta == 0, C is write-only: NaN
// or garbage in C does not reach the result. Multiply writes only the M×N
// elements of C, never the stride padding between rows. The activation keeps
// NaN as NaN.
package gemm
