package gemm

import (
	"sync"

	"github.com/onnxrun/onnxrun/ops/internal/isa"
	"sync/atomic"
	"unsafe"
)

// impl is one GEMM variant: the shared blocked/packed driver around one pair
// of micro-kernels (the two A addressings). Tests run the same suite against
// every impl.
type impl struct {
	name string
	// asm describes the assembly micro-kernel for onnxrun --version; "" for the Go one.
	asm  string
	colA microKernel // A[i][p] = a[p*lda+i]: packed panels, transposed A in place
	rowA microKernel // A[i][p] = a[i*lda+p]: row-major A in place
	// wideColA and wideRowA, when widePanels > 0, are wide kernels (kernel.go)
	// over widePanels B panels: the driver runs them on every full-height tile
	// of widePanels full panels, and colA/rowA on the rest.
	wideColA, wideRowA microKernel
	widePanels         int
	// minParallelWork is the smallest M*N*K split across threads; tests
	// lower it to exercise the threaded paths on small shapes.
	minParallelWork int
}

var genericImpl = &impl{name: "generic", colA: kernelGenericColA, rowA: kernelGenericRowA, minParallelWork: parallelMinWork}

// defaultImpl is what Sgemm and Multiply use: the variant of implVariants
// (kernel_amd64.go, kernel_generic.go) of the highest instruction-set level
// this process may use (isa.Max: the CPU's, lowered by -tags noasm or
// ONNXRUN_ISA).
var defaultImpl = isa.Pick(implVariants...).Fn

// asmImpls lists the assembly variants this process can run, for the tests
// and benchmarks that compare every variant.
func asmImpls() []*impl {
	var out []*impl
	for _, v := range isa.Runnable(implVariants...) {
		if v.Fn != genericImpl {
			out = append(out, v.Fn)
		}
	}
	return out
}

// AssemblyKernel describes the assembly micro-kernel Sgemm and Multiply use on this CPU and build
// ("AVX-512 6x32", "AVX2+FMA 6x16"), or returns "" when they run the pure Go one.
func AssemblyKernel() string { return defaultImpl.asm }

// parallelMinWork is the smallest M*N*K worth splitting across threads: below
// it (about 50µs of one core's work) waking a parked worker thread, which
// can take tens of µs, costs more than the split saves.
const parallelMinWork = 128 * 128 * 128

// maxWidePanels bounds impl.widePanels (the private edge tile holds that many panels).
const maxWidePanels = 2

// threadState is one thread's per-call scratch for edge tiles. It lives in
// the pooled job rather than on the stack because the micro-kernel is called
// through a func value, which makes its pointer arguments escape.
type threadState struct {
	args   tileArgs
	tmp    [mr * nr * maxWidePanels]float32
	rowPad [mr]float32
	colPad [nr * maxWidePanels]float32
}

// job is the state of one Multiply call, shared by its threads. Jobs are
// recycled through jobPool so that steady-state calls do not allocate.
type job struct {
	im     *impl
	p      Params
	splitN bool // threads split N (else M) in panels
	ws     [][]float32
	ts     []threadState
	claim  atomic.Int32
}

var jobPool = sync.Pool{New: func() any { return new(job) }}

// workspacePool holds packing buffers for callers that pass no Workspace.
// A sync.Pool (rather than a buffer per call, or one global buffer) keeps the
// steady state allocation-free, lets concurrent calls each get their own
// buffers, and lets the GC reclaim them when GEMM is idle: a buffer survives
// one GC cycle unused (the pool's victim cache) and is dropped after two, so
// a program that multiplies at least once per GC cycle never reallocates.
// Callers that plan memory themselves (the runtime's arena) pass
// Params.Workspace instead and never touch the pool.
var workspacePool = sync.Pool{New: func() any { return new([]float32) }}

// alignFloats is the slack added per buffer so each can start on a 64-byte
// boundary (cache line, and what the packed-panel loads prefer).
const alignFloats = 16

func threadWorkspace(m, n, k int) int {
	kc := kBlock(k)
	return (min(roundUp(m, mr), mcMax)+min(roundUp(n, nr), ncMax))*kc + 2*alignFloats
}

// WorkspaceSize is the length of Params.Workspace that lets Multiply run an
// M×N×K product on up to threads threads without touching its internal
// buffer pool. It is an upper bound (prepacked operands need less) and is at
// most about threads*(mcMax+ncMax)*kcMax floats (3.3 MiB per thread)
// whatever the sizes.
func WorkspaceSize(m, n, k, threads int) int {
	return max(threads, 1) * threadWorkspace(m, n, k)
}

