package array

import "github.com/onnxrun/onnxrun/ops"

// Transpose permutes the axes: output dimension i is input dimension perm[i] (perm defaults to reversing
// them). https://onnx.ai/onnx/operators/onnx__Transpose.html — opsets 1, 13, 21, 23, 24, 25.
func init() {
	ops.Register("", "Transpose",
		ops.Since(1, buildTranspose),
		ops.Since(13, buildTranspose), // opset 13: bfloat16
		ops.Since(21, buildTranspose), // opset 21: int4/uint4 (not held by ops.Tensor)
		ops.Since(23, buildTranspose), // opset 23: float4e2m1 (not held)
		ops.Since(24, buildTranspose), // opset 24: float8e8m0 (not held)
		ops.Since(25, buildTranspose), // opset 25: int2/uint2 (not held)
	)
}

type transposeOp struct {
	perm []int64 // nil: reverse
}

func buildTranspose(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	o := &transposeOp{perm: r.Ints("perm", nil)}
	return o, r.Err()
}

// permFor returns the permutation for a tensor of the given rank, checking it.
func (o *transposeOp) permFor(rank int) ([]int, error) {
	perm := make([]int, rank)
	if o.perm == nil {
		for i := range perm {
			perm[i] = rank - 1 - i
		}
		return perm, nil
	}
	if len(o.perm) != rank {
		return nil, ops.Invalidf("perm %v has %d entries for an input of rank %d", o.perm, len(o.perm), rank)
	}
	seen := make([]bool, rank)
	for i, p := range o.perm {
		if p < 0 || p >= int64(rank) || seen[p] {
			return nil, ops.Invalidf("perm %v is not a permutation of 0..%d", o.perm, rank-1)
		}
		seen[p] = true
		perm[i] = int(p)
	}
	return perm, nil
}

func (o *transposeOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	s := in[0].Shape
	perm, err := o.permFor(len(s))
	if err != nil {
		return nil, err
	}
	out := make(ops.Shape, len(s))
	for i, p := range perm {
		out[i] = s[p]
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: out}}, nil
}

func (o *transposeOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	perm, err := o.permFor(len(in[0].Shape))
	if err != nil {
		return nil, err
	}
	inStrides := in[0].Shape.Strides()
	srcStrides := make([]int, len(perm))
	for i, p := range perm {
		srcStrides[i] = inStrides[p]
	}
	return newTransposeKernel(in[0].DType, newCopyPlan(affineAxes(out[0].Shape, out[0].Shape.Strides(), srcStrides), 0, 0))
}
