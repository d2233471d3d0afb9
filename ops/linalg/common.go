package linalg

import (
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/gemm"
)

var (
	floats16to64 = ops.DTypes(ops.Float16, ops.Float32, ops.Float64)
	// ints32to64 are the integer types the spec added to MatMul and Gemm at opset 9.
	ints32to64 = ops.DTypes(ops.Uint32, ops.Uint64, ops.Int32, ops.Int64)
)

// gemmLoop computes c = op(a)*op(b) for any number type, overwriting c: a is m×k (k×m when transA), b is
// k×n (n×k when transB), all row-major with row strides lda, ldb, ldc; integer products wrap around as in
// numpy. It is gemm.Reference with alpha=1, beta=0.
func gemmLoop[T ops.Number](transA, transB bool, m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int) {
	gemm.Reference(transA, transB, m, n, k, 1, a, lda, b, ldb, 0, c, ldc)
}
