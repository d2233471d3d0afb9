// Package attention implements the transformer operators of ONNX: Attention (scaled dot-product
// attention with multi-head, grouped-query and multi-query heads, masks, causal masking, soft-capping and a
// key/value cache; attention.go), RotaryEmbedding (rotary positional embeddings; rotary.go) and
// LinearAttention (the recurrent linear, gated, delta and gated-delta state updates; linearattention.go).
// Importing the package registers them (see ops.Register) for every opset version Operators.md lists up to
// ops.MaxOpset. It also holds FlexAttention's arithmetic (flexattention.go: FlexOp, FlexKernel), which the
// runtime registers because the operator's score_mod and prob_mod are subgraphs: the kernel calls them
// through the Modifier interface, once per Run on the whole scores or probabilities tensor. FusedAttention
// (domain onnxrun; fused.go) is the float32 attention that runtime's fuse-attention pass makes of the
// exported MatMul → scale → mask → Softmax → MatMul: GEMMs and a vectorised row softmax, parallel over
// batch × heads, reading Q, K and V and writing Y through the Transposes that move the heads (q_perm,
// k_perm, v_perm, y_perm), so that [B, S, H·dh] projections need no copy.
//
// FusedAttention is float32 only and computes in float32. Attention and RotaryEmbedding take float32,
// float64, float16 and bfloat16, LinearAttention all but float64 (as its spec says); their arithmetic is
// done in float64, and 16-bit inputs are read and written
// through kernelutil's float accessors. Attention polls the run's cancellation between heads,
// LinearAttention between batch entries. Run allocates nothing (alloc_test.go).
package attention
