package runtime

import "github.com/onnxrun/onnxrun/ops"

// dropQDQRoundTrip removes a DequantizeLinear → QuantizeLinear pair that quantizes as it dequantized (same
// dtype, scale and zero point, per tensor): Q(DQ(x)) = x exactly, since (x - z)·s / s rounds back to x - z.
// Such pairs remain between two integer nodes once the fusions have run (a QLinearConv's output read
// through DQ → Q by a QLinearAdd written for a float graph); the reader of the Q then reads x. The reverse
// pair, Q → DQ on a float value, is not removed: it rounds, and removing it would change the results (ORT
// removes it only on request, in QDQFinalCleanupTransformer).
func dropQDQRoundTrip(r *rewriter, shapes map[string]ops.ValueInfo) (bool, error) {
	changed := false
	for _, q := range r.nodes() {
		if !r.live(q) || q.OpType != "QuantizeLinear" || q.Domain != "" || len(q.Inputs) == 0 || r.isOutput(q.Outputs[0]) {
			continue
		}
		_, in, ok := dequantized(r, q.Inputs[0], shapes)
		if !ok || !in.perTensor() {
			continue
		}
		y, ok := shapes[q.Outputs[0]]
		if !ok {
			continue
		}
		out, ok := quantNodeParams(q, q.Outputs[0], y.DType, len(y.Shape), shapes)
		if !ok || !in.sameAs(out) {
			continue
		}
		r.redirect(q.Outputs[0], in.value)
		r.remove(q)
		changed = true
	}
	return changed, nil
}
