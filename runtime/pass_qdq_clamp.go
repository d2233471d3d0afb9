package runtime

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// dropQDQClamp removes a Relu or Clip whose output only a QuantizeLinear reads, when the quantization
// clamps at least as much (as ORT does before fusing Conv → Relu → Q):
//
//	Relu | Clip(lo, hi) → Q(·, s, z)  ⇒  Q(·, s, z)
//
// It is exact: Q is monotonic and saturates to [qmin, qmax], so Q(clamp(y, lo, hi)) = Q(y) for every y
// exactly when Q(lo) = qmin and Q(hi) = qmax, that is when round_half_even(lo/s) + z <= qmin and
// round_half_even(hi/s) + z >= qmax (divided in float32 as QuantizeLinear divides). For a Relu (lo = 0)
// that is z = qmin, the uint8 zero point 0 an asymmetric quantizer gives a Relu output. Removing the clamp
// leaves the product before it directly under the Q, the pattern the other qdq fusions match.
func dropQDQClamp(r *rewriter, shapes map[string]ops.ValueInfo) (bool, error) {
	changed := false
	for _, act := range r.nodes() {
		if !r.live(act) || act.Domain != "" || (act.OpType != "Relu" && act.OpType != "Clip") || len(act.Outputs) != 1 {
			continue
		}
		q, p, ok := quantizedOnly(r, act.Outputs[0], shapes)
		if !ok || !isFloat32(shapes, act.Inputs[0]) {
			continue
		}
		lo, hi, ok := clipBounds(r, act)
		if !ok || !clampIsNoOp(lo, hi, p) {
			continue
		}
		in := act.Inputs[0]
		r.remove(act)
		r.edit(q, func() { q.Inputs[0] = in })
		changed = true
	}
	return changed, nil
}

// clampIsNoOp reports whether quantizing with p (per tensor) saturates below lo and above hi.
func clampIsNoOp(lo, hi float32, p quantParams) bool {
	qmin, qmax := int64(0), int64(math.MaxUint8)
	if p.dtype == ops.Int8 {
		qmin, qmax = math.MinInt8, math.MaxInt8
	}
	s, z := p.scales[0], float64(p.zeros[0])
	return quantizedBound(lo, s)+z <= float64(qmin) && quantizedBound(hi, s)+z >= float64(qmax)
}

// quantizedBound is round_half_even(v/s) with the quotient in float32 (±Inf for infinite bounds).
func quantizedBound(v, s float32) float64 {
	return math.RoundToEven(float64(v / s))
}
