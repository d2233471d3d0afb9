package elementwise

import (
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

// Big tensors are split across the session's threads; small ones run on the calling goroutine, where a
// handoff to a worker would cost more than it saves.
const (
	parallelMinElems = 32 << 10 // below this, one thread
	parallelMinChunk = 8 << 10  // each thread's share is at least this many elements
	chunkAlign       = 16       // element-range boundaries fall on whole AVX-512 vectors
	maxSplitDims     = 8        // plans with more merged dimensions than this (rare) run on one thread
)

// parts is how many pieces a kernel over size elements splits into on ctx: 1 (run inline) without a pool
// of two or more threads, or below parallelMinElems.
func parts(ctx *ops.ExecContext, size int) int {
	if ctx == nil || ctx.Pool == nil || ctx.Threads < 2 || size < parallelMinElems {
		return 1
	}
	return max(1, min(ctx.Threads, size/parallelMinChunk))
}

// partBounds is piece i of n over units units, its boundaries rounded down to multiples of align.
func partBounds(i, n, units, align int) (lo, hi int) {
	lo, hi = i*units/n, (i+1)*units/n
	if align > 1 {
		lo -= lo % align
		if i+1 < n {
			hi -= hi % align
		}
	}
	return lo, hi
}

// splitUnits is what a plan splits over: whole rows of its last merged dimension (each of rowLen
// elements), or single elements when it has one dimension (one span).
func (p *bcastPlan) splitUnits() (units, align int) {
	if len(p.dims) == 1 {
		return p.size, chunkAlign
	}
	return p.size / p.dims[len(p.dims)-1], 1
}

// planParts is parts for a plan: 1 also when the plan has too many dimensions to split.
func (p *bcastPlan) planParts(ctx *ops.ExecContext) int {
	if len(p.dims)-1 > maxSplitDims {
		return 1
	}
	return parts(ctx, p.size)
}

// walkUnits2 is walk2 over units [lo, hi) of the plan (see splitUnits).
func walkUnits2[A, B, O any](p *bcastPlan, lo, hi int, out []O, a []A, b []B, fn *binaryFn[A, B, O]) {
	last := len(p.dims) - 1
	sa, sb := p.inStep[0][last], p.inStep[1][last]
	if last == 0 {
		span2(out[lo:hi], a[lo*sa:], b[lo*sb:], sa, sb, fn)
		return
	}
	// An odometer over the outer dimensions gives each row's input offsets: one division per dimension
	// for the first row, additions after.
	rowLen := p.dims[last]
	var digit [maxSplitDims]int
	oa, ob := 0, 0
	for d, r := last-1, lo; d >= 0; d-- {
		digit[d] = r % p.dims[d]
		r /= p.dims[d]
		oa += digit[d] * p.inStep[0][d]
		ob += digit[d] * p.inStep[1][d]
	}
	for row := lo; row < hi; row++ {
		span2(out[row*rowLen:(row+1)*rowLen], a[oa:], b[ob:], sa, sb, fn)
		for d := last - 1; d >= 0; d-- {
			digit[d]++
			oa += p.inStep[0][d]
			ob += p.inStep[1][d]
			if digit[d] < p.dims[d] {
				break
			}
			oa -= digit[d] * p.inStep[0][d]
			ob -= digit[d] * p.inStep[1][d]
			digit[d] = 0
		}
	}
}

// binaryTask is one parallel run of a binaryKernel: the pool calls Do with a range of pieces.
type binaryTask[A, B, O ops.Elem] struct {
	k     *binaryKernel[A, B, O]
	out   []O
	a     []A
	b     []B
	parts int
}

func (t *binaryTask[A, B, O]) Do(lo, hi int) {
	units, align := t.k.plan.splitUnits()
	for i := lo; i < hi; i++ {
		ulo, uhi := partBounds(i, t.parts, units, align)
		walkUnits2(t.k.plan, ulo, uhi, t.out, t.a, t.b, t.k.fn)
	}
}

// span32 is a vectorised float32 activation (ops/internal/vecarith) and its parameters.
type span32 struct {
	f      func(dst, src []float32, c0, c1 float32)
	c0, c1 float32
}

// spanKernel computes out = f(in) for a float32 activation, split across threads when the tensor is big.
type spanKernel struct {
	span  span32
	tasks parallel.TaskSlot[spanTask]
}

func newSpanKernel(s span32) *spanKernel { return &spanKernel{span: s} }

func (k *spanKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	x := in[0].Float32s()
	runSpans(ctx, &k.tasks, k.span, out[0].Float32s()[:len(x)], x)
	return nil
}

// runSpans computes s over src into dst, in pieces across ctx's threads when src is big.
func runSpans(ctx *ops.ExecContext, tasks *parallel.TaskSlot[spanTask], s span32, dst, src []float32) {
	n := parts(ctx, len(src))
	if n <= 1 {
		s.f(dst, src, s.c0, s.c1)
		return
	}
	t := tasks.Get()
	*t = spanTask{span: s, dst: dst, src: src, parts: n}
	ctx.Pool.ForTask(n, t)
	tasks.Put(t)
}

type spanTask struct {
	span     span32
	dst, src []float32
	parts    int
}

func (t *spanTask) Do(lo, hi int) {
	for i := lo; i < hi; i++ {
		a, b := partBounds(i, t.parts, len(t.src), chunkAlign)
		t.span.f(t.dst[a:b], t.src[a:b], t.span.c0, t.span.c1)
	}
}
