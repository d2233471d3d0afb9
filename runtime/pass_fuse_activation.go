package runtime

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// fuseActivation rewrites what a convolutional network does after each product into the product's kernel,
// as ONNX Runtime's FusedConv and FusedGemm do (ops/cnn/fusedconv.go, ops/linalg/fusedgemm.go):
//
//	Conv → Add(·, Z)            ⇒ onnxrun::FusedConv(X, W, B, Z)                   (a residual connection)
//	Conv → Relu | Clip          ⇒ onnxrun::FusedConv(activation=Relu | Clip)       (also after the Add above)
//	Gemm | 2-D MatMul → Relu | Clip ⇒ onnxrun::FusedGemm(activation=Relu | Clip)
//
// and likewise Sigmoid, Tanh, LeakyRelu, HardSigmoid, HardSwish and Gelu (erf and tanh forms), plus the two
// diamonds that spell an activation with a Mul:
//
//	c = Conv|Gemm|MatMul(...); Mul(c, Sigmoid(c))      ⇒ activation=SiLU
//	c = Conv|Gemm|MatMul(...); Mul(c, HardSigmoid(c))  ⇒ activation=HardSwish [alpha, beta]
//
// so that neither the Add nor the activation makes its own pass over the output. It needs float32 values
// (the fused kernels are float32 only), an intermediate value read by the next node alone, a Z of exactly
// the Conv output's shape (no broadcasting), and Clip bounds that are attributes or constants. The fused node
// takes the place of the last node it replaces, so Z, which may be computed after the Conv (a ResNet
// shortcut), is ready when it runs.
func fuseActivation(r *rewriter, shapes map[string]ops.ValueInfo) (bool, error) {
	changed := false
	for _, add := range r.nodes() {
		if r.live(add) && fuseResidualAdd(r, add, shapes) {
			changed = true
		}
	}
	for _, act := range r.nodes() {
		if r.live(act) && (fuseActivationInto(r, act, shapes) || fuseGatedActivation(r, act, shapes)) {
			changed = true
		}
	}
	return changed, nil
}

// fusedActivation is the activation and activation_params a fused node gets for act, a single-input
// activation node; ok is false for other nodes and for parameters not known at compile time.
func fusedActivation(r *rewriter, act *Node) (name string, params []float32, ok bool) {
	if act.Domain != "" || len(act.Outputs) != 1 || len(act.Inputs) < 1 {
		return "", nil, false
	}
	attrs := nodeAttrs(act)
	switch act.OpType {
	case "Relu", "Clip":
		lo, hi, ok := clipBounds(r, act)
		if !ok {
			return "", nil, false
		}
		if act.OpType == "Relu" {
			return "Relu", nil, true
		}
		return "Clip", []float32{lo, hi}, true
	case "Sigmoid", "Tanh":
		name = act.OpType
	case "LeakyRelu":
		name, params = "LeakyRelu", []float32{attrs.Float("alpha", 0.01)}
	case "HardSigmoid":
		name, params = "HardSigmoid", []float32{attrs.Float("alpha", 0.2), attrs.Float("beta", 0.5)}
	case "HardSwish":
		name, params = "HardSwish", []float32{1.0 / 6, 0.5}
	case "Gelu":
		switch attrs.String("approximate", "none") {
		case "none":
			name = "Gelu"
		case "tanh":
			name = "GeluTanh"
		default:
			return "", nil, false
		}
	default:
		return "", nil, false
	}
	return name, params, len(act.Inputs) == 1 && attrs.Err() == nil
}

// fuseGatedActivation turns Mul(c, Sigmoid(c)) into SiLU and Mul(c, HardSigmoid(c)) into HardSwish in the
// Conv, Gemm or MatMul that produces c, when c and the gate are read by nothing else.
func fuseGatedActivation(r *rewriter, mul *Node, shapes map[string]ops.ValueInfo) bool {
	if mul.OpType != "Mul" || mul.Domain != "" || len(mul.Inputs) != 2 || len(mul.Outputs) != 1 || mul.Inputs[0] == mul.Inputs[1] {
		return false
	}
	for i, gateOut := range mul.Inputs {
		c := mul.Inputs[1-i]
		gate := r.producerOf(gateOut)
		if gate == nil || gate.Domain != "" || len(gate.Inputs) != 1 || gate.Inputs[0] != c || r.soleConsumer(gateOut) != mul {
			continue
		}
		var name string
		var params []float32
		switch gate.OpType {
		case "Sigmoid":
			name = "SiLU"
		case "HardSigmoid":
			attrs := nodeAttrs(gate)
			name, params = "HardSwish", []float32{attrs.Float("alpha", 0.2), attrs.Float("beta", 0.5)}
			if attrs.Err() != nil {
				continue
			}
		default:
			continue
		}
		users, isOut := r.consumers(c)
		if isOut || len(users) != 2 || !(users[0] == gate && users[1] == mul || users[0] == mul && users[1] == gate) {
			continue
		}
		if fuseActivationAfter(r, c, gate, mul, shapes, name, params) {
			return true
		}
	}
	return false
}

