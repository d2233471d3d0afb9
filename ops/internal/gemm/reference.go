package gemm

// SgemmReference is the plain-loop twin of Sgemm. It defines the semantics every
// fast variant must match:
//
//	for i := 0; i < m; i++ {
//		for j := 0; j < n; j++ {
//			var sum float32
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
// where opA(i, p) is a[i*lda+p], or a[p*lda+i] when transA, and opB(p, j) is
// b[p*ldb+j], or b[j*ldb+p] when transB. With beta == 0, C is never read, so
// NaN or Inf already in C does not leak into the result.
func SgemmReference(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var sum float32
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				sum += av * bv
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * sum
			} else {
				c[i*ldc+j] = alpha*sum + beta*c[i*ldc+j]
			}
		}
	}
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
