package runtime

import (
	"sort"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/elementwise"
)

// fuseElementwise rewrites each chain or diamond of float32 element-wise nodes whose intermediate values
// are read only inside it into one onnxrun::FusedElementwise node (ops/elementwise/fused.go), which runs
// them as one pass over memory instead of one pass per node:
//
//	SiLU       x · Sigmoid(x)                            (EfficientNet, YOLO)
//	HardSwish  x · HardSigmoid(x), x · Clip(x+3, 0, 6) / 6  (MobileNetV3, OCR models)
//	Mish       x · Tanh(Softplus(x))
//	GELU       x · 0.5 · (1 + Erf(x / √2)), in any of the exporters' orders, and its tanh form
//	scale-and-shift, clip chains, and any other mix of the steps FusedElementwise has
//
// A pattern is grown backwards from its last node: an element-wise producer joins when every reader of its
// output is already in the pattern, its output is not a graph output, and it is of the pattern's output
// shape (so every intermediate is one full-size block in the kernel); a value known at compile time is left
// to constant folding. The other operands are the fused
// node's inputs: one of the output's shape first, then any of that shape, scalars and per-channel values.
// Single nodes are left to their own kernels.
//
// It runs after fuse-activation, so that an activation that can go into a Conv or Gemm epilogue goes there.
func fuseElementwise(r *rewriter, shapes map[string]ops.ValueInfo) (bool, error) {
	changed := false
	nodes := r.nodes()
	for i := len(nodes) - 1; i >= 0; i-- {
		sink := nodes[i]
		if !r.live(sink) {
			continue
		}
		if fuseElementwiseRegion(r, sink, shapes) {
			changed = true
		}
	}
	return changed, nil
}

// elementwiseStep is one node as FusedElementwise steps: the operator, the values it reads (one or two)
// and its parameters.
type elementwiseStep struct {
	fn       string
	operands []string
	p0, p1   float32
}

// elementwiseSteps returns the FusedElementwise steps that compute node n, or nil when n is not a float32
// element-wise node the kernel runs. A step operand "" stands for the previous step's result.
func elementwiseSteps(r *rewriter, n *Node, shapes map[string]ops.ValueInfo) []elementwiseStep {
	if n.Domain != "" || len(n.Outputs) != 1 || len(n.Inputs) == 0 || !isFloat32(shapes, n.Outputs[0]) {
		return nil
	}
	for _, in := range n.Inputs {
		if in == "" {
			return nil
		}
	}
	attrs := nodeAttrs(n)
	x := n.Inputs[0]
	unary := func(fn string, p0, p1 float32) []elementwiseStep {
		return []elementwiseStep{{fn: fn, operands: []string{x}, p0: p0, p1: p1}}
	}
	var steps []elementwiseStep
	switch n.OpType {
	case "Sigmoid", "Tanh", "Erf", "Exp", "Log", "Softplus", "Neg", "Abs", "Sqrt", "Reciprocal", "Relu":
		if len(n.Inputs) == 1 {
			steps = unary(n.OpType, 0, 0)
		}
	case "Clip":
		if lo, hi, ok := clipBounds(r, n); ok {
			steps = unary("Clip", lo, hi)
		}
	case "HardSigmoid":
		steps = unary("HardSigmoid", attrs.Float("alpha", 0.2), attrs.Float("beta", 0.5))
	case "HardSwish":
		steps = append(unary("HardSigmoid", 1.0/6, 0.5), elementwiseStep{fn: "Mul", operands: []string{x, ""}})
	case "LeakyRelu":
		steps = unary("LeakyRelu", attrs.Float("alpha", 0.01), 0)
	case "Gelu": // written by recognise-gelu where no product takes it in its epilogue
		switch attrs.String("approximate", "none") {
		case "none":
			steps = unary("Gelu", 0, 0)
		case "tanh":
			steps = unary("GeluTanh", 0, 0)
		}
	case "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min":
		if len(n.Inputs) == 2 && isFloat32(shapes, n.Inputs[1]) {
			steps = []elementwiseStep{{fn: n.OpType, operands: []string{n.Inputs[0], n.Inputs[1]}}}
		}
	}
	if attrs.Err() != nil || !isFloat32(shapes, x) {
		return nil
	}
	return steps
}

// elementwiseRegion is a pattern being grown: its nodes and their steps.
type elementwiseRegion struct {
	nodes map[*Node][]elementwiseStep
	steps int
	shape ops.Shape
}

