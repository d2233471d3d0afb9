// Package elementwise implements ONNX's element-wise operators: unary math (Abs, Exp, Sin, Round, ...),
// activations (Relu, Sigmoid, Gelu, ...), broadcasting binary and variadic arithmetic (Add, Pow, Mod, Max,
// Sum, ...), comparisons and logic (Equal, Less, And, BitwiseXor, ...), Where, Clip, Cast and CastLike; and
// onnxrun's FusedElementwise (fused.go), a chain of float32 element-wise steps run in one pass over memory,
// which runtime/pass_fuse_elementwise.go writes.
//
// Importing the package registers every operator with ops.Register, one registration per opset range.
//
// # Layout
//
// The shared machinery sits in a few files: dtypes.go (per-opset type constraints and registration),
// broadcast.go (the numpy broadcasting plan and the loops that walk it), kernel.go (generic map, binary and
// ternary kernels) and convert.go (float16/bfloat16 through float32, float64 rounding). Each operator family
// then has its own file named after its main operator (arith.go for Add/Sub/Mul/Div, clip.go for Clip and
// Relu, cast.go, where.go, ...).
//
// # Kernels
//
// Kernels are generic over the Go element type and built once per dtype in Prepare. float16 and bfloat16
// tensors are computed in float32 and rounded back per element, so their results match numpy's
// element-wise float16 arithmetic. Transcendental functions are evaluated in float64 for every float type,
// except the float32 kernels of Exp, Log, Erf, Sigmoid, Tanh, Gelu and Swish (alpha 1): those run
// ops/internal/vecmath's vectorised functions (within a few ULP, bounds in its doc) over the contiguous data,
// split over the session's pool from 16K elements (vecmath.go).
//
// float32 has faster paths: the arithmetic (Add, Sub, Mul, Div, Max, Min, PRelu, Sum and Mean's
// folds) runs the plan's spans through ops/internal/vecarith's AVX-512/AVX2 loops, and so do Relu, Clip,
// LeakyRelu, HardSigmoid, HardSwish, Abs, Neg, Sqrt, Reciprocal and Pow with a constant exponent 2, 3,
// 0.5, 1 or -1 (span32.go). Those kernels split a tensor of 32K elements or more across the session's
// threads (parallel.go): whole rows of the plan, or 16-element-aligned ranges of a single span, with
// recycled tasks so that Run still allocates nothing.
//
// Prepare computes a broadcast plan: the output index space with adjacent dimensions merged wherever every
// input is either contiguous or broadcast along both, and each input's stride per merged dimension. Run then
// walks it recursively with an inner loop over the last merged dimension that has three shapes: both inputs
// contiguous, one of them a scalar over the span, or both scalars. Same-shape inputs merge into a single span
// and a scalar or a row broadcast into one span per row, so those cases are one tight loop. Run allocates
// nothing (except Cast to string, which has to make strings) and keeps no state, so one kernel serves
// concurrent sessions.
//
// # Aliasing
//
// Every kernel reads element i of its inputs before writing element i of its output, and a broadcast input
// is only read, so an output may share memory with a same-shaped input (in-place Relu, Add into A).
//
// # Errors
//
// Builders check attributes; InferShapes checks arity, dtypes against the opset's type constraints and
// broadcasting, naming both shapes; Prepare only picks the kernel. Integer division and modulo by zero give
// 0 instead of trapping, since a kernel must not panic on data.
package elementwise
