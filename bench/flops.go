package bench

import (
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// MACSource says where a step's multiply-add count comes from.
type MACSource int

const (
	// MACsNone: the operator is not counted (elementwise ops, pooling, reshapes: their arithmetic is
	// small next to the convolutions and matrix products, and conventions differ on how to count it).
	MACsNone MACSource = iota
	// MACsFromShapes: counted from the operator's definition and the step's shapes, as a direct
	// (textbook) implementation would do them. This is the count GFLOP/s figures use, so that a kernel
	// that saves arithmetic (Winograd) shows as faster, not as doing less.
	MACsFromShapes
	// MACsFromKernel: what the kernel reports through ops.Coster, for operators not counted here.
	MACsFromKernel
)

func (s MACSource) String() string {
	switch s {
	case MACsFromShapes:
		return "shapes"
	case MACsFromKernel:
		return "kernel"
	}
	return "none"
}

// StepMACs counts the multiply-adds one step does per run: from its op type and shapes for the ops this
// package knows (Conv, ConvTranspose, Gemm, MatMul, in any domain, so onnxrun's FusedConv/FusedGemm and
// other fused forms count the same as the op they fuse), else the kernel's own count (StepProfile.MACs),
// else none.
//
//	Conv          Y[N,M,spatial...] = X * W[M,C/group,k...]      MACs = |Y| · |W|/M
//	ConvTranspose Y = X[N,C,spatial...] *ᵀ W[C,M/group,k...]     MACs = |X| · |W|/C
//	Gemm          Y[M,N] = A[M,K]·B (or Aᵀ)                      MACs = |Y| · |A|/M
//	MatMul        Y[...,M,N] = A[...,M,K]·B[...,K,N], A may be 1-D MACs = |Y| · K
func StepMACs(st runtime.StepProfile) (int64, MACSource) {
	if n, ok := shapeMACs(st.OpType, st.InputShapes, st.OutputShapes); ok {
		return n, MACsFromShapes
	}
	if st.MACs > 0 {
		return st.MACs, MACsFromKernel
	}
	return 0, MACsNone
}

// shapeMACs applies the formulas of StepMACs; ok is false for other ops and for shapes the formulas do
// not fit (which a compiled plan never has, but a hand-made StepProfile might).
func shapeMACs(opType string, in, out []ops.Shape) (int64, bool) {
	size := func(s ops.Shape) int64 {
		n := int64(1)
		for _, d := range s {
			n *= int64(d)
		}
		return n
	}
	has := func(shapes []ops.Shape, i, minRank int) bool {
		return i < len(shapes) && shapes[i] != nil && len(shapes[i]) >= minRank
	}
	if !has(out, 0, 0) {
		return 0, false
	}
	y := out[0]
	switch opType {
	case "Conv", "FusedConv":
		if !has(in, 1, 3) || in[1][0] == 0 {
			return 0, false
		}
		w := in[1]
		return size(y) * (size(w) / int64(w[0])), true
	case "ConvTranspose", "FusedConvTranspose":
		if !has(in, 0, 3) || !has(in, 1, 3) || in[1][0] == 0 {
			return 0, false
		}
		w := in[1]
		return size(in[0]) * (size(w) / int64(w[0])), true
	case "Gemm", "FusedGemm":
		// Y's leading dimensions are the rows (FusedGemm's A may have more than two dimensions).
		if !has(in, 0, 2) || len(y) < 2 || size(y) == 0 {
			return 0, false
		}
		rows := size(y) / int64(y[len(y)-1])
		return size(y) * (size(in[0]) / rows), true
	case "MatMul", "FusedMatMul":
		if !has(in, 0, 1) {
			return 0, false
		}
		a := in[0]
		return size(y) * int64(a[len(a)-1]), true
	}
	return 0, false
}

// Count is the arithmetic of one run of a plan.
type Count struct {
	MACs         int64 // all counted steps
	FromShapes   int64 // the part counted from shapes
	FromKernels  int64 // the part only the kernels report
	Uncounted    int   // steps with no count (elementwise, pooling, ...)
	CountedSteps int
}

// FLOPs is 2·MACs: one multiply and one add each.
func (c Count) FLOPs() int64 { return 2 * c.MACs }

// CountMACs adds up StepMACs over a profile's steps.
func CountMACs(p *runtime.Profile) Count {
	var c Count
	for _, st := range p.Steps {
		n, src := StepMACs(st)
		switch src {
		case MACsFromShapes:
			c.FromShapes += n
		case MACsFromKernel:
			c.FromKernels += n
		default:
			c.Uncounted++
			continue
		}
		c.MACs += n
		c.CountedSteps++
	}
	return c
}
