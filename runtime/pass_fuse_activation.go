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
		if r.live(act) && fuseActivationInto(r, act, shapes) {
			changed = true
		}
	}
	return changed, nil
}

// isFloat32 reports whether shapes says name is a float32 value.
func isFloat32(shapes map[string]ops.ValueInfo, name string) bool {
	v, ok := shapes[name]
	return ok && v.DType == ops.Float32
}

// fusibleConv returns the Conv (or a FusedConv without activation, and without Z unless withZ) that
// produces name, when name is its only output and read only by next.
func fusibleConv(r *rewriter, name string, next *Node, shapes map[string]ops.ValueInfo, withZ bool) *Node {
	conv := r.producerOf(name)
	if conv == nil || len(conv.Outputs) != 1 || r.soleConsumer(name) != next || len(conv.Inputs) < 2 || !isFloat32(shapes, conv.Inputs[0]) {
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

// fuseActivationInto folds a Relu or Clip into the Conv, Gemm or MatMul that produces its input.
func fuseActivationInto(r *rewriter, act *Node, shapes map[string]ops.ValueInfo) bool {
	if act.Domain != "" || len(act.Outputs) != 1 || len(act.Inputs) < 1 || (act.OpType != "Relu" && act.OpType != "Clip") {
		return false
	}
	lo, hi, ok := clipBounds(r.g, act)
	if !ok {
		return false
	}
	in := act.Inputs[0]
	var fused *Node
	if conv := fusibleConv(r, in, act, shapes, true); conv != nil {
		fused = conv
		if conv.OpType == "Conv" {
			fused = &Node{Name: conv.Name, Domain: ops.FusedDomain, OpType: "FusedConv", Opset: 1,
				Inputs: append([]string(nil), conv.Inputs...), Attrs: copyAttrs(conv.Attrs)}
		}
		r.remove(conv)
	} else if mm := fusibleProduct(r, in, act, shapes); mm != nil {
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
	fused.Outputs = act.Outputs
	fused.Attrs = copyAttrs(fused.Attrs)
	if act.OpType == "Relu" {
		fused.Attrs["activation"] = ops.StringAttr("Relu")
	} else {
		fused.Attrs["activation"] = ops.StringAttr("Clip")
		fused.Attrs["activation_params"] = ops.FloatsAttr(lo, hi)
	}
	fused.Op = nil
	r.replace(act, fused)
	return true
}

// fusibleProduct returns the float32 Gemm (opset 7 on, where C broadcasts unidirectionally), 2-D MatMul or
// FusedGemm without activation that produces name, read only by next.
func fusibleProduct(r *rewriter, name string, next *Node, shapes map[string]ops.ValueInfo) *Node {
	mm := r.producerOf(name)
	if mm == nil || len(mm.Outputs) != 1 || r.soleConsumer(name) != next || len(mm.Inputs) < 2 || !isFloat32(shapes, mm.Inputs[0]) {
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
// time or the bounds are reversed.
func clipBounds(g *Graph, act *Node) (lo, hi float32, ok bool) {
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
			v := constFloat32(g, act.Inputs[i+1])
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
