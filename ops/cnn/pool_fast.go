package cnn

// Fast paths for float32 MaxPool and AveragePool over two spatial axes, the pools of CNNs. The output plane
// is split once, at Prepare, into the interior rectangle, whose windows lie inside the input, and the border.
// The interior runs row by row with no padding test and no index table; the common 2x2 and 3x3 windows with
// stride 2 (LeNet's average pools, VGG's and ResNet's max pools) have AVX2 kernels (pool_fast_amd64.s, whole
// planes at a time for 2x2 without padding) and unrolled Go loops as their twins. The border takes the
// gather table's rows, as the reference kernel (pool.go) does for every cell. Pools at x-stride 1 or 2
// without dilation, any window (SPPF's 5x5 stride 1, ResNet's and SqueezeNet's 3x3 stride 2), other than
// the whole-plane 2x2 case, take the separable passes of pool_sep.go instead, border and ceil_mode included. Planes are split across the
// session's threads when there is enough work.

import (
	"sync"
	"sync/atomic"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

// fastPoolKernel runs a float32 2-D MaxPool (without Indices) or AveragePool.
type fastPoolKernel struct {
	ref                    *poolKernel // the reference kernel: geometry and gather table
	max                    bool        // MaxPool, else AveragePool
	ih, iw, oh, ow         int
	kh, kw, sh, sw, dh, dw int
	ph, pw                 int
	// The interior: output rows [oyLo, oyHi) and columns [oxLo, oxHi) read no padding.
	oyLo, oyHi, oxLo, oxHi int
	allInterior            bool // the interior is the whole output: no border to walk
	// whole2x2: 2x2 windows, stride 2, no dilation or padding, all inside: pool2x2Planes does whole planes.
	whole2x2 bool
	// separable: a vertical then a horizontal pass over whole planes, border included (pool_sep.go).
	separable bool
	// scale multiplies an interior window's sum for the average (1/taps) when that is exact; else 0 and the
	// sum is divided by taps, as the reference does.
	scale float32
}

// newFastPool returns the fast kernel for k when it applies, else nil.
func newFastPool(k *poolKernel) *fastPoolKernel {
	w := &k.s.win
	if k.dtype != ops.Float32 || w.rank() != 2 || k.op.withIndices || (k.op.kind != poolMax && k.op.kind != poolAverage) {
		return nil
	}
	f := &fastPoolKernel{ref: k, max: k.op.kind == poolMax,
		ih: w.in[0], iw: w.in[1], oh: w.out[0], ow: w.out[1],
		kh: w.kernel[0], kw: w.kernel[1], sh: w.stride[0], sw: w.stride[1], dh: w.dilation[0], dw: w.dilation[1],
		ph: w.padBegin[0], pw: w.padBegin[1]}
	f.oyLo, f.oyHi = interiorRange(f.oh, f.ih, f.kh, f.sh, f.dh, f.ph)
	f.oxLo, f.oxHi = interiorRange(f.ow, f.iw, f.kw, f.sw, f.dw, f.pw)
	f.allInterior = f.oyLo == 0 && f.oyHi == f.oh && f.oxLo == 0 && f.oxHi == f.ow
	f.whole2x2 = f.allInterior && f.kh == 2 && f.kw == 2 && f.sh == 2 && f.sw == 2 && f.dh == 1 && f.dw == 1 && f.ph == 0 && f.pw == 0
	f.separable = !f.whole2x2 && !f.maxPool3x3s2() && f.separableFits()
	if taps := f.kh * f.kw; taps&(taps-1) == 0 {
		f.scale = 1 / float32(taps)
	}
	return f
}

// maxPool3x3s2 says whether f is a 3x3 MaxPool at x-stride 2 without dilation, whose interior rows have
// their own assembly (maxPool3x3s2Row): measured a little faster there than the separable passes (ResNet's
// and SqueezeNet's pools), which take the other windows.
func (f *fastPoolKernel) maxPool3x3s2() bool {
	return f.max && f.kh == 3 && f.kw == 3 && f.sw == 2 && f.dh == 1 && f.dw == 1
}

// interiorRange returns the outputs [lo, hi) along one axis whose window, o*stride - pad + [0, (k-1)*dil],
// lies inside [0, in).
func interiorRange(out, in, k, stride, dil, pad int) (lo, hi int) {
	lo = ceilDiv(pad, stride)
	last := in - 1 - (k-1)*dil + pad // o*stride <= last
	if last < 0 {
		return 0, 0
	}
	hi = min(out, last/stride+1)
	lo = min(lo, hi)
	return lo, hi
}

// ScratchSize: none.
func (f *fastPoolKernel) ScratchSize() int { return 0 }

func (f *fastPoolKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	runPlanesThreaded(ctx, f, in[0].Float32s(), out[0].Float32s(), f.ref.s.planes, f.ref.s.outSize, &floatPoolTasks)
	return nil
}

// planeRunner is a kernel whose work splits into planes: planes computes [lo, hi) of them.
type planeRunner[T any] interface {
	planes(x, y []T, lo, hi int)
}

// minPoolParallel is the output cells below which a pool stays on one thread: about 10 µs of work, a few
// times what handing half of it to another thread costs.
const minPoolParallel = 1 << 13

// runPlanesThreaded runs k over all its planes, split across the session's threads when there is enough
// work; tasks is the sync.Pool of k's *planeTask[T], so that a threaded Run allocates nothing.
func runPlanesThreaded[T any](ctx *ops.ExecContext, k planeRunner[T], x, y []T, planes, outSize int, tasks *sync.Pool) {
	pool := poolOf(ctx)
	if pool.Threads() <= 1 || planes < 2 || planes*outSize < minPoolParallel {
		k.planes(x, y, 0, planes)
		return
	}
	t, _ := tasks.Get().(*planeTask[T])
	if t == nil {
		t = new(planeTask[T])
	}
	t.k, t.x, t.y, t.planes = k, x, y, planes
	t.next.Store(0)
	pool.ForTask(pool.Threads(), t)
	*t = planeTask[T]{}
	tasks.Put(t)
}

// planeTask is one threaded Run: each thread the pool starts claims chunks of planes until none is left,
// so a thread that starts late does not hold up the others.
type planeTask[T any] struct {
	k      planeRunner[T]
	x, y   []T
	planes int
	next   atomic.Int32 // chunks handed out
}

// poolChunk is the planes a thread claims at a time.
const poolChunk = 16

// The tasks of the float32 and the 8-bit pools.
var floatPoolTasks, bytePoolTasks sync.Pool

func (t *planeTask[T]) Do(_, _ int) {
	for {
		lo := int(t.next.Add(1)-1) * poolChunk
		if lo >= t.planes {
			return
		}
		t.k.planes(t.x, t.y, lo, min(lo+poolChunk, t.planes))
	}
}

// ensure the task type satisfies the pool's interface.
var _ parallel.Task = (*planeTask[byte])(nil)

// planes pools planes [lo, hi).
func (f *fastPoolKernel) planes(x, y []float32, lo, hi int) {
	if f.whole2x2 {
		f.pool2x2Planes(x, y, lo, hi)
		return
	}
	if f.separable {
		f.separablePlanes(x, y, lo, hi)
		return
	}
	s := &f.ref.s
	for p := lo; p < hi; p++ {
		xp := x[p*s.inSize : (p+1)*s.inSize]
		yp := y[p*s.outSize : (p+1)*s.outSize]
		if !f.allInterior {
			f.border(xp, yp)
		}
		f.interior(xp, yp)
	}
}

// border computes the cells outside the interior rectangle from the gather table, as the reference does.
func (f *fastPoolKernel) border(xp, yp []float32) {
	g := f.ref.g
	includePad := f.ref.op.countIncludePad
	for oy := 0; oy < f.oh; oy++ {
		inside := oy >= f.oyLo && oy < f.oyHi
		for ox := 0; ox < f.ow; ox++ {
			if inside && ox >= f.oxLo && ox < f.oxHi {
				ox = f.oxHi - 1
				continue
			}
			p := oy*f.ow + ox
			r := g.border[p]
			if r < 0 { // an interior cell of the table outside our rectangle cannot happen; keep it exact anyway
				yp[p] = f.window(xp, int(g.origin[p]))
				continue
			}
			row := g.borderTaps[int(r)*g.taps : int(r+1)*g.taps]
			if f.max {
				best, seen := float32(0), false
				for _, off := range row {
					if off >= 0 {
						if seen {
							best = maxTap(best, xp[off])
						} else {
							best, seen = xp[off], true
						}
					}
				}
				if !seen {
					best = negInf32
				}
				yp[p] = best
				continue
			}
			var sum float32
			count := 0
			for _, off := range row {
				switch {
				case off >= 0:
					sum += xp[off]
					count++
				case off == tapPad && includePad:
					count++
				}
			}
			yp[p] = sum / float32(count)
		}
	}
}

var negInf32 = -posInf32

// maxTap folds tap w into a window's running maximum best, which started at the window's first tap, the way
// the reference kernel does (taps in row-major order, each kept if larger): a NaN first tap stays, a NaN
// later tap is skipped. Unlike the reference's compare-and-branch it compiles to MAXSS with branches
// that only NaN takes, so random-looking data costs no mispredictions (3-4x faster on 3x3 windows). Equal
// values of opposite sign (-0, +0) give +0 where the reference keeps the first.
func maxTap(best, w float32) float32 {
	if w != w || best != best { // NaN (max would return a NaN of its own, not best's bits)
		return best
	}
	return max(best, w)
}

// window is the pooled value of the interior window whose top-left input cell is at.
func (f *fastPoolKernel) window(xp []float32, at int) float32 {
	if f.max {
		best := xp[at]
		for i := 0; i < f.kh; i++ {
			row := xp[at+i*f.dh*f.iw:]
			for j := 0; j < f.kw; j++ {
				best = maxTap(best, row[j*f.dw])
			}
		}
		return best
	}
	var sum float32
	for i := 0; i < f.kh; i++ {
		row := xp[at+i*f.dh*f.iw:]
		for j := 0; j < f.kw; j++ {
			sum += row[j*f.dw]
		}
	}
	if f.scale != 0 {
		return sum * f.scale
	}
	return sum / float32(f.kh*f.kw)
}

// interior computes the interior rectangle row by row.
func (f *fastPoolKernel) interior(xp, yp []float32) {
	if f.oxLo >= f.oxHi {
		return
	}
	for oy := f.oyLo; oy < f.oyHi; oy++ {
		y := yp[oy*f.ow+f.oxLo : oy*f.ow+f.oxHi]
		at := (oy*f.sh-f.ph)*f.iw + f.oxLo*f.sw - f.pw
		switch {
		case f.kh == 2 && f.kw == 2 && f.sw == 2 && f.dh == 1 && f.dw == 1:
			pool2x2Row(y, xp[at:], f.iw, !f.max, f.scale)
		case f.maxPool3x3s2():
			maxPool3x3s2Row(y, xp[at:], xp[at+f.iw:], xp[at+2*f.iw:])
		default:
			for j := range y {
				y[j] = f.window(xp, at+j*f.sw)
			}
		}
	}
}

// pool2x2RowGo is pool2x2Row in Go, the routine the assembly does eight outputs at a time:
//
//	y[j] = max(r0[2j], r0[2j+1], r1[2j], r1[2j+1])                  (max, NaN-skipping as maxTap)
//	y[j] = ((r0[2j] + r0[2j+1]) + r1[2j] + r1[2j+1]) * scale        (avg)
//
// with r0 = x[0:], r1 = x[iw:].
func pool2x2RowGo(y, x []float32, iw int, avg bool, scale float32) {
	n := len(y)
	r0 := x[: 2*n : 2*n]
	r1 := x[iw : iw+2*n : iw+2*n]
	if !avg {
		for j := range y {
			y[j] = maxTap(maxTap(maxTap(r0[2*j], r0[2*j+1]), r1[2*j]), r1[2*j+1])
		}
		return
	}
	for j := range y {
		y[j] = ((r0[2*j] + r0[2*j+1]) + r1[2*j] + r1[2*j+1]) * scale
	}
}

// pool2x2PlanesGo is pool2x2Planes in Go: pool2x2RowGo over every output row of planes [lo, hi).
func (f *fastPoolKernel) pool2x2PlanesGo(x, y []float32, lo, hi int) {
	inSize, outSize := f.ih*f.iw, f.oh*f.ow
	for p := lo; p < hi; p++ {
		for oy := 0; oy < f.oh; oy++ {
			pool2x2RowGo(y[p*outSize+oy*f.ow:p*outSize+(oy+1)*f.ow], x[p*inSize+2*oy*f.iw:], f.iw, !f.max, f.scale)
		}
	}
}

// maxPool3x3s2RowGo is maxPool3x3s2Row in Go:
//
//	y[j] = max over r ∈ {r0, r1, r2}, i ∈ {0, 1, 2} of r[2j+i]   (NaN-skipping as maxTap, in this order)
func maxPool3x3s2RowGo(y, r0, r1, r2 []float32) {
	n := len(y)
	r0, r1, r2 = r0[:2*n+1], r1[:2*n+1], r2[:2*n+1]
	for j := range y {
		// One chain in row-major order: folding r2's last two taps on their own first (as this did) let a
		// NaN at r2[2j+1] hide r2[2j+2] when the window's first tap is not NaN.
		a := maxTap(maxTap(r0[2*j], r0[2*j+1]), r0[2*j+2])
		b := maxTap(maxTap(maxTap(a, r1[2*j]), r1[2*j+1]), r1[2*j+2])
		y[j] = maxTap(maxTap(maxTap(b, r2[2*j]), r2[2*j+1]), r2[2*j+2])
	}
}