// isFloat32 reports whether shapes says name is a float32 value.
func isFloat32(shapes map[string]ops.ValueInfo, name string) bool {
	v, ok := shapes[name]
	return ok && v.DType == ops.Float32
}

// fusibleConv returns the Conv (or a FusedConv without activation, and without Z unless withZ) that
// produces name, when name is its only output and read only by next (nil: the caller checked the readers).
func fusibleConv(r *rewriter, name string, next *Node, shapes map[string]ops.ValueInfo, withZ bool) *Node {
	conv := r.producerOf(name)
	if conv == nil || len(conv.Outputs) != 1 || (next != nil && r.soleConsumer(name) != next) || len(conv.Inputs) < 2 || !isFloat32(shapes, conv.Inputs[0]) {
		return nil
	}
	switch {
	case conv.Domain == "" && conv.OpType == "Conv":
		return conv
	case conv.Domain == ops.FusedDomain && conv.OpType == "FusedConv" && (withZ || len(conv.Inputs) <= 3) && noActivation(conv):
		return conv
	}
	return nil
}

// fuseResidualAdd turns Conv → Add(·, Z) into FusedConv(X, W, B, Z) in the Add's place.
func fuseResidualAdd(r *rewriter, add *Node, shapes map[string]ops.ValueInfo) bool {
	if add.OpType != "Add" || add.Domain != "" || len(add.Inputs) != 2 || len(add.Outputs) != 1 || add.Inputs[0] == add.Inputs[1] {
		return false
	}
	for i, name := range add.Inputs {
		conv := fusibleConv(r, name, add, shapes, false)
		if conv == nil {
			continue
		}
		z := add.Inputs[1-i]
		zInfo, ok := shapes[z]
		yInfo, ok2 := shapes[name]
		if !ok || !ok2 || zInfo.DType != ops.Float32 || !zInfo.Shape.Equal(yInfo.Shape) {
			continue
		}
		fused := &Node{Name: conv.Name, Domain: ops.FusedDomain, OpType: "FusedConv", Opset: 1,
			Inputs: []string{conv.Inputs[0], conv.Inputs[1], "", z}, Outputs: add.Outputs, Attrs: copyAttrs(conv.Attrs)}
		if len(conv.Inputs) > 2 {
			fused.Inputs[2] = conv.Inputs[2]
		}
		r.replace(add, fused)
		r.remove(conv)
		return true
	}
	return false
}

// fuseActivationInto folds a single-input activation into the Conv, Gemm or MatMul that produces its input.
func fuseActivationInto(r *rewriter, act *Node, shapes map[string]ops.ValueInfo) bool {
	name, params, ok := fusedActivation(r, act)
	if !ok {
		return false
	}
	return fuseActivationAfter(r, act.Inputs[0], nil, act, shapes, name, params)
}

// fuseActivationAfter replaces last (the node that ends the activation) by the product that writes in,
// fused with activation name and params; gate is the other reader of in in a diamond (removed with it), or
// nil when last is in's sole reader.
func fuseActivationAfter(r *rewriter, in string, gate, last *Node, shapes map[string]ops.ValueInfo, name string, params []float32) bool {
	reader := last
	if gate != nil {
		reader = nil // in has two readers, checked by the caller
	}
	var fused *Node
	if conv := fusibleConv(r, in, reader, shapes, true); conv != nil {
		fused = conv
		if conv.OpType == "Conv" {
			fused = &Node{Name: conv.Name, Domain: ops.FusedDomain, OpType: "FusedConv", Opset: 1,
				Inputs: append([]string(nil), conv.Inputs...), Attrs: copyAttrs(conv.Attrs)}
		}
		r.remove(conv)
	} else if mm := fusibleProduct(r, in, reader, shapes); mm != nil {
		fused = mm
		if mm.OpType != "FusedGemm" {
			fused = &Node{Name: mm.Name, Domain: ops.FusedDomain, OpType: "FusedGemm", Opset: 1,
				Inputs: append([]string(nil), mm.Inputs...), Attrs: ops.AttrMap{}}
			if mm.OpType == "Gemm" {
				for _, k := range []string{"alpha", "beta", "transA", "transB"} {
					if a, ok := mm.Attrs[k]; ok {
						fused.Attrs[k] = a
					}
				}
			}
		}
		r.remove(mm)
	} else {
		return false
	}
	if gate != nil {
		r.remove(gate)
	}
	fused.Outputs = last.Outputs
	fused.Attrs = copyAttrs(fused.Attrs)
	fused.Attrs["activation"] = ops.StringAttr(name)
	if params != nil {
		fused.Attrs["activation_params"] = ops.FloatsAttr(params...)
	}
	fused.Op = nil
	r.replace(last, fused)
	return true
}

