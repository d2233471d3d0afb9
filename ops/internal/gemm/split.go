package gemm

// split is how one Multiply call spreads over threads.
type split struct {
	parts  int  // threads that get work; 1 runs on the caller
	byN    bool // threads take ranges of N panels (else of M panels)
	panels int  // panels of the split dimension
	// sharedB (with !byN) packs each B block once, every thread packing a
	// slice of its panels, instead of once per thread; sharedA (with byN)
	// the same for A: runShared.
	sharedA, sharedB bool
}

// packCost is roughly what packing one element costs, counted in the
// micro-kernel's multiply-adds: a strided gather and a store per element
// (packA measured 2.3 GB/s, packB 4.5 GB/s, BenchmarkPack) against about 45
// G multiply-adds/s a core. It need only rank splits, not predict times.
const packCost = 16

// chooseSplit picks the split of p over up to threads threads whose busiest
// thread has the least work: its share of the product, rounded to whole
// panels, plus the packing it does. Packing is never duplicated (sharedA,
// sharedB), but a shared operand is packed in slices while a thread's own
// operand is packed whole by it, which counts. Ties go to N. Reading the
// operand every thread needs in full (all of A when N is split) is not
// counted: for ResNet-50's 3x3 conv of its last stage (512x49x4608, A the
// prepacked weights) the N split measured 4-7% less CPU time than the M
// split (the two N panel pairs, one of them a partial pair, each on one
// thread), for its 1x1 convs (2048x49x512) the same, and for 1024x196x256
// the M split (86 row panels each against 7 of 13 column panels) 5-10% less.
func (im *impl) chooseSplit(p *Params, threads int) split {
	m, n, k := p.M, p.N, p.K
	one := split{parts: 1, byN: true, panels: 1}
	if threads <= 1 || m*n*k < im.minParallelWork {
		return one
	}
	kc := kBlock(k)
	panN, panM := ceilDiv(n, nr), ceilDiv(m, mr)
	pn, pm := min(threads, panN), min(threads, panM)

	// Split N: each thread computes all M rows of ceil(panN/pn) panels.
	cols := ceilDiv(panN, pn) * nr
	busyN := m * k * cols
	// A packed per call is shared when each thread's columns are one N
	// block (runShared keeps a thread's B block across the M blocks).
	packsA := p.PackedA == nil && !readAInPlace(p, mBlock(m), kc)
	sharedA := packsA && cols <= ncMax
	switch {
	case sharedA:
		busyN += ceilDiv(m*k, pn) * packCost
	case packsA:
		busyN += m * k * packCost
	}
	if p.PackedB == nil && !readBInPlace(p, m) {
		busyN += cols * k * packCost
	}

	// Split M: each thread computes ceil(panM/pm) row panels of all N columns.
	rows := ceilDiv(panM, pm) * mr
	busyM := rows * k * roundUp(n, nr)
	if p.PackedA == nil && !readAInPlace(p, mBlock(rows), kc) {
		busyM += rows * k * packCost
	}
	sharedB := p.PackedB == nil && !readBInPlace(p, rows)
	if sharedB {
		busyM += ceilDiv(n*k, pm) * packCost
	}

	switch {
	case pn <= 1 && pm <= 1:
		return one
	case busyN <= busyM || pm <= 1:
		return split{parts: pn, byN: true, panels: panN, sharedA: sharedA && pn > 1}
	default:
		return split{parts: pm, panels: panM, sharedB: sharedB}
	}
}

// partRange is the range [lo, hi) of panels that part t of parts gets: the
// partition parallel.Pool.For makes.
func partRange(t, parts, panels int) (lo, hi int) {
	return t * panels / parts, (t + 1) * panels / parts
}

// sharedWorkspace is the scratch of a shared split: per thread, the buffer
// of the operand it packs alone (its A rows under sharedB, its B columns
// under sharedA), and two buffers for blocks of the shared operand.
func sharedWorkspace(m, n, k int, sp split) (perThread, shared int) {
	kc := kBlock(k)
	a, b := min(roundUp(m, mr), mcMax)*kc+alignFloats, min(roundUp(n, nr), ncMax)*kc+alignFloats
	if sp.sharedA {
		return b, 2 * a
	}
	return a, 2 * b
}

// step is one block of the shared operand: under sharedB the B block of
// columns [jc, jc+ncur) and K range [p0, p0+kcb) (all M rows), under sharedA
// the A block of rows [ic, ic+mcur) and the same K range (all N columns).
// kcb == 0 is none.
type step struct {
	jc, ncur, ic, mcur, p0, kcb int
}

