package linalg

import (
	"strings"
	"unsafe"

	"github.com/onnxrun/onnxrun/ops"
)

// dtypeSet is the list of element types an operator accepts at one opset, as the spec's type constraint says.
type dtypeSet []ops.DType

func (s dtypeSet) has(d ops.DType) bool {
	for _, e := range s {
		if e == d {
			return true
		}
	}
	return false
}

func (s dtypeSet) String() string {
	names := make([]string, len(s))
	for i, d := range s {
		names[i] = d.String()
	}
	return strings.Join(names, ", ")
}

// with returns s extended by more types (the opset that widened a type constraint).
func (s dtypeSet) with(more ...ops.DType) dtypeSet {
	return append(append(dtypeSet{}, s...), more...)
}

// check returns an error naming the input, its dtype and the allowed ones when d is not in s.
func (s dtypeSet) check(opType string, opset int, input string, d ops.DType) error {
	if s.has(d) {
		return nil
	}
	return ops.Invalidf("%s input %s has dtype %s, opset %d allows %s", opType, input, d, opset, s)
}

var (
	floats16to64 = dtypeSet{ops.Float16, ops.Float32, ops.Float64}
	// ints32to64 are the integer types the spec added to MatMul and Gemm at opset 9.
	ints32to64 = dtypeSet{ops.Uint32, ops.Uint64, ops.Int32, ops.Int64}
)

// isHalf reports whether d is stored as 16-bit patterns and computed through float32.
func isHalf(d ops.DType) bool { return d == ops.Float16 || d == ops.BFloat16 }

// widen converts Float16 or BFloat16 data (given as the tensor's Data()) to float32 in dst.
func widen(dst []float32, src any) {
	switch s := src.(type) {
	case []ops.Float16Bits:
		for i, v := range s {
			dst[i] = v.Float32()
		}
	case []ops.BFloat16Bits:
		for i, v := range s {
			dst[i] = v.Float32()
		}
	}
}

// narrow rounds float32 values to the Float16 or BFloat16 slice dst (a tensor's Data()).
func narrow(dst any, src []float32) {
	switch d := dst.(type) {
	case []ops.Float16Bits:
		for i, v := range src {
			d[i] = ops.Float16FromFloat32(v)
		}
	case []ops.BFloat16Bits:
		for i, v := range src {
			d[i] = ops.BFloat16FromFloat32(v)
		}
	}
}

// float64View lays n float64s over the float32 scratch s, which must hold float64ScratchLen(n) elements:
// the spare element lets the view start on an 8-byte boundary whatever the alignment of s. Scratch memory
// holds no pointers, so reinterpreting it is safe for the garbage collector.
func float64View(s []float32, n int) []float64 {
	if n == 0 {
		return nil
	}
	p := unsafe.Pointer(unsafe.SliceData(s))
	if uintptr(p)%unsafe.Alignof(float64(0)) != 0 {
		p = unsafe.Add(p, unsafe.Sizeof(float32(0)))
	}
	return unsafe.Slice((*float64)(p), n)
}

// float64ScratchLen is the float32 scratch length float64View needs for n float64s.
func float64ScratchLen(n int) int {
	if n == 0 {
		return 0
	}
	return 2*n + 1
}

// gemmLoop computes c = op(a)*op(b) for any number type, overwriting c: a is m×k (k×m when transA), b is
// k×n (n×k when transB), all row-major with row strides lda, ldb, ldc. It is the generic twin of gemm.Sgemm
// with alpha=1, beta=0; integer products wrap around as in numpy.
func gemmLoop[T ops.Number](transA, transB bool, m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int) {
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
