package linalg

import (
	"slices"
	"strings"

	"github.com/onnxrun/onnxrun/ops"
)

// Einsum evaluates an Einstein summation: https://onnx.ai/onnx/operators/onnx__Einsum.html. Opset 12.
//
// Everything numpy.einsum accepts works: implicit output (the labels used once, sorted, after the ellipsis
// dimensions) or explicit output after "->", repeated labels in one term (diagonals), labels summed away,
// "..." broadcasting numpy-style across operands, and spaces anywhere. A label of size 1 in one operand
// also broadcasts against a larger size elsewhere, as in numpy.
//
// The kernel is one loop nest over every label (output labels outside, summed labels inside), multiplying
// the operands' elements and accumulating into the output. Its cost is the product of all label sizes, which
// is optimal for one or two operands but not for long chains that a pairwise contraction order would split.
func init() {
	ops.Register("", "Einsum",
		// opset 12: the first version.
		ops.Since(12, buildEinsum),
	)
}

const (
	maxEinsumOperands = 32 // the kernel keeps per-operand offsets in fixed arrays on the stack
	maxEinsumLabels   = 64 // 52 letters plus ellipsis dimensions
	ellipsisMark      = '.'
)

var einsumTypes = ops.DTypes(ops.Uint8, ops.Uint16, ops.Uint32, ops.Uint64, ops.Int8, ops.Int16, ops.Int32,
	ops.Int64, ops.Float16, ops.Float32, ops.Float64)

func buildEinsum(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	eq := r.String("equation", "")
	if err := r.Err(); err != nil {
		return nil, err
	}
	if !r.Has("equation") {
		return nil, &ops.AttrError{Name: "equation", Msg: "is required"}
	}
	if n.NumInputs < 1 || n.NumInputs > maxEinsumOperands {
		return nil, ops.Unsupportedf("Einsum with %d operands (at most %d)", n.NumInputs, maxEinsumOperands)
	}
	e, err := parseEinsum(eq)
	if err != nil {
		return nil, err
	}
	if len(e.terms) != n.NumInputs {
		return nil, ops.Invalidf("Einsum equation %q has %d terms, the node has %d inputs", eq, len(e.terms), n.NumInputs)
	}
	return &einsumOp{opset: n.Opset, eq: e}, nil
}

// einsumEquation is a parsed equation: each term is its labels in order, with ellipsisMark standing for "...".
type einsumEquation struct {
	text     string
	terms    [][]byte
	output   []byte
	explicit bool // the equation has "->"
}

func parseEinsum(eq string) (*einsumEquation, error) {
	e := &einsumEquation{text: eq}
	s := strings.ReplaceAll(eq, " ", "")
	lhs, rhs, explicit := strings.Cut(s, "->")
	e.explicit = explicit
	parseTerm := func(t string) ([]byte, error) {
		var labels []byte
		seenEllipsis := false
		for i := 0; i < len(t); i++ {
			c := t[i]
			switch {
			case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
				labels = append(labels, c)
			case c == '.':
				if !strings.HasPrefix(t[i:], "...") || seenEllipsis {
					return nil, ops.Invalidf("Einsum equation %q: term %q has a stray '.' or two ellipses", eq, t)
				}
				seenEllipsis = true
				labels = append(labels, ellipsisMark)
				i += 2
			default:
				return nil, ops.Invalidf("Einsum equation %q: character %q is not a letter, ',', '...' or '->'", eq, c)
			}
		}
		return labels, nil
	}
	for _, t := range strings.Split(lhs, ",") {
		labels, err := parseTerm(t)
		if err != nil {
			return nil, err
		}
		e.terms = append(e.terms, labels)
	}
	if explicit {
		out, err := parseTerm(rhs)
		if err != nil {
			return nil, err
		}
		for i, c := range out {
			if slices.Contains(out[i+1:], c) {
				if c == ellipsisMark {
					return nil, ops.Invalidf("Einsum equation %q: output has two ellipses", eq)
				}
				return nil, ops.Invalidf("Einsum equation %q: output label %q appears twice", eq, c)
			}
			if c != ellipsisMark && !slices.ContainsFunc(e.terms, func(t []byte) bool { return slices.Contains(t, c) }) {
				return nil, ops.Invalidf("Einsum equation %q: output label %q is in no input term", eq, c)
			}
		}
		e.output = out
	}
	return e, nil
}

type einsumOp struct {
	opset int
	eq    *einsumEquation
}

func (o *einsumOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	p, err := o.plan(in)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: p.outShape}}, nil
}

func (o *einsumOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	p, err := o.plan(in)
	if err != nil {
		return nil, err
	}
	k := &einsumKernel{plan: p}
	lens := []int{p.outShape.Size()}
	for _, v := range in {
		lens = append(lens, v.Shape.Size())
	}
	k.scratch = ops.HalfScratch(in[0].DType, lens...)
	return k, nil
}

