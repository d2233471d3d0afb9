package norm

import (
	"math"
	"sync"
	"sync/atomic"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/vecarith"
)

// The float32 LayerNormalization of transformers (BERT, ViT: rows of 768 over the last axis, Scale and B
// one value per column) runs here rather than through the generic layerNorm's offset tables. Per row, while
// it is in cache: a pass summing x - x0 (x0 the row's first value) with eight independent float32
// accumulators, so that the adds pipeline, added in float64 at the end; the row centred into Y as
// (x - x0) - float32(mean - x0) by two vectorised passes (ops/internal/vecarith); a pass summing the squares
// of Y the same way; then Y scaled by invStd, Scale and B in three more vectorised passes. Rows are split
// across the session's threads above minLayerNormParallel elements.
//
// Accuracy: x - x0 is exact for x within a factor 2 of x0 and mean - x0 is small, so a row far from zero
// with a small spread keeps its digits where x - float32(mean) would be off by half an ulp of the mean;
// each accumulator adds inner/8 values (96 for BERT's rows), a relative error of at most about 96·2^-24 =
// 6e-6 of the sum of magnitudes, and the variance is summed from centred values, so nothing cancels.

// minLayerNormParallel elements.
//
// Accuracy: each accumulator adds inner/8 values (96 for BERT's rows), a relative error of at most about
// 96·2^-24 = 6e-6 of the sum of magnitudes; the variance is summed from x - mean, so no cancellation.

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
		shifted := sumFloat32(xs, x0) / float64(inner) // mean - x0
		vecarith.VS(vecarith.Sub, ys, xs, x0)
		vecarith.VS(vecarith.Sub, ys, ys, float32(shifted))
		variance := sumFloat32Squares(ys) / float64(inner)
		inv := 1 / math.Sqrt(variance+epsilon)
		if meanOut != nil {
			meanOut[o] = float32(float64(x0) + shifted)
		}
		if invStdOut != nil {
			invStdOut[o] = float32(inv)
		}
		vecarith.VS(vecarith.Mul, ys, ys, float32(inv))
		vecarith.VV(vecarith.Mul, ys, ys, scale)
		if bias != nil {
			vecarith.VV(vecarith.Add, ys, ys, bias)
		}
	}
}

// sumFloat32 is Σ (xs[i] - shift), in eight float32 accumulators added in float64.
func sumFloat32(xs []float32, shift float32) float64 {
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(xs); i += 8 {
		q := xs[i : i+8 : i+8]
		s0 += q[0] - shift
		s1 += q[1] - shift
		s2 += q[2] - shift
		s3 += q[3] - shift
		s4 += q[4] - shift
		s5 += q[5] - shift
		s6 += q[6] - shift
		s7 += q[7] - shift
	}
	sum := float64(s0) + float64(s1) + float64(s2) + float64(s3) + float64(s4) + float64(s5) + float64(s6) + float64(s7)
	for ; i < len(xs); i++ {
		sum += float64(xs[i] - shift)
	}
	return sum
}

// sumFloat32Squares is Σ xs[i]², in eight float32 accumulators added in float64.
func sumFloat32Squares(xs []float32) float64 {
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(xs); i += 8 {
		q := xs[i : i+8 : i+8]
		s0 += q[0] * q[0]
		s1 += q[1] * q[1]
		s2 += q[2] * q[2]
		s3 += q[3] * q[3]
		s4 += q[4] * q[4]
		s5 += q[5] * q[5]
		s6 += q[6] * q[6]
		s7 += q[7] * q[7]
	}
	sum := float64(s0) + float64(s1) + float64(s2) + float64(s3) + float64(s4) + float64(s5) + float64(s6) + float64(s7)
	for ; i < len(xs); i++ {
		sum += float64(xs[i]) * float64(xs[i])
	}
	return sum
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
