package gemm

import "github.com/onnxrun/onnxrun/internal/hugepage"

// Blocking. The micro-kernel computes an mr×nr tile of C from an A panel
// (mr rows, interleaved per k step) and a B panel (nr columns, interleaved
// per k step). K is cut into balanced blocks of at most kcMax so that one B
// panel (nr*kc*4 = 16 KiB) stays in L1 while A panels stream from L2; M is cut
// into blocks of at most mcMax rows (mc*kc*4 = 144 KiB of packed A, in L2) and
// N into blocks of at most ncMax columns (packed B, in L3). They are sized
// for the target, Zen 3 (32 KiB L1d, 512 KiB L2 per core); a 6×16 tile
// keeps 12 of the 16 ymm registers as accumulators, enough independent FMA
// chains to cover two FMA pipes of 4-cycle latency. On Zen 4 (1 MiB L2) the
// AVX-512 6×32 kernel, whose pair of B panels (32 KiB at kc = 256) fills the
// L1, measured no better with kc 128, 192 or 320 or mc 192 or 288 (thread
// CPU time of 256³-1024³ products, so that a busy machine does not skew
// it), and a 6×64 kernel (24 zmm accumulators) lost 10% beyond 256³: the
// blocking stays shared by every variant, and with it the prepacked layouts.
const (
	mr    = 6
	nr    = 16
	kcMax = 256
	mcMax = 144  // multiple of mr
	ncMax = 3072 // multiple of nr
)

func ceilDiv(a, b int) int { return (a + b - 1) / b }
func roundUp(a, b int) int { return ceilDiv(a, b) * b }

// kBlock returns the size of the balanced K blocks: every block but the last
// has kc elements. It depends on k only, so packed operands and the driver
// agree on it.
func kBlock(k int) int {
	if k <= kcMax {
		return k
	}
	return ceilDiv(k, ceilDiv(k, kcMax))
}

// mBlock and nBlock are the balanced row and column block sizes for an
// extent of length m or n, rounded to whole panels.
func mBlock(m int) int { return roundUp(ceilDiv(m, ceilDiv(m, mcMax)), mr) }
func nBlock(n int) int { return roundUp(ceilDiv(n, ceilDiv(n, ncMax)), nr) }

// PackedA is the A operand (M×K, already transposed if requested) packed once
// into the micro-kernel's panel layout, for an operand that is constant across
// calls such as convolution weights. It is immutable and safe to share
// between goroutines.
//
// Layout: for the K block starting at p0 with kc elements, panel ip (rows
// ip*mr ... ip*mr+mr-1, zero-padded past M) starts at p0*roundUp(M, mr) +
// ip*mr*kc and holds kc groups of mr values, one group per k step.
type PackedA struct {
	m, k int
	data []float32
}

// PackedB is the B operand (K×N) packed once, the twin of PackedA with nr
// column panels: the K block at p0 of kc elements, panel jp starts at
// p0*roundUp(N, nr) + jp*nr*kc and holds kc groups of nr values.
type PackedB struct {
	k, n int
	data []float32
}

// PackA packs op(A), where A is m×k (k×m if transA) with row stride lda.
func PackA(transA bool, m, k int, a []float32, lda int) *PackedA {
	mp := roundUp(m, mr)
	pa := NewPackedA(m, k)
	kc := kBlock(k)
	for p0 := 0; p0 < k; p0 += kc {
		kcb := min(kc, k-p0)
		packA(pa.data[p0*mp:], transA, a, lda, 0, m, p0, kcb)
	}
	return pa
}

// NewPackedA returns a packed m×k operand of zeros, for a caller that computes op(A) one element at a time
// (a weight transform) and writes each straight to its place, Data()[Offset(i, p)], instead of building
// A only to pack it. Fill it before sharing it.
func NewPackedA(m, k int) *PackedA {
	return &PackedA{m: m, k: k, data: hugepage.Float32s(roundUp(m, mr) * k)} // kept as long as the plan
}