// einsumPlan is the loop nest for given shapes. Loop label l runs over sizes[l]; operand o moves by
// inStrides[o][l] elements per step of l and the output by outStrides[l] (0 for a label an operand lacks or
// broadcasts, and for summed labels in the output). Output labels come first, summed labels last.
type einsumPlan struct {
	sizes      []int
	inStrides  [][]int
	outStrides []int
	outShape   ops.Shape
	empty      bool // some label has size 0: the output is all zeros (or has no elements)
}

// label ids: letters keep their byte value; ellipsis dimension d (counted from the left of the broadcast
// ellipsis) is ellipsisBase+d.
const ellipsisBase = 256

func (o *einsumOp) plan(in []ops.ValueInfo) (*einsumPlan, error) {
	eq := o.eq
	if err := einsumTypes.Check("Einsum", o.opset, "0", in[0].DType); err != nil {
		return nil, err
	}
	for i, v := range in {
		if v.DType != in[0].DType {
			return nil, ops.Invalidf("Einsum input %d has dtype %s, input 0 has %s", i, v.DType, in[0].DType)
		}
	}

	// How many dimensions each operand's "..." covers; they broadcast right-aligned to the widest.
	ellRanks := make([]int, len(in))
	ellRank := 0
	for i, t := range eq.terms {
		letters := len(t)
		hasEllipsis := slices.Contains(t, ellipsisMark)
		if hasEllipsis {
			letters--
		}
		rank := len(in[i].Shape)
		switch {
		case hasEllipsis && rank < letters:
			return nil, ops.Invalidf("Einsum equation %q: input %d has shape %v, fewer than the %d labels of its term",
				eq.text, i, in[i].Shape, letters)
		case !hasEllipsis && rank != letters:
			return nil, ops.Invalidf("Einsum equation %q: input %d has shape %v, its term %q has %d labels",
				eq.text, i, in[i].Shape, t, letters)
		}
		ellRanks[i] = rank - letters
		ellRank = max(ellRank, ellRanks[i])
	}

	// Each operand's dimensions as label ids, and every label's size.
	sizes := map[int]int{}
	count := map[int]int{} // occurrences of each letter over all terms, for the implicit output
	dimLabels := make([][]int, len(in))
	for i, t := range eq.terms {
		for _, c := range t {
			if c == ellipsisMark {
				for d := 0; d < ellRanks[i]; d++ {
					dimLabels[i] = append(dimLabels[i], ellipsisBase+ellRank-ellRanks[i]+d)
				}
				continue
			}
			dimLabels[i] = append(dimLabels[i], int(c))
			count[int(c)]++
		}
		for d, l := range dimLabels[i] {
			size := in[i].Shape[d]
			prev, seen := sizes[l]
			switch {
			case !seen || prev == 1:
				sizes[l] = size
			case size == prev || size == 1:
			default:
				return nil, ops.Invalidf("Einsum equation %q: %s has size %d in input %d and %d elsewhere",
					eq.text, labelName(l), size, i, prev)
			}
		}
	}

	// The output labels.
	var outLabels []int
	ellipsisIDs := func() {
		for d := 0; d < ellRank; d++ {
			outLabels = append(outLabels, ellipsisBase+d)
		}
	}
	if eq.explicit {
		if ellRank > 0 && !slices.Contains(eq.output, ellipsisMark) {
			return nil, ops.Invalidf("Einsum equation %q: the inputs have %d ellipsis dimensions but the output has no '...'",
				eq.text, ellRank)
		}
		for _, c := range eq.output {
			if c == ellipsisMark {
				ellipsisIDs()
			} else {
				outLabels = append(outLabels, int(c))
			}
		}
	} else {
		ellipsisIDs()
		var once []int
		for l, n := range count {
			if n == 1 {
				once = append(once, l)
			}
		}
		slices.Sort(once)
		outLabels = append(outLabels, once...)
	}

	// Loop order: output labels, then the summed ones (sorted, so the plan does not depend on map order).
	loop := append([]int{}, outLabels...)
	var summed []int
	for l := range sizes {
		if !slices.Contains(outLabels, l) {
			summed = append(summed, l)
		}
	}
	slices.Sort(summed)
	loop = append(loop, summed...)
	if len(loop) > maxEinsumLabels {
		return nil, ops.Unsupportedf("Einsum equation %q uses %d labels (at most %d)", eq.text, len(loop), maxEinsumLabels)
	}

	p := &einsumPlan{sizes: make([]int, len(loop)), outStrides: make([]int, len(loop)), inStrides: make([][]int, len(in))}
	pos := map[int]int{}
	for i, l := range loop {
		pos[l] = i
		p.sizes[i] = sizes[l]
		if p.sizes[i] == 0 {
			p.empty = true
		}
	}
	p.outShape = make(ops.Shape, len(outLabels))
	for i, l := range outLabels {
		p.outShape[i] = sizes[l]
	}
	outSt := p.outShape.Strides()
	for i := range outLabels {
		if p.outShape[i] != 1 {
			p.outStrides[i] = outSt[i]
		}
	}
	for i := range in {
		p.inStrides[i] = make([]int, len(loop))
		st := in[i].Shape.Strides()
		for d, l := range dimLabels[i] {
			if in[i].Shape[d] != 1 { // a size-1 dimension broadcasts: it never moves
				p.inStrides[i][pos[l]] += st[d] // a repeated label walks the diagonal
			}
		}
	}
	return p, nil
}

