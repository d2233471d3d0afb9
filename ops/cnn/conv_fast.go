package cnn

// The float32 convolution kernel and the choice of its strategy. convOp.Prepare (and FusedConv's) hands a
// float32 convolution to prepareFastConv, which picks one strategy by shape, once, and prepacks what the
// strategy needs from constant weights. Every strategy computes the same thing as convDirect, the reference
// loop, followed by the fused epilogue:
//
//	Y[n, m, p] = act(convDirect(X, W, B)[n, m, p] + Z[n, m, p])
//
// with act the identity, Relu or Clip(lo, hi) and Z (FusedConv's residual input) absent for plain Conv.
//
// Strategies (conv_*.go):
//
//   - convPointwise (conv_gemm.go): 1x1 kernel, stride 1, no padding: each image's input planes are the
//     GEMM's B operand as they lie in memory.
//   - convIm2col (conv_gemm.go): im2col into a [C*taps][outSize] buffer, then one packed GEMM per image and
//     group; 2-D windows are unrolled row by row as runs of copies (a strided input deinterleaved first
//     into its stride phases), in blocks of output rows that stay in the L2 on large maps.
//   - convImplicit (conv_implicit.go): convIm2col's product on strided windows with the columns packed by
//     the GEMM straight from the image (implicit GEMM): no column buffer, no deinterleave.
//   - convGemmT (conv_gemm_t.go): the same product transposed, Yᵀ = colᵀ · Wᵀ, on small maps (ResNet-50's
//     7x7) where the positions would waste a quarter of the GEMM's 32-column tiles (gemmTPays).
//   - convWinograd (conv_winograd.go): F(4x4, 3x3) for 3x3 stride-1 convolutions with enough channels.
//   - convFewChannels (conv_direct.go): direct 6x16 register tiles for stride-1 convolutions with at most 64
//     multiply-adds per output cell (LeNet's layers, a CIFAR network's first), where im2col would cost as
//     much as the product, or with at most 16 output channels (U-Net's full-resolution layers), where
//     Winograd's and im2col's GEMMs run nearly empty.
//   - convDepthwise (conv_depthwise.go): one input channel per group (depthwise), a per-plane stencil.
//   - convTapRegions (conv_taps.go): a dilated convolution whose taps read the input for at most half of
//     the outputs (DeepLabV3's ASPP at dilation 12 on 16x16): one GEMM per tap over the outputs it reads
//     the input for, where im2col would multiply the padding's zeros.
//
// Before choosing, Prepare drops the taps that read only padding at every output position (conv_trim.go:
// DeepLabV3's ASPP at dilation 24 and 36 on a 16x16 map becomes a 1x1 convolution).
//
// # Threads
//
// Work is split over the session's worker pool (ops/internal/parallel) in units that write disjoint parts of
// Y: images (and groups) for the GEMM and direct strategies, tile blocks for Winograd, planes for depthwise.
// Threads claim units one at a time, so one that starts late (its core busy elsewhere) never holds up the
// others. When there are fewer units than threads, the GEMM itself is threaded instead. Per-thread buffers come from ctx.Scratch,
// sized at Prepare for up to maxConvThreads threads; a pool with more threads uses only that many. A
// one-thread session never touches the pool and never goes through an interface or a closure.

