package gemm

// Number is the element types Reference computes in: ops.Number (gemm does not import ops).
type Number interface {
	float32 | float64 | int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64
}

// Reference computes C = alpha*op(A)*op(B) + beta*C with plain loops, for any number type: the one naive
// GEMM of the module (the float64 and integer MatMul and Gemm, the float64 gradients, and the twin every
// fast float32 variant is tested against). Its semantics:
//
//	for i := 0; i < m; i++ {
//		for j := 0; j < n; j++ {
//			var sum T
//			for p := 0; p < k; p++ {
//				sum += opA(i, p) * opB(p, j)
//			}
//			if beta == 0 {
//				c[i*ldc+j] = alpha * sum
//			} else {
//				c[i*ldc+j] = alpha*sum + beta*c[i*ldc+j]
//			}
//		}
//	}
//
// where opA(i, p) is a[i*lda+p], or a[p*lda+i] when transA, and opB(p, j) is b[p*ldb+j], or b[j*ldb+p]
// when transB. With beta == 0, C is never read, so NaN or Inf already in C does not leak into the result.
// Integer products wrap around, as in numpy. With beta == 0 and B not transposed it accumulates whole rows
// of B (the inner loop along contiguous memory), which adds each sum's terms in the same order: the same
// bits as the loop above.
func Reference[T Number](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if n == 0 {
		return // C has no columns, and its rows may be given a stride (ldc) that an empty C cannot honour
	}
	for i := 0; i < m; i++ {
		crow := c[i*ldc : i*ldc+n]
		if beta != 0 || transB {
			for j := range crow {
				var sum T
				if transB {
					// Row j of B is column j of op(B): walk it as a slice, along contiguous memory.
					for p, bv := range b[j*ldb : j*ldb+k] {
						sum += opAt(a, lda, transA, i, p) * bv
					}
				} else {
					for p := 0; p < k; p++ {
						sum += opAt(a, lda, transA, i, p) * b[p*ldb+j]
					}
				}
				if beta == 0 {
					crow[j] = alpha * sum
				} else {
					crow[j] = alpha*sum + beta*crow[j]
				}
			}
			continue
		}
		clear(crow)
		for p := 0; p < k; p++ {
			av := opAt(a, lda, transA, i, p)
			brow := b[p*ldb : p*ldb+n]
			for j, bv := range brow {
				crow[j] += av * bv
			}
		}
		if alpha != 1 {
			for j := range crow {
				crow[j] = alpha * crow[j]
			}
		}
	}
}

// opAt is op(X)[i][p] of a row-major X with row stride ld: x[i*ld+p], or x[p*ld+i] when trans.
func opAt[T any](x []T, ld int, trans bool, i, p int) T {
	if trans {
		return x[p*ld+i]
	}
	return x[i*ld+p]
}

// SgemmReference is Reference on float32: the plain-loop twin of Sgemm.
func SgemmReference(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	Reference(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// MultiplyReference is the plain-loop twin of Multiply: SgemmReference (on the
// unpacked operands) followed by the epilogue, element by element. Prepacked
// operands are read back through their Unpack methods; Pool and Workspace are
// ignored.
func MultiplyReference(p *Params) {
	a, lda, transA := p.A, p.LDA, p.TransA
	if p.PackedA != nil {
		a, lda, transA = p.PackedA.Unpack(), p.K, false
	}
	b, ldb, transB := p.B, p.LDB, p.TransB
	if p.PackedB != nil {
		b, ldb, transB = p.PackedB.Unpack(), p.N, false
	}
	if p.BPacker != nil {
		b, ldb, transB = packedBy(p.BPacker, p.K, p.N).Unpack(), p.N, false
	}
	SgemmReference(transA, transB, p.M, p.N, p.K, p.Alpha, a, lda, b, ldb, p.Beta, p.C, p.LDC)
	e := &p.Epilogue
	for i := 0; i < p.M; i++ {
		for j := 0; j < p.N; j++ {
			v := p.C[i*p.LDC+j]
			switch e.BiasMode {
			case BiasPerRow:
				v += e.Bias[i]
			case BiasPerCol:
				v += e.Bias[j]
			}
			switch e.Act {
			case ActReLU:
				v = clamp(v, 0, float32(posInf))
			case ActClip:
				v = clamp(v, e.Min, e.Max)
			}
			p.C[i*p.LDC+j] = v
		}
	}
}

// clamp is min(max(v, lo), hi) with NaN passed through, as the assembly's
// VMAXPS/VMINPS operand order gives.
func clamp(v, lo, hi float32) float32 {
	if v < lo {
		v = lo
	}
	if v > hi {
		v = hi
	}
	return v
}

// packedBy is the K×N operand a BPacker produces, packed whole.
func packedBy(bp BPacker, k, n int) *PackedB {
	np := roundUp(n, nr)
	pb := &PackedB{k: k, n: n, data: make([]float32, np*k)}
	kc := kBlock(k)
	for p0 := 0; p0 < k; p0 += kc {
		kcb := min(kc, k-p0)
		bp.PackB(pb.data[p0*np:p0*np+np*kcb], p0, kcb, 0, n)
	}
	return pb
}