func labelName(l int) string {
	if l >= ellipsisBase {
		return "an ellipsis dimension"
	}
	return "label " + string(rune(l))
}

type einsumKernel struct {
	plan    *einsumPlan
	scratch int // float32s for widened float16 operands and result
}

func (k *einsumKernel) ScratchSize() int { return k.scratch }

func (k *einsumKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	p := k.plan
	switch out[0].Data().(type) {
	case []float32:
		einsumTyped[float32](p, in, out[0])
	case []float64:
		einsumTyped[float64](p, in, out[0])
	case []int8:
		einsumTyped[int8](p, in, out[0])
	case []int16:
		einsumTyped[int16](p, in, out[0])
	case []int32:
		einsumTyped[int32](p, in, out[0])
	case []int64:
		einsumTyped[int64](p, in, out[0])
	case []uint8:
		einsumTyped[uint8](p, in, out[0])
	case []uint16:
		einsumTyped[uint16](p, in, out[0])
	case []uint32:
		einsumTyped[uint32](p, in, out[0])
	case []uint64:
		einsumTyped[uint64](p, in, out[0])
	case []ops.Float16Bits, []ops.BFloat16Bits:
		var xs [maxEinsumOperands][]float32
		w := ops.NewWidener(ctx.Scratch)
		for i, t := range in {
			xs[i] = w.In(t)
		}
		runEinsum(p, xs[:len(in)], w.Out(out[0]))
		w.Narrow()
	}
	return nil
}

func einsumTyped[T ops.Number](p *einsumPlan, in []*ops.Tensor, out *ops.Tensor) {
	var xs [maxEinsumOperands][]T
	for i, t := range in {
		xs[i] = ops.Data[T](t)
	}
	runEinsum(p, xs[:len(in)], ops.Data[T](out))
}

// runEinsum is the loop nest: y[out labels] += prod over operands of x_o[their labels], for every value of
// every label. The innermost label runs in a tight loop; the others advance like an odometer, moving each
// operand's offset by its stride.
func runEinsum[T ops.Number](p *einsumPlan, xs [][]T, y []T) {
	clear(y)
	if p.empty {
		return
	}
	nl := len(p.sizes)
	if nl == 0 { // every operand is a scalar
		prod := T(1)
		for _, x := range xs {
			prod *= x[0]
		}
		y[0] = prod
		return
	}
	var idx [maxEinsumLabels]int
	var off [maxEinsumOperands]int
	var step [maxEinsumOperands]int
	last := nl - 1
	n, ystep := p.sizes[last], p.outStrides[last]
	for o := range xs {
		step[o] = p.inStrides[o][last]
	}
	yoff := 0
	for {
		switch len(xs) {
		case 1:
			x, s := xs[0][off[0]:], step[0]
			if ystep == 0 {
				var sum T
				for t := 0; t < n; t++ {
					sum += x[t*s]
				}
				y[yoff] += sum
			} else {
				for t := 0; t < n; t++ {
					y[yoff+t*ystep] += x[t*s]
				}
			}
		case 2:
			a, b, sa, sb := xs[0][off[0]:], xs[1][off[1]:], step[0], step[1]
			if ystep == 0 {
				var sum T
				for t := 0; t < n; t++ {
					sum += a[t*sa] * b[t*sb]
				}
				y[yoff] += sum
			} else {
				for t := 0; t < n; t++ {
					y[yoff+t*ystep] += a[t*sa] * b[t*sb]
				}
			}
		default:
			for t := 0; t < n; t++ {
				prod := T(1)
				for o, x := range xs {
					prod *= x[off[o]+t*step[o]]
				}
				y[yoff+t*ystep] += prod
			}
		}
		d := last - 1
		for ; d >= 0; d-- {
			idx[d]++
			yoff += p.outStrides[d]
			for o := range xs {
				off[o] += p.inStrides[o][d]
			}
			if idx[d] < p.sizes[d] {
				break
			}
			yoff -= p.outStrides[d] * p.sizes[d]
			for o := range xs {
				off[o] -= p.inStrides[o][d] * p.sizes[d]
			}
			idx[d] = 0
		}
		if d < 0 {
			return
		}
	}
}
