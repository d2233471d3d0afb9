package cnn

// Backward (gradient) kernels for training, in the domain ops.TrainingDomain. They sit beside the forward kernels
// they differentiate, share their attribute parsing and window geometry, and are reached the same way
// (ops.Lookup → Builder → InferShapes → Prepare → Kernel.Run), so the trainer in package models drives
// forward and backward passes through one interface. The signatures follow ONNX Runtime's training ops
// (com.microsoft ConvGrad, MaxPoolGrad, ReluGrad, ...) where those exist:
//
//	ConvGrad(dY, X, W) -> (dX, dW, dB)           Conv's attributes
//	MaxPoolGrad(dY, X) -> dX                      MaxPool's attributes (opset 22 meaning)
//	AveragePoolGrad(dY, X) -> dX                  AveragePool's attributes (opset 22 meaning)
//	GemmGrad(dY, A, B) -> (dA, dB, dC)            Gemm's transA, transB, alpha, beta; dC is for a bias of shape [N]
//	ReluGrad(dY, Y), SigmoidGrad(dY, Y), TanhGrad(dY, Y) -> dX   from the forward op's output Y
//
// Each output is optional: Run skips an output given as nil (the first layer of a network needs no dX), and
// a node may declare fewer outputs than the op has. Kernels compute float32 (through ops/internal/gemm) and
// float64 (plain loops, which the finite-difference tests use).

import (
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/gemm"
)

// checkGradDType accepts the dtypes the gradient kernels compute.
func checkGradDType(name string, dt ops.DType) error {
	if dt != ops.Float32 && dt != ops.Float64 {
		return ops.Unsupportedf("input %s has dtype %s; gradient kernels take float32 or float64", name, dt)
	}
	return nil
}

// checkNumOutputs rejects nodes that declare more outputs than the op has.
func checkNumOutputs(opType string, n ops.NodeInfo, most int) error {
	if n.NumOutputs < 1 || n.NumOutputs > most {
		return ops.Invalidf("%s has 1 to %d outputs, the node declares %d", opType, most, n.NumOutputs)
	}
	return nil
}

// outputAt returns out[i], or nil when the node does not declare output i or the caller skips it.
func outputAt(out []*ops.Tensor, i int) *ops.Tensor {
	if i < len(out) {
		return out[i]
	}
	return nil
}

// matmul computes C = alpha*op(A)*op(B) + beta*C on row-major matrices, like gemm.Sgemm: the float32 GEMM
// for float32, gemm.Reference's plain loops for float64 (which only tests use, for precision).
func matmul[T ops.Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if a, ok := any(a).([]float32); ok {
		gemm.Sgemm(transA, transB, m, n, k, float32(alpha), a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
		return
	}
	gemm.Reference(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// zero sets every element of s to 0.
func zero[T ops.Float](s []T) {
	for i := range s {
		s[i] = 0
	}
}
