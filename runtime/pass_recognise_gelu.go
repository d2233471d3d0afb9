package runtime

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// recogniseGelu rewrites GELU as the exporters spell it before opset 20,
//
//	x · 0.5 · (1 + Erf(x / √2))      (torch: Div, Erf, Add, Mul, Mul; also x · (1/√2), the 0.5 first)
//
// into one Gelu node (opset 20, approximate "none"), the factors of the product in any order and grouping.
// It runs before fuse-activation, which then moves the Gelu into the epilogue of the Gemm or MatMul that
// produces x (BERT's and ViT's MLP); a Gelu with no product before it runs as one vectorised GELU call
// instead of fuse-elementwise's five-step program (one pass over the tensor instead of five in its blocks).
// The Gelu kernel computes the same function in float32 within vecmath.GeluErf's bound (a few ULP), where the
// decomposed graph rounds each of its five steps.
func recogniseGelu(r *rewriter, shapes map[string]ops.ValueInfo) (bool, error) {
	changed := false
	for _, last := range r.nodes() {
		if !r.live(last) || last.OpType != "Mul" || last.Domain != "" || len(last.Inputs) != 2 || len(last.Outputs) != 1 {
			continue
		}
		x, inner, ok := matchGeluErf(r, last, shapes)
		if !ok {
			continue
		}
		for _, n := range inner {
			r.remove(n)
		}
		r.replace(last, &Node{Name: last.Name, OpType: "Gelu", Opset: 20, Inputs: []string{x}, Outputs: last.Outputs,
			Attrs: ops.AttrMap{}})
		changed = true
	}
	return changed, nil
}

// geluTolerance is how far from 0.5 and √2 the exporters' float32 constants may be.
const geluTolerance = 1e-6

// matchGeluErf reports whether the product that last ends is GELU's erf form of one value x, and returns x
// and the nodes the Gelu replaces besides last. Every intermediate value must be read by the pattern alone.
func matchGeluErf(r *rewriter, last *Node, shapes map[string]ops.ValueInfo) (x string, inner []*Node, ok bool) {
	out, okOut := shapes[last.Outputs[0]]
	if !okOut || out.DType != ops.Float32 {
		return "", nil, false
	}
	// The product's factors: descend through the Muls whose result only the product reads.
	var leaves []string
	var walk func(n *Node)
	walk = func(n *Node) {
		for _, in := range n.Inputs {
			if p := r.producerOf(in); p != nil && p.OpType == "Mul" && p.Domain == "" && len(p.Inputs) == 2 &&
				len(p.Outputs) == 1 && r.soleConsumer(in) == n {
				inner = append(inner, p)
				walk(p)
				continue
			}
			leaves = append(leaves, in)
		}
	}
	walk(last)
	half := 1.0
	var erfX string
	erfTerms := 0
	for _, leaf := range leaves {
		if c := constantScalar(r, leaf); len(c) == 1 {
			half *= float64(c[0])
			continue
		}
		if arg, nodes, isErf := matchErfTerm(r, leaf); isErf {
			erfX, erfTerms = arg, erfTerms+1
			inner = append(inner, nodes...)
			continue
		}
		if x != "" {
			return "", nil, false
		}
		x = leaf
	}
	xInfo, okX := shapes[x]
	if x == "" || erfTerms != 1 || erfX != x || math.Abs(half-0.5) > geluTolerance || !okX ||
		xInfo.DType != ops.Float32 || !xInfo.Shape.Equal(out.Shape) {
		return "", nil, false
	}
	return x, inner, true
}

// matchErfTerm reports whether name is 1 + Erf(x/√2) (or Erf(x·(1/√2)), either order of the sums and
// products) with every intermediate read only by the next step, and returns x and the three nodes.
func matchErfTerm(r *rewriter, name string) (x string, nodes []*Node, ok bool) {
	add := r.producerOf(name)
	if add == nil || add.OpType != "Add" || add.Domain != "" || len(add.Inputs) != 2 || r.soleConsumer(name) == nil {
		return "", nil, false
	}
	erfOut, one := add.Inputs[0], add.Inputs[1]
	if c := constantScalar(r, erfOut); len(c) == 1 {
		erfOut, one = one, erfOut
	}
	if c := constantScalar(r, one); len(c) != 1 || c[0] != 1 {
		return "", nil, false
	}
	erf := r.producerOf(erfOut)
	if erf == nil || erf.OpType != "Erf" || erf.Domain != "" || len(erf.Inputs) != 1 || r.soleConsumer(erfOut) != add {
		return "", nil, false
	}
	scaled := r.producerOf(erf.Inputs[0])
	if scaled == nil || scaled.Domain != "" || len(scaled.Inputs) != 2 || r.soleConsumer(erf.Inputs[0]) != erf {
		return "", nil, false
	}
	near := func(c []float32, want float64) bool {
		return len(c) == 1 && math.Abs(float64(c[0])-want) <= geluTolerance*want
	}
	switch scaled.OpType {
	case "Div":
		if near(constantScalar(r, scaled.Inputs[1]), math.Sqrt2) {
			x = scaled.Inputs[0]
		}
	case "Mul":
		for i, in := range scaled.Inputs {
			if near(constantScalar(r, in), 1/math.Sqrt2) {
				x = scaled.Inputs[1-i]
			}
		}
	}
	if x == "" || constantScalar(r, x) != nil {
		return "", nil, false
	}
	return x, []*Node{add, erf, scaled}, true
}