import (
	"math"
	goruntime "runtime"
	"sync"
	"sync/atomic"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/activation"
	"github.com/onnxrun/onnxrun/ops/internal/gemm"
	"github.com/onnxrun/onnxrun/ops/internal/isa"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

// convEpilogue is what a fused convolution does after the sum: add the residual input Z, then apply act
// (a clamp the kernels apply as they store) or post (any other activation, applied to each unit's output
// right after the unit, while it is in cache; at most one of act and post is set).
type convEpilogue struct {
	act    gemm.Activation // gemm.ActNone, ActReLU or ActClip
	lo, hi float32         // Clip's bounds
	sum    bool            // input 3 (Z, shaped like Y) is added before act
	post   activation.Func // Sigmoid, SiLU, HardSwish, ...: Kind None when act does it all
}

// apply is the clamp part of the epilogue on one value, the reference the strategies' fused loops follow
// (post runs on whole rows after them).
func (e *convEpilogue) apply(v float32) float32 {
	switch e.act {
	case gemm.ActReLU:
		if v < 0 { // NaN stays NaN
			v = 0
		}
	case gemm.ActClip:
		if v < e.lo {
			v = e.lo
		}
		if v > e.hi {
			v = e.hi
		}
	}
	return v
}

// clampBounds says whether the whole epilogue is a clamp to [lo, hi] of the sum (no residual; no
// activation, Relu or Clip), which a kernel can apply as it stores; otherwise lo and hi are ±Inf and the
// epilogue runs after the kernel.
func (e *convEpilogue) clampBounds() (lo, hi float32, inKernel bool) {
	inf := float32(math.Inf(1))
	if e.sum || e.post.Kind != activation.None {
		return -inf, inf, false
	}
	switch e.act {
	case gemm.ActNone:
		return -inf, inf, true
	case gemm.ActReLU:
		return 0, inf, true
	case gemm.ActClip:
		return e.lo, e.hi, true
	}
	return -inf, inf, false
}

// applyRow writes dst[i] = apply(src[i]); dst may be src. Relu and Clip use the min and max builtins,
// which compile without branches (apply's tests mispredict on every other value of a real activation
// map) and keep NaN as apply does.
func (e *convEpilogue) applyRow(dst, src []float32) {
	src = src[:len(dst)]
	switch e.act {
	case gemm.ActReLU:
		for i, v := range src {
			dst[i] = max(v, 0)
		}
	case gemm.ActClip:
		lo, hi := e.lo, e.hi
		for i, v := range src {
			dst[i] = min(max(v, lo), hi)
		}
	default:
		copy(dst, src)
	}
	e.post.Row(dst, dst)
}

// applyRowSum writes dst[i] = apply(src[i] + z[i]); dst may be src or z.
func (e *convEpilogue) applyRowSum(dst, src, z []float32) {
	src, z = src[:len(dst)], z[:len(dst)]
	for i, v := range src {
		dst[i] = v + z[i]
	}
	e.applyRow(dst, dst)
}

// gemmEpilogue is the GEMM epilogue for one group's rows: bias per output channel and the activation.
func (e *convEpilogue) gemmEpilogue(bias []float32) gemm.Epilogue {
	ep := gemm.Epilogue{Act: e.act, Min: e.lo, Max: e.hi}
	if bias != nil {
		ep.Bias, ep.BiasMode = bias, gemm.BiasPerRow
	}
	return ep
}

// maxConvThreads is how many threads the per-thread scratch buffers are sized for: the machine's, read once
// at Prepare (a session's pool never has more useful threads than cores).
func maxConvThreads() int { return max(1, min(goruntime.GOMAXPROCS(0), 64)) }

// convStrategy is one way of computing a float32 convolution. Implementations hold only what Prepare
// computed (packed weights, tables) and are read-only during Run.
type convStrategy interface {
	// name says which strategy was picked, for tests and profiles.
	name() string
	// units is the number of independent pieces of work run splits across threads.
	units() int
	// scratchShared is the scratch every thread reads (e.g. weights transformed at run time), at the start
	// of ctx.Scratch; scratchPerThread follows it once per thread.
	scratchShared() int
	scratchPerThread() int
	// setup fills the shared scratch once per run before any unit runs (weights that are not constant).
	setup(r *convRun)
	// run computes units [lo, hi) with the per-thread buffer buf; pool is non-nil when run may thread
	// inside a unit (there are fewer units than threads).
	run(r *convRun, lo, hi int, buf []float32, pool *parallel.Pool)
	// unitOutput is the part of Y unit u writes, [lo, hi), to which the epilogue's post activation is
	// applied once the unit is done; ok is false when it is not one range (post then runs over all of Y
	// after the units) and lo == hi when the strategy applies post itself.
	unitOutput(u int) (lo, hi int, ok bool)
}

// convRun is one Run's operands, handed to a strategy.
type convRun struct {
	k                *fastConvKernel
	x, w, bias, z, y []float32
	shared           []float32
	done             <-chan struct{}  // the run's context, for gemm.Params.Done
	serial           bool             // one thread runs every unit, in the strategy's serialLayout if it has one
	im2col           im2colSplit      // convIm2col's copies split across the pool (kept here: no allocation)
	winograd         winogradPhases   // convWinograd's block phases split across the pool, likewise
	post             activation.Split // the post activation over all of Y split across the pool, likewise
	im2colBlocks     im2colBlocks     // convIm2col's blocks shared across the pool, likewise
	direct           directSplit      // convFewChannels' image cut across the pool, likewise
}

// serialLayout is a strategy that cuts its work into other units when one thread runs them all: its
// threaded units are balanced for maxConvThreads threads, which depends on GOMAXPROCS, and a session with
// Threads: 1 must run the same code whatever GOMAXPROCS is.
type serialLayout interface {
	serialUnits() int
	serialScratch() int // the one thread's buffer, in place of scratchPerThread
}

// fastConvKernel runs a float32 convolution with the strategy Prepare chose.
type fastConvKernel struct {
	s          convShape
	epi        convEpilogue
	strategy   convStrategy
	maxThreads int
	// trimmedW replaces W when Prepare dropped the taps that read only padding (conv_trim.go): s is then
	// the trimmed geometry, and directMACs still counts the full kernel's multiply-adds.
	trimmedW   []float32
	directMACs int64
	// postStep is the gemm.Finisher that applies epi.post for the GEMM strategies (conv_gemm.go).
	postStep activation.Finisher
	// minUnitWork is the multiply-adds below which splitting units across threads does not pay: 64³, a
	// few µs of a GEMM's work, less for a strategy that is slowMACs.
	minUnitWork int64
}

// prepareFastConv picks the strategy for a float32 convolution. w is the constant W, or nil; what the
// strategy derives from it is kept in cache (the plan's, or the op's: see convOp.packsFor), shared by
// every node and every plan of the model that derive the same form of W.
func prepareFastConv(s convShape, w *ops.Tensor, cache *ops.PackCache, epi convEpilogue) *fastConvKernel {
	k := &fastConvKernel{s: s, epi: epi, maxThreads: maxConvThreads(), minUnitWork: 64 * 64 * 64, postStep: activation.Finisher{F: epi.post}}
	k.directMACs = int64(s.batch) * int64(s.outC) * int64(s.outSize) * int64(s.groupInC*s.taps)
	if ts, tw, ok := trimPaddingTaps(&s, w, cache); ok {
		k.s, w, k.trimmedW = ts, tw, tw.Float32s()
	}
	k.strategy = chooseConvStrategy(&k.s, convWeights{t: w, cache: cache})
	if sm, ok := k.strategy.(slowMACs); ok {
		k.minUnitWork /= sm.gemmMACsPerMAC()
	}
	return k
}

// slowMACs is a strategy whose multiply-adds take several times a GEMM's each (a depthwise stencil loads
// its operands for a handful of taps where the GEMM reuses them across a tile): minUnitWork, counted in
// GEMM multiply-adds, is divided by gemmMACsPerMAC so that the threading threshold compares time, not
// counts.
type slowMACs interface{ gemmMACsPerMAC() int64 }

// convWeights is W as a strategy's constructor sees it: a constant to derive packed forms from, or nothing
// (weights that change between runs, as the trainer's do, are read at run time).
type convWeights struct {
	t     *ops.Tensor    // the constant W, or nil
	cache *ops.PackCache // nil: derive without sharing
}

func (w convWeights) constant() bool { return w.t != nil }

// derive returns f(W's values), computed once per W and kind when there is a cache.
func (w convWeights) derive(kind string, f func(w []float32) any) any {
	return ops.Prepack(w.cache, w.t, kind, func() any { return f(w.t.Float32s()) })
}

// derivedWeights is a form of constant weights a strategy computes for itself (GEMM panels, Winograd
// transforms), made by the first Run that needs it rather than at Prepare. A model is planned several
// times (by the graph passes' probes, by the check at its declared shapes, once per input shape) and each
// plan Prepares every node, but only the plans that run need packed copies: a ResNet-18 run at batch 8 no
// longer also holds the panels its batch-1 check chose (Winograd's transform is 4 times W). Once made, the
// form is shared through the ops.PackCache by every kernel asking for the same weights and kind.
type derivedWeights[T any] struct {
	w    convWeights
	kind string
	make func(w []float32) T
	once sync.Once
	v    T
}

// newDerivedWeights returns nil when W is not a constant: the strategy then derives into scratch at every
// Run.
func newDerivedWeights[T any](w convWeights, kind string, make func(w []float32) T) *derivedWeights[T] {
	if !w.constant() {
		return nil
	}
	return &derivedWeights[T]{w: w, kind: kind, make: make}
}

// get returns the derived form, making it on the first call; concurrent callers wait for it.
func (d *derivedWeights[T]) get() T {
	d.once.Do(d.compute)
	return d.v
}

func (d *derivedWeights[T]) compute() {
	d.v = d.w.derive(d.kind, func(w []float32) any { return d.make(w) }).(T)
}

// chooseConvStrategy is the selection by shape described at the top of this file. The thresholds are
// measured on Zen 3 (see conv_bench_test.go): Winograd pays from about 16 channels on each side, the direct
// tiles up to 64 multiply-adds per output cell (C/group*taps), where im2col costs as much as the GEMM.
func chooseConvStrategy(s *convShape, w convWeights) convStrategy {
	switch {
	case tapRegionsFits(s):
		return newConvTapRegions(s, w)
	case gemmTPays(s, gemmTileCols()) && !winogradFits(s):
		return newConvGemmT(s, w)
	case isPointwise(s):
		return newConvPointwise(s, w)
	case isDepthwise(s):
		return newConvDepthwise(s, w)
	case winogradFits(s) && !fewOutputsFits(s):
		return newConvWinograd(s, w)
	case fewChannelsFits(s) || fewOutputsFits(s):
		return newConvFewChannels(s, w)
	case implicitFits(s):
		return newConvImplicit(s, w)
	}
	return newConvIm2col(s, w)
}

// gemmTPays reports whether the transposed product (conv_gemm_t.go) computes markedly fewer padded tile
// cells than the plain one on a small map: the GEMM's tiles are 6 rows by tileCols columns (32 with the
// AVX-512 kernel, 16 otherwise; a remainder of up to 16 columns takes a 16-wide tile), the plain product
// has the output channels as rows and the positions as columns, the transposed one the reverse. Measured
// on Zen 4 (BenchmarkConv, CPU time): ResNet-50's 3x3 on 7x7 (49 positions: 64 columns computed, 54 rows
// transposed) is 14% faster transposed; 10x10 and 14x14 maps (0.91 and 0.95 of the plain product's cells)
// tie. Above 256 positions the transposed columns and result fall out of the L2 and it loses (-35% on
// 56x56 with 64 channels) whatever the tiles.
func gemmTPays(s *convShape, tileCols int) bool {
	if s.outSize > 256 || s.groupInC*s.taps < 64 || isDepthwise(s) {
		return false
	}
	cols := func(n int) int {
		if rem := n % tileCols; rem > 0 && rem <= 16 {
			return n - rem + 16
		}
		return roundUpTo(n, tileCols)
	}
	plain := roundUpTo(s.groupOutC, 6) * cols(s.outSize)
	transposed := roundUpTo(s.outSize, 6) * cols(s.groupOutC)
	return 10*transposed < 9*plain
}

// gemmTileCols is the column width of the GEMM micro-kernel's full tiles on this CPU and build.
func gemmTileCols() int {
	if isa.Max() >= isa.AVX512 {
		return 32
	}
	return 16
}

// roundUpTo rounds n up to a multiple of m.
func roundUpTo(n, m int) int { return (n + m - 1) / m * m }

// FLOPs counts the multiply-adds of the direct computation, whatever the strategy does (with every tap,
// those that read only padding included).
func (k *fastConvKernel) FLOPs() int64 { return k.directMACs }

// macs counts the multiply-adds the kernel does: FLOPs less the taps Prepare dropped.
func (k *fastConvKernel) macs() int64 {
	s := &k.s
	return int64(s.batch) * int64(s.outC) * int64(s.outSize) * int64(s.groupInC*s.taps)
}

// ScratchSize is the strategy's shared scratch plus one per-thread buffer for each thread.
func (k *fastConvKernel) ScratchSize() int {
	perThreads := k.maxThreads * k.strategy.scratchPerThread()
	if sl, ok := k.strategy.(serialLayout); ok {
		perThreads = max(perThreads, sl.serialScratch())
	}
	return k.strategy.scratchShared() + perThreads
}

// Strategy names the strategy Prepare chose.
func (k *fastConvKernel) Strategy() string { return k.strategy.name() }

func (k *fastConvKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	// The run's operands live in a recycled convTask: the strategy's methods, called through the
	// interface, would make a convRun on the stack escape, and every Run allocate.
	t := convTaskPool.Get().(*convTask)
	defer func() {
		*t = convTask{}
		convTaskPool.Put(t)
	}()
	r := &t.r
	*r = convRun{k: k, x: in[0].Float32s(), w: in[1].Float32s(), y: out[0].Float32s(), done: doneOf(ctx)}
	if k.trimmedW != nil {
		r.w = k.trimmedW
	}
	if b := ops.TensorAt(in, 2); b != nil {
		r.bias = b.Float32s()
	}
	if k.epi.sum {
		r.z = in[3].Float32s()
	}
	st := k.strategy
	shared := st.scratchShared()
	r.shared = ctx.Scratch[:shared]
	st.setup(r)
	per := st.scratchPerThread()
	scratch := ctx.Scratch[shared:]
	pool := poolOf(ctx)
	threads := min(pool.Threads(), k.maxThreads)
	units := st.units()
	switch {
	case threads <= 1:
		if sl, ok := st.(serialLayout); ok {
			r.serial, units, per = true, sl.serialUnits(), sl.serialScratch()
		}
		runConvUnits(st, r, 0, units, scratch[:per], nil)
	case units < threads || k.macs() < k.minUnitWork || (units < 4*threads && units%threads != 0):
		// Too few units to balance: one thread walks them and the GEMMs inside thread themselves.
		runConvUnits(st, r, 0, units, scratch[:per], pool)
	default:
		t.per, t.scratch, t.units = per, scratch, units
		t.claim.Store(0)
		t.next.Store(0)
		pool.ForTask(threads, t)
	}
	if _, _, ok := st.unitOutput(0); !ok && k.epi.post.Kind != activation.None && !cancelled(r.done) {
		// A strategy whose units do not write one range each (Winograd) leaves the activation to a pass
		// over Y, split across the pool when large: at batch 1 it ran on one thread after the product.
		if threads > 1 && len(r.y) >= postSplitMin {
			r.post = activation.Split{F: k.epi.post, Y: r.y, Parts: threads}
			pool.ForTask(threads, &r.post)
		} else {
			k.epi.post.Row(r.y, r.y)
		}
	}
	return nil
}

// postSplitMin is the size of Y from which a post activation run as a pass of its own is split across the
// pool: a SiLU or GELU over 16K elements takes about 10 µs on one core.
const postSplitMin = 16 << 10

// convTask is one Run: its operands and, when threaded, the work split. The pool calls Do once per thread; each call takes the next per-thread
// buffer, then claims units one at a time until none is left. A thread that starts late (its core busy
// with something else) thus finds the work done by the others instead of holding them up with its share.
type convTask struct {
	r       convRun
	per     int
	scratch []float32
	units   int
	claim   atomic.Int32 // per-thread buffers handed out
	next    atomic.Int32 // units handed out
}

// convTaskPool recycles convTasks so that a threaded Run does not allocate (the kernel itself is shared by
// concurrent sessions, so it cannot own one).
var convTaskPool = sync.Pool{New: func() any { return new(convTask) }}

func (t *convTask) Do(_, _ int) {
	i := int(t.claim.Add(1) - 1)
	buf := t.scratch[i*t.per : (i+1)*t.per]
	for {
		u := int(t.next.Add(1) - 1)
		if u >= t.units {
			return
		}
		runConvUnits(t.r.k.strategy, &t.r, u, u+1, buf, nil)
	}
}

// runConvUnits runs units [lo, hi) one at a time, and stops before the next once the run is cancelled: a
// unit (an image's group, a block of Winograd tiles, an output plane) is at most a few milliseconds of
// work, so a cancelled run stops promptly whatever the strategy; the GEMMs inside also poll between tiles.
// The strategies' outputs are then unfinished, which the runtime discards.
func runConvUnits(st convStrategy, r *convRun, lo, hi int, buf []float32, pool *parallel.Pool) {
	for u := lo; u < hi; u++ {
		if cancelled(r.done) {
			return
		}
		st.run(r, u, u+1, buf, pool)
		if post := &r.k.epi.post; post.Kind != activation.None {
			if lo, hi, ok := st.unitOutput(u); ok && lo < hi {
				post.Row(r.y[lo:hi], r.y[lo:hi])
			}
		}
	}
}

// beta is the GEMM's Beta: 1 when Y holds a copy of Z to accumulate onto, else 0 (Y write-only).
func beta(e *convEpilogue) float32 {
	if e.sum {
		return 1
	}
	return 0
}
