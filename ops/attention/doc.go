// Package attention implements the transformer operators of ONNX: Attention (scaled dot-product
// attention with multi-head, grouped-query and multi-query heads, masks, causal masking, soft-capping and a
// key/value cache; attention.go) and RotaryEmbedding (rotary positional embeddings; rotary.go). Importing
// the package registers them (see ops.Register) for every opset version Operators.md lists up to
// ops.MaxOpset.
//
// Both take float32, float64, float16 and bfloat16; the arithmetic is done in float64 per row, and 16-bit
// inputs are read and written through kernelutil's float accessors. Attention polls the run's cancellation
// between heads. Run allocates nothing (alloc_test.go).
package attention