// admit reports whether n's operands are values of the region's shape, or scalars and per-channel values
// FusedElementwise broadcasts, whatever the symbolic dimensions.
func (reg *elementwiseRegion) admit(n *Node, steps []elementwiseStep, shapes map[string]ops.ValueInfo) bool {
	out, ok := shapes[n.Outputs[0]]
	if !ok || !out.Shape.Equal(reg.shape) || reg.steps+len(steps) > elementwise.MaxFusedSteps {
		return false
	}
	for _, s := range steps {
		for _, in := range s.operands {
			if in == "" {
				continue
			}
			v, ok := shapes[in]
			if !ok || !(v.Shape.Equal(reg.shape) || knownDims(v.Shape) && elementwise.FusedElementwiseAccepts(v.Shape, reg.shape)) {
				return false
			}
		}
	}
	return true
}

// fuseElementwiseRegion grows the pattern that ends at sink and, when it has two steps or more, replaces
// it by one FusedElementwise node.
func fuseElementwiseRegion(r *rewriter, sink *Node, shapes map[string]ops.ValueInfo) bool {
	steps := elementwiseSteps(r, sink, shapes)
	if steps == nil || shapes[sink.Outputs[0]].Const != nil {
		return false
	}
	reg := &elementwiseRegion{nodes: map[*Node][]elementwiseStep{}, shape: shapes[sink.Outputs[0]].Shape}
	if !reg.admit(sink, steps, shapes) {
		return false
	}
	reg.nodes[sink], reg.steps = steps, len(steps)
	for grown := true; grown; {
		grown = false
		for n := range reg.nodes {
			for _, in := range n.Inputs {
				p := r.producerOf(in)
				if p == nil || reg.nodes[p] != nil || r.isOutput(in) || shapes[in].Const != nil {
					continue
				}
				readers, _ := r.consumers(in)
				inside := true
				for _, c := range readers {
					inside = inside && reg.nodes[c] != nil
				}
				if !inside {
					continue
				}
				if ps := elementwiseSteps(r, p, shapes); ps != nil && reg.admit(p, ps, shapes) {
					reg.nodes[p], reg.steps = ps, reg.steps+len(ps)
					grown = true
				}
			}
		}
	}
	if reg.steps < 2 {
		return false
	}
	fused := reg.program(r, sink, shapes)
	if fused == nil {
		return false
	}
	for n := range reg.nodes {
		if n != sink {
			r.remove(n)
		}
	}
	r.replace(sink, fused)
	return true
}

// program writes the region as a FusedElementwise node in sink's place, or returns nil when no input is
// of the output's shape.
func (reg *elementwiseRegion) program(r *rewriter, sink *Node, shapes map[string]ops.ValueInfo) *Node {
	order := make([]*Node, 0, len(reg.nodes))
	for n := range reg.nodes {
		order = append(order, n)
	}
	sort.Slice(order, func(i, j int) bool { return r.pos[order[i]] < r.pos[order[j]] })
	var inputs []string
	inputIndex := map[string]int{}
	for _, n := range order {
		for _, s := range reg.nodes[n] {
			for _, in := range s.operands {
				if _, seen := inputIndex[in]; in == "" || seen || reg.nodes[r.producerOf(in)] != nil {
					continue
				}
				inputIndex[in] = len(inputs)
				inputs = append(inputs, in)
			}
		}
	}
	// Input 0 gives the output its shape: move the first full-size input there.
	full := -1
	for i, in := range inputs {
		if shapes[in].Shape.Equal(reg.shape) {
			full = i
			break
		}
	}
	if full < 0 {
		return nil
	}
	inputs[0], inputs[full] = inputs[full], inputs[0]
	for i, in := range inputs {
		inputIndex[in] = i
	}
	var names []string
	var operands []int64
	var params []float32
	result := map[string]int64{} // value computed in the region → its step operand
	for _, n := range order {
		for _, s := range reg.nodes[n] {
			ref := [2]int64{}
			for j, in := range s.operands {
				switch step, inside := result[in]; {
				case in == "":
					ref[j] = -int64(len(names)) // the previous step
				case inside:
					ref[j] = step
				default:
					ref[j] = int64(inputIndex[in])
				}
			}
			names = append(names, s.fn)
			operands = append(operands, ref[0], ref[1])
			params = append(params, s.p0, s.p1)
		}
		result[n.Outputs[0]] = -int64(len(names))
	}
	return &Node{Name: sink.Name, Domain: ops.FusedDomain, OpType: "FusedElementwise", Opset: 1, Inputs: inputs,
		Outputs: sink.Outputs, Attrs: ops.AttrMap{"steps": ops.StringsAttr(names...), "operands": ops.IntsAttr(operands...),
			"params": ops.FloatsAttr(params...)}}
}
