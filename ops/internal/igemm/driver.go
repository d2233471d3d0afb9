package igemm

import (
	"sync"

	"github.com/onnxrun/onnxrun/ops/internal/isa"
)

// mcBytes bounds the packed A rows one block of the loop nest touches (L2-resident while the B
// panels stream through L1).
const mcBytes = 256 << 10

// workspace holds one call's packing buffers and its thread task; workspaces come from wsPool so that
// steady-state calls allocate nothing and concurrent calls each have their own.
type workspace struct {
	buf    []byte
	sums   []int32
	mults  []float32
	finite []bool
	// rowArgs and rowArgsOK back task's of the same names.
	rowArgs   []requantTileArgs
	rowArgsOK []bool
	tiles     [][maxPanels * mr * nr]int32 // one per thread: a tile handed to the kernel through a func value would escape
	task      task
}

var wsPool = sync.Pool{New: func() any { return new(workspace) }}

// task is one Multiply call as the pool's threads see it: ranges of A panels (byM) or B panels.
type task struct {
	params           Params  // a copy, so that the caller's Params can live on its stack
	p                *Params // &params
	kern             microKernel
	a, b             []byte    // packed panels
	rowSums, colSums []int32   // of the stored (u8 A, s8 B) values
	zb, colAdj       []int32   // per column: B's zero point in the stored domain, colSums[j] - K*zb[j]
	colMult          []float32 // with Requant and a per-tensor AScale: the multiplier of each column
	colMultFinite    []bool    // per B panel: all its colMult are finite (the vector epilogue needs it)
	// rowArgs: with Requant, a scale per row of A and one for B, and the vector epilogue, the per-row terms
	// of each A panel's tiles (requantTileRowMults), filled once by the packing pass rather than for every
	// tile; rowArgsOK[panel] says all its multipliers are finite.
	rowArgs          []requantTileArgs
	rowArgsOK        []bool
	vectorEpilogue   bool // the kernel's level has the vector epilogues (requantRow16, correctRow16)
	aSigned, bSigned bool
	byM              bool
	packing          bool // Do packs (first pass) rather than multiplies
	fused            bool // one pass: Do packs its range of the split operand, then multiplies it
	panelsM, panelsN int
	parts            int                          // threads: range r of Do is the r-th of parts ranges of panels
	tiles            [][maxPanels * mr * nr]int32 // tiles[r] for range r
}

// requantRowArgs are the scalars of requantRow16; the assembly reads them at offsets 0, 4, ..., 28.
type requantRowArgs struct {
	za, rowSum, rowBias, yZero int32
	lo, hi                     int32
	limit, negLimit            float32
}

// requantTileArgs are the scalars of requantTile16: per row of the tile its A zero point, row sum,
// bias and multiplier, then the shared terms of requantRowArgs; the assembly reads them at offsets 0,
// 32, 64, 96, then 128, 132, ..., 144.
type requantTileArgs struct {
	za, rowSum, rowBias [mr]int32
	mult                [mr]float32
	yZero, lo, hi       int32
	limit, negLimit     float32
}

// requantLimit bounds the float product before conversion to int32: far beyond every 8-bit result.
const requantLimit = 1 << 30

// zeroBias is the column bias of a call without one, for the vector epilogue.
var zeroBias [nr]int32

