// Package runtime compiles a decoded ONNX model into an immutable Plan and runs it through Sessions. It is the
// only package that joins the model format (package onnx) and the operator kernels (package ops and its
// sub-packages, all of which it imports, so importing runtime registers every kernel).
//
// # Pipeline
//
//	onnx.Load / onnx.Decode            the model, checked for well-formedness (runtime.Load does this
//	                                   and Compile in one, spending the decoded model)
//	runtime.Compile(model, Options)    opsets resolved; nodes sorted topologically; every node's Op built
//	                                   (ops.Build: registry lookup by domain, op type, opset), all
//	                                   unsupported nodes reported at once; graph passes (passes.go) run to
//	                                   a fixpoint, reading shapes from probes that infer and fold but
//	                                   prepare no kernel; shapes planned and kernels prepared once at the
//	                                   declared input shapes, so errors surface now and the first Run at
//	                                   those shapes reuses the plan (see "Symbolic dimensions")
//	plan.NewSession()                  a Session owns the buffers and worker threads (its float32 buffers
//	                                   one huge-page allocation, made by the first Run; see allocArena)
//	sess.Run(ctx, inputs)              outputs, valid until the next Run
//	sess.Close(), plan.Close()         the memory-mapped model file is unmapped after the last of them
//
// # Specialisation and memory
//
// Operators plan with concrete shapes. The first Run at a given set of input shapes (or Compile, for the
// declared ones when no dimension is symbolic) specialises the plan: each node's output shapes are
// inferred in order; nodes whose inputs are all constant are evaluated on the spot (constant folding, which
// turns the Shape → Gather → Concat → Reshape chains of exporters into constants); the rest are prepared
// into kernels, which may prepack constant weights: through the plan's ops.PackCache, so that a weight
// several nodes read (layers sharing weights) is packed once for all of them and for every input shape the
// plan is specialised at (Plan.PrepackStats, Plan.WeightBytes). A weight whose every reader reads only its
// packed forms (ops.PackedOnly: MatMul's and Gemm's B, whose packing depends on K and N, not on the batch)
// then has its elements dropped once the last of them is prepared, keeping its shape and identity
// (dropplain.go; Options.KeepPlainWeights keeps them): later specialisations find the packed forms in
// the cache, and anything that would need the elements again (a node folded while planning, the dynamic path, Plan.Constant) fails with a
// *DroppedConstantError instead of reading them. The values folded on the way to others, which no step
// reads, are not kept in the specialisation either. The memory planner (memplan.go) then gives each value
// a slot in a per-session arena, reusing buffers after a value's last use, and making Reshape-like outputs
// views of their inputs. A Slice or Split output that is one contiguous block of its input (no graph input,
// no graph output) becomes a view at an offset, which keeps the input alive as long as it is read; a
// Concat whose inputs are contiguous blocks of its output (every dimension before the axis of size 1), each
// produced by one step and read only by the Concat, has those producers write straight into the output,
// which then lives from the first of them on, and the Concat is skipped. Specialisations are cached in the Plan and shared by all its Sessions, so a
// Session running one shape over and over allocates nothing and does no map lookups: values are integer
// slots, and kernels write into preallocated tensors.
//
// Run, RunProfiled and RunWithObserver share one path (Session.run): bind the inputs, then one loop over
// the steps. Cancellation, profiling and observation are per-step hooks (stepHook); a Run whose context
// cannot be cancelled installs none and pays a nil check per step.
//
// When an output shape depends on input *values* that are not constant (a Reshape whose target shape is a
// graph input), the specialisation is marked dynamic and every Run plans again with the actual values,
// evaluating the graph node by node. Correct, but it allocates.
//
// # Memory-mapped weights and Close
//
// Load (or LoadFile, for a file the caller opened) maps the model file read-only (onnx.DecodeOptions.Mmap; Options.NoMmap reads it instead, and
// platforms without mmap always read) and each initializer whose raw_data, or external data, is aligned
// for its element type keeps its elements in the file's pages; misaligned ones are copied once and their
// pages given back. Once compiled, the plan trims the mapping out of the resident set (onnx.Mapping.Trim):
// what the runs read faults back in from the page cache. Constants are read-only throughout, mapped or not:
// passes that change a weight (batchnorm folding, permuted or scaled weights) make new tensors, the memory
// planner never aliases or writes a constant in place, and an output that is a constant (an initializer,
// an Identity of one, a folded value) is returned as a copy in the session's memory, refreshed at each
// Run, so that no caller holds or writes the mapped pages.
//
// The plan and each of its sessions hold a reference to the mapping; Plan.Close and Session.Close give
// theirs back, and the file is unmapped after the last one, in any order (lifetime.go). A plan or session
// dropped without Close releases its reference when the collector finds it unreachable; Run keeps its
// session reachable until it returns. Compile never maps: it reads the tensors out of the model it is
// given.
//
// # Sequences, optionals and maps
//
// A graph input or output of a sequence, optional or map type has ValueSpec.Type set (read from the
// model's sequence_type, optional_type or map_type). A caller builds such an input with ops.NewSequence,
// ops.NewOptional or ops.NewMap, for example
//
//	seq := ops.NewSequence(ops.TensorType(ops.Float32), []*ops.Tensor{a, b})
//
// and reads such an output with Kind, Elements and Element. Run checks that the kind and element types
// agree with the declaration and that every tensor inside is well formed (an *InputError otherwise). Such
// values are planned by the dynamic path: a plan in which a sequence or optional is not a constant is made
// at each Run with the values (a sequence's size is data), and the tensors inside a sequence are owned
// values, never arena buffers. Constant sequences (SequenceEmpty, a SequenceConstruct of initializers)
// fold at compile time like any constant. A non-tensor value fed to an op that does not implement
// ops.AcceptsNonTensors is a model error at compile time.
//
// # Symbolic dimensions
//
// A symbolic input dimension (N, H, W, sequence) stays symbolic: it is never planned as 1, and what needs
// its size is planned at the first Run with real shapes and cached per shape, like any specialisation.
// Options.InputShapes (the CLI's --shape) pins dimensions at Compile instead. Before the first Run,
// Compile needs shapes twice, and gets them from two probes, two substitutions of the symbolic sizes
// (probe A: every symbol the same size; probe B: each symbol its own size; multiples of 32, or 2, 3, ...
// for a batch; never 1; see probeInputs):
//
//   - its compile-time check plans the graph at probe A and, if that fails, at probe B, and reports the
//     error only when both fail with the same message (numbers that are the probes' own sizes aside): an
//     error that does not depend on the symbolic sizes (an unsupported attribute, channels that do not
//     match the weights, shapes that clash on a fixed dimension) is reported at Compile, one that does (a
//     pooling window larger than a size the caller may make larger, a Reshape that fits one size only) at
//     the Run that hits it;
//   - the graph passes read only what both probes agree on (probeShapes): a dimension that differs
//     between them is carried as a negative code that compares equal only to a dimension that was equal
//     at both probes, and a constant that differs (the Shape of a symbolic input) is not a constant for
//     them. A pass that computes with a dimension checks that it is a size (knownDims), so no rewrite
//     rests on a fact that holds only at some sizes.
//
// # Control flow
//
// If, Loop, Scan and SequenceMap live here, not in ops, because their bodies are graphs (controlflow.go,
// loop.go, scan.go, sequencemap.go); they register through ops.Register like every kernel. A body is converted with its node
// (convertGraph) and compiled into a nested Plan once the node is bound (bindGraph). A body may read any
// value of the graphs around it, at any depth: those captures become the node's implicit inputs, after
// the ones the model lists, so the outer plan orders, keeps alive and folds them as inputs, and the body
// binds them by position to whatever value the outer slot holds. The body is specialised when the node is
// prepared, for the shapes (and constants) the outer plan gives it; each Session binds its memory once,
// so an iteration at unchanged shapes plans nothing, looks nothing up and allocates nothing: the body's
// input slots are pointed at the carried values, its steps run, and its outputs are copied into two sets
// of carried buffers used in turn. A shape that changes between iterations re-specialises the body.
//
// # Quantized (QDQ) graphs
//
// A graph quantized in the QDQ format (float operators between DequantizeLinear and QuantizeLinear, as
// ONNX Runtime's quantize_static and torch's export write it) runs on the integer kernels: the qdq-*
// passes (pass_qdq*.go, before the float fusions) rewrite each node unit DQ → Conv | MatMul | Gemm | Add |
// Mul | pool | Concat | Sigmoid | LeakyRelu → Q into QLinearConv, QLinearMatMul or ORT's com.microsoft
// QGemm, QLinearAdd, ... reading and writing 8-bit tensors; run data-movement operators (MaxPool,
// Reshape, Transpose, Slice, nearest Resize, ...) on the 8-bit tensor when DQ and Q agree; drop a Relu or
// Clip the Q saturates anyway and DQ → Q round trips. Scales and zero points must be compile-time
// constants and the fused node must be accepted by a registered kernel; anything else stays float, its
// constant weights' DQ folded once at planning. The fused graph agrees with the float one within one
// quantization step per fused node. A dynamically quantized product (DynamicQuantizeLinear →
// MatMulInteger → Cast → Mul by the scales [→ Add bias], as quantize_dynamic writes it) becomes one
// com.microsoft MatMulIntegerToFloat (qdq-fuse-dynamic-matmul, pass_qdq_dynamic.go), with the same result.
//
// An If whose condition is a constant is replaced by its branch at compile time (pass_fold_if.go).
// Output shapes known only by running (If branches of different shapes, a Loop's scan outputs when its
// trip count or condition is not constant) make the plan dynamic, and the dynamic path runs the node
// directly (bodyOwner.evaluate). Control flow is never folded at plan time. A Loop stops at
// Options.MaxLoopIterations (an *IterationLimitError naming the node) and checks the context every
// iteration. An error inside a body names the outer node, the body and the body's node. Observed runs
// (RunWithObserver) report body values as NODE/ATTR/VALUE.
//
// Bodies move any value, not only tensors: If's and Loop's captures and Loop's carried values may be
// sequences and optionals (Scan's states and slices are tensors). A carried tensor is copied into the
// loop's own buffers; a sequence or optional is shared, its contents being immutable. A body output keeps
// its type, so a node returning a sequence makes the outer plan dynamic, like any sequence known only at
// Run; a body output whose kind is not the one the body declares (a sequence where a tensor is declared)
// is an error naming the node. A body input declared optional receives a bare carried value wrapped in
// an optional, as ONNX's reference does (a Loop carrying an optional(seq) that its body returns as a
// seq). SequenceMap runs its body once per element through the same runner; its sequences must have one
// length (an ErrBadInput error otherwise). The zero-allocation steady state holds for loops of tensors;
// a loop whose body reads a carried sequence plans the body at every iteration, with the values.
//
// FlexAttention (ai.onnx.preview) uses the same machinery for its score_mod and prob_mod graph attributes
// (flexattention.go): its arithmetic is ops/attention's FlexKernel, which calls each modifier once per Run
// on the whole [B, Hq, L, S] tensor through attention.Modifier, implemented here over a bodyRunner.
//
// # Errors
//
// Every error matches one of ErrInvalidModel, ErrUnsupported or ErrBadInput with errors.Is. A node's error
// is a *NodeError naming the node (its name, else its first output, else #index:OpType), op type, opset
// and stage; unsupported operators come together in one *UnsupportedError; bad caller tensors are
// *InputError naming the input with expected and actual dtype or shape. The decoder's *onnx.FormatError and
// *onnx.UnsupportedError come out of Load and Compile matching ErrInvalidModel and ErrUnsupported; an error
// a kernel raises while running on the caller's tensors (an index out of range) matches ErrBadInput. Going
// over a limit (Options.MaxTensorBytes, MaxPlanBytes, MaxLoopIterations) is ErrUnsupported and names the option.
//
// # Untrusted models
//
// Sizes are checked before anything is allocated: declared input shapes at Compile, every inferred tensor
// against MaxTensorBytes, each specialisation's arena, scratch and plan-time values against MaxPlanBytes.
// Constant folding skips nodes whose kernels report more than 2^30 multiply-adds, so Compile cannot hang on a
// small model; they run at Run, which checks its context between operators, and whose GEMMs poll it between
// tiles. RELIABILITY.md lists every limit, the fuzz targets and the broken-model table (hostile_test.go).
package runtime
