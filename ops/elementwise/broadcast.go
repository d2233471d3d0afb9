package elementwise

import (
	"fmt"
	"strings"

	"github.com/onnxrun/onnxrun/ops"
)

// broadcastShapes is the multidirectional (numpy) broadcast of the inputs, with an error that names every
// input and its shape.
func broadcastShapes(n *nodeMeta, names []string, shapes ...ops.Shape) (ops.Shape, error) {
	out, err := ops.BroadcastShapes(shapes...)
	if err != nil {
		return nil, ops.Invalidf("%s-%d: inputs %s do not broadcast: %v", n.opType, n.opset, describeShapes(names, shapes), err)
	}
	return out, nil
}

func describeShapes(names []string, shapes []ops.Shape) string {
	parts := make([]string, len(shapes))
	for i, s := range shapes {
		name := fmt.Sprintf("#%d", i)
		if i < len(names) {
			name = names[i]
		}
		parts[i] = fmt.Sprintf("%s %v", name, s)
	}
	return strings.Join(parts, ", ")
}

// unidirectionalShape checks that b broadcasts to a without changing a's shape (Broadcasting.md,
// "unidirectional", used by PRelu).
func unidirectionalShape(n *nodeMeta, names []string, a, b ops.Shape) error {
	out, err := ops.BroadcastShapes(a, b)
	if err != nil || !out.Equal(a) {
		return ops.Invalidf("%s-%d: %s %v does not broadcast to %s %v (unidirectional broadcasting)",
			n.opType, n.opset, names[1], b, names[0], a)
	}
	return nil
}

// legacyBroadcast implements the broadcasting of opsets 1 to 6 (attributes broadcast and axis): without
// broadcast=1 the shapes must be equal; with it, B is either a one-element tensor or a contiguous run of A's
// dimensions starting at axis (by default aligned to A's last dimensions). It returns B's shape padded with
// ones to A's rank, ready for the numpy-style plan.
func legacyBroadcast(n *nodeMeta, a, b ops.Shape, broadcast bool, axis int, hasAxis bool) (ops.Shape, error) {
	if !broadcast {
		if !a.Equal(b) {
			return nil, ops.Invalidf("%s-%d: A %v and B %v differ and attribute broadcast is not 1", n.opType, n.opset, a, b)
		}
		return b, nil
	}
	padded := make(ops.Shape, len(a))
	for i := range padded {
		padded[i] = 1
	}
	if b.Size() == 1 {
		return padded, nil
	}
	if len(b) > len(a) {
		return nil, ops.Invalidf("%s-%d: B %v has more dimensions than A %v", n.opType, n.opset, b, a)
	}
	start := len(a) - len(b)
	if hasAxis {
		if axis < 0 {
			axis += len(a)
		}
		if axis < 0 || axis+len(b) > len(a) {
			return nil, ops.Invalidf("%s-%d: axis %d does not place B %v inside A %v", n.opType, n.opset, axis, b, a)
		}
		start = axis
	}
	for i, d := range b {
		if d != a[start+i] && d != 1 {
			return nil, ops.Invalidf("%s-%d: B %v does not match A %v from axis %d", n.opType, n.opset, b, a, start)
		}
		padded[start+i] = d
	}
	return padded, nil
}

// bcastPlan maps an output's index space onto its inputs under numpy broadcasting. Dimensions where the
// output has size 1 are dropped, and neighbouring dimensions are merged when every input is either
// contiguous along both or broadcast along both, so same-shape inputs become one span and a row broadcast
// becomes rows of one span each.
type bcastPlan struct {
	size    int     // output elements
	dims    []int   // merged output dimensions, outermost first; never empty
	outStep []int   // output element stride of each merged dimension
	inStep  [][]int // inStep[k][d]: input k's element stride along merged dimension d (0 when broadcast)
}

