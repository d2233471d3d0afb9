package runtime

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// fuseQDQMatMul runs the matrix products of a QDQ graph on the integer GEMM (see pass_qdq.go for the rules
// every qdq fusion keeps):
//
//	DQ(a) , DQ(b) → MatMul → Q                    ⇒ QLinearMatMul(a, b)
//	DQ(a) , DQ(b) [, DQ(c int32)] → Gemm → Q       ⇒ com.microsoft QGemm(a, b, c)
//
// a is quantized per tensor; b per tensor or per column (the DQ's axis is b's N dimension: 1 for a 2-D
// MatMul or a Gemm without transB, 0 for a Gemm with transB). A Gemm's bias must be what the quantizers
// write: int32 with zero point 0 and scale a_scale·b_scale (within float32 rounding), alpha and beta 1.
func fuseQDQMatMul(r *rewriter, shapes map[string]ops.ValueInfo) (bool, error) {
	changed := false
	for _, n := range r.nodes() {
		if !r.live(n) || n.Domain != "" || len(n.Outputs) != 1 {
			continue
		}
		var fused *fusedNode
		switch n.OpType {
		case "MatMul":
			fused = qdqMatMul(r, n, shapes)
		case "Gemm":
			fused = qdqGemm(r, n, shapes)
		}
		if fused == nil {
			continue
		}
		q := r.soleConsumer(n.Outputs[0])
		r.replace(q, fused.commit(r))
		r.remove(n)
		changed = true
	}
	return changed, nil
}

// qdqProductOperands matches the two DQ inputs and the Q output of a product node; nDim is the axis of b
// that indexes output columns, for per-column scales.
func qdqProductOperands(r *rewriter, n *Node, nDim int, shapes map[string]ops.ValueInfo) (a, b, y quantParams, ok bool) {
	if len(n.Inputs) < 2 {
		return a, b, y, false
	}
	if _, a, ok = dequantized(r, n.Inputs[0], shapes); !ok || !a.perTensor() {
		return a, b, y, false
	}
	if _, b, ok = dequantized(r, n.Inputs[1], shapes); !ok || (!b.perTensor() && b.axis != nDim) {
		return a, b, y, false
	}
	if _, y, ok = quantizedOnly(r, n.Outputs[0], shapes); !ok {
		return a, b, y, false
	}
	return a, b, y, true
}

func qdqMatMul(r *rewriter, mm *Node, shapes map[string]ops.ValueInfo) *fusedNode {
	if len(mm.Inputs) != 2 {
		return nil
	}
	bInfo, ok := shapes[mm.Inputs[1]]
	if !ok {
		return nil
	}
	a, b, y, ok := qdqProductOperands(r, mm, len(bInfo.Shape)-1, shapes)
	if !ok || (!b.perTensor() && len(bInfo.Shape) != 2) {
		return nil // a per-column scale of a batched b has b's full shape in QLinearMatMul: not written here
	}
	q := r.soleConsumer(mm.Outputs[0])
	f := newFusedNode(&Node{Name: mm.Name, OpType: "QLinearMatMul", Opset: q.Opset, Outputs: q.Outputs})
	f.Inputs = []string{a.value, a.scale, f.zeroPoint(a), b.value, b.scale, f.zeroPoint(b), y.scale, f.zeroPoint(y)}
	if !f.fits(shapes) {
		return nil
	}
	return f
}

func qdqGemm(r *rewriter, gemm *Node, shapes map[string]ops.ValueInfo) *fusedNode {
	attrs := nodeAttrs(gemm)
	alpha, beta := attrs.Float("alpha", 1), attrs.Float("beta", 1)
	transA, transB := attrs.Int("transA", 0), attrs.Int("transB", 0)
	if attrs.Err() != nil || alpha != 1 || beta != 1 || len(gemm.Inputs) > 3 {
		return nil
	}
	nDim := 1
	if transB != 0 {
		nDim = 0
	}
	a, b, y, ok := qdqProductOperands(r, gemm, nDim, shapes)
	if !ok {
		return nil
	}
	bias := ""
	if len(gemm.Inputs) == 3 && gemm.Inputs[2] != "" {
		if bias, ok = quantizedBias(r, gemm.Inputs[2], a, b, shapes); !ok {
			return nil
		}
	}
	q := r.soleConsumer(gemm.Outputs[0])
	f := newFusedNode(&Node{Name: gemm.Name, Domain: ops.MicrosoftDomain, OpType: "QGemm", Opset: msOpset, Outputs: q.Outputs,
		Attrs: ops.AttrMap{"transA": ops.IntAttr(transA), "transB": ops.IntAttr(transB), "alpha": ops.FloatAttr(1)}})
	f.Inputs = []string{a.value, a.scale, f.zeroPoint(a), b.value, b.scale, f.zeroPoint(b), bias, y.scale, f.zeroPoint(y)}
	if !f.fits(shapes) {
		return nil
	}
	return f
}

// quantizedBias returns the int32 tensor a DQ turns into name, a bias of a product of a and w, when it is
// the quantizers' form: zero point 0 and each scale a_scale·w_scale (that of its channel) within float32
// rounding, so that adding it to the int32 accumulator is what the float graph computes.
func quantizedBias(r *rewriter, name string, a, w quantParams, shapes map[string]ops.ValueInfo) (string, bool) {
	dq := r.producerOf(name)
	if dq == nil || dq.OpType != "DequantizeLinear" || dq.Domain != "" || len(dq.Inputs) < 2 || !isFloat32(shapes, name) {
		return "", false
	}
	x, ok := shapes[dq.Inputs[0]]
	if !ok || x.DType != ops.Int32 || x.Const == nil {
		return "", false
	}
	attrs := nodeAttrs(dq)
	if attrs.Int("block_size", 0) != 0 || attrs.Err() != nil {
		return "", false
	}
	scale, ok := shapes[dq.Inputs[1]]
	if !ok || scale.Const == nil || scale.DType != ops.Float32 {
		return "", false
	}
	if len(dq.Inputs) > 2 && dq.Inputs[2] != "" {
		zp, ok := shapes[dq.Inputs[2]]
		if !ok || zp.Const == nil {
			return "", false
		}
		for _, z := range zp.Const.AsInt64s() {
			if z != 0 {
				return "", false
			}
		}
	}
	scales := scale.Const.Float32s()
	if len(scales) != 1 && len(scales) != x.Const.Len() {
		return "", false
	}
	for i, s := range scales {
		ws := w.scales[0]
		if len(w.scales) > 1 {
			if len(w.scales) != len(scales) {
				return "", false
			}
			ws = w.scales[i]
		}
		want := a.scales[0] * ws
		if math.Abs(float64(s-want)) > 1e-6*float64(want) {
			return "", false
		}
	}
	return dq.Inputs[0], true
}
