package ops

import (
	"context"
)

// NodeInfo is what a Builder learns about the node it builds an operator for.
type NodeInfo struct {
	Name       string // the node's name, or a name the runtime made up for it (for messages)
	Domain     string // "" for the default ONNX domain ("ai.onnx" is normalised to "")
	OpType     string
	Opset      int // the opset version the model imports for Domain
	Attrs      Attrs
	NumInputs  int // including absent optional inputs (written as "" in the model)
	NumOutputs int // the outputs the node names, including "" placeholders
	// InputPresent[i] is false for an optional input the model leaves out (an empty name).
	InputPresent []bool
}

// Builder parses and validates a node's attributes once and returns the operator. Errors name the attribute
// and its value; the runtime adds the node name, op type and opset.
type Builder func(n NodeInfo) (Op, error)

// ValueInfo is what is known about a value while planning: its dtype and concrete shape, and its contents when
// it is a constant (an initializer, a Constant's output, or something folded from constants). A value that a
// node leaves out (an absent optional input) has DType Undefined.
//
// A non-tensor value (a sequence, an optional, a map) has Type set, DType the dtype of the tensors it holds
// (Type.TensorDType) and no Shape; see value.go.
type ValueInfo struct {
	DType DType
	Shape Shape
	Const *Tensor    // non-nil when the value is known at plan time
	Type  *ValueType // nil for a tensor
	// Packs, set with Const by the runtime, is where a kernel that prepacks this constant gets its packed
	// form (Prepack), shared with every other kernel packing it the same way; nil packs privately.
	Packs *PackCache
}

// Kind is the kind of value: KindTensor unless Type says otherwise.
func (v ValueInfo) Kind() ValueKind {
	if v.Type == nil {
		return KindTensor
	}
	return v.Type.Kind
}

// Present reports whether the value exists (optional inputs may be absent).
func (v ValueInfo) Present() bool { return v.DType != Undefined }

// Op is an operator bound to one node: it knows its attributes but no data.
//
// InferShapes returns one ValueInfo per output the node declares (NumOutputs), with Const left nil unless the op
// computes outputs from constants cheaply itself (Shape does). When an output shape depends on the *contents* of
// an input that is not constant at plan time (a Reshape whose shape is a graph input), it returns an error that
// wraps ErrDynamicShape; the runtime then plans with the actual input values at each Run.
//
// Prepare picks a kernel variant for these exact shapes, may prepack constant inputs (in[i].Const), and
// returns the Kernel. It is called once per plan specialisation.
type Op interface {
	InferShapes(in []ValueInfo) ([]ValueInfo, error)
	Prepare(in []ValueInfo, out []ValueInfo) (Kernel, error)
}

// Kernel computes a node's outputs. in has one tensor per node input (nil for an absent optional input), out
// one preallocated tensor per declared output with the shapes InferShapes gave. Run trusts its inputs: every
// check was done before. It must not allocate in steady state nor keep references to in or out.
//
// One Kernel is shared by every Session of a Plan, so Run must be safe for concurrent use: keep per-run
// temporaries in ctx.Scratch (see Scratcher), never in the kernel's own fields.
type Kernel interface {
	Run(ctx *ExecContext, in, out []*Tensor) error
}

// KernelFunc adapts a function to Kernel.
type KernelFunc func(ctx *ExecContext, in, out []*Tensor) error

// Run calls f.
func (f KernelFunc) Run(ctx *ExecContext, in, out []*Tensor) error { return f(ctx, in, out) }

// ExecContext carries what a kernel may use besides its tensors during one Run.
type ExecContext struct {
	// Context is the caller's context; long kernels may poll Context.Err() between tiles.
	Context context.Context
	// Scratch is working memory sized by the kernel's ScratchSize (see Scratcher); it is shared between
	// kernels, so its contents do not survive a Run call.
	Scratch []float32
	// Parallel runs fn over [0,n) split in chunks across the session's threads; with one thread it calls
	// fn(0, n) inline. Never nil when the runtime calls a kernel.
	Parallel func(n int, fn func(lo, hi int))
	// Threads is the number of threads Parallel may use.
	Threads int
	// Pool is the session's worker pool, for kernels such as the GEMM that drive it directly; nil runs
	// everything on the calling goroutine.
	Pool *Pool
}

// SerialContext returns an ExecContext that runs everything on the calling goroutine, for tests and
// constant folding.
func SerialContext() *ExecContext {
	return &ExecContext{Context: context.Background(), Parallel: func(n int, fn func(lo, hi int)) {
		if n > 0 {
			fn(0, n)
		}
	}, Threads: 1}
}

// Optional interfaces an Op or Kernel may implement; the runtime finds them by type assertion.

// Scratcher is a Kernel that needs temporary float32 memory (im2col, packed panels); the planner gives every
// kernel one shared scratch area of the largest size asked for, in ctx.Scratch.
type Scratcher interface {
	ScratchSize() int
}

// Aliaser is an Op whose output i is input j's data with another shape (Reshape, Flatten, Squeeze,
// Unsqueeze, Identity): the runtime then skips the kernel and shares the buffer. AliasOf returns (j, true)
// for an output that aliases input j.
type Aliaser interface {
	AliasOf(output int) (input int, ok bool)
}

// BlockViewer is a Kernel whose output may be one contiguous run of an input's elements, in order (a Slice
// of a contiguous range with step 1, a Split on its leading axis): BlockOf returns the input, the element of
// it where output i starts, and the output's length, with ok=false when output i is not such a run. The
// planner may then make the output a view of the input and skip the kernel.
type BlockViewer interface {
	BlockOf(output int) (input, offset, n int, ok bool)
}

// Concatenator is an Op whose single output is its inputs laid one after the other along an axis (Concat).
// When every dimension before that axis is 1, each input is one contiguous block of the output, and the
// planner may let each input's producer write straight into its block, skipping the kernel. ConcatAxis
// returns the normalised axis for inputs of the given rank, or false when it cannot be resolved.
type Concatenator interface {
	ConcatAxis(rank int) (axis int, ok bool)
}

// Nondeterministic marks ops whose outputs must never be folded into constants (random generators,
// Dropout in training mode).
type Nondeterministic interface {
	Nondeterministic() bool
}

// Coster reports the multiply-adds a kernel does per Run, for GFLOP/s figures in benchmarks and profiles.
type Coster interface {
	FLOPs() int64
}

// NeedsInputValues is an Op whose InferShapes reads the contents of some inputs (Reshape's shape, Slice's
// starts). The runtime passes constants for those when it has them. Returning the indexes lets the runtime
// tell at compile time which inputs must be known to plan statically.
type NeedsInputValues interface {
	ShapeInputs() []int
}
