package runtime

import "github.com/onnxrun/onnxrun/ops"

// qdqTransparentOps are the operators that commute with quantization when input and output share one scale
// and zero point: they move or select elements (or take a maximum, which rounding preserves), so running them
// on the 8-bit values gives exactly what DQ → op → Q gives. Input 0 is the quantized data; the other inputs
// (shapes, axes, starts, sizes) are left as they are.
var qdqTransparentOps = map[string]bool{
	"MaxPool": true, "Reshape": true, "Transpose": true, "Flatten": true, "Squeeze": true, "Unsqueeze": true,
	"Slice": true, "Resize": true, "Identity": true, "Expand": true, "Gather": true, "DepthToSpace": true,
	"SpaceToDepth": true, "Tile": true,
}

// fuseQDQTransparent runs a data-movement op of a QDQ graph on the 8-bit tensor (as ORT's QDQ transformer
// does for its "drop DQ/Q" node units):
//
//	DQ(x, s, z) → MaxPool | Reshape | Transpose | ... → Q(·, s, z)  ⇒  the op on x
//
// when the DQ and Q quantize alike (same dtype, scale and zero point, per tensor) and our kernel of the op
// accepts the 8-bit dtype (MaxPool does from opset 12; the shape operators take any dtype). A Resize must
// use nearest-neighbour sampling (interpolation would compute new values). With different parameters the
// op stays float (requantising would not be exact).
func fuseQDQTransparent(r *rewriter, shapes map[string]ops.ValueInfo) (bool, error) {
	changed := false
	for _, n := range r.nodes() {
		if !r.live(n) || n.Domain != "" || !qdqTransparentOps[n.OpType] || len(n.Inputs) == 0 || !qdqTransparentOutputs(n) {
			continue
		}
		if n.OpType == "Resize" {
			attrs := nodeAttrs(n)
			if attrs.String("mode", "nearest") != "nearest" || attrs.Err() != nil {
				continue
			}
		}
		_, in, ok := dequantized(r, n.Inputs[0], shapes)
		if !ok || !in.perTensor() {
			continue
		}
		q, out, ok := quantizedOnly(r, n.Outputs[0], shapes)
		if !ok || !in.sameAs(out) {
			continue
		}
		moved := newFusedNode(&Node{Name: n.Name, OpType: n.OpType, Opset: n.Opset, Attrs: n.Attrs,
			Inputs: append([]string{in.value}, n.Inputs[1:]...), Outputs: q.Outputs})
		if !moved.fits(shapes) {
			continue
		}
		r.replace(q, moved.commit(r))
		r.remove(n)
		changed = true
	}
	return changed, nil
}

// qdqTransparentOutputs reports whether n writes its one data output alone (MaxPool's Indices unused).
func qdqTransparentOutputs(n *Node) bool {
	if len(n.Outputs) == 0 || n.Outputs[0] == "" {
		return false
	}
	for _, o := range n.Outputs[1:] {
		if o != "" {
			return false
		}
	}
	return true
}