// nextStep returns the step after s, or none after the last; first returns
// the first step. Under sharedB it follows region's loops (K blocks within
// N blocks); under sharedA each thread has one N block, and the steps go
// over M blocks within K blocks.
func (j *job) nextStep(s step, first bool) step {
	p := &j.p
	kc := kBlock(p.K)
	if j.split.sharedA {
		mb := mBlock(p.M)
		switch {
		case first:
			s = step{}
		case s.kcb == 0:
			return step{}
		case s.ic+mb < p.M:
			s.ic += mb
		default:
			s.ic, s.p0 = 0, s.p0+s.kcb
			if s.p0 >= p.K {
				return step{}
			}
		}
		s.ncur, s.mcur, s.kcb = p.N, min(mb, p.M-s.ic), min(kc, p.K-s.p0)
		return s
	}
	nb := nBlock(p.N)
	switch {
	case first:
		s = step{}
	case s.kcb == 0:
		return step{}
	case s.p0+s.kcb < p.K:
		s.p0 += s.kcb
	default:
		s.jc, s.p0 = s.jc+nb, 0
		if s.jc >= p.N {
			return step{}
		}
	}
	s.ncur, s.mcur, s.kcb = min(nb, p.N-s.jc), p.M, min(kc, p.K-s.p0)
	return s
}

// runShared runs a split whose shared operand (B under sharedB, A under
// sharedA) is packed per call. Each step is one pass of the pool: every
// thread multiplies its part by the block packed in the previous step, then
// packs its slice of the next block's panels into the other buffer, so each
// block is packed once, by all threads, and the pool's return between steps
// is the only barrier.
func (j *job) runShared(buf []float32) {
	p := &j.p
	size := nBlock(p.N) * kBlock(p.K)
	if j.split.sharedA {
		size = mBlock(p.M) * kBlock(p.K)
	}
	half := len(buf) / 2
	j.shared[0] = aligned(buf[:half])[:size]
	j.shared[1] = aligned(buf[half:])[:size]
	j.cur, j.next, j.curBuf = step{}, j.nextStep(step{}, true), 1
	for j.next.kcb > 0 || j.cur.kcb > 0 {
		p.Pool.ForTask(j.split.parts, j)
		if stopped(p.Done) {
			break
		}
		j.cur, j.next, j.curBuf = j.next, j.nextStep(j.next, false), 1-j.curBuf
	}
	j.shared = [2][]float32{}
}

// sharedStep is part t's share of one step of runShared: multiply its part
// of C by the current block, then pack its slice of the next one.
func (j *job) sharedStep(t int) {
	p := &j.p
	cur, next := j.cur, j.next
	lo, hi := partRange(t, j.split.parts, j.split.panels)
	if cur.kcb > 0 && j.split.sharedB {
		// Rows [i0, i1) by all columns of the B block.
		i0, i1 := lo*mr, min(hi*mr, p.M)
		mb := mBlock(i1 - i0)
		bs := bSource{packed: j.shared[j.curBuf]}
		var bufA []float32
		if p.PackedA == nil {
			bufA = aligned(j.ws[t])[:mb*cur.kcb]
		}
		directA := readAInPlace(p, mb, kBlock(p.K))
		for ic := i0; ic < i1; ic += mb {
			if stopped(p.Done) {
				return
			}
			mcur := min(mb, i1-ic)
			as := j.aSourceFor(bufA, directA, ic, mcur, cur.p0, cur.kcb)
			j.macroTile(&as, &bs, ic, mcur, cur.jc, cur.ncur, cur.p0, cur.kcb, &j.ts[t])
		}
	}
	if cur.kcb > 0 && j.split.sharedA {
		// Columns [c0, c1) by the rows of the A block; the thread packs its
		// B columns of a K block at the block's first step.
		c0, c1 := lo*nr, min(hi*nr, p.N)
		ts := &j.ts[t]
		if cur.ic == 0 {
			var bufB []float32
			if p.PackedB == nil {
				bufB = aligned(j.ws[t])[:roundUp(c1-c0, nr)*cur.kcb]
			}
			ts.bs = j.bSourceFor(bufB, readBInPlace(p, p.M), c0, c1-c0, cur.p0, cur.kcb)
		}
		as := aSource{packed: j.shared[j.curBuf]}
		if !stopped(p.Done) {
			j.macroTile(&as, &ts.bs, cur.ic, cur.mcur, c0, c1-c0, cur.p0, cur.kcb, ts)
		}
	}
	if next.kcb == 0 {
		return
	}
	if j.split.sharedB {
		lo, hi := partRange(t, j.split.parts, ceilDiv(next.ncur, nr))
		if c0, c1 := lo*nr, min(hi*nr, next.ncur); c0 < c1 {
			packB(j.shared[1-j.curBuf][c0*next.kcb:], p.TransB, p.B, p.LDB, next.jc+c0, c1-c0, next.p0, next.kcb)
		}
		return
	}
	lo, hi = partRange(t, j.split.parts, ceilDiv(next.mcur, mr))
	if r0, r1 := lo*mr, min(hi*mr, next.mcur); r0 < r1 {
		packA(j.shared[1-j.curBuf][r0*next.kcb:], p.TransA, p.A, p.LDA, next.ic+r0, r1-r0, next.p0, next.kcb)
	}
}
