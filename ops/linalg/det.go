package linalg

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// Det is the determinant of square matrices, batched over leading dimensions:
// https://onnx.ai/onnx/operators/onnx__Det.html. Opsets 11 and 22.
//
// X is [*, M, M] and Y is [*]. Each matrix is factored by Gaussian elimination with partial pivoting in
// float64, whatever the input type, and the determinant is the signed product of the pivots. An empty
// (0×0) matrix has determinant 1.
func init() {
	ops.Register("", "Det",
		// opset 11: float16, float32, float64.
		ops.Since(11, buildDet(floats16to64)),
		// opset 22: adds bfloat16.
		ops.Since(22, buildDet(floats16to64.With(ops.BFloat16))),
	)
}

func buildDet(types ops.DTypeSet) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		if n.NumInputs != 1 {
			return nil, ops.Invalidf("Det takes 1 input, the node has %d", n.NumInputs)
		}
		return &detOp{opset: n.Opset, types: types}, nil
	}
}

type detOp struct {
	opset int
	types ops.DTypeSet
}

func (o *detOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := o.types.Check("Det", o.opset, "X", in[0].DType); err != nil {
		return nil, err
	}
	s := in[0].Shape
	if len(s) < 2 || s[len(s)-1] != s[len(s)-2] {
		return nil, ops.Invalidf("Det needs X of shape [*, M, M], it is %v", s)
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: s[:len(s)-2].Clone()}}, nil
}

func (o *detOp) Prepare(in []ops.ValueInfo, out []ops.ValueInfo) (ops.Kernel, error) {
	if _, err := o.InferShapes(in); err != nil {
		return nil, err
	}
	s := in[0].Shape
	m := s[len(s)-1]
	return &detKernel{m: m, batch: s[:len(s)-2].Size()}, nil
}

type detKernel struct {
	m, batch int
}

// ScratchSize holds one M×M matrix in float64.
func (k *detKernel) ScratchSize() int { return ops.Float64ScratchLen(k.m * k.m) }

func (k *detKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	work := ops.Float64View(ctx.Scratch, k.m*k.m)
	switch x := in[0].Data().(type) {
	case []float32:
		runDet(k, x, out[0].Float32s(), work)
	case []float64:
		runDet(k, x, out[0].Float64s(), work)
	case []ops.Float16Bits:
		y := ops.Data[ops.Float16Bits](out[0])
		mm := k.m * k.m
		for b := range y {
			for i, v := range x[b*mm : (b+1)*mm] {
				work[i] = float64(v.Float32())
			}
			y[b] = ops.Float16FromFloat32(float32(determinant(work, k.m)))
		}
	case []ops.BFloat16Bits:
		y := ops.Data[ops.BFloat16Bits](out[0])
		mm := k.m * k.m
		for b := range y {
			for i, v := range x[b*mm : (b+1)*mm] {
				work[i] = float64(v.Float32())
			}
			y[b] = ops.BFloat16FromFloat32(float32(determinant(work, k.m)))
		}
	}
	return nil
}

func runDet[T ops.Float](k *detKernel, x, y []T, work []float64) {
	mm := k.m * k.m
	for b := range y {
		for i, v := range x[b*mm : (b+1)*mm] {
			work[i] = float64(v)
		}
		y[b] = T(determinant(work, k.m))
	}
}

// determinant reduces the m×m row-major matrix a to upper-triangular form in place (Gaussian elimination,
// choosing the largest pivot in each column) and returns the product of the pivots, negated once per row
// swap. A zero column makes the determinant exactly 0.
func determinant(a []float64, m int) float64 {
	det := 1.0
	for c := 0; c < m; c++ {
		pivot := c
		for r := c + 1; r < m; r++ {
			if math.Abs(a[r*m+c]) > math.Abs(a[pivot*m+c]) {
				pivot = r
			}
		}
		if a[pivot*m+c] == 0 {
			return 0
		}
		if pivot != c {
			for j := c; j < m; j++ {
				a[c*m+j], a[pivot*m+j] = a[pivot*m+j], a[c*m+j]
			}
			det = -det
		}
		d := a[c*m+c]
		det *= d
		for r := c + 1; r < m; r++ {
			f := a[r*m+c] / d
			if f == 0 {
				continue
			}
			for j := c + 1; j < m; j++ {
				a[r*m+j] -= f * a[c*m+j]
			}
		}
	}
	return det
}