// fusibleProduct returns the float32 Gemm (opset 7 on, where C broadcasts unidirectionally), 2-D MatMul or
// FusedGemm without activation that produces name, read only by next (nil: the caller checked the readers).
func fusibleProduct(r *rewriter, name string, next *Node, shapes map[string]ops.ValueInfo) *Node {
	mm := r.producerOf(name)
	if mm == nil || len(mm.Outputs) != 1 || (next != nil && r.soleConsumer(name) != next) || len(mm.Inputs) < 2 || !isFloat32(shapes, mm.Inputs[0]) {
		return nil
	}
	switch {
	case mm.Domain == "" && mm.OpType == "Gemm" && mm.Opset >= 7:
		return mm
	case mm.Domain == "" && mm.OpType == "MatMul" && len(mm.Inputs) == 2:
		a, okA := shapes[mm.Inputs[0]]
		b, okB := shapes[mm.Inputs[1]]
		if okA && okB && len(a.Shape) == 2 && len(b.Shape) == 2 {
			return mm
		}
	case mm.Domain == ops.FusedDomain && mm.OpType == "FusedGemm" && noActivation(mm):
		return mm
	}
	return nil
}

// noActivation reports whether a fused node (FusedConv, FusedGemm) has no activation yet.
func noActivation(n *Node) bool {
	attrs := nodeAttrs(n)
	return attrs.String("activation", "") == "" && attrs.Err() == nil
}

// clipBounds returns the interval a Relu or Clip clamps to; ok is false when a bound is not known at compile
// time (an initializer or a Constant node, as torch exports ReLU6) or the bounds are reversed.
func clipBounds(r *rewriter, act *Node) (lo, hi float32, ok bool) {
	inf := float32(math.Inf(1))
	if act.OpType == "Relu" {
		return 0, inf, len(act.Inputs) == 1
	}
	lo, hi = -inf, inf
	if act.Opset < 11 {
		if act.Opset >= 6 {
			lo, hi = -3.402823e+38, 3.402823e+38
		}
		attrs := nodeAttrs(act)
		lo, hi = attrs.Float("min", lo), attrs.Float("max", hi)
		if attrs.Err() != nil {
			return 0, 0, false
		}
	} else {
		for i, dst := range []*float32{&lo, &hi} {
			if len(act.Inputs) <= i+1 || act.Inputs[i+1] == "" {
				continue
			}
			v := constantScalar(r, act.Inputs[i+1])
			if len(v) != 1 {
				return 0, 0, false
			}
			*dst = v[0]
		}
	}
	return lo, hi, lo <= hi
}

func copyAttrs(a ops.AttrMap) ops.AttrMap {
	out := ops.AttrMap{}
	for k, v := range a {
		out[k] = v
	}
	return out
}

// constantScalar returns the values of name when it is a float32 initializer or the output of a Constant
// node holding a float32 tensor or value_float, else nil.
func constantScalar(r *rewriter, name string) []float32 {
	if v := constFloat32(r.g, name); v != nil {
		return v
	}
	c := r.producerOf(name)
	if c == nil || c.Domain != "" || c.OpType != "Constant" {
		return nil
	}
	if a, ok := c.Attrs["value"]; ok && a.Type == ops.AttrTensor && a.Tensor != nil && a.Tensor.DType() == ops.Float32 {
		return a.Tensor.Float32s()
	}
	if a, ok := c.Attrs["value_float"]; ok && a.Type == ops.AttrFloat {
		return []float32{a.Float}
	}
	return nil
}
