// Package norm implements ONNX's normalisations: BatchNormalization (inference and training mode),
// InstanceNormalization, LayerNormalization, GroupNormalization, RMSNormalization, LpNormalization, LRN and
// MeanVarianceNormalization. Importing the package registers them (see ops.Register) for every opset
// version Operators.md lists up to ops.MaxOpset; each op's file links its spec page and says what changed
// between versions. Ops that ONNX defines as functions (LayerNormalization, GroupNormalization,
// RMSNormalization, MeanVarianceNormalization) are implemented directly.
//
// The kernels that work channel by channel (GroupNormalization, LRN, InstanceNormalization) see their input
// as batch*channels planes (common.go: channelPlanes); LayerNormalization, RMSNormalization and
// MeanVarianceNormalization walk arbitrary reduction axes through two flat offset tables (axisOffsets).
// Kernels are generic over float32 and float64; float16 and bfloat16 are widened to float32 in the scratch
// memory the planner provides (ops.Scratcher). Statistics are accumulated in float64, in two passes for the
// variance. A float32 LayerNormalization whose Scale and B hold one value per column (transformers') runs
// through layernorm_rows.go: the same two passes with pipelined accumulators, the scale and shift fused
// into the output pass, rows split across the session's threads. Run allocates nothing (alloc_test.go).
//
// Attributes are checked in the Builder (epsilon >= 0, stash_type 1) and shapes in InferShapes, with errors
// wrapping ops.ErrInvalid or ops.ErrUnsupported that name the values involved.
package norm
