package runtime

import (
	"github.com/onnxrun/onnxrun/ops"
)

// fuseMatMulAddIntoGemm rewrites MatMul(A, B) → Add(·, C) as Gemm(A, B, C) when A is 2-D, B a constant
// [K,N] float32 matrix and C a constant of shape [N] or [1,N]: how tf2onnx and keras2onnx write a Dense
// layer. Gemm then runs the bias add as its epilogue. Where A has more dimensions ([batch, tokens, K]: a
// transformer's Linear layers as torch exports them) it writes onnxrun::FusedGemm, which takes such an A,
// with no activation: fuse-activation may then add one (BERT's and ViT's GELU).
func fuseMatMulAddIntoGemm(r *rewriter, shapes map[string]ops.ValueInfo) (bool, error) {
	g := r.g
	changed := false
	for _, mm := range r.nodes() {
		if mm.OpType != "MatMul" || mm.Domain != "" || len(mm.Inputs) != 2 || len(mm.Outputs) != 1 {
			continue
		}
		a, ok := shapes[mm.Inputs[0]]
		if !ok || a.Const != nil || a.DType != ops.Float32 || len(a.Shape) < 2 {
			continue
		}
		b, ok := g.Constants[mm.Inputs[1]]
		if !ok || b.DType() != ops.Float32 || b.Rank() != 2 {
			continue
		}
		add := r.soleConsumer(mm.Outputs[0])
		if add == nil || add.OpType != "Add" || add.Domain != "" || len(add.Inputs) != 2 || len(add.Outputs) != 1 {
			continue
		}
		other := add.Inputs[1]
		if other == mm.Outputs[0] {
			other = add.Inputs[0]
		}
		c, ok := g.Constants[other]
		n := b.Shape()[1]
		if !ok || c.DType() != ops.Float32 || c.Len() != n || !(c.Rank() == 1 || c.Rank() == 2 && c.Shape()[0] == 1) {
			continue
		}
		if out, ok := shapes[add.Outputs[0]]; !ok || !out.Shape.Equal(shapes[mm.Outputs[0]].Shape) {
			continue // C broadcasts the product to more dimensions than it has
		}
		r.edit(mm, func() {
			mm.OpType = "Gemm"
			mm.Inputs = []string{mm.Inputs[0], mm.Inputs[1], other}
			mm.Outputs = []string{add.Outputs[0]}
			mm.Attrs = ops.AttrMap{}
			switch {
			case len(a.Shape) > 2:
				mm.Domain, mm.OpType, mm.Opset = ops.FusedDomain, "FusedGemm", 1
			case mm.Opset < 7:
				mm.Attrs["broadcast"] = ops.IntAttr(1) // Gemm before opset 7 broadcast C only when asked
			}
			mm.Op = nil
		})
		r.remove(add)
		changed = true
	}
	return changed, nil
}

