package cnn

// The fast integer convolutions behind ConvInteger and QLinearConv. Three strategies, chosen at Prepare by
// shape:
//
//   - depthwise (2-D, group == C, one input channel per group): each output plane is an integer stencil over
//     one input plane, int32 accumulation, no GEMM (a GEMM would multiply 1-row matrices);
//   - pointwise (1x1 kernel, stride 1, no padding): each group's input planes are already the GEMM's K x N
//     operand, so the product runs on them with no copy;
//   - im2col: each (image, group) is unrolled into an N x K byte matrix, N = output cells, K = C/group·taps,
//     and multiplied by the weights on the integer GEMM (ops/internal/igemm).
//
// Padding holds x's zero point, in im2col's padding cells as in the depthwise kernel's border, so that
// (x - x_zero_point) is 0 there and the GEMM's zero-point correction (Σ(a-za)(b-zb) expanded over the
// whole K) stays exact.
//
// The GEMM's operands: A is W of the group (M/group x K, weight zero points per row, packed once at
// Prepare with its row sums when W is constant), B the input (x's zero point per tensor). ConvInteger's
// int32 output is the GEMM's C; QLinearConv's bias, per-channel scales and requantisation to 8 bits are
// the GEMM's epilogue (igemm.Requant), so the int32 accumulators never reach memory.
//
// # Threads
//
// The GEMM splits each product over the session's pool. The depthwise planes are split over the pool,
// each thread with its own int32 plane in ctx.Scratch (sized at Prepare for maxConvThreads threads).

