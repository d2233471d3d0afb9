package runtime

import (
	"github.com/onnxrun/onnxrun/ops"
)

// fuseSqueezeExcite rewrites a squeeze-and-excitation block (EfficientNet, MobileNetV3)
//
//	GlobalAveragePool(X) → Conv 1x1 → [Relu | Clip | HardSwish | x·Sigmoid(x)] → Conv 1x1 → Sigmoid | HardSigmoid → Mul(X, ·)
//
// into one onnxrun::SqueezeExcite node (ops/cnn/squeezeexcite.go) in the Mul's place. Every intermediate
// must be read inside the block alone; the Convs plain 1x1 products (group 1, no padding, stride 1) of
// float32 values. It runs before fuse-activation and fuse-elementwise, which would otherwise take the
// block's activation and gate apart.
func fuseSqueezeExcite(r *rewriter, shapes map[string]ops.ValueInfo) (bool, error) {
	changed := false
	for _, mul := range r.nodes() {
		if r.live(mul) && fuseSqueezeExciteAt(r, mul, shapes) {
			changed = true
		}
	}
	return changed, nil
}

func fuseSqueezeExciteAt(r *rewriter, mul *Node, shapes map[string]ops.ValueInfo) bool {
	if mul.OpType != "Mul" || mul.Domain != "" || len(mul.Inputs) != 2 || len(mul.Outputs) != 1 || mul.Inputs[0] == mul.Inputs[1] {
		return false
	}
	for i, g := range mul.Inputs {
		x := mul.Inputs[1-i]
		gate := r.producerOf(g)
		if gate == nil || gate.Domain != "" || (gate.OpType != "Sigmoid" && gate.OpType != "HardSigmoid") || r.soleConsumer(g) != mul || len(gate.Outputs) != 1 {
			continue
		}
		conv2 := seConv(r, gate.Inputs[0], gate, shapes)
		if conv2 == nil {
			continue
		}
		removed := []*Node{gate, conv2}
		actAttrs, conv1, actNodes := seActivation(r, conv2.Inputs[0], conv2, shapes)
		if conv1 == nil {
			continue
		}
		removed = append(append(removed, actNodes...), conv1)
		pool := r.producerOf(conv1.Inputs[0])
		if pool == nil || pool.OpType != "GlobalAveragePool" || pool.Domain != "" || pool.Inputs[0] != x || r.soleConsumer(conv1.Inputs[0]) != conv1 {
			continue
		}
		xInfo, ok := shapes[x]
		if !ok || xInfo.DType != ops.Float32 || len(xInfo.Shape) < 3 {
			continue
		}
		attrs := ops.AttrMap{}
		for k, v := range actAttrs {
			attrs[k] = v
		}
		if gate.OpType == "HardSigmoid" {
			a := nodeAttrs(gate)
			attrs["gate"] = ops.StringAttr("HardSigmoid")
			attrs["gate_params"] = ops.FloatsAttr(a.Float("alpha", 0.2), a.Float("beta", 0.5))
			if a.Err() != nil {
				continue
			}
		}
		fused := &Node{Name: mul.Name, Domain: ops.FusedDomain, OpType: "SqueezeExcite", Opset: 1,
			Inputs: []string{x, conv1.Inputs[1], convBias(conv1), conv2.Inputs[1], convBias(conv2)}, Outputs: mul.Outputs, Attrs: attrs}
		for _, n := range append(removed, pool) {
			r.remove(n)
		}
		r.replace(mul, fused)
		return true
	}
	return false
}

// convBias is a Conv's bias input, or "" when it has none.
func convBias(conv *Node) string {
	if len(conv.Inputs) > 2 {
		return conv.Inputs[2]
	}
	return ""
}

// seConv returns the plain 1x1 float32 Conv that produces name, read by next alone.
func seConv(r *rewriter, name string, next *Node, shapes map[string]ops.ValueInfo) *Node {
	if conv := r.producerOf(name); r.soleConsumer(name) == next && plainConv1x1(conv, shapes) {
		return conv
	}
	return nil
}

// plainConv1x1 reports whether conv is a float32 Conv with a 1x1 kernel, one group, no padding and stride 1.
func plainConv1x1(conv *Node, shapes map[string]ops.ValueInfo) bool {
	if conv == nil || conv.OpType != "Conv" || conv.Domain != "" || len(conv.Outputs) != 1 || len(conv.Inputs) < 2 {
		return false
	}
	w, ok := shapes[conv.Inputs[1]]
	if !ok || w.DType != ops.Float32 || len(w.Shape) < 3 || !knownDims(w.Shape) || w.Shape[2:].Size() != 1 {
		return false
	}
	a := nodeAttrs(conv)
	group, autoPad := a.Int("group", 1), a.String("auto_pad", "NOTSET")
	pads, strides := a.Ints("pads", nil), a.Ints("strides", nil)
	if a.Err() != nil || group != 1 || (autoPad != "NOTSET" && autoPad != "VALID") {
		return false
	}
	for _, p := range pads {
		if p != 0 {
			return false
		}
	}
	for _, s := range strides {
		if s != 1 {
			return false
		}
	}
	return true
}

// seActivation finds what sits between the two Convs of a block, walking back from name (read by next):
// the SqueezeExcite attributes for it, the first Conv, and the activation's nodes. conv1 is nil when the
// pattern does not match.
func seActivation(r *rewriter, name string, next *Node, shapes map[string]ops.ValueInfo) (attrs ops.AttrMap, conv1 *Node, nodes []*Node) {
	if c := seConv(r, name, next, shapes); c != nil {
		return ops.AttrMap{}, c, nil
	}
	act := r.producerOf(name)
	if act == nil || act.Domain != "" || len(act.Outputs) != 1 || len(act.Inputs) == 0 || r.soleConsumer(name) != next {
		return nil, nil, nil
	}
	switch act.OpType {
	case "Relu", "Clip":
		lo, hi, ok := clipBounds(r, act)
		if !ok {
			return nil, nil, nil
		}
		attrs = ops.AttrMap{"activation": ops.StringAttr("Relu")}
		if act.OpType == "Clip" {
			attrs = ops.AttrMap{"activation": ops.StringAttr("Clip"), "activation_params": ops.FloatsAttr(lo, hi)}
		}
		return attrs, seConv(r, act.Inputs[0], act, shapes), []*Node{act}
	case "HardSwish":
		return ops.AttrMap{"activation": ops.StringAttr("HardSwish")}, seConv(r, act.Inputs[0], act, shapes), []*Node{act}
	case "Mul": // x·Sigmoid(x): the Conv's output read by the Sigmoid and the Mul alone
		if len(act.Inputs) != 2 {
			return nil, nil, nil
		}
		for i, s := range act.Inputs {
			sig, c := r.producerOf(s), act.Inputs[1-i]
			if sig == nil || sig.OpType != "Sigmoid" || sig.Domain != "" || sig.Inputs[0] != c || r.soleConsumer(s) != act {
				continue
			}
			conv := r.producerOf(c)
			readers, isOut := r.consumers(c)
			if !isOut && len(readers) == 2 && (readers[0] == sig || readers[1] == sig) && (readers[0] == act || readers[1] == act) && plainConv1x1(conv, shapes) {
				return ops.AttrMap{"activation": ops.StringAttr("SiLU")}, conv, []*Node{act, sig}
			}
		}
	}
	return nil, nil, nil
}