// aligned returns the tail of buf starting at the first 64-byte boundary.
func aligned(buf []float32) []float32 {
	if len(buf) == 0 {
		return buf
	}
	off := int(uintptr(unsafe.Pointer(&buf[0])) % 64 / 4)
	if off == 0 {
		return buf
	}
	return buf[alignFloats-off:]
}

func (im *impl) multiply(p *Params) {
	m, n, k := p.M, p.N, p.K
	if m <= 0 || n <= 0 {
		return
	}
	if k == 0 {
		scaleOnly(p)
		finish(p, 0, m, 0, n)
		return
	}
	sp := im.chooseSplit(p, p.Pool.Threads())
	parts := sp.parts

	j := jobPool.Get().(*job)
	j.im = im
	j.p = *p
	j.splitN = sp.byN
	j.claim.Store(0)
	if cap(j.ts) < parts {
		j.ts = make([]threadState, parts)
	}
	j.ts = j.ts[:parts]
	if cap(j.ws) < parts {
		j.ws = make([][]float32, parts)
	}
	j.ws = j.ws[:parts]

	per := threadWorkspace(m, n, k)
	var pooled *[]float32
	buf := p.Workspace
	if len(buf) < parts*per {
		pooled = workspacePool.Get().(*[]float32)
		if len(*pooled) < parts*per {
			*pooled = make([]float32, parts*per)
		}
		buf = *pooled
	}
	for t := range parts {
		j.ws[t] = buf[t*per : (t+1)*per]
	}

	if parts == 1 {
		j.region(0, m, 0, n, j.ws[0], &j.ts[0])
		finish(p, 0, m, 0, n)
	} else {
		p.Pool.ForTask(sp.panels, j)
	}

	if pooled != nil {
		workspacePool.Put(pooled)
	}
	j.p = Params{} // do not keep the caller's matrices alive
	j.im = nil
	clear(j.ws)
	jobPool.Put(j)
}

// Do runs the panels [lo, hi) of the split dimension; it is the
// parallel.Task called once per thread.
func (j *job) Do(lo, hi int) {
	t := int(j.claim.Add(1) - 1)
	i0, i1, j0, j1 := 0, j.p.M, lo*nr, min(hi*nr, j.p.N)
	if !j.splitN {
		i0, i1, j0, j1 = lo*mr, min(hi*mr, j.p.M), 0, j.p.N
	}
	j.region(i0, i1, j0, j1, j.ws[t], &j.ts[t])
	finish(&j.p, i0, i1, j0, j1)
}

// finish hands a region of C whose values are final to the epilogue's Finisher, if any and unless the
// call was cancelled (C is then unfinished anyway).
func finish(p *Params, i0, i1, j0, j1 int) {
	if f := p.Epilogue.Finish; f != nil && !stopped(p.Done) {
		f.Finish(p.C, p.LDC, i0, i1, j0, j1)
	}
}

// directBMaxRows is the M extent up to which a plain (untransposed) B is
// always read in place instead of packed: each packed B element would be
// reused only ceil(M/mr) times, so the packing pass costs as much as the
// product (LeNet's conv1 has M=6). Measured on Zen 3: in-place B is 1.3-2×
// faster for M <= 24 even at a 4 KiB row stride.
const directBMaxRows = 4 * mr