// newBcastPlan plans inputs of the given shapes, which must broadcast to out.
func newBcastPlan(out ops.Shape, ins ...ops.Shape) *bcastPlan {
	r := len(out)
	// bcast[k][d]: input k is broadcast along output dimension d.
	isBcast := func(k, d int) bool {
		off := r - len(ins[k])
		return d < off || ins[k][d-off] == 1
	}
	p := &bcastPlan{size: out.Size(), inStep: make([][]int, len(ins))}
	var groups [][]bool // broadcast flags of each merged dimension
	for d := 0; d < r; d++ {
		if out[d] == 1 {
			continue
		}
		flags := make([]bool, len(ins))
		for k := range ins {
			flags[k] = isBcast(k, d)
		}
		if last := len(groups) - 1; last >= 0 && equalFlags(groups[last], flags) {
			p.dims[last] *= out[d]
			continue
		}
		groups = append(groups, flags)
		p.dims = append(p.dims, out[d])
	}
	if len(p.dims) == 0 { // a scalar, or all ones
		p.dims = []int{1}
		groups = [][]bool{make([]bool, len(ins))}
		for k := range groups[0] {
			groups[0][k] = true
		}
	}
	p.outStep = make([]int, len(p.dims))
	acc := 1
	for d := len(p.dims) - 1; d >= 0; d-- {
		p.outStep[d] = acc
		acc *= p.dims[d]
	}
	for k := range ins {
		steps := make([]int, len(p.dims))
		acc := 1
		for d := len(p.dims) - 1; d >= 0; d-- {
			if !groups[d][k] {
				steps[d] = acc
				acc *= p.dims[d]
			}
		}
		p.inStep[k] = steps
	}
	return p
}

func equalFlags(a, b []bool) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// binaryFn is a binary element function, with optional loops over whole spans that the common
// arithmetic provides: the element function is a call per element, which a plain loop avoids.
type binaryFn[A, B, O any] struct {
	f  func(A, B) O
	vv func(out []O, a []A, b []B) // out[i] = f(a[i], b[i])
	vs func(out []O, a []A, b B)   // out[i] = f(a[i], b)
	sv func(out []O, a A, b []B)   // out[i] = f(a, b[i])
}

// walk2 applies fn over the plan from merged dimension d down: out[i] = f(a[ia], b[ib]).
func walk2[A, B, O any](p *bcastPlan, d int, out []O, a []A, b []B, fn *binaryFn[A, B, O]) {
	n := p.dims[d]
	if d == len(p.dims)-1 {
		span2(out[:n], a, b, p.inStep[0][d], p.inStep[1][d], fn)
		return
	}
	so, sa, sb := p.outStep[d], p.inStep[0][d], p.inStep[1][d]
	for i := 0; i < n; i++ {
		walk2(p, d+1, out[i*so:], a[i*sa:], b[i*sb:], fn)
	}
}

// span2 is the inner loop; the steps of the last merged dimension are 1 (contiguous) or 0 (broadcast).
func span2[A, B, O any](out []O, a []A, b []B, sa, sb int, fn *binaryFn[A, B, O]) {
	f := fn.f
	switch {
	case sa == 1 && sb == 1:
		a, b = a[:len(out)], b[:len(out)]
		if fn.vv != nil {
			fn.vv(out, a, b)
			return
		}
		for i := range out {
			out[i] = f(a[i], b[i])
		}
	case sa == 1:
		a, bv := a[:len(out)], b[0]
		if fn.vs != nil {
			fn.vs(out, a, bv)
			return
		}
		for i := range out {
			out[i] = f(a[i], bv)
		}
	case sb == 1:
		av, b := a[0], b[:len(out)]
		if fn.sv != nil {
			fn.sv(out, av, b)
			return
		}
		for i := range out {
			out[i] = f(av, b[i])
		}
	default:
		v := f(a[0], b[0])
		for i := range out {
			out[i] = v
		}
	}
}

// walkWhere is walk2 for Where's three inputs: out[i] = cond ? x : y.
func walkWhere[T any](p *bcastPlan, d int, out []T, cond []bool, x, y []T) {
	n := p.dims[d]
	sc, sx, sy := p.inStep[0][d], p.inStep[1][d], p.inStep[2][d]
	if d == len(p.dims)-1 {
		out = out[:n]
		if sc == 1 && sx == 1 && sy == 1 {
			cond, x, y = cond[:n], x[:n], y[:n]
			for i := range out {
				if cond[i] {
					out[i] = x[i]
				} else {
					out[i] = y[i]
				}
			}
			return
		}
		for i := range out {
			if cond[i*sc] {
				out[i] = x[i*sx]
			} else {
				out[i] = y[i*sy]
			}
		}
		return
	}
	so := p.outStep[d]
	for i := 0; i < n; i++ {
		walkWhere(p, d+1, out[i*so:], cond[i*sc:], x[i*sx:], y[i*sy:])
	}
}
