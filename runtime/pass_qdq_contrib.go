package runtime

import "github.com/onnxrun/onnxrun/ops"

// qdqContribOps maps the float operators of a QDQ graph to the com.microsoft quantized operators ORT's QDQ
// transformer writes for them, and the attributes that carry over.
var qdqContribOps = map[string]struct {
	contrib string
	attrs   []string
}{
	"Add":               {"QLinearAdd", nil},
	"Mul":               {"QLinearMul", nil},
	"Sigmoid":           {"QLinearSigmoid", nil},
	"LeakyRelu":         {"QLinearLeakyRelu", []string{"alpha"}},
	"GlobalAveragePool": {"QLinearGlobalAveragePool", nil},
	"AveragePool":       {"QLinearAveragePool", []string{"auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"}},
	"Concat":            {"QLinearConcat", []string{"axis"}},
}

// fuseQDQContrib runs the elementwise, pooling and concatenation nodes of a QDQ graph on ORT's com.microsoft
// quantized kernels (see pass_qdq.go for the rules every qdq fusion keeps), every input and the output
// quantized per tensor:
//
//	DQ(a) , DQ(b) → Add | Mul → Q                 ⇒ QLinearAdd | QLinearMul(a, b)
//	DQ(x) → Sigmoid | LeakyRelu → Q               ⇒ QLinearSigmoid | QLinearLeakyRelu(x)
//	DQ(x) → AveragePool | GlobalAveragePool → Q   ⇒ QLinearAveragePool | QLinearGlobalAveragePool(x)
//	DQ(x1) , DQ(x2) ... → Concat → Q              ⇒ QLinearConcat(x1, x2, ...)
//
// An AveragePool with dilations (which QLinearAveragePool does not take) stays float.
func fuseQDQContrib(r *rewriter, shapes map[string]ops.ValueInfo) (bool, error) {
	changed := false
	for _, n := range r.nodes() {
		target, ok := qdqContribOps[n.OpType]
		if !r.live(n) || !ok || n.Domain != "" || len(n.Inputs) == 0 || len(n.Outputs) != 1 {
			continue
		}
		if _, dilated := n.Attrs["dilations"]; dilated {
			continue
		}
		if (n.OpType == "Add" || n.OpType == "Mul") && len(n.Inputs) != 2 {
			continue
		}
		inputs := make([]quantParams, len(n.Inputs))
		for i, name := range n.Inputs {
			if _, inputs[i], ok = dequantized(r, name, shapes); !ok || !inputs[i].perTensor() {
				break
			}
		}
		if !ok {
			continue
		}
		q, y, ok := quantizedOnly(r, n.Outputs[0], shapes)
		if !ok {
			continue
		}
		f := newFusedNode(&Node{Name: n.Name, Domain: ops.MicrosoftDomain, OpType: target.contrib, Opset: msOpset,
			Outputs: q.Outputs, Attrs: ops.AttrMap{}})
		for _, k := range target.attrs {
			if a, ok := n.Attrs[k]; ok {
				f.Attrs[k] = a
			}
		}
		if n.OpType == "Concat" {
			f.Inputs = []string{y.scale, f.zeroPoint(y)}
		}
		for _, p := range inputs {
			f.Inputs = append(f.Inputs, p.value, p.scale, f.zeroPoint(p))
		}
		if n.OpType != "Concat" {
			f.Inputs = append(f.Inputs, y.scale, f.zeroPoint(y))
		}
		if !f.fits(shapes) {
			continue
		}
		r.replace(q, f.commit(r))
		r.remove(n)
		changed = true
	}
	return changed, nil
}
