package array

import (
	"sync"

	"github.com/onnxrun/onnxrun/ops"
)

// copyParallelMin is the element count from which a copyPlan is split across the pool's threads: below
// it the copy takes less than the ~50 µs that waking the workers costs back.
const copyParallelMin = 1 << 16

// runCopyRange copies the part of the plan whose outermost index is in [lo, hi): what runCopy does, one
// slice of the box at a time, so that threads can share a plan.
func runCopyRange[E rawElem](p *copyPlan, dstData, srcData any, lo, hi int) {
	dst, src := rawAs[E](dstData), rawAs[E](srcData)
	a := p.axes[0]
	if len(p.axes) == 1 {
		s := p.srcOff
		if a.table != nil {
			a.table = a.table[lo:hi]
		} else {
			s += lo * a.srcStride
		}
		a.n = hi - lo
		copyAxes([]planAxis{a}, dst, p.dstOff+lo*a.dstStride, src, s)
		return
	}
	for j := lo; j < hi; j++ {
		copyAxes(p.axes[1:], dst, p.dstOff+j*a.dstStride, src, p.srcOff+a.src(j))
	}
}

var copyRangeFuncs = rawSet[func(p *copyPlan, dst, src any, lo, hi int)]{
	runCopyRange[uint8], runCopyRange[uint16], runCopyRange[uint32], runCopyRange[uint64],
	runCopyRange[[2]uint32], runCopyRange[[2]uint64], runCopyRange[string],
}

// elems is the number of elements the plan copies.
func (p *copyPlan) elems() int {
	if p.empty {
		return 0
	}
	n := 1
	for _, a := range p.axes {
		n *= a.n
	}
	return n
}

// copyTask runs a range of a plan's outermost axis on the worker pool without a capturing closure.
type copyTask struct {
	runRange func(p *copyPlan, dst, src any, lo, hi int)
	p        *copyPlan
	dst, src any
}

func (t *copyTask) Do(lo, hi int) { t.runRange(t.p, t.dst, t.src, lo, hi) }

var copyTasks = sync.Pool{New: func() any { return new(copyTask) }}

// parallelCopy runs the plan with run, or split over its outermost axis across ctx's pool with runRange
// when it is large enough.
func parallelCopy(ctx *ops.ExecContext, run func(p *copyPlan, dst, src any), runRange func(p *copyPlan, dst, src any, lo, hi int), p *copyPlan, dst, src any) {
	if ctx == nil || ctx.Pool.Threads() < 2 || len(p.axes) == 0 || p.axes[0].n < 2 || p.elems() < copyParallelMin {
		run(p, dst, src)
		return
	}
	t := copyTasks.Get().(*copyTask)
	t.runRange, t.p, t.dst, t.src = runRange, p, dst, src
	ctx.Pool.ForTask(p.axes[0].n, t)
	t.dst, t.src = nil, nil
	copyTasks.Put(t)
}
