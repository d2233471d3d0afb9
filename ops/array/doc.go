// Package array implements the ONNX operators that move, select and reshape data without arithmetic on it:
// Reshape, Flatten, Squeeze, Unsqueeze, Identity, Transpose, Concat, Split, Slice, Pad, Expand, Tile, Shape,
// Size, Gather, GatherElements, GatherND, Scatter, ScatterElements, ScatterND, Constant, ConstantOfShape,
// Range, Trilu, OneHot, NonZero, Compress, DepthToSpace and SpaceToDepth. Importing the package registers
// them (see ops.Register); each op's file lists its opsets and links its spec page.
//
// # Layout
//
// Most of these ops are one data-movement pattern: every output element is a copy of one input element
// whose offset is a sum of per-axis terms (an affine stride, or a small table for Pad's reflections, Tile's
// wrap-around or Compress's selection). Prepare lowers such an op to a copyPlan (plan.go), merging axes that
// are contiguous in both tensors so the inner loop is a single copy() where the layout allows it; Run then
// walks the plan and allocates nothing, splitting the plan's outermost axis across the session's threads
// from 64K elements (copy_parallel.go).
//
// Data movement does not care what the bits mean, so kernels are instantiated once per element size rather
// than once per dtype: raw.go reinterprets a tensor's slice as []uint8, []uint16, []uint32, []uint64, a
// two-word array (complex types) or []string. Strings stay strings so the garbage collector still sees
// their pointers. Ops that compute (Range, the Scatter reductions, NonZero's test against zero) are generic
// over the real element type instead.
//
// # Aliasing
//
// Reshape, Flatten, Squeeze, Unsqueeze and Identity implement ops.Aliaser: the output is the input's buffer
// with another shape, so the runtime may skip them. Their kernels still copy correctly when called.
// Kernels whose plan turns out to be one contiguous run of the input (a Slice of a contiguous range with
// step 1, each output of a Split whose dimensions before the axis are 1, a Transpose that only moves unit
// axes) implement ops.BlockViewer, and Concat implements ops.Concatenator: the planner may then make a
// Slice or Split output a view at an offset of its input, or let a Concat's producers write their blocks of
// its output directly (runtime/memplan.go says when it does). The kernels still copy when called.
//
// Transpose's plan, when it is a 2-D transpose repeated over outer axes (NCHW↔NHWC, a matrix), runs in
// 16×16 tiles so that reads and writes both stay within a few cache lines, in parallel above 64K elements
// (transpose_tiled.go); perm (0,2,1,3) and the like already end in contiguous row copies after the plan
// merges axes.
//
// # Plan-time values
//
// Shape and Size know their outputs from shapes alone and return them as ValueInfo.Const, and Constant
// returns its tensor, so chains such as Shape → Gather → Unsqueeze → Concat → Reshape fold to constants.
// Ops whose output shape depends on an input's contents (Reshape's shape, Slice's starts, Pad's pads, Tile's
// repeats, Expand, Range, ConstantOfShape, OneHot's depth, NonZero, Compress) read it from ValueInfo.Const
// and return an error wrapping ops.ErrDynamicShape when it is not known, and they say which inputs they
// read through ops.NeedsInputValues.
//
// # Errors
//
// Attribute and shape errors come from the Builder, InferShapes or Prepare and wrap ops.ErrInvalid or
// ops.ErrUnsupported, naming the values. Index values are data, so Gather, GatherElements, GatherND and the
// Scatter family check them in Run and return an error naming the index, its position and the dimension
// instead of panicking.
package array
