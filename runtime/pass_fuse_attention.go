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
// Sk]; when it is a Transpose read by the product alone whose input has D as its last axis (K's last two
// axes swapped, or torch's perm [1, 2, 0] of [Sk, B·H, D]), the Transpose goes and the kernel reads K
// through it (transposed_k=0, k_perm). The Transposes that move the heads of Q and V first (perm [0, 2, 1, 3]
// of [B, S, H, dh], [1, 0, 2] of [S, B·H, dh]) go the same way (q_perm, v_perm), and so does the one that
// moves them back after the second MatMul (y_perm): the kernel reads the projections and writes the
// output in place through strides, where a Transpose would copy each of them. It needs float32 Q, K', V of one rank with the
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
	attrs := ops.AttrMap{"scale": ops.FloatAttr(scale), "transposed_k": ops.IntAttr(1)}
	// The Transposes that make Q and V from the projections, and K' from K, go: the kernel reads through them.
	if tr, perm := headsTranspose(r, q, rank); tr != nil {
		q, attrs["q_perm"] = tr.Inputs[0], ops.IntsAttr(perm...)
		removed = append(removed, tr)
	}
	if tr, perm := headsTranspose(r, v, rank); tr != nil {
		v, attrs["v_perm"] = tr.Inputs[0], ops.IntsAttr(perm...)
		removed = append(removed, tr)
	}
	k := kT
	if tr := r.producerOf(kT); isOp(tr, "Transpose", 1) && r.soleConsumer(kT) == mm {
		// K' = Transpose(K0, perm) is [..., D, Sk]; K = [..., Sk, D] is Transpose(K0, perm with its last two swapped).
		if perm, ok := transposePerm(tr, rank); ok {
			perm[rank-2], perm[rank-1] = perm[rank-1], perm[rank-2]
			if perm[rank-1] == int64(rank-1) {
				k, attrs["transposed_k"] = tr.Inputs[0], ops.IntAttr(0)
				if !isIdentityPerm(perm) {
					attrs["k_perm"] = ops.IntsAttr(perm...)
				}
				removed = append(removed, tr)
			}
		}
	}
	outputs := out.Outputs
	// A Transpose of Y that keeps its rows (the heads going back beside each other) is written in place.
	if tr := r.soleConsumer(out.Outputs[0]); isOp(tr, "Transpose", 1) && len(tr.Outputs) == 1 {
		if perm, ok := transposePerm(tr, rank); ok && perm[rank-1] == int64(rank-1) {
			outputs, attrs["y_perm"] = tr.Outputs, ops.IntsAttr(perm...)
			removed = append(removed, tr)
		}
	}
	inputs := []string{q, k, v}
	if mask != "" {
		inputs = append(inputs, mask)
	}
	fused := &Node{Name: mm.Name, Domain: ops.FusedDomain, OpType: "FusedAttention", Opset: 1, Inputs: inputs, Outputs: outputs, Attrs: attrs}
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

// headsTranspose returns the Transpose that makes the operand name, read by the pattern alone, when it
// keeps the last axis last (it moves heads, not the elements of a row), and its permutation; else nil.
func headsTranspose(r *rewriter, name string, rank int) (*Node, []int64) {
	tr := r.producerOf(name)
	if !isOp(tr, "Transpose", 1) || r.soleConsumer(name) == nil {
		return nil, nil
	}
	perm, ok := transposePerm(tr, rank)
	if !ok || perm[rank-1] != int64(rank-1) {
		return nil, nil
	}
	return tr, perm
}

// transposePerm returns the Transpose tr's permutation of rank axes, when it states one (the default
// reverses the axes).
func transposePerm(tr *Node, rank int) ([]int64, bool) {
	attrs := nodeAttrs(tr)
	perm := attrs.Ints("perm", nil)
	if attrs.Err() != nil || len(perm) != rank {
		return nil, false
	}
	return append([]int64(nil), perm...), true
}

// isIdentityPerm reports whether perm keeps every axis in place.
func isIdentityPerm(perm []int64) bool {
	for i, p := range perm {
		if p != int64(i) {
			return false
		}
	}
	return true
}