// foldTransposeIntoMatMul removes the Transpose that tf2onnx writes before flattening a feature map
// (NCHW → NHWC, then Reshape to [batch, K]) when the flattened tensor feeds a MatMul or Gemm with constant
// weights: the Reshape then reads the untransposed tensor and the weights' K rows are permuted to match, so
// the product is the same with one copy less. Shape nodes that also read the Transpose keep reading it (they
// fold to constants; the Transpose itself is then never run).
func foldTransposeIntoMatMul(r *rewriter, shapes map[string]ops.ValueInfo) (bool, error) {
	g := r.g
	changed := false
	for _, tr := range r.nodes() {
		if tr.OpType != "Transpose" || tr.Domain != "" || len(tr.Outputs) != 1 || len(tr.Inputs) != 1 {
			continue
		}
		x, ok := shapes[tr.Inputs[0]]
		if !ok || x.Const != nil || len(x.Shape) < 2 {
			continue
		}
		attrs := nodeAttrs(tr)
		perm := attrs.Ints("perm", nil)
		if attrs.Err() != nil || len(perm) != len(x.Shape) || perm[0] != 0 {
			continue
		}
		// The Transpose's data consumers must be exactly one flatten; Shape readers are fine.
		var flatten *Node
		users, isOut := r.consumers(tr.Outputs[0])
		if isOut {
			continue
		}
		okUsers := true
		for _, u := range users {
			switch {
			case u.OpType == "Shape":
			case (u.OpType == "Reshape" || u.OpType == "Flatten") && u.Inputs[0] == tr.Outputs[0] && flatten == nil:
				flatten = u
			default:
				okUsers = false
			}
		}
		if !okUsers || flatten == nil || len(flatten.Outputs) != 1 {
			continue
		}
		if !knownDims(x.Shape[1:]) { // the weights are permuted along these dimensions: they must be sizes
			continue
		}
		k := x.Shape[1:].Size()
		flat, ok := shapes[flatten.Outputs[0]]
		if !ok || len(flat.Shape) != 2 || flat.Shape[0] != x.Shape[0] || flat.Shape[1] != k {
			continue
		}
		if attrs := nodeAttrs(flatten); flatten.OpType == "Flatten" && (attrs.Int("axis", 1) != 1 || attrs.Err() != nil) {
			continue
		}
		mm := r.soleConsumer(flatten.Outputs[0])
		if mm == nil || mm.Inputs[0] != flatten.Outputs[0] || mm.Domain != "" || len(mm.Inputs) < 2 {
			continue
		}
		rowsAreK := true // weights laid out [K, N]
		switch mm.OpType {
		case "MatMul":
		case "Gemm":
			attrs := nodeAttrs(mm)
			transA, transB := attrs.Int("transA", 0), attrs.Int("transB", 0)
			if attrs.Err() != nil || transA != 0 {
				continue
			}
			rowsAreK = transB == 0
		default:
			continue
		}
		w, ok := g.Constants[mm.Inputs[1]]
		if !ok || w.DType() != ops.Float32 || w.Rank() != 2 {
			continue
		}
		if (rowsAreK && w.Shape()[0] != k) || (!rowsAreK && w.Shape()[1] != k) {
			continue
		}
		permuted := permuteWeights(w, x.Shape, perm, rowsAreK)
		untransposed := r.addConstant(mm.Inputs[1]+"_untransposed", permuted)
		r.edit(mm, func() {
			mm.Inputs[1] = untransposed
			mm.Op = nil
		})
		r.edit(flatten, func() {
			flatten.Inputs[0] = tr.Inputs[0]
			flatten.Op = nil
		})
		changed = true
	}
	return changed, nil
}

// permuteWeights reorders the K axis of w so that multiplying the flattened *untransposed* tensor gives what
// multiplying the flattened transposed one gave: row kx of the result is row kt of w, where kt and kx are the
// flat positions of one element in the transposed and the original layouts (batch axis excluded).
func permuteWeights(w *ops.Tensor, xShape ops.Shape, perm []int64, rowsAreK bool) *ops.Tensor {
	inner := xShape[1:]
	tShape := make(ops.Shape, len(inner))
	for i := range tShape {
		tShape[i] = xShape[perm[i+1]]
	}
	xStrides := xShape.Strides()
	out := ops.New(ops.Float32, w.Shape())
	src, dst := w.Float32s(), out.Float32s()
	n := w.Len() / inner.Size()
	coord := make([]int, len(tShape))
	for kt := 0; kt < inner.Size(); kt++ {
		// coord is the position in the transposed tensor; its axis i is the original axis perm[i+1].
		kx := 0
		for i, c := range coord {
			kx += c * xStrides[perm[i+1]]
		}
		if rowsAreK {
			copy(dst[kx*n:(kx+1)*n], src[kt*n:(kt+1)*n])
		} else {
			k := inner.Size()
			for j := 0; j < n; j++ {
				dst[j*k+kx] = src[j*k+kt]
			}
		}
		for i := len(coord) - 1; i >= 0; i-- {
			coord[i]++
			if coord[i] < tShape[i] {
				break
			}
			coord[i] = 0
		}
	}
	return out
}