func multiply(p *Params, v isa.Variant[microKernel]) {
	kern := v.Fn
	if p.M == 0 || p.N == 0 {
		return
	}
	ws := wsPool.Get().(*workspace)
	kp := kPadded(p.K)
	t := &ws.task
	*t = task{params: *p, kern: kern, panelsM: ceilDiv(p.M, mr), panelsN: ceilDiv(p.N, nr),
		vectorEpilogue: haveRequantAsm && v.Level >= isa.AVX512}
	t.p = &t.params
	p = t.p
	needBytes, needSums := 0, 2*p.N
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
	}
	if pb := p.PackedB; pb != nil {
		t.b, t.colSums, t.bSigned = pb.data, pb.colSums, pb.signed
	} else {
		t.b, t.colSums, t.bSigned = buf[:t.panelsN*nr*kp], sums[:p.N], p.BSigned
		sums = sums[p.N:]
	}
	t.zb, t.colAdj = sums[:p.N], sums[p.N:2*p.N]
	if rq := &p.Requant; rq.Y != nil && len(rq.AScale) == 1 {
		if cap(ws.mults) < p.N {
			ws.mults = make([]float32, p.N)
		}
		t.colMult = ws.mults[:p.N]
		if cap(ws.finite) < t.panelsN {
			ws.finite = make([]bool, t.panelsN)
		}
		t.colMultFinite = ws.finite[:t.panelsN]
	} else if rq.Y != nil && t.vectorEpilogue && len(rq.BScale) == 1 {
		if cap(ws.rowArgs) < t.panelsM {
			ws.rowArgs, ws.rowArgsOK = make([]requantTileArgs, t.panelsM), make([]bool, t.panelsM)
		}
		t.rowArgs, t.rowArgsOK = ws.rowArgs[:t.panelsM], ws.rowArgsOK[:t.panelsM]
	}
	// Threads take ranges of the dimension with more panels (ties: N, whose B panels are the
	// L1-resident ones); the packed operands are shared read-only.
	t.byM = t.panelsM > t.panelsN
	t.parts = 1
	if p.M*p.N*p.K >= minParallelWork {
		t.parts = min(p.Pool.Threads(), max(t.panelsM, t.panelsN))
	}
	if len(ws.tiles) < t.parts {
		ws.tiles = make([][maxPanels * mr * nr]int32, t.parts)
	}
	t.tiles = ws.tiles
	// Two passes over the same ranges: packing (and the per-column terms), then the products, which
	// read panels other threads packed. When the operand that is not split is prepacked (a Conv's
	// weights as A, split over the image's columns), each range's products need only the panels the
	// range packs itself: one pass, one fork and join instead of two, after the shared per-row or
	// per-column terms of the prepacked operand are filled here.
	t.fused = t.parts > 1 && (t.byM && p.PackedB != nil || !t.byM && p.PackedA != nil)
	if t.fused {
		if t.byM {
			t.packBPanels(0, t.panelsN)
		} else {
			t.packAPanels(0, t.panelsM)
		}
		p.Pool.ForTask(t.parts, t)
	} else {
		t.packing = true
		p.Pool.ForTask(t.parts, t)
		t.packing = false
		p.Pool.ForTask(t.parts, t)
	}
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
		switch {
		case t.fused && t.byM:
			t.packAPanels(r*t.panelsM/t.parts, (r+1)*t.panelsM/t.parts)
			t.doRange(r)
		case t.fused:
			t.packBPanels(r*t.panelsN/t.parts, (r+1)*t.panelsN/t.parts)
			t.doRange(r)
		case t.packing:
			t.packRange(r)
		default:
			t.doRange(r)
		}
	}
}

// packRange packs range r of the A panels and of the B panels that are packed per call, and fills
// the per-row terms of its A panels and the per-column terms of its B columns.
func (t *task) packRange(r int) {
	t.packAPanels(r*t.panelsM/t.parts, (r+1)*t.panelsM/t.parts)
	t.packBPanels(r*t.panelsN/t.parts, (r+1)*t.panelsN/t.parts)
}

// packAPanels packs A panels [a0, a1) when A is packed per call and fills their per-row terms.
func (t *task) packAPanels(a0, a1 int) {
	p := t.p
	kp := kPadded(p.K)
	if p.PackedA == nil {
		if i0, i1 := a0*mr, min(p.M, a1*mr); i0 < i1 {
			packA(t.a[a0*mr*kp:], t.rowSums[i0:], p.A[i0*p.LDA:], p.LDA, p.ASigned, i1-i0, p.K)
		}
	}
	if t.rowArgs != nil {
		for panel := a0; panel < a1; panel++ {
			t.rowArgsOK[panel] = t.fillRowArgs(&t.rowArgs[panel], panel*mr)
		}
	}
}

