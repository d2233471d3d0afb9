package runtime

import "github.com/onnxrun/onnxrun/ops"

// fuseDynamicMatMul runs the matrix products of a dynamically quantized graph (what ONNX Runtime's
// quantize_dynamic writes for a MatMul) as one com.microsoft MatMulIntegerToFloat, as ONNX Runtime's
// MatMulIntegerToFloat fusion does:
//
//	DynamicQuantizeLinear(x) → a, a_scale, a_zero_point
//	MatMulInteger(a, b, a_zero_point, b_zero_point) → Cast(to float) → Mul(·, Mul(a_scale, b_scale)) [→ Add(·, bias)]
//	⇒ MatMulIntegerToFloat(a, b, a_scale, b_scale, a_zero_point, b_zero_point [, bias])
//
// The products' intermediate values must be read by the next node alone (and not be graph outputs); the
// scales' Mul may be read by others and stays for them (dead-node elimination removes it otherwise). The
// kernel computes float32(acc) · (a_scale·b_scale) + bias as the unfused nodes do, so the result is the
// same; a node the kernel refuses (fits) is left as it was.
func fuseDynamicMatMul(r *rewriter, shapes map[string]ops.ValueInfo) (bool, error) {
	changed := false
	for _, mm := range r.nodes() {
		if !r.live(mm) || mm.Domain != "" || mm.OpType != "MatMulInteger" || len(mm.Outputs) != 1 || len(mm.Inputs) < 2 {
			continue
		}
		fused, chain := dynamicMatMulChain(r, mm, shapes)
		if fused == nil {
			continue
		}
		last := chain[len(chain)-1]
		r.replace(last, fused.commit(r))
		for _, n := range chain[:len(chain)-1] {
			r.remove(n)
		}
		changed = true
	}
	return changed, nil
}

// dynamicMatMulChain matches the nodes after mm that MatMulIntegerToFloat replaces, and returns the fused
// node and those nodes, mm first (nil when the pattern does not fit).
func dynamicMatMulChain(r *rewriter, mm *Node, shapes map[string]ops.ValueInfo) (*fusedNode, []*Node) {
	quantizer := r.producerOf(mm.Inputs[0])
	if quantizer == nil || quantizer.OpType != "DynamicQuantizeLinear" || len(quantizer.Outputs) < 2 || quantizer.Outputs[0] != mm.Inputs[0] {
		return nil, nil
	}
	aScale := quantizer.Outputs[1]
	cast := soleReader(r, mm.Outputs[0], "Cast")
	if cast == nil || nodeAttrs(cast).Int("to", 0) != int64(ops.Float32) { // ops' dtype numbers are ONNX's
		return nil, nil
	}
	scaled := soleReader(r, cast.Outputs[0], "Mul")
	if scaled == nil || len(scaled.Inputs) != 2 {
		return nil, nil
	}
	scales := r.producerOf(otherInput(scaled, cast.Outputs[0]))
	if scales == nil || scales.OpType != "Mul" || len(scales.Inputs) != 2 || scales.Domain != "" {
		return nil, nil
	}
	bScale := otherInput(scales, aScale)
	if bScale == "" {
		return nil, nil
	}
	chain := []*Node{mm, cast, scaled}
	bias := ""
	if add := soleReader(r, scaled.Outputs[0], "Add"); add != nil && len(add.Inputs) == 2 {
		if b := otherInput(add, scaled.Outputs[0]); b != "" && shapes[b].Const != nil {
			bias = b
			chain = append(chain, add)
		}
	}
	inputs := []string{mm.Inputs[0], mm.Inputs[1], aScale, bScale, optionalInput(mm, 2), optionalInput(mm, 3)}
	if bias != "" {
		inputs = append(inputs, bias)
	}
	last := chain[len(chain)-1]
	f := newFusedNode(&Node{Name: last.Name, Domain: ops.MicrosoftDomain, OpType: "MatMulIntegerToFloat", Opset: msOpset,
		Inputs: inputs, Outputs: last.Outputs, Attrs: ops.AttrMap{}})
	if !f.fits(shapes) {
		return nil, nil
	}
	return f, chain
}

// soleReader returns the node of type opType (default domain) that alone reads name, a value the graph
// does not return; nil otherwise.
func soleReader(r *rewriter, name, opType string) *Node {
	if n := r.soleConsumer(name); isOp(n, opType, 1) {
		return n
	}
	return nil
}

// optionalInput returns n's input i, or "" when n has fewer.
func optionalInput(n *Node, i int) string {
	if i < len(n.Inputs) {
		return n.Inputs[i]
	}
	return ""
}
