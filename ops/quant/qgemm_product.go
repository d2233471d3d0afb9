package quant

import (
	"github.com/onnxrun/onnxrun/ops"
)

// The com.microsoft domain (ONNX Runtime's contrib operators) has one opset. Declaring it from a
// package-level variable runs before every init function of the package, whichever file registers first.
var _ = declareMicrosoftDomain()

func declareMicrosoftDomain() bool {
	ops.DeclareDomain(ops.MicrosoftDomain, 1)
	return true
}

// int8Matrix is one 8-bit operand of a product, read in place: element [i][j] of op(X) is
// x[off + i*rowStride + j*colStride] where x is u8 or s8 (one of them is set), so a transposed operand only
// swaps the strides. The slices are typed rather than boxed in an interface so that building one in Run
// allocates nothing.
type int8Matrix struct {
	u8                   []uint8
	s8                   []int8
	off                  int
	rowStride, colStride int
}

// int8Values returns the uint8 or int8 data of t (nil t: neither) as the two typed slices of an int8Matrix.
func int8Values(t *ops.Tensor) (u8 []uint8, s8 []int8) {
	if t == nil {
		return nil, nil
	}
	switch d := t.Data().(type) {
	case []uint8:
		return d, nil
	case []int8:
		return nil, d
	}
	return nil, nil
}

// int8Tensor is t's data as an int8Matrix with the given layout.
func int8Tensor(t *ops.Tensor, off, rowStride, colStride int) int8Matrix {
	u8, s8 := int8Values(t)
	return int8Matrix{u8: u8, s8: s8, off: off, rowStride: rowStride, colStride: colStride}
}

// int8Bias is the optional int32 term added to the accumulator before it leaves the integer domain (QGemm's
// C, quantized with scale a_scale·b_scale and zero point 0): element [i][j] is data[i*rowStride + j*colStride],
// a zero stride broadcasting that dimension. A nil data adds nothing.
type int8Bias struct {
	data                 []int32
	rowStride, colStride int
}

// int8ZeroPoint is B's zero point: t[off] for every column, or t[off+j] for column j when perCol; a nil t
// is 0. It has B's element type.
type int8ZeroPoint struct {
	t      *ops.Tensor
	off    int
	perCol bool
}

// int8ProductToFloat computes, for i < m and j < n,
//
//	acc := Σ_{p<k} (op(A)[i][p] - za) · (op(B)[p][j] - zb[j])   (exact, wrapping in int32 as ONNX permits)
//	c[i*ldc + j] = float32(acc + bias[i][j])
//
// where zb is B's zero point (see int8ZeroPoint). The float32 conversion of the int32 sum is the one ONNX
// Runtime's kernels make before scaling, so scaling c afterwards reproduces their arithmetic.
//
// This is the plain-loop statement of the product the GEMM-shaped contrib operators need; the operators
// keep their scaling and requantisation outside it.
func int8ProductToFloat(m, n, k int, a int8Matrix, za int32, b int8Matrix, zb int8ZeroPoint, bias int8Bias, c []float32, ldc int) {
	zbU8, zbS8 := int8Values(zb.t)
	switch {
	case a.u8 != nil && b.u8 != nil:
		productLoop(m, n, k, a.u8, a, za, b.u8, b, zeroPoints(zbU8, zb, n), bias, c, ldc)
	case a.u8 != nil:
		productLoop(m, n, k, a.u8, a, za, b.s8, b, zeroPoints(zbS8, zb, n), bias, c, ldc)
	case b.u8 != nil:
		productLoop(m, n, k, a.s8, a, za, b.u8, b, zeroPoints(zbU8, zb, n), bias, c, ldc)
	default:
		productLoop(m, n, k, a.s8, a, za, b.s8, b, zeroPoints(zbS8, zb, n), bias, c, ldc)
	}
}

// zeroPoints returns the part of a zero-point slice that applies, from zp.off: one element (all columns) or
// one per column; nil stays nil.
func zeroPoints[T uint8 | int8](values []T, zp int8ZeroPoint, n int) []T {
	switch {
	case values == nil:
		return nil
	case zp.perCol:
		return values[zp.off : zp.off+n]
	}
	return values[zp.off : zp.off+1]
}

func productLoop[TA, TB uint8 | int8](m, n, k int, a []TA, am int8Matrix, za int32, b []TB, bm int8Matrix, zb []TB,
	bias int8Bias, c []float32, ldc int) {
	zbPerCol := len(zb) > 1 // one value per column (n > 1), else one for all
	for i := 0; i < m; i++ {
		aRow := am.off + i*am.rowStride
		for j := 0; j < n; j++ {
			var zbj int32
			switch {
			case zb == nil:
			case zbPerCol:
				zbj = int32(zb[j])
			default:
				zbj = int32(zb[0])
			}
			bCol := bm.off + j*bm.colStride
			var acc int32
			for p := 0; p < k; p++ {
				acc += (int32(a[aRow+p*am.colStride]) - za) * (int32(b[bCol+p*bm.rowStride]) - zbj)
			}
			if bias.data != nil {
				acc += bias.data[i*bias.rowStride+j*bias.colStride]
			}
			c[i*ldc+j] = float32(acc)
		}
	}
}

// scalarZeroPoint reads a per-tensor zero point (nil: 0) as int32.
func scalarZeroPoint(t *ops.Tensor) int32 {
	if t == nil {
		return 0
	}
	return int32(load(t.Data(), 0))
}
