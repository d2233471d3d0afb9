package igemm

import "sync"

// mcBytes bounds the packed A rows one block of the loop nest touches (L2-resident while the B
// panels stream through L1).
const mcBytes = 256 << 10

// workspace holds one call's packing buffers and its thread task; workspaces come from wsPool so that
// steady-state calls allocate nothing and concurrent calls each have their own.
type workspace struct {
	buf   []byte
	sums  []int32
	tiles [][mr * nr]int32 // one per thread: a tile handed to the kernel through a func value would escape
	task  task
}

var wsPool = sync.Pool{New: func() any { return new(workspace) }}

// task is one Multiply call as the pool's threads see it: ranges of A panels (byM) or B panels.
type task struct {
	p                *Params
	kern             microKernel
	a, b             []byte  // packed panels
	rowSums, colSums []int32 // of the stored (u8 A, s8 B) values
	aSigned, bSigned bool
	byM              bool
	panelsM, panelsN int
	parts            int              // threads: range r of Do is the r-th of parts ranges of panels
	tiles            [][mr * nr]int32 // tiles[r] for range r
}

func multiply(p *Params, kern microKernel) {
	if p.M == 0 || p.N == 0 {
		return
	}
	ws := wsPool.Get().(*workspace)
	kp := kPadded(p.K)
	t := &ws.task
	*t = task{p: p, kern: kern, panelsM: ceilDiv(p.M, mr), panelsN: ceilDiv(p.N, nr)}
	needBytes, needSums := 0, 0
	if p.PackedA == nil {
		needBytes += t.panelsM * mr * kp
		needSums += p.M
	}
	if p.PackedB == nil {
		needBytes += t.panelsN * nr * kp
		needSums += p.N
	}
	if cap(ws.buf) < needBytes {
		ws.buf = make([]byte, needBytes)
	}
	if cap(ws.sums) < needSums {
		ws.sums = make([]int32, needSums)
	}
	buf, sums := ws.buf[:needBytes], ws.sums[:needSums]
	if pa := p.PackedA; pa != nil {
		t.a, t.rowSums, t.aSigned = pa.data, pa.rowSums, pa.signed
	} else {
		t.a, buf = buf[:t.panelsM*mr*kp], buf[t.panelsM*mr*kp:]
		t.rowSums, sums = sums[:p.M], sums[p.M:]
		t.aSigned = p.ASigned
		packA(t.a, t.rowSums, p.A, p.LDA, p.ASigned, p.M, p.K)
	}
	if pb := p.PackedB; pb != nil {
		t.b, t.colSums, t.bSigned = pb.data, pb.colSums, pb.signed
	} else {
		t.b, t.colSums, t.bSigned = buf[:t.panelsN*nr*kp], sums[:p.N], p.BSigned
		packB(t.b, t.colSums, p.B, p.LDB, p.BSigned, p.BTrans, 0, p.N, p.K)
	}
	// Threads take ranges of the dimension with more panels (ties: N, whose B panels are the
	// L1-resident ones); the packed operands are shared read-only.
	t.byM = t.panelsM > t.panelsN
	t.parts = 1
	if p.M*p.N*p.K >= minParallelWork {
		t.parts = min(p.Pool.Threads(), max(t.panelsM, t.panelsN))
	}
	if len(ws.tiles) < t.parts {
		ws.tiles = make([][mr * nr]int32, t.parts)
	}
	t.tiles = ws.tiles
	p.Pool.ForTask(t.parts, t)
	*t = task{}
	wsPool.Put(ws)
}

// minParallelWork is the product size (multiply-adds) below which one thread runs it: waking a
// parked worker costs tens of µs.
const minParallelWork = 128 * 128 * 128

// Do runs ranges lo..hi-1 of the t.parts ranges of panels of the split dimension against all panels
// of the other.
func (t *task) Do(lo, hi int) {
	for r := lo; r < hi; r++ {
		t.doRange(r)
	}
}

func (t *task) doRange(r int) {
	m0, m1, n0, n1 := 0, t.panelsM, r*t.panelsN/t.parts, (r+1)*t.panelsN/t.parts
	if t.byM {
		m0, m1, n0, n1 = r*t.panelsM/t.parts, (r+1)*t.panelsM/t.parts, 0, t.panelsN
	}
	kp := kPadded(t.p.K)
	block := max(1, mcBytes/(mr*kp+1))
	tile := &t.tiles[r]
	for mb := m0; mb < m1; mb += block {
		me := min(m1, mb+block)
		for jp := n0; jp < n1; jp++ {
			bPanel := t.b[jp*nr*kp : (jp+1)*nr*kp]
			for ip := mb; ip < me; ip++ {
				t.kern(t.a[ip*mr*kp:(ip+1)*mr*kp], bPanel, tile)
				t.store(tile, ip*mr, jp*nr)
			}
		}
	}
}

// store corrects the raw products of the tile at (i0, j0) for the zero points and writes its valid
// part to C, or requantised to Y:
//
//	Σ(a-za)(b-zb) = Σab - za·Σb - zb·Σa + K·za·zb
//
// with a, b, za, zb in the stored domain: a signed A was stored as a+128 (its zero point moves by
// +128 with it), an unsigned B as b-128 (its zero point moves by -128). All int32, wrapping like the
// reference.
func (t *task) store(tile *[mr * nr]int32, i0, j0 int) {
	p := t.p
	rows, cols := min(mr, p.M-i0), min(nr, p.N-j0)
	aShift, bShift := int32(0), int32(0)
	if t.aSigned {
		aShift = 128
	}
	if !t.bSigned {
		bShift = -128
	}
	k := int32(p.K)
	for r := 0; r < rows; r++ {
		i := i0 + r
		za := zeroAt(p.AZero, t.aSigned, i) + aShift
		rowSum := t.rowSums[i]
		src := tile[r*nr : r*nr+cols]
		if p.Requant == nil {
			dst := p.C[i*p.LDC+j0 : i*p.LDC+j0+cols]
			for c := range dst {
				j := j0 + c
				zb := zeroAt(p.BZero, t.bSigned, j) + bShift
				dst[c] = src[c] - za*t.colSums[j] - zb*rowSum + k*za*zb
			}
			continue
		}
		rq := p.Requant
		dst := rq.Y[i*rq.LDY+j0 : i*rq.LDY+j0+cols]
		for c := range dst {
			j := j0 + c
			zb := zeroAt(p.BZero, t.bSigned, j) + bShift
			dst[c] = requantize(rq, src[c]-za*t.colSums[j]-zb*rowSum+k*za*zb, i, j)
		}
	}
}
