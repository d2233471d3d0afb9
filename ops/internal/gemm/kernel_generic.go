//go:build noasm || !amd64

package gemm

// asmImpls lists the assembly variants this CPU can run: none on this build.
func asmImpls() []*impl { return nil }

// packBTrans16 writes dst[p*nr+c] = src[c*lds+p] for c < nr, p < kc: one
// full panel of a transposed B.
func packBTrans16(dst, src []float32, lds, kc int) { packBTrans16Go(dst, src, lds, 0, kc) }
