package vision

import (
	"sync"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

// planes2D is the float32 fast path of Resize and Upsample when only the last one or two axes are
// resampled (H and W of NCHW), each with one tap (nearest, or a linear axis that is an integer remap) or
// two (linear), and nothing is extrapolated: the coordinate mode only shaped the tables, so every mode
// ONNX defines takes it. Per output element it computes, in float32,
//
//	y[p, oy, ox] = Σ_ty wy[oy,ty] · Σ_tx wx[ox,tx] · x[p, row[oy,ty], col[ox,tx]]
//
// skipping a row tap of weight 0, as weighted2D (the float64 twin, which sums in the same order) does.
// Output rows reading the same single input row as the row before are copies of it (nearest upsampling),
// and the planes run in parallel above parallelMinElems output elements.
type planes2D struct {
	planes, inPlane, outH, outW int
	ky, kx                      int
	rowOff                      []int // ky per output row: input row offsets (row × input width)
	rowW                        []float32
	col                         []int // kx per output column: input column
	colW                        []float32
}

// parallelMinElems is the output size below which a resize runs on one thread: under it the work (about
// 50 µs at a few hundred million elements a second) does not pay for waking the workers.
const parallelMinElems = 1 << 15

// newPlanes2D returns the fast path for a kernel whose tables it covers, or nil.
func newPlanes2D(k *resampleKernel) *planes2D {
	if k.dtype != ops.Float32 || k.gather && len(k.axes) == 0 || len(k.axes) > 2 {
		return nil
	}
	rows := identityTable(1) // one resampled axis: a plane of a single row
	cols := k.axes[len(k.axes)-1]
	if len(k.axes) == 2 {
		rows = k.axes[0]
	}
	f := &planes2D{planes: k.planes, inPlane: k.inPlane, outH: rows.n, outW: cols.n, ky: rows.k, kx: cols.k}
	for _, t := range []axisTable{rows, cols} {
		if t.k > 2 {
			return nil
		}
		for _, i := range t.idx {
			if i < 0 { // extrapolated (tf_crop_and_resize): the general path fills those
				return nil
			}
		}
	}
	f.rowOff, f.rowW = rows.idx, toFloat32(rows.w)
	f.col, f.colW = cols.idx, toFloat32(cols.w)
	return f
}

func toFloat32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// planesTask runs a range of planes for the worker pool without a capturing closure.
type planesTask struct {
	f    *planes2D
	x, y []float32
}

func (t *planesTask) Do(lo, hi int) { t.f.runPlanes(t.x, t.y, lo, hi) }

var planesTasks = sync.Pool{New: func() any { return new(planesTask) }}

func (f *planes2D) run(pool *parallel.Pool, x, y []float32) {
	if pool.Threads() < 2 || f.planes < 2 || f.planes*f.outH*f.outW < parallelMinElems {
		f.runPlanes(x, y, 0, f.planes)
		return
	}
	t := planesTasks.Get().(*planesTask)
	t.f, t.x, t.y = f, x, y
	pool.ForTask(f.planes, t)
	t.x, t.y = nil, nil
	planesTasks.Put(t)
}

// runPlanes resamples planes [lo, hi).
func (f *planes2D) runPlanes(x, y []float32, lo, hi int) {
	outPlane := f.outH * f.outW
	for p := lo; p < hi; p++ {
		xp := x[p*f.inPlane : (p+1)*f.inPlane]
		yp := y[p*outPlane : (p+1)*outPlane]
		if f.kx == 2 {
			f.separable(xp, yp)
			continue
		}
		// One column tap: nearest, or linear along y only.
		prevRow := -1 // the input row the previous output row was read from alone, or -1
		for oy := 0; oy < f.outH; oy++ {
			yr := yp[oy*f.outW : (oy+1)*f.outW]
			r0, w0 := f.rowOff[oy*f.ky], f.rowW[oy*f.ky]
			r1, w1 := r0, float32(0)
			if f.ky == 2 {
				r1, w1 = f.rowOff[oy*2+1], f.rowW[oy*2+1]
			}
			switch {
			case w1 == 0 || w0 == 0:
				r, w := r0, w0
				if w0 == 0 {
					r, w = r1, w1
				}
				if w == 1 && r == prevRow {
					copy(yr, yp[(oy-1)*f.outW:oy*f.outW])
					continue
				}
				f.row(yr, xp[r:], w)
				if w == 1 {
					prevRow = r
				} else {
					prevRow = -1
				}
			default:
				f.twoRows(yr, xp[r0:], xp[r1:], w0, w1)
				prevRow = -1
			}
		}
	}
}

// row fills one output row from one input row with weight w (one column tap).
func (f *planes2D) row(yr, xr []float32, w float32) {
	col := f.col[:len(yr)]
	if w == 1 {
		for ox, c := range col {
			yr[ox] = xr[c]
		}
		return
	}
	for ox, c := range col {
		yr[ox] = w * xr[c]
	}
}

// twoRows fills one output row from two input rows (one column tap).
func (f *planes2D) twoRows(yr, xa, xb []float32, wa, wb float32) {
	col := f.col[:len(yr)]
	for ox, c := range col {
		yr[ox] = wa*xa[c] + wb*xb[c]
	}
}

// hChunk is the width of the column strips separable works in: two rows of it stay on the stack.
const hChunk = 512

// separable is a plane with two column taps, done axis by axis: each input row an output row reads is
// interpolated along x once per strip of hChunk columns, and the output rows blend the (at most two)
// interpolated rows they need. Neighbouring output rows share input rows (all of them when upsampling), so
// this does the x taps about once per input row instead of once or twice per output row. The sums are
// the ones row and twoRows compute, in the same order.
func (f *planes2D) separable(xp, yp []float32) {
	var bufA, bufB [hChunk]float32
	for c0 := 0; c0 < f.outW; c0 += hChunk {
		c1 := min(c0+hChunk, f.outW)
		col, cw := f.col[2*c0:2*c1], f.colW[2*c0:2*c1]
		ha, hb := bufA[:c1-c0], bufB[:c1-c0]
		ra, rb := -1, -1 // the input rows (offsets) ha and hb hold
		for oy := 0; oy < f.outH; oy++ {
			r0, w0 := f.rowOff[oy*f.ky], f.rowW[oy*f.ky]
			r1, w1 := r0, float32(0)
			if f.ky == 2 {
				r1, w1 = f.rowOff[oy*2+1], f.rowW[oy*2+1]
			}
			if w0 == 0 { // one row of weight w1: the other tap is skipped, as in the twin
				r0, w0, w1 = r1, w1, 0
			}
			if w1 == 0 {
				r1 = r0
			}
			// Bring r0 and r1 into the two buffers, overwriting only a row this output row does not need.
			if r0 != ra && r0 != rb {
				if rb == r1 {
					hRow(ha, xp[r0:], col, cw)
					ra = r0
				} else {
					hRow(hb, xp[r0:], col, cw)
					rb = r0
				}
			}
			if r1 != ra && r1 != rb {
				if ra == r0 {
					hRow(hb, xp[r1:], col, cw)
					rb = r1
				} else {
					hRow(ha, xp[r1:], col, cw)
					ra = r1
				}
			}
			h0, h1 := ha, hb
			if ra != r0 {
				h0 = hb
			}
			if ra == r1 {
				h1 = ha
			}
			yr := yp[oy*f.outW+c0 : oy*f.outW+c1]
			if w1 == 0 {
				for i, v := range h0[:len(yr)] {
					yr[i] = w0 * v
				}
				continue
			}
			h1 = h1[:len(yr)]
			for i, v := range h0[:len(yr)] {
				yr[i] = w0*v + w1*h1[i]
			}
		}
	}
}

// hRow interpolates one input row xr at the column taps col (pairs of indexes) with weights cw into h.
func hRow(h, xr []float32, col []int, cw []float32) {
	col, cw = col[:2*len(h)], cw[:2*len(h)]
	for i := range h {
		h[i] = cw[2*i]*xr[col[2*i]] + cw[2*i+1]*xr[col[2*i+1]]
	}
}
