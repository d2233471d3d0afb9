package norm

import (
	"math"
	"sync"
	"sync/atomic"

	"github.com/onnxrun/onnxrun/ops"
)

// The float32 LayerNormalization of transformers (BERT, ViT: rows of 768 over the last axis, Scale and B
// one value per column) runs here rather than through the generic layerNorm's offset tables: per row, one
// pass for the mean and one for the variance while the row is in cache, both with four independent float64
// accumulators so the adds pipeline, then one pass writing (x - mean) * invStd * scale + bias. Rows are
// split across the session's threads above minLayerNormParallel elements.

// minLayerNormParallel is the element count below which a LayerNormalization stays on one thread: about
// 10 µs of work, a few times what handing half of it to another thread costs.
const minLayerNormParallel = 1 << 13

// layerNormRowChunk is the rows a thread claims at a time.
const layerNormRowChunk = 4

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
		mean, variance := rowMeanVariance(xs)
		inv := 1 / math.Sqrt(variance+epsilon)
		if meanOut != nil {
			meanOut[o] = float32(mean)
		}
		if invStdOut != nil {
			invStdOut[o] = float32(inv)
		}
		m, s := float32(mean), float32(inv)
		if bias == nil {
			for i, v := range xs {
				ys[i] = (v - m) * s * scale[i]
			}
			continue
		}
		for i, v := range xs {
			ys[i] = (v-m)*s*scale[i] + bias[i]
		}
	}
}

// rowMeanVariance is meanVariance for float32 with four accumulators per pass.
func rowMeanVariance(xs []float32) (mean, variance float64) {
	n := len(xs)
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= n; i += 4 {
		q := xs[i : i+4 : i+4]
		s0 += float64(q[0])
		s1 += float64(q[1])
		s2 += float64(q[2])
		s3 += float64(q[3])
	}
	for ; i < n; i++ {
		s0 += float64(xs[i])
	}
	mean = (s0 + s1 + s2 + s3) / float64(n)
	s0, s1, s2, s3 = 0, 0, 0, 0
	i = 0
	for ; i+4 <= n; i += 4 {
		q := xs[i : i+4 : i+4]
		d0, d1, d2, d3 := float64(q[0])-mean, float64(q[1])-mean, float64(q[2])-mean, float64(q[3])-mean
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < n; i++ {
		d := float64(xs[i]) - mean
		s0 += d * d
	}
	return mean, (s0 + s1 + s2 + s3) / float64(n)
}

// runRows runs layerNormRows over every row, split across ctx's pool when the tensor is large enough.
func (k *layerNormKernel) runRows(ctx *ops.ExecContext, x, scale, bias, y, meanOut, invStdOut []float32) {
	rows, inner := k.s.outer, k.s.inner
	pool := ctx.Pool
	if pool.Threads() <= 1 || rows < 2 || rows*inner < minLayerNormParallel {
		layerNormRows(x, scale, bias, y, meanOut, invStdOut, inner, k.op.epsilon, 0, rows)
		return
	}
	t := layerNormTaskPool.Get().(*layerNormTask)
	*t = layerNormTask{x: x, scale: scale, bias: bias, y: y, meanOut: meanOut, invStdOut: invStdOut,
		rows: rows, inner: inner, epsilon: k.op.epsilon}
	pool.ForTask(pool.Threads(), t)
	*t = layerNormTask{}
	layerNormTaskPool.Put(t)
}

// layerNormTask is one threaded Run: each thread claims chunks of rows until none is left, so a thread
// that starts late does not hold up the others.
type layerNormTask struct {
	x, scale, bias, y  []float32
	meanOut, invStdOut []float32
	rows, inner        int
	epsilon            float64
	next               atomic.Int32
}

var layerNormTaskPool = sync.Pool{New: func() any { return new(layerNormTask) }}

func (t *layerNormTask) Do(_, _ int) {
	for {
		lo := int(t.next.Add(1)-1) * layerNormRowChunk
		if lo >= t.rows {
			return
		}
		layerNormRows(t.x, t.scale, t.bias, t.y, t.meanOut, t.invStdOut, t.inner, t.epsilon, lo, min(lo+layerNormRowChunk, t.rows))
	}
}