// NewPackedAs returns count packed m×k operands of zeros, as NewPackedA, in one allocation: a set of
// small operands filled together (Winograd's 36) then takes huge pages like one large one (see package
// hugepage) instead of a page fault per 4 KiB.
func NewPackedAs(count, m, k int) []*PackedA {
	size := roundUp(m, mr) * k
	data := hugepage.Float32s(count * size) // kept as long as the plan
	packed := make([]*PackedA, count)
	for i := range packed {
		packed[i] = &PackedA{m: m, k: k, data: data[i*size : (i+1)*size : (i+1)*size]}
	}
	return packed
}

// Offset is where element (i, p) of op(A) lives in Data: in the K block holding p, panel i/mr, k step p,
// row i%mr (see PackedA).
func (pa *PackedA) Offset(i, p int) int {
	kc := kBlock(pa.k)
	p0 := p / kc * kc
	return p0*roundUp(pa.m, mr) + i/mr*mr*min(kc, pa.k-p0) + (p-p0)*mr + i%mr
}

// Data is the packed values, for filling a NewPackedA.
func (pa *PackedA) Data() []float32 { return pa.data }

// PackB packs op(B), where B is k×n (n×k if transB) with row stride ldb.
func PackB(transB bool, k, n int, b []float32, ldb int) *PackedB {
	np := roundUp(n, nr)
	pb := &PackedB{k: k, n: n, data: hugepage.Float32s(np * k)} // kept as long as the plan
	kc := kBlock(k)
	for p0 := 0; p0 < k; p0 += kc {
		kcb := min(kc, k-p0)
		packB(pb.data[p0*np:], transB, b, ldb, 0, n, p0, kcb)
	}
	return pb
}

// Dims returns the logical size M×K of the packed operand.
func (pa *PackedA) Dims() (m, k int) { return pa.m, pa.k }

// Dims returns the logical size K×N of the packed operand.
func (pb *PackedB) Dims() (k, n int) { return pb.k, pb.n }

// panels returns the packed A panels for the K block at p0 (kc long),
// starting at row i0 (a multiple of mr).
func (pa *PackedA) panels(p0, kc, i0 int) []float32 {
	return pa.data[p0*roundUp(pa.m, mr)+i0*kc:]
}

func (pb *PackedB) panels(p0, kc, j0 int) []float32 {
	return pb.data[p0*roundUp(pb.n, nr)+j0*kc:]
}

// Unpack returns op(A) as a new row-major M×K matrix (stride K).
func (pa *PackedA) Unpack() []float32 {
	out := make([]float32, pa.m*pa.k)
	kc := kBlock(pa.k)
	for i := 0; i < pa.m; i++ {
		for p := 0; p < pa.k; p++ {
			p0 := p / kc * kc
			kcb := min(kc, pa.k-p0)
			out[i*pa.k+p] = pa.panels(p0, kcb, i/mr*mr)[(p-p0)*mr+i%mr]
		}
	}
	return out
}

// Unpack returns op(B) as a new row-major K×N matrix (stride N).
func (pb *PackedB) Unpack() []float32 {
	out := make([]float32, pb.k*pb.n)
	kc := kBlock(pb.k)
	for p := 0; p < pb.k; p++ {
		p0 := p / kc * kc
		kcb := min(kc, pb.k-p0)
		for j := 0; j < pb.n; j++ {
			out[p*pb.n+j] = pb.panels(p0, kcb, j/nr*nr)[(p-p0)*nr+j%nr]
		}
	}
	return out
}

