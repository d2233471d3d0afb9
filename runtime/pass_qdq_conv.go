package runtime

import "github.com/onnxrun/onnxrun/ops"

// fuseQDQConv runs the convolutions of a QDQ graph on the integer kernel (see pass_qdq.go for the rules
// every qdq fusion keeps):
//
//	DQ(x) , DQ(w const) [, DQ(b int32 const)] → Conv → Q  ⇒  QLinearConv(x, w, b)
//
// x is quantized per tensor; w per tensor or per output channel (the DQ's axis 0, as the quantizers write
// it); the bias is int32 with zero point 0 and scale x_scale·w_scale per channel (quantizedBias). The Conv's
// attributes carry over unchanged: QLinearConv takes Conv's.
func fuseQDQConv(r *rewriter, shapes map[string]ops.ValueInfo) (bool, error) {
	changed := false
	for _, conv := range r.nodes() {
		if !r.live(conv) || conv.Domain != "" || conv.OpType != "Conv" || len(conv.Inputs) < 2 || len(conv.Outputs) != 1 {
			continue
		}
		_, x, ok := dequantized(r, conv.Inputs[0], shapes)
		if !ok || !x.perTensor() {
			continue
		}
		_, w, ok := dequantized(r, conv.Inputs[1], shapes)
		if !ok || (!w.perTensor() && w.axis != 0) || shapes[w.value].Const == nil {
			continue
		}
		q, y, ok := quantizedOnly(r, conv.Outputs[0], shapes)
		if !ok {
			continue
		}
		f := newFusedNode(&Node{Name: conv.Name, OpType: "QLinearConv", Opset: q.Opset, Outputs: q.Outputs, Attrs: conv.Attrs})
		f.Inputs = []string{x.value, x.scale, f.zeroPoint(x), w.value, w.scale, f.zeroPoint(w), y.scale, f.zeroPoint(y)}
		if len(conv.Inputs) > 2 && conv.Inputs[2] != "" {
			bias, ok := quantizedBias(r, conv.Inputs[2], x, w, shapes)
			if !ok {
				continue
			}
			f.Inputs = append(f.Inputs, bias)
		}
		if !f.fits(shapes) {
			continue
		}
		r.replace(q, f.commit(r))
		r.remove(conv)
		changed = true
	}
	return changed, nil
}
