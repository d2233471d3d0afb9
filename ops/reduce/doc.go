// Package reduce holds the operators that collapse or scan a tensor along axes: the Reduce* family
// (ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceL1, ReduceL2, ReduceLogSum,
// ReduceLogSumExp, ReduceSumSquare), ArgMax and ArgMin, TopK, CumSum, and the Softmax family (Softmax,
// LogSoftmax, Hardmax).
//
// # Layout
//
// One file per operator family registers every opset range of the ONNX default domain in init. Builders
// parse attributes; InferShapes checks dtypes, axes and shapes; Prepare turns the shapes into a small plan
// (merged loop dimensions and output strides for reductions; outer × axis × inner extents for the axis
// operators) that the Kernel reads. Run allocates nothing and checks nothing, except CumSum, whose axis may
// arrive as a runtime value and is checked then.
//
// # Dtypes
//
// Kernels are generic over the native Go number types and compute in the input's own type, so integer sums
// wrap around as numpy's do. Float16 and BFloat16 (and bool for ReduceMax/ReduceMin) are widened into the
// kernel's float32 scratch, computed as float32 and rounded back. Softmax sums in float64.
//
// # Reductions over nothing
//
// Reducing over a dimension of size 0 yields the operation's identity, as the spec says: 0 for sums and
// norms, 1 for products, -inf (or the type's minimum) for max, +inf (or its maximum) for min, -inf for the
// log reductions, and NaN for the mean (0/0; integer means give 0). With noop_with_empty_axes and no axes,
// nothing is reduced and each element goes through the operation alone (ReduceSumSquare squares it,
// ReduceLogSum takes its log).
//
// # Errors
//
// Errors wrap ops.ErrInvalid or ops.ErrUnsupported and give the values involved. When an output shape
// depends on an input's contents (a Reduce's axes input, TopK's K) that is not constant at plan time,
// InferShapes returns an error wrapping ops.ErrDynamicShape so the runtime plans with the actual values.
package reduce
