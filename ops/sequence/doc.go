// Package sequence implements ONNX's sequence and optional operators: SequenceEmpty, SequenceConstruct,
// SequenceInsert, SequenceErase, SequenceAt, SequenceLength, Optional, OptionalHasElement and
// OptionalGetElement. Importing the package registers them (see ops.Register); each op's comment lists its
// opsets and links its spec page. SplitToSequence and ConcatFromSequence, which move tensor data, live in
// ops/array beside Split and Concat.
//
// # Values
//
// A sequence or an optional is an *ops.Tensor whose Kind is ops.KindSequence or ops.KindOptional (see
// ops/value.go): a kernel reads a sequence input with in[i].Elements() and an optional one with
// in[i].Element(), and writes a non-tensor output with out[0].SetValue(ops.NewSequence(...)). A
// sequence's elements are owned, immutable values: a kernel that puts a tensor input into a sequence
// clones it (the input may be an arena buffer a later step overwrites), while one that builds a sequence
// from another (SequenceInsert, SequenceErase) shares the elements it keeps.
//
// # Planning
//
// Every op here implements ops.AcceptsNonTensors. Their outputs' sizes depend on the values, so a plan in
// which a sequence or an optional is not a constant is made at each Run (the runtime's dynamic path); the
// ops whose output is a tensor taken from a sequence (SequenceAt, OptionalGetElement) return
// ops.ErrDynamicShape until the sequence is known.
//
// # Errors
//
// Positions out of range, an element of the wrong dtype and an empty optional read are errors wrapping
// ops.ErrInvalid, found in InferShapes when the values are known and checked again by the kernels, which
// never index a sequence before checking.
package sequence