// packBPanels packs B panels [b0, b1) when B is packed per call and fills the per-column terms of
// their columns.
func (t *task) packBPanels(b0, b1 int) {
	p := t.p
	kp := kPadded(p.K)
	j0, j1 := b0*nr, min(p.N, b1*nr)
	if j0 >= j1 {
		return
	}
	if p.PackedB == nil {
		packB(t.b[b0*nr*kp:], t.colSums[j0:], p.B, p.LDB, p.BSigned, p.BTrans, j0, j1, p.K)
	}
	bShift := int32(0)
	if !t.bSigned {
		bShift = -128
	}
	for j := j0; j < j1; j++ {
		t.zb[j] = zeroAt(p.BZero, t.bSigned, j) + bShift
		t.colAdj[j] = t.colSums[j] - int32(p.K)*t.zb[j]
	}
	if rq := &p.Requant; t.colMult != nil {
		for b := b0; b < b1; b++ {
			finite := true
			for j := b * nr; j < min(j1, (b+1)*nr); j++ {
				m := (rq.AScale[0] * scaleAt(rq.BScale, j)) / rq.YScale
				t.colMult[j] = m
				finite = finite && isFinite(m)
			}
			t.colMultFinite[b] = finite
		}
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
		// B panels two at a time (the packed panels are consecutive), the last one alone when their
		// count is odd.
		for jp := n0; jp < n1; jp += maxPanels {
			panels := min(maxPanels, n1-jp)
			bPanels := t.b[jp*nr*kp : (jp+panels)*nr*kp]
			for ip := mb; ip < me; ip++ {
				t.kern(t.a[ip*mr*kp:(ip+1)*mr*kp], bPanels, panels, tile, min(mr, t.p.M-ip*mr))
				for q := 0; q < panels; q++ {
					t.store((*[mr * nr]int32)(tile[q*mr*nr:]), ip*mr, (jp+q)*nr)
				}
			}
		}
	}
}

// store corrects the raw products of the tile at (i0, j0) for the zero points and writes its valid
// part to C, or requantised to Y:
//
//	Σ(a-za)(b-zb) = Σab - za·Σb - zb·Σa + K·za·zb = Σab - za·(Σb - K·zb) - zb·Σa
//
// with a, b, za, zb in the stored domain: a signed A was stored as a+128 (its zero point moves by
// +128 with it), an unsigned B as b-128 (its zero point moves by -128; t.zb holds it, t.colAdj the
// bracket). All int32, wrapping like the reference.
func (t *task) store(tile *[mr * nr]int32, i0, j0 int) {
	p := t.p
	rows, cols := min(mr, p.M-i0), min(nr, p.N-j0)
	aShift := int32(0)
	if t.aSigned {
		aShift = 128
	}
	zb, colAdj := t.zb[j0:j0+cols], t.colAdj[j0:j0+cols]
	if t.rowArgs != nil && cols == nr && t.requantTileRowMults(tile, i0, j0, rows) {
		return
	}
	for r := 0; r < rows; r++ {
		i := i0 + r
		za := zeroAt(p.AZero, t.aSigned, i) + aShift
		rowSum := t.rowSums[i]
		src := tile[r*nr : r*nr+cols]
		if p.Requant.Y == nil {
			dst := p.C[i*p.LDC+j0 : i*p.LDC+j0+cols]
			if t.vectorEpilogue && cols == nr {
				args := requantRowArgs{za: za, rowSum: rowSum}
				if correctRow16(src, colAdj, zb, dst, &args) {
					continue
				}
			}
			for c := range dst {
				dst[c] = src[c] - za*colAdj[c] - zb[c]*rowSum
			}
			continue
		}
		rq := &p.Requant
		dst := rq.Y[i*rq.LDY+j0 : i*rq.LDY+j0+cols]
		var rowBias int32
		var colBias []int32
		switch rq.BiasMode {
		case BiasPerRow:
			rowBias = rq.Bias[i]
		case BiasPerCol:
			colBias = rq.Bias[j0 : j0+cols]
		}
		switch {
		case t.colMult != nil: // A's scale per tensor (MatMul, Gemm): one multiplier per column
			mult := t.colMult[j0 : j0+cols]
			if t.vectorEpilogue && cols == nr && t.colMultFinite[j0/nr] &&
				requantRowVector(rq, src, colAdj, zb, mult, colBias, dst, za, rowSum, rowBias) {
				continue
			}
			for c := range dst {
				acc := src[c] - za*colAdj[c] - zb[c]*rowSum + rowBias
				if colBias != nil {
					acc += colBias[c]
				}
				dst[c] = saturate(float32(acc)*mult[c], rq.YZero, rq.YSigned)
			}
		case len(rq.BScale) == 1: // B's per tensor (Conv with the weights as A): one per row
			mult := (rq.AScale[i] * rq.BScale[0]) / rq.YScale
			for c := range dst {
				acc := src[c] - za*colAdj[c] - zb[c]*rowSum + rowBias
				if colBias != nil {
					acc += colBias[c]
				}
				dst[c] = saturate(float32(acc)*mult, rq.YZero, rq.YSigned)
			}
		default:
			for c := range dst {
				dst[c] = requantize(rq, src[c]-za*colAdj[c]-zb[c]*rowSum, i, j0+c)
			}
		}
	}
}