import (
	"fmt"

	"sync"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/igemm"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

// qconvStrategy names how a quantized convolution runs.
type qconvStrategy uint8

const (
	qconvIm2col qconvStrategy = iota
	qconvPointwise
	qconvDepthwise
)

func (s qconvStrategy) String() string {
	return [...]string{"im2col+igemm", "pointwise igemm", "depthwise"}[s]
}

// qconvKernel is the fast ConvInteger (int32 output) and QLinearConv (8-bit output). It is read-only
// during Run.
type qconvKernel struct {
	s        convShape
	g        *gather
	strategy qconvStrategy
	// requant is set for QLinearConv: y is 8-bit, requantised in the epilogue.
	requant          bool
	xSigned, wSigned bool
	ySigned          bool
	// rowIm2col: the im2col operand is built K x N a row of output cells at a time (im2colRowRange: one
	// run copied per input row of a 2-D window, from the phased input when the column stride is above 1),
	// which the GEMM packs with its vector panel packer, instead of N x K cell by cell.
	rowIm2col bool
	// packed holds each group's weights packed for the GEMM when W is constant (nil otherwise).
	packed []*igemm.PackedA
	// dwVec is the depthwise vector path's geometry (qconv_depthwise.go), nil when the window does not fit it.
	dwVec *dwVectorPlan
	// dwci is the interleaved depthwise path's geometry (qconv_depthwise_ci.go), nil when the shape does
	// not take it; it replaces the plane path when set.
	dwci *dwciPlan
	// kc is the GEMM's K: C/group · taps.
	kc int
	// colBytes is the im2col buffer of one (image, group), in bytes.
	colBytes int
	// phasedBytes is the group's input planes in phaseRows' layout, for rowIm2col with a column stride
	// above 1 (0 otherwise): its taps then copy contiguous runs, where the cell-by-cell gather read
	// every stride-th byte with a border test per cell (MobileNetV2's stride-2 stem took as long as
	// all its depthwise layers before they moved to the interleaved path).
	phasedBytes int
	// subsample: a 1x1 window without padding at column stride 2, whose im2col operand is the even cells
	// of every sh-th input row (subsampleBytes), taken without the phased copy.
	subsample  bool
	maxThreads int
	// runs recycles the per-Run state (GEMM parameters, thread task) so that Run allocates nothing while
	// the kernel stays safe for concurrent sessions.
	runs *sync.Pool
}

// qconvIO is one Run's inputs in the form the strategies use. ConvInteger leaves the scales and bias
// empty.
type qconvIO struct {
	x, w         []byte
	xZero        [1]byte // x's zero point in x's encoding (0 when absent), the GEMM's per-tensor B zero point
	wZero        []byte  // 0, 1 or M weight zero points in w's encoding
	xScale       [1]float32
	wScale       []float32
	yScale       float32
	yZero        int32
	bias         []int32
	y8           []byte  // QLinearConv's output
	y32          []int32 // ConvInteger's output
	scratch      []float32
	pool         *parallel.Pool
	done         <-chan struct{} // the run's cancellation: checked between products and between planes
	params       igemm.Params
	depthwiseRun qconvDepthwiseTask
	gemmRun      qconvGemmTask
}

func newQconvKernel(s convShape, in []ops.ValueInfo, xIdx, wIdx int, yType ops.DType, requant bool) *qconvKernel {
	k := &qconvKernel{s: s, g: s.win.gatherInput(), requant: requant, maxThreads: maxConvThreads(),
		xSigned: in[xIdx].DType == ops.Int8, wSigned: in[wIdx].DType == ops.Int8, ySigned: yType == ops.Int8}
	k.kc = s.groupInC * s.taps
	switch {
	case isDepthwise(&s) && s.groupOutC == 1:
		k.strategy = qconvDepthwise
		k.dwVec = newDwVectorPlan(&k.s)
		k.dwci = newQdwciPlan(&k.s, k.dwVec)
	case k.g.isIdentity(s.inSize):
		k.strategy = qconvPointwise
	default:
		k.strategy = qconvIm2col
		k.colBytes = s.outSize * k.kc
		k.rowIm2col = s.win.rank() == 2
		k.phasedBytes = phasedLen(&s.win, s.groupInC)
		w := &s.win
		k.subsample = k.rowIm2col && s.taps == 1 && w.stride[1] == 2 && w.padBegin[0] == 0 && w.padBegin[1] == 0 &&
			w.out[1] == ceilDiv(w.in[1], 2) && w.out[0] <= ceilDiv(w.in[0], w.stride[0])
		if k.subsample {
			k.phasedBytes = 0
		}
	}
	if w := in[wIdx].Const; w != nil && k.strategy != qconvDepthwise {
		// Every node reading the same W shares the packed groups (ops.Prepack).
		layout := fmt.Sprintf("igemm.PackA groups=%d signed=%t m=%d kc=%d", s.group, k.wSigned, s.groupOutC, k.kc)
		k.packed = ops.Prepack(in[wIdx].Packs, w, layout, func() []*igemm.PackedA {
			wb := ops.ByteData(w)
			packed := make([]*igemm.PackedA, s.group)
			for g := range packed {
				packed[g] = igemm.PackA(k.wSigned, s.groupOutC, k.kc, wb[g*s.groupOutC*k.kc:], k.kc)
			}
			return packed
		})
	}
	k.runs = &sync.Pool{New: func() any { return new(qconvIO) }}
	return k
}

// Strategy names the strategy Prepare chose, for tests and plan dumps.
func (k *qconvKernel) Strategy() string {
	if k.dwci != nil {
		return "depthwise interleaved"
	}
	if k.dwVec != nil {
		return "depthwise vector"
	}
	if k.subsample {
		return "subsample+igemm"
	}
	return k.strategy.String()
}

// ScratchSize is the im2col buffer, or the depthwise kernel's per-thread buffers.
func (k *qconvKernel) ScratchSize() int {
	switch k.strategy {
	case qconvIm2col:
		// One im2col buffer per thread for when the products are split over the threads (gemmThreads).
		return k.maxUnitThreads() * ops.ByteScratchLen(k.colBytes+k.phasedBytes)
	case qconvDepthwise:
		return k.maxThreads * k.depthwiseScratchPerThread()
	}
	return 0
}

// FLOPs counts multiply-adds.
func (k *qconvKernel) FLOPs() int64 { return k.s.multiplyAdds() }

// load fills io from the node's tensors; xIdx... are the positions of the inputs (ConvInteger's and
// QLinearConv's differ).
func (k *qconvKernel) load(io *qconvIO, ctx *ops.ExecContext, in, out []*ops.Tensor) {
	if k.requant {
		io.x, io.w = ops.ByteData(in[qcX]), ops.ByteData(in[qcW])
		io.xZero[0] = ops.ByteData(in[qcXZero])[0]
		io.wZero = ops.ByteData(in[qcWZero])
		io.xScale[0], io.wScale, io.yScale = in[qcXScale].Float32s()[0], in[qcWScale].Float32s(), in[qcYScale].Float32s()[0]
		io.yZero = zeroPoint(in[qcYZero], 0)
		io.bias = nil
		if b := ops.TensorAt(in, qcBias); b != nil {
			io.bias = b.Int32s()
		}
		io.y8, io.y32 = ops.ByteData(out[0]), nil
	} else {
		io.x, io.w = ops.ByteData(in[0]), ops.ByteData(in[1])
		io.xZero[0], io.wZero = 0, nil
		if zp := ops.TensorAt(in, 2); zp != nil {
			io.xZero[0] = ops.ByteData(zp)[0]
		}
		if zp := ops.TensorAt(in, 3); zp != nil {
			io.wZero = ops.ByteData(zp)
		}
		io.y8, io.y32 = nil, out[0].Int32s()
	}
	io.scratch, io.pool, io.done = ctx.Scratch, ctx.Pool, doneOf(ctx)
}

func (k *qconvKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	io := k.runs.Get().(*qconvIO)
	k.load(io, ctx, in, out)
	if k.strategy == qconvDepthwise {
		k.runDepthwise(io)
	} else {
		k.runGemm(io)
	}
	*io = qconvIO{}
	k.runs.Put(io)
	return nil
}

// qconvUnitWork is the product size (multiply-adds) below which one (image, group) product is not worth
// splitting over threads: the units are split instead, each thread running whole products.
const qconvUnitWork = 128 * 128 * 128

// qconvGemmTask runs the (image, group) products of one Run split over the pool's threads: thread i of n
// runs units [i·U/n, (i+1)·U/n) with its own im2col buffer and its own GEMM parameters.
type qconvGemmTask struct {
	k       *qconvKernel
	io      *qconvIO
	threads int
	params  [maxQconvUnitThreads]igemm.Params
}

// maxQconvUnitThreads bounds the threads the (image, group) units are split over, and so the parameter
// blocks each Run's state carries (and clears).
const maxQconvUnitThreads = 16

// Do runs threads [lo, hi).
func (t *qconvGemmTask) Do(lo, hi int) {
	k, io := t.k, t.io
	units := k.s.batch * k.s.group
	colLen := ops.ByteScratchLen(k.colBytes + k.phasedBytes)
	for th := lo; th < hi; th++ {
		col := ops.ByteView(io.scratch[th*colLen:], k.colBytes+k.phasedBytes)
		for u := th * units / t.threads; u < (th+1)*units/t.threads; u++ {
			if cancelled(io.done) {
				return // Y is unfinished; the runtime discards it
			}
			k.gemmUnit(io, u/k.s.group, u%k.s.group, col, nil, &t.params[th])
		}
	}
}

// maxUnitThreads is how many threads the (image, group) products may be split over: 1 when the products
// are large enough for the GEMM to thread each of them, or when there is one product.
func (k *qconvKernel) maxUnitThreads() int {
	s := &k.s
	if s.batch*s.group < 2 || s.groupOutC*s.outSize*k.kc >= qconvUnitWork {
		return 1
	}
	return min(k.maxThreads, s.batch*s.group, maxQconvUnitThreads)
}

// gemmThreads is how many threads the products of a Run on pool are split over.
func (k *qconvKernel) gemmThreads(pool *parallel.Pool) int {
	if pool == nil {
		return 1
	}
	return min(pool.Threads(), k.maxUnitThreads())
}

// runGemm computes, for each image n and group g,
//
//	Y[n, g] (M/group x outSize) = (W[g] - w_zero_point) · (im2col(X[n, g]) - x_zero_point)ᵀ
//
// on the integer GEMM, requantised in its epilogue for QLinearConv: each product threaded by the GEMM,
// or, when they are small, the products split over the threads.
func (k *qconvKernel) runGemm(io *qconvIO) {
	s := &k.s
	if threads := k.gemmThreads(io.pool); threads > 1 {
		t := &io.gemmRun
		t.k, t.io, t.threads = k, io, threads
		io.pool.ForTask(threads, t)
		return
	}
	col := ops.ByteView(io.scratch, k.colBytes+k.phasedBytes)
	for n := 0; n < s.batch; n++ {
		for g := 0; g < s.group; g++ {
			if cancelled(io.done) {
				return // Y is unfinished; the runtime discards it
			}
			k.gemmUnit(io, n, g, col, io.pool, &io.params)
		}
	}
}

// gemmUnit computes the product of image n and group g, with col the im2col buffer followed by the
// phased input's (phasedBytes) and p the GEMM's parameters to fill.
func (k *qconvKernel) gemmUnit(io *qconvIO, n, g int, col []byte, pool *parallel.Pool, p *igemm.Params) {
	s := &k.s
	m0, m1 := g*s.groupOutC, (g+1)*s.groupOutC
	*p = igemm.Params{M: s.groupOutC, N: s.outSize, K: k.kc, Pool: pool,
		BSigned: k.xSigned, BZero: io.xZero[:], AZero: perChannel(io.wZero, m0, m1)}
	if k.packed != nil {
		p.PackedA = k.packed[g]
	} else {
		p.A, p.LDA, p.ASigned = io.w[m0*k.kc:m1*k.kc], k.kc, k.wSigned
	}
	xg := io.x[(n*s.inC+g*s.groupInC)*s.inSize : (n*s.inC+(g+1)*s.groupInC)*s.inSize]
	switch {
	case k.strategy == qconvPointwise:
		p.B, p.LDB = xg, s.inSize
	case k.subsample:
		subsampleBytes(col, xg, s.groupInC, &s.win)
		p.B, p.LDB = col, s.outSize
	case k.rowIm2col:
		if k.phasedBytes > 0 {
			phased := col[k.colBytes : k.colBytes+k.phasedBytes]
			phaseBytes(phased, xg, s.groupInC*s.win.in[0], s.win.in[1], s.win.stride[1])
			xg = phased
		}
		im2colRowRange(col, xg, &s.win, s.groupInC, s.outSize, 0, s.win.out[0], io.xZero[0])
		p.B, p.LDB = col, s.outSize
	default:
		im2col(col, xg, k.g, s.groupInC, s.inSize, io.xZero[0])
		p.B, p.LDB, p.BTrans = col, k.kc, true
	}
	yOff := (n*s.outC + m0) * s.outSize
	if k.requant {
		rq := &p.Requant
		*rq = igemm.Requant{AScale: perChannel(io.wScale, m0, m1), BScale: io.xScale[:], YScale: io.yScale,
			YZero: io.yZero, YSigned: k.ySigned, Y: io.y8[yOff : yOff+s.groupOutC*s.outSize], LDY: s.outSize}
		if io.bias != nil {
			rq.Bias, rq.BiasMode = io.bias[m0:m1], igemm.BiasPerRow
		}
	} else {
		p.C, p.LDC = io.y32[yOff:yOff+s.groupOutC*s.outSize], s.outSize
	}
	igemm.Multiply(p)
}

// perChannel returns the values of output channels [m0, m1) of a per-channel parameter, or the parameter
// itself when it is per tensor (one value) or absent.
func perChannel[T any](v []T, m0, m1 int) []T {
	if len(v) <= 1 {
		return v
	}
	return v[m0:m1]
}
