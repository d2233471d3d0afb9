package gemm

// split is how one Multiply call spreads over threads.
type split struct {
	parts  int  // threads that get work; 1 runs on the caller
	byN    bool // threads take ranges of N panels (else of M panels)
	panels int  // panels of the split dimension
}

// chooseSplit picks how p spreads over up to threads threads: ranges of
// whole N panels, or of M panels when that gives more threads work or
// balances better (efficiency: work per thread over the busiest thread's).
// Each thread packs what its range needs: splitting N, all of an A packed
// per call; splitting M, all of a B packed per call.
//
// Packing such an operand once for all threads instead (BLIS's way: each
// thread packs a slice of the block, a barrier, then all multiply by it,
// two buffers so that one barrier a block suffices) was built and measured
// worse on the Zen 4 machine this was written on, in CPU time of all threads
// against one thread (BenchmarkMultiplyThreadsCPU, same binary, quiet
// machine): 1024³ x1.16 with A shared (33 blocks of 132 rows) and x1.05
// with B shared (5 blocks), against x1.02 with each thread packing all of
// A; 197x768x3072 likewise. The packing a second thread repeats (0.35 ms of
// 12 ms for 1024³) costs less than the packed panels crossing between the
// cores' caches and the barriers. A cost model counting the packing (a
// packed element ~16 multiply-adds) picked the same splits at 2 threads for
// every shape of splitShapes, so the simpler rule stays.
//
// The threshold compares the work the micro-kernel does, whole tiles of mr
// rows, not the product's useful multiply-adds: a product of one row (a
// classifier's Gemm at batch 1, 1x1000x1280) computes mr rows per tile and
// streams all of B for it, 240 µs at one thread on the Zen 4 machine where
// its 1.28M multiply-adds would count as about 25 µs and stay serial.
func (im *impl) chooseSplit(p *Params, threads int) split {
	m, n, k := p.M, p.N, p.K
	if threads <= 1 || tileWork(m, n, k) < im.minParallelWork {
		return split{parts: 1, byN: true, panels: 1}
	}
	panN, panM := ceilDiv(n, nr), ceilDiv(m, mr)
	pn, pm := min(threads, panN), min(threads, panM)
	effN := float64(panN) / float64(pn*ceilDiv(panN, pn))
	effM := float64(panM) / float64(pm*ceilDiv(panM, pm))
	if pn*1000+int(effN*999) >= pm*1000+int(effM*999) {
		return split{parts: pn, byN: true, panels: panN}
	}
	return split{parts: pm, panels: panM}
}

// tileWork is the multiply-adds the micro-kernel does for an m x n x k
// product: every tile is mr rows high, however many of them are real.
func tileWork(m, n, k int) int { return ceilDiv(m, mr) * mr * n * k }
