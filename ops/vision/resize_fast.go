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

// row fills one output row from one input row with weight w.
func (f *planes2D) row(yr, xr []float32, w float32) {
	if f.kx == 1 {
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
		return
	}
	col, cw := f.col[:2*len(yr)], f.colW[:2*len(yr)]
	for ox := range yr {
		s := cw[2*ox]*xr[col[2*ox]] + cw[2*ox+1]*xr[col[2*ox+1]]
		yr[ox] = w * s
	}
}

// twoRows fills one output row from two input rows.
func (f *planes2D) twoRows(yr, xa, xb []float32, wa, wb float32) {
	if f.kx == 1 {
		col := f.col[:len(yr)]
		for ox, c := range col {
			yr[ox] = wa*xa[c] + wb*xb[c]
		}
		return
	}
	col, cw := f.col[:2*len(yr)], f.colW[:2*len(yr)]
	for ox := range yr {
		c0, c1 := col[2*ox], col[2*ox+1]
		u0, u1 := cw[2*ox], cw[2*ox+1]
		yr[ox] = wa*(u0*xa[c0]+u1*xa[c1]) + wb*(u0*xb[c0]+u1*xb[c1])
	}
}
