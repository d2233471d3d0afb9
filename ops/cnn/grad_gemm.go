package cnn

// GemmGrad(dY, A, B) -> (dA, dB, dC): the gradients of Gemm, Y = alpha·op(A)·op(B) + beta·C (the Dense layer:
// A the activations, B the weights with transB=1, C the bias), given dY. op(A) is M x K, op(B) K x N, and
// each gradient has the stored (untransposed) shape of its input:
//
//	d op(A) = alpha · dY · op(B)ᵀ        d op(B) = alpha · op(A)ᵀ · dY        dC[j] = beta · Σ_i dY[i, j]
//
// dC is the gradient of a bias of shape [N] broadcast over the rows, the one shape a Dense layer uses.

import (
	"github.com/onnxrun/onnxrun/ops"
)

func init() { ops.Register(ops.TrainingDomain, "GemmGrad", ops.Since(1, buildGemmGrad)) }

type gemmGradOp struct {
	transA, transB bool
	alpha, beta    float64
}

func buildGemmGrad(n ops.NodeInfo) (ops.Op, error) {
	if err := checkNumOutputs("GemmGrad", n, 3); err != nil {
		return nil, err
	}
	r := ops.NewAttrReader(n.Attrs)
	op := &gemmGradOp{transA: r.Int("transA", 0) != 0, transB: r.Int("transB", 0) != 0,
		alpha: float64(r.Float("alpha", 1)), beta: float64(r.Float("beta", 1))}
	if err := r.Err(); err != nil {
		return nil, err
	}
	return op, nil
}

// dims returns M, N and K after checking dY (M x N), A and B.
func (op *gemmGradOp) dims(in []ops.ValueInfo) (m, n, k int, err error) {
	if err := ops.CheckInputCount(in, 3, 3); err != nil {
		return 0, 0, 0, err
	}
	for i, name := range []string{"dY", "A", "B"} {
		if err := checkGradDType(name, in[i].DType); err != nil {
			return 0, 0, 0, err
		}
		if len(in[i].Shape) != 2 {
			return 0, 0, 0, ops.Invalidf("%s has shape %v, want a matrix", name, in[i].Shape)
		}
		if in[i].DType != in[0].DType {
			return 0, 0, 0, ops.Invalidf("%s has dtype %s, dY has %s", name, in[i].DType, in[0].DType)
		}
	}
	a, b := in[1].Shape, in[2].Shape
	m, k = a[0], a[1]
	if op.transA {
		m, k = k, m
	}
	kb, n := b[0], b[1]
	if op.transB {
		kb, n = n, kb
	}
	if kb != k {
		return 0, 0, 0, ops.Invalidf("op(A) of A %v is %dx%d, op(B) of B %v is %dx%d: inner dimensions %d != %d", a, m, k, b, kb, n, k, kb)
	}
	if in[0].Shape[0] != m || in[0].Shape[1] != n {
		return 0, 0, 0, ops.Invalidf("dY has shape %v, the product op(A)·op(B) is %dx%d", in[0].Shape, m, n)
	}
	return m, n, k, nil
}

func (op *gemmGradOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	_, n, _, err := op.dims(in)
	if err != nil {
		return nil, err
	}
	dt := in[0].DType
	return []ops.ValueInfo{{DType: dt, Shape: in[1].Shape}, {DType: dt, Shape: in[2].Shape}, {DType: dt, Shape: ops.Shape{n}}}, nil
}

func (op *gemmGradOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	m, n, k, err := op.dims(in)
	if err != nil {
		return nil, err
	}
	return &gemmGradKernel{op: op, m: m, n: n, k: k}, nil
}

type gemmGradKernel struct {
	op      *gemmGradOp
	m, n, k int
}

// FLOPs counts multiply-adds: two products of the forward one's size.
func (k *gemmGradKernel) FLOPs() int64 { return 2 * int64(k.m) * int64(k.n) * int64(k.k) }

func (k *gemmGradKernel) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	switch dy := in[0].Data().(type) {
	case []float32:
		gemmGrad(k, dy, in[1].Float32s(), in[2].Float32s(), outputAt(out, 0), outputAt(out, 1), outputAt(out, 2))
	case []float64:
		gemmGrad(k, dy, in[1].Float64s(), in[2].Float64s(), outputAt(out, 0), outputAt(out, 1), outputAt(out, 2))
	}
	return nil
}

func gemmGrad[T ops.Float](k *gemmGradKernel, dy, a, b []T, da, db, dc *ops.Tensor) {
	m, n, kk := k.m, k.n, k.k
	alpha := T(k.op.alpha)
	transA, transB := k.op.transA, k.op.transB
	// Leading dimensions of the stored A (M x K, or K x M with transA) and B (K x N, or N x K with transB).
	lda, ldb := kk, n
	if transA {
		lda = m
	}
	if transB {
		ldb = kk
	}
	if da != nil {
		d := ops.Data[T](da)
		if !transA { // dA (M x K) = alpha · dY · op(B)ᵀ
			matmul(false, !transB, m, kk, n, alpha, dy, n, b, ldb, 0, d, kk)
		} else { // dA (K x M) = alpha · op(B) · dYᵀ
			matmul(transB, true, kk, m, n, alpha, b, ldb, dy, n, 0, d, m)
		}
	}
	if db != nil {
		d := ops.Data[T](db)
		if !transB { // dB (K x N) = alpha · op(A)ᵀ · dY
			matmul(!transA, false, kk, n, m, alpha, a, lda, dy, n, 0, d, n)
		} else { // dB (N x K) = alpha · dYᵀ · op(A)
			matmul(true, transA, n, kk, m, alpha, dy, n, a, lda, 0, d, kk)
		}
	}
	if dc != nil {
		d := ops.Data[T](dc)
		zero(d)
		for i := 0; i < m; i++ {
			for j, v := range dy[i*n : (i+1)*n] {
				d[j] += v
			}
		}
		if beta := T(k.op.beta); beta != 1 {
			for j := range d {
				d[j] *= beta
			}
		}
	}
}
