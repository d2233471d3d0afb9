package array

import (
	"sync"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

// transposeTile is the side of the square blocks a tiled transpose moves: 16 rows of 16 float32 are 16
// cache lines read and 16 written, which stay in L1 while the block is done.
const transposeTile = 16

// transposeParallelMin is the element count below which a Transpose runs on one thread: a copy under it
// takes less than the ~50 µs that waking the workers costs back.
const transposeParallelMin = 1 << 16

// tiledTranspose is a copyPlan whose innermost output axis reads the input with a stride while another
// axis (the "rows") reads it contiguously: a 2-D transpose repeated over the remaining outer axes
// (NCHW→NHWC, NHWC→NCHW, the last two axes of a matrix batch). Walked element by element, one side of the
// copy touches a new cache line per element; in tiles both sides stay in a few lines. It computes exactly
// what runCopy does with the same plan:
//
//	for each outer index o, row j < rows, column i < cols:
//	    dst[dstOff + o.dst + j*rowDst + i] = src[srcOff + o.src + j + i*colSrc]
type tiledTranspose struct {
	outer          []planAxis // the other axes, outermost first
	outerCount     int
	rows, cols     int
	rowDst, colSrc int
	dstOff, srcOff int
	rowBlocks      int // ceil(rows / transposeTile): the units of work are outerCount × rowBlocks
}

// newTiledTranspose recognises the plans it covers, or returns nil.
func newTiledTranspose(p *copyPlan) *tiledTranspose {
	n := len(p.axes)
	if p.empty || n < 2 {
		return nil
	}
	col := p.axes[n-1]
	if col.table != nil || col.dstStride != 1 || col.srcStride == 1 {
		return nil
	}
	rowAxis := -1
	for a := n - 2; a >= 0; a-- {
		if p.axes[a].table == nil && p.axes[a].srcStride == 1 {
			rowAxis = a
			break
		}
	}
	if rowAxis < 0 {
		return nil
	}
	row := p.axes[rowAxis]
	t := &tiledTranspose{rows: row.n, cols: col.n, rowDst: row.dstStride, colSrc: col.srcStride,
		dstOff: p.dstOff, srcOff: p.srcOff, outerCount: 1}
	for a := 0; a < n-1; a++ {
		if a == rowAxis {
			continue
		}
		if p.axes[a].table != nil {
			return nil
		}
		t.outer = append(t.outer, p.axes[a])
		t.outerCount *= p.axes[a].n
	}
	t.rowBlocks = (t.rows + transposeTile - 1) / transposeTile
	return t
}

// units is the number of independent pieces of work: one block of rows of one outer index each.
func (t *tiledTranspose) units() int { return t.outerCount * t.rowBlocks }

// runTiled copies the units [lo, hi).
func runTiled[E rawElem](t *tiledTranspose, dstData, srcData any, lo, hi int) {
	dst, src := rawAs[E](dstData), rawAs[E](srcData)
	for u := lo; u < hi; u++ {
		o, rb := u/t.rowBlocks, u%t.rowBlocks
		d, s := t.dstOff, t.srcOff
		for a := len(t.outer) - 1; a >= 0; a-- { // mixed-radix digits of o, innermost axis last
			ax := &t.outer[a]
			j := o % ax.n
			o /= ax.n
			d += j * ax.dstStride
			s += j * ax.srcStride
		}
		j0 := rb * transposeTile
		j1 := min(j0+transposeTile, t.rows)
		for i0 := 0; i0 < t.cols; i0 += transposeTile {
			i1 := min(i0+transposeTile, t.cols)
			for j := j0; j < j1; j++ {
				out := dst[d+j*t.rowDst+i0 : d+j*t.rowDst+i1]
				in := s + j + i0*t.colSrc
				for i := range out {
					out[i] = src[in]
					in += t.colSrc
				}
			}
		}
	}
}

// tiledFuncs runs a tiledTranspose for each element size.
var tiledFuncs = rawSet[func(t *tiledTranspose, dst, src any, lo, hi int)]{
	runTiled[uint8], runTiled[uint16], runTiled[uint32], runTiled[uint64], runTiled[[2]uint32], runTiled[[2]uint64],
	runTiled[string],
}

// transposeKernel is Transpose: tiled when the plan is a repeated 2-D transpose, else the general walker
// (perm 0,2,1,3 and the like end, after newCopyPlan merges axes, in contiguous row copies there).
type transposeKernel struct {
	planKernel
	tiled    *tiledTranspose
	runTiled func(t *tiledTranspose, dst, src any, lo, hi int)
}

func newTransposeKernel(dt ops.DType, plan *copyPlan) (ops.Kernel, error) {
	pk, err := newPlanKernel(dt, plan)
	if err != nil {
		return nil, err
	}
	k := &transposeKernel{planKernel: *pk.(*planKernel), tiled: newTiledTranspose(plan)}
	if k.tiled != nil {
		k.runTiled, _ = tiledFuncs.of(dt)
	}
	return k, nil
}

// tiledTask runs a range of units on the worker pool without a capturing closure.
type tiledTask struct {
	k        *transposeKernel
	dst, src any
}

func (t *tiledTask) Do(lo, hi int) { t.k.runTiled(t.k.tiled, t.dst, t.src, lo, hi) }

var tiledTasks = sync.Pool{New: func() any { return new(tiledTask) }}

func (k *transposeKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	dst, src := out[0].Data(), in[0].Data()
	if k.tiled == nil {
		parallelCopy(ctx, k.run, k.runRange, k.plan, dst, src)
		return nil
	}
	var pool *parallel.Pool
	if ctx != nil {
		pool = ctx.Pool
	}
	units := k.tiled.units()
	if pool.Threads() < 2 || units < 2 || k.tiled.outerCount*k.tiled.rows*k.tiled.cols < transposeParallelMin {
		k.runTiled(k.tiled, dst, src, 0, units)
		return nil
	}
	t := tiledTasks.Get().(*tiledTask)
	t.k, t.dst, t.src = k, dst, src
	pool.ForTask(units, t)
	t.dst, t.src = nil, nil
	tiledTasks.Put(t)
	return nil
}
