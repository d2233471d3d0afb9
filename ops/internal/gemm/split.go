package gemm

// split is how one Multiply call spreads over threads.
type split struct {
	parts  int  // threads that get work; 1 runs on the caller
	byN    bool // threads take ranges of N panels (else of M panels)
	panels int  // panels of the split dimension
	// sharedB (with !byN) packs each B block once, every thread packing a
	// slice of its panels, instead of once per thread: runSharedB.
	sharedB bool
}

// packCost is roughly what packing one element costs, counted in the
// micro-kernel's multiply-adds: a strided gather and a store per element
// (packA measured 2.3 GB/s, packB 4.5 GB/s, BenchmarkPack) against about 45
// G multiply-adds/s a core. It need only rank splits, not predict times.
const packCost = 16

// chooseSplit picks the split of p over up to threads threads whose busiest
// thread has the least work: its share of the product, rounded to whole
// panels, plus a read of the operand every thread needs in full (all of A
// when N is split, all of B when M is), plus the packing it does. Splitting
// N makes every thread pack all of A when A is packed per call; splitting M
// packs B once whatever the threads (sharedB), so a product whose operands
// are both packed per call (two activations, as in 1024³) splits M, and one
// whose A is constant weights and N small (ResNet-50's last convolutions,
// N = 7x7 = 49 columns, three N panels) splits the weights' M rows instead of
// leaving a thread on a mostly empty panel pair. Ties go to N.
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
	busyN := m*k*cols + m*k
	if p.PackedA == nil && !readAInPlace(p, mBlock(m), kc) {
		busyN += m * k * packCost
	}
	if p.PackedB == nil && !readBInPlace(p, m) {
		busyN += cols * k * packCost
	}

	// Split M: each thread computes ceil(panM/pm) row panels of all N columns.
	rows := ceilDiv(panM, pm) * mr
	busyM := rows*k*roundUp(n, nr) + n*k
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
		return split{parts: pn, byN: true, panels: panN}
	default:
		return split{parts: pm, panels: panM, sharedB: sharedB}
	}
}

// partRange is the range [lo, hi) of panels that part t of parts gets: the
// partition parallel.Pool.For makes.
func partRange(t, parts, panels int) (lo, hi int) {
	return t * panels / parts, (t + 1) * panels / parts
}

// sharedBThreadWorkspace is the per-thread part of a sharedB call's scratch:
// one packed A block.
func sharedBThreadWorkspace(m, k int) int {
	return min(roundUp(m, mr), mcMax)*kBlock(k) + alignFloats
}

// sharedBWorkspace is the shared part of a sharedB call's scratch: two packed
// B blocks, one being read while the next is packed.
func sharedBWorkspace(n, k int) int {
	return 2 * (min(roundUp(n, nr), ncMax)*kBlock(k) + alignFloats)
}

// bBlock is one (N block, K block) step of a sharedB call; ncur == 0 is none.
type bBlock struct {
	jc, ncur, p0, kcb int
}

// nextBBlock returns the block after b in the order of region's loops (K
// blocks within N blocks), or none after the last; first (b the zero
// bBlock) returns the first block.
func (j *job) nextBBlock(b bBlock, first bool) bBlock {
	p := &j.p
	kc, nb := kBlock(p.K), nBlock(p.N)
	switch {
	case first:
		b = bBlock{}
	case b.ncur == 0:
		return bBlock{}
	case b.p0+b.kcb < p.K:
		b.p0 += b.kcb
	default:
		b.jc, b.p0 = b.jc+nb, 0
		if b.jc >= p.N {
			return bBlock{}
		}
	}
	b.ncur, b.kcb = min(nb, p.N-b.jc), min(kc, p.K-b.p0)
	return b
}

// runSharedB runs a split of M whose B is packed per call. Each step is one
// pass of the pool: every thread multiplies its rows by the B block packed in
// the previous step and packs its slice of the next block's panels into the
// other buffer, so each block is packed once, by all threads, and the pool's
// return between steps is the only barrier.
func (j *job) runSharedB(shared []float32) {
	p := &j.p
	size := nBlock(p.N) * kBlock(p.K)
	half := len(shared) / 2
	j.packedB[0] = aligned(shared[:half])[:size]
	j.packedB[1] = aligned(shared[half:])[:size]
	j.cur, j.next, j.curBuf = bBlock{}, j.nextBBlock(bBlock{}, true), 1
	for j.next.ncur > 0 || j.cur.ncur > 0 {
		p.Pool.ForTask(j.split.parts, j)
		if stopped(p.Done) {
			break
		}
		j.cur, j.next, j.curBuf = j.next, j.nextBBlock(j.next, false), 1-j.curBuf
	}
	j.packedB = [2][]float32{}
}

// sharedBStep is part t's share of one step of runSharedB: multiply its rows
// by the current block, then pack its slice of the next one.
func (j *job) sharedBStep(t int) {
	p := &j.p
	if b := j.cur; b.ncur > 0 {
		lo, hi := partRange(t, j.split.parts, j.split.panels)
		i0, i1 := lo*mr, min(hi*mr, p.M)
		mb := mBlock(i1 - i0)
		bs := bSource{packed: j.packedB[j.curBuf]}
		var bufA []float32
		if p.PackedA == nil {
			bufA = aligned(j.ws[t])[:mb*b.kcb]
		}
		directA := readAInPlace(p, mb, kBlock(p.K))
		for ic := i0; ic < i1; ic += mb {
			if stopped(p.Done) {
				return
			}
			mcur := min(mb, i1-ic)
			as := j.aSourceFor(bufA, directA, ic, mcur, b.p0, b.kcb)
			j.macroTile(&as, &bs, ic, mcur, b.jc, b.ncur, b.p0, b.kcb, &j.ts[t])
		}
	}
	if b := j.next; b.ncur > 0 {
		lo, hi := partRange(t, j.split.parts, ceilDiv(b.ncur, nr))
		if c0, c1 := lo*nr, min(hi*nr, b.ncur); c0 < c1 {
			packB(j.packedB[1-j.curBuf][c0*b.kcb:], p.TransB, p.B, p.LDB, b.jc+c0, c1-c0, b.p0, b.kcb)
		}
	}
}