// requantRowVector runs the vector epilogue (requantRow16) on one full tile row with the multipliers
// mult of its columns, which must all be finite; it reports false where there is none.
func requantRowVector(rq *Requant, src, colAdj, zb []int32, mult []float32, colBias []int32, dst []byte, za, rowSum, rowBias int32) bool {
	if colBias == nil {
		colBias = zeroBias[:]
	}
	args := requantRowArgs{za: za, rowSum: rowSum, rowBias: rowBias, yZero: rq.YZero, lo: 0, hi: 255,
		limit: requantLimit, negLimit: -requantLimit}
	if rq.YSigned {
		args.lo, args.hi = -128, 127
	}
	return requantRow16(src, colAdj, zb, mult, colBias, dst, &args)
}

// isFinite reports whether m is neither NaN nor infinite (m - m is NaN for both, else 0), in one
// subtraction: the tile epilogue checks a multiplier per row of every tile.
func isFinite(m float32) bool { return m-m == 0 }

// requantTileRowMults is store's requantising epilogue for a full-width tile with one multiplier per
// row (the weights as A with a scale per row, B's scale per tensor: a Conv) in one vector call, on the
// per-row terms the packing pass laid out for the tile's A panel. It reports false, leaving the tile to
// the row loop, where a multiplier is not finite or there is no vector form.
func (t *task) requantTileRowMults(tile *[mr * nr]int32, i0, j0, rows int) bool {
	panel := i0 / mr
	if !t.rowArgsOK[panel] {
		return false
	}
	rq := &t.p.Requant
	colBias := zeroBias[:]
	if rq.BiasMode == BiasPerCol {
		colBias = rq.Bias[j0 : j0+nr]
	}
	return requantTile16(tile, rows, t.colAdj[j0:j0+nr], t.zb[j0:j0+nr], colBias, rq.Y[i0*rq.LDY+j0:], rq.LDY, &t.rowArgs[panel])
}

// fillRowArgs writes into args the per-row terms of the tiles of the A panel whose first row is i0 (its
// A zero point in the stored domain, row sum, bias and multiplier) and the shared ones, and reports
// whether every multiplier is finite.
func (t *task) fillRowArgs(args *requantTileArgs, i0 int) bool {
	p := t.p
	rq := &p.Requant
	*args = requantTileArgs{yZero: rq.YZero, lo: 0, hi: 255, limit: requantLimit, negLimit: -requantLimit}
	if rq.YSigned {
		args.lo, args.hi = -128, 127
	}
	aShift := int32(0)
	if t.aSigned {
		aShift = 128
	}
	for r := 0; r < min(mr, p.M-i0); r++ {
		i := i0 + r
		args.za[r] = zeroAt(p.AZero, t.aSigned, i) + aShift
		args.rowSum[r] = t.rowSums[i]
		if rq.BiasMode == BiasPerRow {
			args.rowBias[r] = rq.Bias[i]
		}
		args.mult[r] = (rq.AScale[i] * rq.BScale[0]) / rq.YScale
		if !isFinite(args.mult[r]) {
			return false
		}
	}
	return true
}
