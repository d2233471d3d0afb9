package array

import "github.com/onnxrun/onnxrun/ops"

// planAxis is one axis of a copyPlan's output box: n indexes, a stride in the destination, and a source
// offset per index that is either affine (index*srcStride) or read from table.
type planAxis struct {
	n         int
	dstStride int
	srcStride int   // used when table is nil
	table     []int // source offset of each index, when the axis is not affine
}

func (a planAxis) src(j int) int {
	if a.table != nil {
		return a.table[j]
	}
	return j * a.srcStride
}

// copyPlan is the lowered form of every pure data-movement op:
//
//	for each index (i0, …, ik) of the box axes[0].n × … × axes[k].n:
//	    dst[dstOff + Σ i_a*axes[a].dstStride] = src[srcOff + Σ axes[a].src(i_a)]
//
// Transpose, Slice, Expand, Tile, Pad, Concat, Split, Compress, DepthToSpace and SpaceToDepth build one in
// Prepare; run walks it without allocating.
type copyPlan struct {
	axes   []planAxis
	dstOff int
	srcOff int
	empty  bool // some axis has no indexes: nothing to copy
}

// affineAxes returns the planAxes that copy a box of the given shape between two tensors with the given
// element strides.
func affineAxes(shape ops.Shape, dstStrides, srcStrides []int) []planAxis {
	axes := make([]planAxis, len(shape))
	for i, n := range shape {
		axes[i] = planAxis{n: n, dstStride: dstStrides[i], srcStride: srcStrides[i]}
	}
	return axes
}

// newCopyPlan simplifies axes into a plan: axes of one index fold into the base offsets, tables that turn
// out affine become strides, and neighbouring axes that are contiguous with each other in both tensors
// merge, so that a plain copy (Concat, Split, most Slices) ends with one long contiguous inner axis.
func newCopyPlan(axes []planAxis, dstOff, srcOff int) *copyPlan {
	p := &copyPlan{dstOff: dstOff, srcOff: srcOff}
	var kept []planAxis
	for _, a := range axes {
		if a.n == 0 {
			return &copyPlan{empty: true}
		}
		if a.n == 1 {
			p.srcOff += a.src(0)
			continue
		}
		if a.table != nil && isAffine(a.table) {
			// The table's base moves into srcOff and the axis becomes a plain stride.
			p.srcOff += a.table[0]
			a.srcStride, a.table = a.table[1]-a.table[0], nil
		}
		kept = append(kept, a)
	}
	// Merge inner into outer when outer steps exactly over a whole inner run in both tensors.
	var merged []planAxis
	for _, a := range kept {
		if k := len(merged); k > 0 {
			o := merged[k-1]
			if o.table == nil && a.table == nil && o.dstStride == a.dstStride*a.n && o.srcStride == a.srcStride*a.n {
				merged[k-1] = planAxis{n: o.n * a.n, dstStride: a.dstStride, srcStride: a.srcStride}
				continue
			}
		}
		merged = append(merged, a)
	}
	p.axes = merged
	return p
}

// contiguousRun reports whether the plan copies src[srcOff : srcOff+n] to dst[0:n] in order, returning
// srcOff and n: then the destination can be a view of the source.
func (p *copyPlan) contiguousRun() (offset, n int, ok bool) {
	switch {
	case p.empty || p.dstOff != 0:
		return 0, 0, false
	case len(p.axes) == 0:
		return p.srcOff, 1, true
	case len(p.axes) == 1:
		a := p.axes[0]
		return p.srcOff, a.n, a.table == nil && a.dstStride == 1 && a.srcStride == 1
	}
	return 0, 0, false
}

// contiguousDst reports whether the plan copies n source elements, in order, to dst[dstOff : dstOff+n]
// from src[srcOff : srcOff+n].
func (p *copyPlan) contiguousDst() (dstOff, n int, ok bool) {
	q := *p
	q.dstOff = 0
	_, n, ok = q.contiguousRun()
	return p.dstOff, n, ok
}

