// Package linalg holds the matrix operators: MatMul, Gemm, Einsum and Det, and onnxrun's FusedGemm (Gemm
// with a Relu or Clip in the GEMM's epilogue, written by the runtime's fuse-activation pass; fusedgemm.go).
//
// # Layout
//
// Each operator has its own file (matmul.go, gemm.go, einsum.go, det.go) that registers every opset range
// of the ONNX default domain in init. An operator's Builder parses attributes, InferShapes checks dtypes and
// shapes, and Prepare computes everything that depends only on shapes (batch offsets, strides, the einsum
// index plan) into an immutable plan that the Kernel reads. Run allocates nothing and checks nothing.
//
// # Dtypes
//
// Kernels are generic over the native Go number types. Float32 matrix products go through
// ops/internal/gemm's Multiply: a constant B (a weight matrix) is packed into the GEMM's panel layout once
// in Prepare, Gemm's C is fused as a bias when it is a row or column vector and beta is 1, and the session's
// pool (ExecContext.Pool) when it has one. Other types use the plain loops of gemmLoop. Float16 and BFloat16 are widened to
// float32 in the kernel's scratch memory (see ops.Scratcher), computed as float32 and rounded back, so they
// share the float32 code. Det computes in float64 whatever the input type. A FusedGemm with one row of A and
// constant B (a fully connected layer at batch 1) skips the GEMM's 6-row tiles: B is laid out k-major once
// and gemv.go sums 32 columns at a time in registers (AVX2+FMA assembly, gemv_amd64.s).
//
// # Errors
//
// Builder and InferShapes errors wrap ops.ErrInvalid (the node breaks the ONNX spec: a dtype the opset does
// not allow, shapes that do not fit) or ops.ErrUnsupported (valid ONNX this package does not do) and give
// the values involved, e.g. "A is [2,3] and B is [4,5]: K=3 != 4".
package linalg