// readBInPlace decides whether the driver reads an untransposed B in place
// (per panel, kc rows of 16 values LDB apart) for an M extent of rows. Up to directBMaxRows it always does. Beyond, packing amortises over
// the M panels and in place wins only by avoiding the packing pass, unless
// the stride aliases: measured on Zen 3 at M=144, K=256, in place is 7-9%
// faster at strides of 256, 384, 640, 896 and 1152 floats, ties at 512 and
// is 1-5% slower at 768, 1024, 1280, 1536 and 2048, the multiples of 1 KiB
// beyond 1 KiB (the panel rows then crowd too few sets of L1 and L2).
func readBInPlace(p *Params, rows int) bool {
	if p.PackedB != nil || p.BPacker != nil || p.TransB || !bInPlaceEnabled {
		return false
	}
	aliases := p.LDB%256 == 0 && p.LDB > 256
	return rows <= directBMaxRows || !aliases
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// readAInPlace decides whether the driver reads an untransposed A in place
// (mb rows of kc values, LDA apart) with the row form of the kernel instead
// of packing it. Packing costs a pass over the A block per N block and pays
// only when the rows in place would alias in the cache. Measured on Zen 3,
// in place is 0-35% faster (64³ +7%, 128³ +18%, 256³ +10%, 120×64×400 +35%,
// 512³ and 1000³ ±1%). A transposed A is always packed: read in place, each
// k step of a panel touches its own cache line, and that measured up to 10%
// slower (96×300×1024).
func readAInPlace(p *Params, mb, kc int) bool {
	if p.PackedA != nil || p.TransA || !aInPlaceEnabled {
		return false
	}
	return rowsFitL2(mb, kc*4, p.LDA*4)
}

// aInPlaceEnabled and bInPlaceEnabled let benchmarks compare the in-place
// and packed paths.
var aInPlaceEnabled, bInPlaceEnabled = true, true

// rowsFitL2 reports whether rows runs of rowBytes bytes, strideBytes apart,
// spread over the L2 (1024 sets of 8 ways, 64-byte lines: 64 KiB per way)
// well enough to stay resident together: at most half the ways of any set
// they touch. A stride that is a multiple of a large power of two maps the
// runs onto few sets, where they evict each other (and each other's lines
// in L1).
func rowsFitL2(rows, rowBytes, strideBytes int) bool {
	const line, sets, ways = 64, 1024, 8
	w := ceilDiv(rowBytes, line) + 1 // lines per run, which need not be line-aligned
	g := 1                           // runs start at multiples of g lines
	if strideBytes%line == 0 {
		g = gcd(strideBytes/line%sets, sets) // gcd(0, sets) = sets
	}
	// The runs start at n distinct sets, spread evenly over the sets (the
	// starts are multiples of g modulo sets), so each covers at most w sets
	// and at most its share sets/n.
	n := min(rows, sets/g)
	covered := n * min(w, sets/n)
	return rows*w <= covered*ways/2
}

// aSource says where the micro-kernel reads A for one K block of one M block.
type aSource struct {
	packed  []float32 // packed panels: the panel at row offset ir is packed[ir*kc:], column form, lda = mr
	inPlace []float32 // or the row-major A read in place from column p0, row form
	lda     int
	edge    []float32 // in place: the packed copy of a partial last panel
}

// bSource says where the micro-kernel reads B for one K block of one N block.
type bSource struct {
	packed []float32 // packed panels: panel at column offset jr is packed[jr*kc:], stride nr
	direct []float32 // or row-major B read in place from row p0, stride ldb
	ldb    int
	// edge, in direct mode, is the packed copy of a partial last panel, or
	// of the last group of wide panels when it ends with a partial one
	// (wideTail); its first panel is at column offset edgeFrom of the N block.
	edge     []float32
	edgeFrom int
}

// wideTail returns, for an N block of ncur columns, the column offset of a
// last group of widePanels panels whose last panel only is partial, which
// the wide kernel then computes on a private tile; ok is false when there
// is none (no wide kernel, or the last group is short of a full panel or
// more).
func (im *impl) wideTail(ncur int) (from int, ok bool) {
	group := im.widePanels * nr
	if group == 0 {
		return 0, false
	}
	rem := ncur % group
	return ncur - rem, rem > group-nr && rem%nr != 0
}

// region computes C[i0:i1, j0:j1] (i0 a multiple of mr, j0 of nr) with the
// classic five loops: N blocks, K blocks (pack B), M blocks (pack A), then
// the micro-kernel over B panels (kept in L1) × A panels (streamed from L2).
func (j *job) region(i0, i1, j0, j1 int, ws []float32, ts *threadState) {
	p := &j.p
	k := p.K
	kc := kBlock(k)
	mb := mBlock(i1 - i0)
	nb := nBlock(j1 - j0)
	var bufA, bufB []float32
	if p.PackedA == nil {
		bufA = aligned(ws)[:mb*kc]
		ws = ws[len(bufA)+alignFloats:]
	}
	if p.PackedB == nil {
		bufB = aligned(ws)[:nb*kc]
	}
	directA := readAInPlace(p, mb, kc)
	directB := readBInPlace(p, i1-i0)
	for jc := j0; jc < j1; jc += nb {
		ncur := min(nb, j1-jc)
		for p0 := 0; p0 < k; p0 += kc {
			kcb := min(kc, k-p0)
			var bs bSource
			switch {
			case p.PackedB != nil:
				bs.packed = p.PackedB.panels(p0, kcb, jc)
			case p.BPacker != nil:
				p.BPacker.PackB(bufB[:roundUp(ncur, nr)*kcb], p0, kcb, jc, ncur)
				bs.packed = bufB
			case directB:
				bs.direct, bs.ldb = p.B[p0*p.LDB:], p.LDB
				if full := ncur / nr * nr; full < ncur {
					from := full
					if tail, ok := j.im.wideTail(ncur); ok {
						from = tail
					}
					packB(bufB, false, p.B, p.LDB, jc+from, ncur-from, p0, kcb)
					bs.edge, bs.edgeFrom = bufB, from
				}
			default:
				packB(bufB, p.TransB, p.B, p.LDB, jc, ncur, p0, kcb)
				bs.packed = bufB
			}
			for ic := i0; ic < i1; ic += mb {
				if stopped(p.Done) {
					return
				}
				mcur := min(mb, i1-ic)
				var as aSource
				switch {
				case p.PackedA != nil:
					as.packed = p.PackedA.panels(p0, kcb, ic)
				case directA:
					as.inPlace, as.lda = p.A[p0:], p.LDA
					if full := mcur / mr * mr; full < mcur {
						packA(bufA, p.TransA, p.A, p.LDA, ic+full, mcur-full, p0, kcb)
						as.edge = bufA
					}
				default:
					packA(bufA, p.TransA, p.A, p.LDA, ic, mcur, p0, kcb)
					as.packed = bufA
				}
				j.macroTile(&as, &bs, ic, mcur, jc, ncur, p0, kcb, ts)
			}
		}
	}
}

// macroTile runs the micro-kernel over an mcur×ncur block of C whose A
// panels come from as and B panels from bs, for the K block [p0, p0+kcb).
func (j *job) macroTile(as *aSource, bs *bSource, ic, mcur, jc, ncur, p0, kcb int, ts *threadState) {
	p := &j.p
	first, last := p0 == 0, p0+kcb == p.K
	args := &ts.args
	*args = tileArgs{alpha: p.Alpha, beta: 1, flags: flagLoadC}
	if first {
		args.beta = p.Beta
		if p.Beta == 0 {
			args.flags = 0
		}
	}
	var rowBias, colBias bool
	if last {
		e := &p.Epilogue
		rowBias = e.BiasMode == BiasPerRow
		colBias = e.BiasMode == BiasPerCol
		if rowBias {
			args.flags |= flagRowBias
		}
		if colBias {
			args.flags |= flagColBias
		}
		switch e.Act {
		case ActReLU:
			args.flags |= flagClamp
			args.lo, args.hi = 0, float32(posInf)
		case ActClip:
			args.flags |= flagClamp
			args.lo, args.hi = e.Min, e.Max
		}
	}
	tail, wideTail := j.im.wideTail(ncur)
	for jr := 0; jr < ncur; {
		if panels := j.im.widePanels; panels > 0 && (ncur-jr >= panels*nr || wideTail && jr == tail) {
			j.wideColumns(as, bs, ic, mcur, jc, jr, ncur, kcb, colBias, rowBias, ts)
			jr += panels * nr
			continue
		}
		for ir := 0; ir < mcur; ir += mr {
			j.tile(as, bs, ic, ir, mcur, jc, jr, ncur, kcb, colBias, rowBias, ts)
		}
		jr += nr
	}
}

// wideColumns runs the wide kernel over the full-height tiles of the
// widePanels B panels at column offset jr of the N block starting at column
// jc (ncur columns), and the nr-wide kernel on a partial last row tile. The
// panels are full, or (wideTail) all but the last, and the wide kernel then
// works on a private tile.
func (j *job) wideColumns(as *aSource, bs *bSource, ic, mcur, jc, jr, ncur, kcb int, colBias, rowBias bool, ts *threadState) {
	p := &j.p
	col := jc + jr
	args := &ts.args
	panels := j.im.widePanels
	w := min(panels*nr, ncur-jr)
	var bp *float32
	ldb, bStride := nr, nr*kcb
	switch {
	case bs.packed != nil:
		bp = &bs.packed[jr*kcb]
	case w < panels*nr:
		bp = &bs.edge[(jr-bs.edgeFrom)*kcb]
	default:
		bp, ldb, bStride = &bs.direct[col], bs.ldb, nr
	}
	args.bStride = uintptr(bStride)
	if colBias {
		if w == panels*nr {
			args.colBias = &p.Epilogue.Bias[col]
		} else {
			copy(ts.colPad[:], p.Epilogue.Bias[col:col+w])
			args.colBias = &ts.colPad[0]
		}
	}
	full := mcur / mr * mr
	for ir := 0; ir < full; ir += mr {
		row := ic + ir
		kernel, ap, lda := j.im.wideColA, (*float32)(nil), mr
		if as.packed != nil {
			ap = &as.packed[ir*kcb]
		} else {
			kernel, ap, lda = j.im.wideRowA, &as.inPlace[row*as.lda], as.lda
		}
		if rowBias {
			args.rowBias = &p.Epilogue.Bias[row]
		}
		if w == panels*nr {
			kernel(kcb, ap, lda, bp, ldb, &p.C[row*p.LDC+col], p.LDC, args)
			continue
		}
		tmp, ldt := ts.tmp[:], panels*nr
		if args.flags&flagLoadC != 0 {
			for r := range mr {
				copy(tmp[r*ldt:r*ldt+w], p.C[(row+r)*p.LDC+col:])
			}
		}
		kernel(kcb, ap, lda, bp, ldb, &tmp[0], ldt, args)
		for r := range mr {
			copy(p.C[(row+r)*p.LDC+col:(row+r)*p.LDC+col+w], tmp[r*ldt:])
		}
	}
	if full < mcur {
		for q := 0; q*nr < w; q++ {
			j.tile(as, bs, ic, full, mcur, jc, jr+q*nr, ncur, kcb, colBias, rowBias, ts)
		}
	}
}

// tile runs the nr-wide kernel on the tile at row offset ir of the M block
// starting at row ic (mcur rows) and column offset jr of the N block starting
// at column jc (ncur columns); a partial tile goes through a private copy.
func (j *job) tile(as *aSource, bs *bSource, ic, ir, mcur, jc, jr, ncur, kcb int, colBias, rowBias bool, ts *threadState) {
	p := &j.p
	args := &ts.args
	c, ldc := p.C, p.LDC
	col := jc + jr
	w := min(nr, ncur-jr)
	var bp *float32
	ldb := nr
	switch {
	case bs.packed != nil:
		bp = &bs.packed[jr*kcb]
	case w == nr:
		bp, ldb = &bs.direct[col], bs.ldb
	default:
		bp = &bs.edge[(jr-bs.edgeFrom)*kcb]
	}
	if colBias {
		if w == nr {
			args.colBias = &p.Epilogue.Bias[col]
		} else {
			copy(ts.colPad[:], p.Epilogue.Bias[col:col+w])
			args.colBias = &ts.colPad[0]
		}
	}
	row := ic + ir
	h := min(mr, mcur-ir)
	kernel, ap, lda := j.im.colA, (*float32)(nil), mr
	switch {
	case as.packed != nil:
		ap = &as.packed[ir*kcb]
	case h < mr:
		ap = &as.edge[0]
	default:
		kernel, ap, lda = j.im.rowA, &as.inPlace[row*as.lda], as.lda
	}
	if rowBias {
		if h == mr {
			args.rowBias = &p.Epilogue.Bias[row]
		} else {
			copy(ts.rowPad[:], p.Epilogue.Bias[row:row+h])
			args.rowBias = &ts.rowPad[0]
		}
	}
	if h == mr && w == nr {
		kernel(kcb, ap, lda, bp, ldb, &c[row*ldc+col], ldc, args)
		return
	}
	// Edge tile: run the full kernel on a private tile, then copy
	// the valid h×w corner in and out of C.
	if args.flags&flagLoadC != 0 {
		for r := range h {
			copy(ts.tmp[r*nr:r*nr+w], c[(row+r)*ldc+col:])
		}
	}
	kernel(kcb, ap, lda, bp, ldb, &ts.tmp[0], nr, args)
	for r := range h {
		copy(c[(row+r)*ldc+col:(row+r)*ldc+col+w], ts.tmp[r*nr:])
	}
}

// scaleOnly handles K == 0: the product is empty, so C = act(beta*C + bias).
func scaleOnly(p *Params) {
	e := &p.Epilogue
	for i := 0; i < p.M; i++ {
		row := p.C[i*p.LDC : i*p.LDC+p.N]
		for jj := range row {
			v := p.Alpha * 0 // the empty sum, scaled as the reference does
			if p.Beta != 0 {
				v = p.Beta * row[jj]
			}
			switch e.BiasMode {
			case BiasPerRow:
				v += e.Bias[i]
			case BiasPerCol:
				v += e.Bias[jj]
			}
			switch e.Act {
			case ActReLU:
				v = clamp(v, 0, float32(posInf))
			case ActClip:
				v = clamp(v, e.Min, e.Max)
			}
			row[jj] = v
		}
	}
}

// stopped reports whether done is closed; a nil channel never is. It costs a few nanoseconds a macro-tile.
func stopped(done <-chan struct{}) bool {
	if done == nil {
		return false
	}
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// KernelName names the micro-kernel Sgemm and Multiply use on this CPU and build: "avx512" (zmm
// registers, kernel_amd64.s), "avx2fma" (AVX2 + FMA on ymm registers) or "generic" (plain Go). Benchmarks use it to pick the peak
// their GFLOP/s are a share of.
func KernelName() string { return defaultImpl.name }