// isAffine reports whether t[j] == t[0] + j*(t[1]-t[0]) for every j (len(t) >= 2).
func isAffine(t []int) bool {
	step := t[1] - t[0]
	for j := range t {
		if t[j] != t[0]+j*step {
			return false
		}
	}
	return true
}

// copyFuncs runs a copyPlan for each element size.
var copyFuncs = rawSet[func(p *copyPlan, dst, src any)]{
	runCopy[uint8], runCopy[uint16], runCopy[uint32], runCopy[uint64], runCopy[[2]uint32], runCopy[[2]uint64],
	runCopy[string],
}

func runCopy[E rawElem](p *copyPlan, dstData, srcData any) {
	if p.empty {
		return
	}
	dst, src := rawAs[E](dstData), rawAs[E](srcData)
	if len(p.axes) == 0 {
		dst[p.dstOff] = src[p.srcOff]
		return
	}
	copyAxes(p.axes, dst, p.dstOff, src, p.srcOff)
}

// copyAxes copies the box spanned by axes; the innermost axis is a copy() when it is contiguous in both.
func copyAxes[E rawElem](axes []planAxis, dst []E, d int, src []E, s int) {
	a := &axes[0]
	if len(axes) == 1 {
		switch {
		case a.table != nil:
			for j, off := range a.table {
				dst[d+j*a.dstStride] = src[s+off]
			}
		case a.dstStride == 1 && a.srcStride == 1:
			copy(dst[d:d+a.n], src[s:s+a.n])
		case a.dstStride == 1 && a.srcStride == 0:
			v := src[s]
			row := dst[d : d+a.n]
			for j := range row {
				row[j] = v
			}
		default:
			for j := 0; j < a.n; j++ {
				dst[d+j*a.dstStride] = src[s+j*a.srcStride]
			}
		}
		return
	}
	rest := axes[1:]
	if a.table != nil {
		for j, off := range a.table {
			copyAxes(rest, dst, d+j*a.dstStride, src, s+off)
		}
		return
	}
	for j := 0; j < a.n; j++ {
		copyAxes(rest, dst, d+j*a.dstStride, src, s+j*a.srcStride)
	}
}

// fillFuncs sets every element of a tensor to the first element of another (Pad's constant, the fill of
// ConstantOfShape, an off value): fill(dst, value).
var fillFuncs = rawSet[func(dst, value any)]{
	fill[uint8], fill[uint16], fill[uint32], fill[uint64], fill[[2]uint32], fill[[2]uint64], fill[string],
}

func fill[E rawElem](dstData, valueData any) {
	dst := rawAs[E](dstData)
	var v E // a nil value fills with zeros (0, false, "")
	if valueData != nil {
		if value := rawAs[E](valueData); len(value) > 0 {
			v = value[0]
		}
	}
	for i := range dst {
		dst[i] = v
	}
}

// planKernel runs one copyPlan from input 0 to output 0, in parallel when it is large.
type planKernel struct {
	plan     *copyPlan
	run      func(p *copyPlan, dst, src any)
	runRange func(p *copyPlan, dst, src any, lo, hi int)
}

func (k *planKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	parallelCopy(ctx, k.run, k.runRange, k.plan, out[0].Data(), in[0].Data())
	return nil
}

// BlockOf lets the planner make the output a view when the plan is one contiguous run (ops.BlockViewer).
func (k *planKernel) BlockOf(output int) (input, offset, n int, ok bool) {
	offset, n, ok = k.plan.contiguousRun()
	return 0, offset, n, ok && output == 0
}

// newPlanKernel returns a kernel running plan for dtype dt.
func newPlanKernel(dt ops.DType, plan *copyPlan) (ops.Kernel, error) {
	run, ok := copyFuncs.of(dt)
	if !ok {
		return nil, unsupportedDType(dt)
	}
	runRange, _ := copyRangeFuncs.of(dt)
	return &planKernel{plan: plan, run: run, runRange: runRange}, nil
}
