package linalg

import (
	"github.com/onnxrun/onnxrun/ops"
)

var (
	floats16to64 = ops.DTypes(ops.Float16, ops.Float32, ops.Float64)
	// ints32to64 are the integer types the spec added to MatMul and Gemm at opset 9.
	ints32to64 = ops.DTypes(ops.Uint32, ops.Uint64, ops.Int32, ops.Int64)
)

// gemmLoop computes c = op(a)*op(b) for any number type, overwriting c: a is m×k (k×m when transA), b is
// k×n (n×k when transB), all row-major with row strides lda, ldb, ldc. It is the generic twin of gemm.Sgemm
// with alpha=1, beta=0; integer products wrap around as in numpy.
func gemmLoop[T ops.Number](transA, transB bool, m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int) {
	if n == 0 {
		return // C has no columns, and its rows may be given a stride (ldc) that an empty C cannot honour
	}
	for i := 0; i < m; i++ {
		crow := c[i*ldc : i*ldc+n]
		if transB {
			// Each output is a dot product of a row of op(A) with a row of B.
			for j := range crow {
				brow := b[j*ldb : j*ldb+k]
				var sum T
				for p, bv := range brow {
					sum += aAt(a, lda, transA, i, p) * bv
				}
				crow[j] = sum
			}
			continue
		}
		// Accumulate scaled rows of B: the inner loop runs along contiguous memory.
		clear(crow)
		for p := 0; p < k; p++ {
			av := aAt(a, lda, transA, i, p)
			brow := b[p*ldb : p*ldb+n]
			for j, bv := range brow {
				crow[j] += av * bv
			}
		}
	}
}

// aAt is op(A)[i][p].
func aAt[T any](a []T, lda int, trans bool, i, p int) T {
	if trans {
		return a[p*lda+i]
	}
	return a[i*lda+p]
}
