// Package ops holds what every operator kernel shares: the Tensor, its DType and Shape, node attributes,
// the Op and Kernel interfaces, and the registry that binds (domain, op type, opset range) to a Builder.
//
// # Layout
//
// The kernels themselves live in sub-packages by family and register in their init functions:
// ops/nn (Conv, pooling, normalisation, Dropout), ops/elementwise (unary and broadcasting binary math,
// activations, comparisons, Where, Clip, Cast), ops/linalg (MatMul, Gemm, Einsum), ops/reduce (Reduce*,
// ArgMax, Softmax family, TopK, CumSum) and ops/tensor (Reshape, Transpose, Gather, Concat, Slice, Pad, ...).
// Hot loops sit in ops/internal (gemm, parallel). The runtime imports them all; ops never sees protobuf.
// A family with assembly (GEMM, GEMV, direct and Winograd convolution, pooling) picks it at init from the
// CPU's features, or runs PureGo under -tags noasm or on another GOARCH, and says which through
// RegisterKernelVariant; KernelVariants lists the choices (onnxrun --version prints them).
//
// # The operator contract
//
// A Builder parses a node's attributes once and returns an Op. At plan time the runtime calls
// Op.InferShapes with each input's dtype, concrete shape and, for constants, its value; then Op.Prepare,
// which returns a Kernel specialised to those shapes (and may prepack constant weights). At run time
// Kernel.Run reads inputs and writes preallocated outputs; it trusts its inputs, never allocates in steady
// state and never panics on data. Optional behaviours (scratch memory, aliasing, FLOP counts) are optional
// interfaces found by type assertion.
//
// # Errors
//
// Errors from Builders and InferShapes wrap ErrInvalid (the model breaks the spec) or ErrUnsupported (valid,
// not implemented) and name attributes and values; the runtime prefixes the node. ErrDynamicShape is not a
// failure but a request to plan at run time. Only broken internal invariants panic, with the constant
// strings of errors.go.
package ops
