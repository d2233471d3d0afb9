package norm

import (
	"math"
	"sync"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/vecarith"
)

// The float32 LayerNormalization of transformers (BERT, ViT: rows of 768 over the last axis, Scale and B
// one value per column) runs here rather than through the generic layerNorm's offset tables. Per row, while
// it is in cache, two vectorised passes (ops/internal/vecarith): RowStats sums d = x - x0 (x0 the row's
// first value) and d² in 32 float32 lanes, added in float64, giving mean = x0 + Σd/n and
// variance = Σd²/n - (Σd/n)²; NormalizeRow then writes (((x - x0) - (mean - x0)) * invStd) * Scale + B,
// the last multiply-add fused. Rows are split across the session's threads above minLayerNormParallel
// elements.
//
// Accuracy: x - x0 is exact for x within a factor 2 of x0 and mean - x0 is small, so a row far from zero
// with a small spread keeps its digits where x - float32(mean) would be off by half an ulp of the mean.
// Each lane adds inner/32 values (24 for BERT's rows), a relative error of at most about 24·2^-24 of the
// sums. Σd²/n - (Σd/n)² cancels as far as x0 is off the mean: the error is relative to
// variance + (mean - x0)², which is a few times the variance for a typical x0 and at most about inner
// times it when x0 is the row's one outlier (then about 10 of the variance's bits are left; a two-pass
// variance would keep them, at the cost of a third pass over the row).

// minLayerNormParallel is the element count below which a LayerNormalization stays on one thread: about
// 5-10 µs of work with the vectorised passes, a few times what handing half of it to another thread costs.
const minLayerNormParallel = 1 << 15

// contiguousRows reports whether Scale (and B, when present) hold one value per column of a row, the same
// for every row: the layout layerNormRows needs.
func (k *layerNormKernel) contiguousRows() bool {
	perColumn := func(outer, inner []int) bool {
		for _, o := range outer {
			if o != 0 {
				return false
			}
		}
		for i, off := range inner {
			if off != i {
				return false
			}
		}
		return true
	}
	return perColumn(k.scaleOuter, k.scaleInner) && (!k.hasBias || perColumn(k.biasOuter, k.biasInner))
}

// layerNormRows is layerNorm for float32 rows whose Scale and B are per column (contiguousRows), over rows
// [lo, hi). bias may be nil; meanOut and invStdOut may be nil.
func layerNormRows(x, scale, bias, y, meanOut, invStdOut []float32, inner int, epsilon float64, lo, hi int) {
	scale = scale[:inner]
	if bias != nil {
		bias = bias[:inner]
	}
	for o := lo; o < hi; o++ {
		xs, ys := x[o*inner:(o+1)*inner], y[o*inner:(o+1)*inner]
		if inner == 0 { // no values: the mean and variance of nothing are NaN, as meanVariance gives
			if meanOut != nil {
				meanOut[o] = float32(math.NaN())
			}
			if invStdOut != nil {
				invStdOut[o] = float32(math.NaN())
			}
			continue
		}
		x0 := xs[0]
		sum, sumSquares := vecarith.RowStats(xs, x0)
		shifted := sum / float64(inner) // mean - x0
		variance := max(sumSquares/float64(inner)-shifted*shifted, 0)
		inv := 1 / math.Sqrt(variance+epsilon)
		if meanOut != nil {
			meanOut[o] = float32(float64(x0) + shifted)
		}
		if invStdOut != nil {
			invStdOut[o] = float32(inv)
		}
		vecarith.NormalizeRow(ys, xs, scale, bias, x0, float32(shifted), float32(inv))
	}
}

// runRows runs layerNormRows over every row, split across ctx's pool when the tensor is large enough.
func (k *layerNormKernel) runRows(ctx *ops.ExecContext, x, scale, bias, y, meanOut, invStdOut []float32) {
	rows, inner := k.s.outer, k.s.inner
	pool := ctx.Pool
	if pool.Threads() <= 1 || rows < 2 || rows*inner < minLayerNormParallel {
		layerNormRows(x, scale, bias, y, meanOut, invStdOut, inner, k.op.epsilon, 0, rows)
		return
	}
	parts := min(pool.Threads(), rows)
	t := layerNormTaskPool.Get().(*layerNormTask)
	*t = layerNormTask{x: x, scale: scale, bias: bias, y: y, meanOut: meanOut, invStdOut: invStdOut,
		rows: rows, inner: inner, parts: parts, epsilon: k.op.epsilon}
	pool.ForTask(parts, t)
	*t = layerNormTask{}
	layerNormTaskPool.Put(t)
}

// layerNormTask is one threaded Run over the rows split into parts contiguous ranges, one per thread: a
// thread streams through one run of memory, which the hardware prefetchers follow (claiming 4 rows at a
// time in turn from a shared counter interleaved the threads every 12 KiB of BERT's rows).
type layerNormTask struct {
	x, scale, bias, y  []float32
	meanOut, invStdOut []float32
	rows, inner, parts int
	epsilon            float64
}

var layerNormTaskPool = sync.Pool{New: func() any { return new(layerNormTask) }}

// Do normalises the rows of parts [lo, hi): part p is rows [p·rows/parts, (p+1)·rows/parts).
func (t *layerNormTask) Do(lo, hi int) {
	layerNormRows(t.x, t.scale, t.bias, t.y, t.meanOut, t.invStdOut, t.inner, t.epsilon, lo*t.rows/t.parts, hi*t.rows/t.parts)
}
