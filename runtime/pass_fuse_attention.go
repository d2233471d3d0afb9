package runtime

import (
	"github.com/onnxrun/onnxrun/ops"
)

// fuseAttention rewrites scaled dot-product attention as exporters write it out (torch's
// nn.MultiheadAttention in BERT and ViT: the scale on Q before the product; Hugging Face style: on the
// scores after it, then an additive mask):
//
//	S = MatMul([Mul|Div](Q, c), K') → [Mul|Div(·, c)] → [Add(·, Mask)] → Softmax(last axis)
//	Y = MatMul(S, V)
//
// ⇒ onnxrun::FusedAttention(Q, K', V, Mask, scale, transposed_k=1) (ops/attention/fused.go), which runs the
// heads in parallel with the scores kept in per-thread scratch. K' is the MatMul's right operand, [..., D,
// Sk]; when it is a Transpose of the last two axes of K read by the product alone, the Transpose goes and
// the kernel reads K [..., Sk, D] as it is (transposed_k=0). It needs float32 Q, K', V of one rank with the
// same leading dimensions (no broadcasting between them), constant scalar scales, a float32 mask that
// broadcasts to the scores, and every intermediate value read by the pattern alone. The fused node takes
// the place of the second MatMul.
func fuseAttention(r *rewriter, shapes map[string]ops.ValueInfo) (bool, error) {
	changed := false
	for _, sm := range r.nodes() {
		if r.live(sm) && fuseAttentionAt(r, sm, shapes) {
			changed = true
		}
	}
	return changed, nil
}

// fuseAttentionAt matches the pattern around the Softmax sm and rewrites it.
func fuseAttentionAt(r *rewriter, sm *Node, shapes map[string]ops.ValueInfo) bool {
	consts := knownConstants{r.g, shapes}
	if !isOp(sm, "Softmax", 1) || len(sm.Inputs) != 1 {
		return false
	}
	scoresInfo, ok := shapes[sm.Inputs[0]]
	if !ok || scoresInfo.DType != ops.Float32 || len(scoresInfo.Shape) < 2 || !softmaxOverLastAxis(sm, len(scoresInfo.Shape)) {
		return false
	}
	rank := len(scoresInfo.Shape)
	out := r.soleConsumer(sm.Outputs[0])
	if !isOp(out, "MatMul", 1) || len(out.Inputs) != 2 || out.Inputs[0] != sm.Outputs[0] {
		return false
	}
	removed := []*Node{sm}
	scale := float32(1)
	mask := ""
	// Walk back from the Softmax: an Add of the mask, then scalings, to the product.
	cur := r.producerOf(sm.Inputs[0])
	for cur != nil && r.soleConsumer(cur.Outputs[0]) != nil {
		if isOp(cur, "Add", 1) && len(cur.Inputs) == 2 && mask == "" && scale == 1 {
			// The mask is whichever input is not the scores' side of the pattern.
			side := cur.Inputs[0]
			if p := r.producerOf(side); p == nil || !(isOp(p, "MatMul", 1) || isOp(p, "Mul", 1) || isOp(p, "Div", 1)) {
				side = cur.Inputs[1]
			}
			m := otherInput(cur, side)
			if m == "" || !maskBroadcasts(consts, m, scoresInfo.Shape) {
				return false
			}
			mask = m
			removed = append(removed, cur)
			cur = r.producerOf(side)
			continue
		}
		if c, in, ok := scalarScaling(consts, cur); ok {
			scale *= c
			removed = append(removed, cur)
			cur = r.producerOf(in)
			continue
		}
		break
	}
	mm := cur
	if !isOp(mm, "MatMul", 1) || len(mm.Inputs) != 2 || r.soleConsumer(mm.Outputs[0]) == nil {
		return false
	}
	removed = append(removed, mm)
	q, kT, v := mm.Inputs[0], mm.Inputs[1], out.Inputs[1]
	if pre := r.producerOf(q); pre != nil && r.soleConsumer(q) == mm {
		if c, in, ok := scalarScaling(consts, pre); ok {
			scale *= c
			q = in
			removed = append(removed, pre)
		}
	}
	if !sameLeading(shapes, rank, q, kT, v) {
		return false
	}
	k, transposed := kT, int64(1)
	if tr := r.producerOf(kT); isOp(tr, "Transpose", 1) && r.soleConsumer(kT) == mm && swapsLastTwo(tr, rank) {
		k, transposed = tr.Inputs[0], 0
		removed = append(removed, tr)
	}
	inputs := []string{q, k, v}
	if mask != "" {
		inputs = append(inputs, mask)
	}
	fused := &Node{Name: mm.Name, Domain: ops.FusedDomain, OpType: "FusedAttention", Opset: 1, Inputs: inputs, Outputs: out.Outputs,
		Attrs: ops.AttrMap{"scale": ops.FloatAttr(scale), "transposed_k": ops.IntAttr(transposed)}}
	for _, n := range removed {
		r.remove(n)
	}
	r.replace(out, fused)
	return true
}