// packA writes rows [i0, i0+rows) × columns [p0, p0+kc) of op(A) into dst as
// ceil(rows/mr) panels of mr*kc values, zero-padding the last panel.
func packA(dst []float32, transA bool, a []float32, lda, i0, rows, p0, kc int) {
	for ip := 0; ip < rows; ip += mr {
		panel := dst[ip*kc : ip*kc+mr*kc]
		h := min(mr, rows-ip)
		if transA {
			// op(A)[i][p] = a[p*lda+i]: each k step reads h contiguous values.
			for p := 0; p < kc; p++ {
				src := a[(p0+p)*lda+i0+ip:]
				g := panel[p*mr : p*mr+mr]
				if h == mr {
					g[0], g[1], g[2], g[3], g[4], g[5] = src[0], src[1], src[2], src[3], src[4], src[5]
				} else {
					copy(g, src[:h])
					clear(g[h:])
				}
			}
			continue
		}
		if h == mr {
			// op(A)[i][p] = a[i*lda+p]: walk six rows in step so each k
			// step's group is written contiguously.
			base := (i0+ip)*lda + p0
			r0 := a[base : base+kc]
			r1 := a[base+lda : base+lda+kc]
			r2 := a[base+2*lda : base+2*lda+kc]
			r3 := a[base+3*lda : base+3*lda+kc]
			r4 := a[base+4*lda : base+4*lda+kc]
			r5 := a[base+5*lda : base+5*lda+kc]
			for p := range r0 {
				g := (*[mr]float32)(panel[p*mr:])
				g[0], g[1], g[2], g[3], g[4], g[5] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p]
			}
			continue
		}
		for r := 0; r < h; r++ {
			src := a[(i0+ip+r)*lda+p0:]
			src = src[:kc]
			for p, v := range src {
				panel[p*mr+r] = v
			}
		}
		for r := h; r < mr; r++ {
			for p := 0; p < kc; p++ {
				panel[p*mr+r] = 0
			}
		}
	}
}

// packB writes rows [p0, p0+kc) × columns [j0, j0+cols) of op(B) into dst as
// ceil(cols/nr) panels of nr*kc values, zero-padding the last panel.
func packB(dst []float32, transB bool, b []float32, ldb, j0, cols, p0, kc int) {
	for jp := 0; jp < cols; jp += nr {
		panel := dst[jp*kc : jp*kc+nr*kc]
		w := min(nr, cols-jp)
		if !transB {
			// op(B)[p][j] = b[p*ldb+j]: each k step copies w contiguous values.
			if w == nr {
				for p := 0; p < kc; p++ {
					*(*[nr]float32)(panel[p*nr:]) = *(*[nr]float32)(b[(p0+p)*ldb+j0+jp:])
				}
				continue
			}
			for p := 0; p < kc; p++ {
				g := panel[p*nr : p*nr+nr]
				copy(g, b[(p0+p)*ldb+j0+jp:][:w])
				clear(g[w:])
			}
			continue
		}
		// op(B)[p][j] = b[j*ldb+p]: a transpose of 16 stored rows.
		if w == nr {
			packBTrans16(panel, b[(j0+jp)*ldb+p0:], ldb, kc)
			continue
		}
		for c := 0; c < w; c++ {
			src := b[(j0+jp+c)*ldb+p0:]
			src = src[:kc]
			for p, v := range src {
				panel[p*nr+c] = v
			}
		}
		for c := w; c < nr; c++ {
			for p := 0; p < kc; p++ {
				panel[p*nr+c] = 0
			}
		}
	}
}

// packBTrans16Go is the portable part of packBTrans16: k steps [from, kc)
// of dst[p*nr+c] = src[c*lds+p] for c < nr.
func packBTrans16Go(dst, src []float32, lds, from, kc int) {
	for c := 0; c < nr; c++ {
		row := src[c*lds : c*lds+kc]
		for p := from; p < kc; p++ {
			dst[p*nr+c] = row[p]
		}
	}
}

// PackedBytes is the memory the panels hold (ops.PackedSizer, for the runtime's prepack statistics).
func (p *PackedB) PackedBytes() int64 { return int64(len(p.data)) * 4 }

// PackedBytes is the memory the panels hold (ops.PackedSizer).
func (p *PackedA) PackedBytes() int64 { return int64(len(p.data)) * 4 }