// softmaxOverLastAxis reports whether the Softmax sm normalises over the last axis alone of a rank-rank
// input (before opset 13 it flattens from its axis, default 1, which is the same only at the last axis).
func softmaxOverLastAxis(sm *Node, rank int) bool {
	def := int64(-1)
	if sm.Opset < 13 {
		def = 1
	}
	attrs := nodeAttrs(sm)
	axis := attrs.Int("axis", def)
	return attrs.Err() == nil && (axis == -1 || axis == int64(rank-1))
}

// scalarScaling reports whether n multiplies or divides one value by a constant scalar, and returns the
// factor and that value.
func scalarScaling(consts knownConstants, n *Node) (factor float32, in string, ok bool) {
	if n == nil || len(n.Inputs) != 2 {
		return 0, "", false
	}
	switch {
	case isOp(n, "Mul", 1):
		if c, ok := scalarFloat32(consts, n.Inputs[1]); ok {
			return c, n.Inputs[0], true
		}
		if c, ok := scalarFloat32(consts, n.Inputs[0]); ok {
			return c, n.Inputs[1], true
		}
	case isOp(n, "Div", 1):
		if c, ok := scalarFloat32(consts, n.Inputs[1]); ok && c != 0 {
			return 1 / c, n.Inputs[0], true
		}
	}
	return 0, "", false
}

// sameLeading reports whether the named values are float32 of rank rank with equal leading dimensions
// (all but the last two). A symbolic dimension compares by its probe code: equal at both probe sizes.
func sameLeading(shapes map[string]ops.ValueInfo, rank int, names ...string) bool {
	var lead ops.Shape
	for i, name := range names {
		info, ok := shapes[name]
		if !ok || info.DType != ops.Float32 || len(info.Shape) != rank {
			return false
		}
		if i == 0 {
			lead = info.Shape[:rank-2]
		} else if !ops.Shape(info.Shape[:rank-2]).Equal(lead) {
			return false
		}
	}
	return true
}

// maskBroadcasts reports whether the float32 value name broadcasts to scores unidirectionally
// (a graph constant, or a value shapes knows; symbolic dimensions compare by their probe codes).
func maskBroadcasts(consts knownConstants, name string, scores ops.Shape) bool {
	info, ok := consts.shapes[name]
	if t := consts.tensor(name); t != nil {
		info, ok = ops.ValueInfo{DType: t.DType(), Shape: t.Shape()}, true
	}
	if !ok || info.DType != ops.Float32 || len(info.Shape) > len(scores) {
		return false
	}
	for i := 1; i <= len(info.Shape); i++ {
		if d := info.Shape[len(info.Shape)-i]; d != 1 && d != scores[len(scores)-i] {
			return false
		}
	}
	return true
}

// swapsLastTwo reports whether the Transpose tr exchanges the last two of rank axes and keeps the others.
func swapsLastTwo(tr *Node, rank int) bool {
	attrs := nodeAttrs(tr)
	perm := attrs.Ints("perm", nil)
	if attrs.Err() != nil || len(perm) != rank {
		return false
	}
	for i, p := range perm {
		want := int64(i)
		switch i {
		case rank - 2:
			want = int64(rank - 1)
		case rank - 1:
			want = int64(rank - 2)
		}
		if p != want {
			return false
		}
	}
	return true
}
