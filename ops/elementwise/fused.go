package elementwise

// FusedElementwise (domain "onnxrun", opset 1) runs a chain or diamond of float32 element-wise operators in
// one pass over memory. The graph pass runtime/pass_fuse_elementwise.go writes it in place of patterns such
// as SiLU (x·sigmoid(x)), HardSwish, Mish, GELU, scale-and-shift and clip chains, whose unfused form reads
// and writes the whole tensor once per node.
//
// Its attributes are a small program of steps, each computing one value of the output's shape:
//
//	steps    STRINGS  the operator of each step: a unary function (Sigmoid, Tanh, Erf, Exp, Log, Softplus,
//	                  Relu, Clip, HardSigmoid, LeakyRelu, Neg, Abs, Sqrt, Reciprocal, Gelu, GeluTanh) or a binary one (Add,
//	                  Sub, Mul, Div, Max, Min, Pow)
//	operands INTS     two per step: a >= 0 is node input a, a < 0 is the result of step -a-1 (an earlier
//	                  step); a unary step reads the first and its second must be 0
//	params   FLOATS   two per step: Clip's min and max, HardSigmoid's alpha and beta, LeakyRelu's alpha;
//	                  0 for the others
//
// The output is the last step's result, of input 0's shape. Every other input is of that shape, a scalar
// (one element), or per channel: one element per index of axis 1, 1 elsewhere (numpy broadcasting from the
// right, so [C,1,1] against [N,C,H,W]).
//
// # Kernel
//
// Run walks the output in blocks of fusedBlock elements, never across a channel when an input is per
// channel, so that every operand of a block is either a slice or one number. Each step's block result sits
// in a buffer on the goroutine's stack that stays in L1; the last step writes the output. Blocks are
// shared out across the pool's threads above fusedMinParallel elements, one contiguous range per thread. Transcendental steps are evaluated
// in float32 over the whole block at once by ops/internal/vecmath (within a few ULP: see its bounds), and a
// Sigmoid read only by a Mul with its own input runs as one SiLU step.
//
// Its reference, fusedReference, runs the same program one element at a time with the unfused operators'
// math (float64, rounded to float32 after each step), which is what the graph computed before the pass.

import (
	"fmt"
	"math"
	goruntime "runtime"
	"sync"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/vecarith"
	"github.com/onnxrun/onnxrun/ops/internal/vecmath"
)

func init() {
	ops.Register(ops.FusedDomain, "FusedElementwise", ops.Since(1, buildFusedElementwise))
}

// fusedFunc is the operator of one step.
type fusedFunc uint8

const (
	fusedSigmoid fusedFunc = iota
	fusedTanh
	fusedErf
	fusedExp
	fusedLog
	fusedSoftplus
	fusedRelu
	fusedClip
	fusedHardSigmoid
	fusedLeakyRelu
	fusedNeg
	fusedAbs
	fusedSqrt
	fusedReciprocal
	fusedSiLU        // x·sigmoid(x): a Sigmoid step and the Mul that reads it, merged by Prepare
	fusedGelu        // ONNX Gelu, approximate "none"
	fusedGeluTanh    // ONNX Gelu, approximate "tanh"
	fusedFirstBinary // the binary functions follow
	fusedAdd         = fusedFirstBinary
	fusedSub         = fusedFirstBinary + 1
	fusedMul         = fusedFirstBinary + 2
	fusedDiv         = fusedFirstBinary + 3
	fusedMax         = fusedFirstBinary + 4
	fusedMin         = fusedFirstBinary + 5
	fusedPow         = fusedFirstBinary + 6
)

var fusedFuncs = map[string]fusedFunc{
	"Sigmoid": fusedSigmoid, "Tanh": fusedTanh, "Erf": fusedErf, "Exp": fusedExp, "Log": fusedLog,
	"Softplus": fusedSoftplus, "Relu": fusedRelu, "Clip": fusedClip, "HardSigmoid": fusedHardSigmoid,
	"LeakyRelu": fusedLeakyRelu, "Neg": fusedNeg, "Abs": fusedAbs, "Sqrt": fusedSqrt, "Reciprocal": fusedReciprocal,
	"Gelu": fusedGelu, "GeluTanh": fusedGeluTanh,
	"Add": fusedAdd, "Sub": fusedSub, "Mul": fusedMul, "Div": fusedDiv, "Max": fusedMax, "Min": fusedMin, "Pow": fusedPow,
}

func (f fusedFunc) binary() bool { return f >= fusedFirstBinary }

// fusedStep is one step: y = fn(a, b) with parameters p0, p1. An operand >= 0 is a node input, < 0 the
// result of step -operand-1.
type fusedStep struct {
	fn     fusedFunc
	a, b   int
	p0, p1 float32
	merged bool // computed by a later step (Prepare's merging): skipped
}

// MaxFusedSteps bounds a program, and so the block buffers it may need (16 of 2 KiB per thread).
const MaxFusedSteps = 16

type fusedElementwiseOp struct {
	steps     []fusedStep
	numInputs int
}

func buildFusedElementwise(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	names := r.Strings("steps", nil)
	operands := r.Ints("operands", nil)
	params := r.Floats("params", nil)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if len(names) == 0 || len(names) > MaxFusedSteps {
		return nil, &ops.AttrError{Name: "steps", Msg: fmt.Sprintf("has %d steps, want 1 to %d", len(names), MaxFusedSteps)}
	}
	if len(operands) != 2*len(names) {
		return nil, &ops.AttrError{Name: "operands", Msg: fmt.Sprintf("has %d values, want 2 per step (%d)", len(operands), 2*len(names))}
	}
	if len(params) != 2*len(names) {
		return nil, &ops.AttrError{Name: "params", Msg: fmt.Sprintf("has %d values, want 2 per step (%d)", len(params), 2*len(names))}
	}
	if n.NumInputs < 1 || n.NumOutputs != 1 {
		return nil, ops.Invalidf("FusedElementwise takes 1 or more inputs and 1 output, the node has %d and %d", n.NumInputs, n.NumOutputs)
	}
	op := &fusedElementwiseOp{numInputs: n.NumInputs}
	for i, name := range names {
		fn, ok := fusedFuncs[name]
		if !ok {
			return nil, &ops.AttrError{Name: "steps", Msg: fmt.Sprintf("step %d is %q, not an operator FusedElementwise runs", i, name)}
		}
		s := fusedStep{fn: fn, a: int(operands[2*i]), b: int(operands[2*i+1]), p0: params[2*i], p1: params[2*i+1]}
		for j, operand := range []int{s.a, s.b} {
			if j == 1 && !fn.binary() {
				if operand != 0 {
					return nil, &ops.AttrError{Name: "operands", Msg: fmt.Sprintf("step %d (%s) is unary, its second operand is %d, want 0", i, name, operand)}
				}
				continue
			}
			if operand >= n.NumInputs || operand < -i {
				return nil, &ops.AttrError{Name: "operands", Msg: fmt.Sprintf("step %d (%s) reads %d: neither one of the %d inputs nor an earlier step", i, name, operand, n.NumInputs)}
			}
			if operand >= 0 && !n.InputPresent[operand] {
				return nil, &ops.AttrError{Name: "operands", Msg: fmt.Sprintf("step %d (%s) reads input %d, which the node leaves out", i, name, operand)}
			}
		}
		if fn == fusedClip && !(s.p0 <= s.p1) {
			return nil, &ops.AttrError{Name: "params", Msg: fmt.Sprintf("step %d (Clip) has min %v above max %v", i, s.p0, s.p1)}
		}
		op.steps = append(op.steps, s)
	}
	return op, nil
}

// inputKind is how an input lines up with the output.
type inputKind uint8

const (
	inputFull    inputKind = iota // the output's shape
	inputScalar                   // one element
	inputChannel                  // one element per index of axis 1
)

// classifyInput returns how an input of shape in broadcasts to out, or false when it does not in one of
// the three ways FusedElementwise takes.
func classifyInput(in, out ops.Shape) (inputKind, bool) {
	switch {
	case in.Equal(out):
		return inputFull, true
	case in.Size() == 1 && len(in) <= len(out):
		return inputScalar, true
	case len(out) < 2 || len(in) > len(out) || len(in) < len(out)-1:
		return 0, false
	}
	// Right-aligned, axis 1 of out is axis 1-(len(out)-len(in)) of in.
	shift := len(out) - len(in)
	for i, d := range in {
		if i+shift == 1 {
			if d != out[1] {
				return 0, false
			}
		} else if d != 1 {
			return 0, false
		}
	}
	return inputChannel, true
}

// FusedElementwiseAccepts reports whether an input of shape in may feed a FusedElementwise of output shape
// out, for the graph pass.
func FusedElementwiseAccepts(in, out ops.Shape) bool {
	_, ok := classifyInput(in, out)
	return ok
}

func (o *fusedElementwiseOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, o.numInputs, o.numInputs); err != nil {
		return nil, err
	}
	out := in[0].Shape
	for i, v := range in {
		if v.DType != ops.Float32 {
			return nil, ops.Invalidf("FusedElementwise input %d is %s, want float32", i, v.DType)
		}
		if _, ok := classifyInput(v.Shape, out); !ok {
			return nil, ops.Invalidf("FusedElementwise input %d has shape %v: want %v, a scalar or one value per channel (axis 1)", i, v.Shape, out)
		}
	}
	return []ops.ValueInfo{{DType: ops.Float32, Shape: out.Clone()}}, nil
}

func (o *fusedElementwiseOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	if _, err := o.InferShapes(in); err != nil {
		return nil, err
	}
	out := in[0].Shape
	k := &fusedElementwiseKernel{steps: mergeSiLU(o.steps), kinds: make([]inputKind, len(in)), size: out.Size()}
	k.planes, k.planeSize = 1, k.size
	for i, v := range in {
		k.kinds[i], _ = classifyInput(v.Shape, out)
		if k.kinds[i] == inputChannel {
			k.channels = out[1]
			k.planes, k.planeSize = out[0]*out[1], out[2:].Size()
		}
	}
	k.blocksPerPlane = (k.planeSize + fusedBlock - 1) / fusedBlock
	k.slot, k.slots = assignBuffers(k.steps)
	k.maxThreads = max(1, min(goruntime.GOMAXPROCS(0), 64))
	return k, nil
}

// mergeSiLU returns steps with each Sigmoid(a) read only by a Mul(a, ·) merged into that Mul, which
// becomes a SiLU(a) step: one pass over the block instead of two.
func mergeSiLU(steps []fusedStep) []fusedStep {
	steps = append([]fusedStep(nil), steps...)
	uses := make([]int, len(steps))
	for _, s := range steps {
		for j, ref := range []int{s.a, s.b} {
			if ref < 0 && (j == 0 || s.fn.binary()) {
				uses[-ref-1]++
			}
		}
	}
	for j, s := range steps {
		if s.fn != fusedMul {
			continue
		}
		for _, pair := range [][2]int{{s.a, s.b}, {s.b, s.a}} {
			sig, x := pair[0], pair[1]
			if sig >= 0 || steps[-sig-1].fn != fusedSigmoid || steps[-sig-1].a != x || uses[-sig-1] != 1 || -sig-1 == len(steps)-1 {
				continue
			}
			steps[-sig-1].merged = true
			steps[j] = fusedStep{fn: fusedSiLU, a: x}
			break
		}
	}
	return steps
}

// assignBuffers gives each step a block buffer, reusing one whose value no later step reads: slot[i] is step
// i's buffer (the last step writes the output and has none), slots how many there are.
func assignBuffers(steps []fusedStep) (slot []int, slots int) {
	lastRead := make([]int, len(steps))
	for i, s := range steps {
		if s.merged {
			continue
		}
		for j, ref := range []int{s.a, s.b} {
			if ref < 0 && (j == 0 || s.fn.binary()) {
				lastRead[-ref-1] = i
			}
		}
	}
	slot = make([]int, len(steps))
	var free []int
	for i, s := range steps {
		// Buffers whose last reader is step i are free for step i's own result: a step reads element e
		// before it writes element e.
		var read []int
		for j, ref := range []int{s.a, s.b} {
			if ref < 0 && (j == 0 || s.fn.binary()) && lastRead[-ref-1] == i && !(j == 1 && ref == s.a) {
				read = append(read, slot[-ref-1])
			}
		}
		free = append(free, read...)
		switch {
		case s.merged || i == len(steps)-1:
			slot[i] = -1
		case len(free) > 0:
			slot[i], free = free[len(free)-1], free[:len(free)-1]
		default:
			slot[i], slots = slots, slots+1
		}
	}
	return slot, slots
}

// fusedBlock is the elements a step computes at a time: with a few buffers of it per thread, a program's
// working set stays in L1.
const fusedBlock = 512

// fusedMinParallel is the output size below which Run stays on one thread: a few tens of µs of work.
const fusedMinParallel = 1 << 15

type fusedElementwiseKernel struct {
	steps          []fusedStep
	kinds          []inputKind
	size           int
	channels       int // per-channel inputs' length, when there are some
	planes         int // runs of the output in which every per-channel input is one number
	planeSize      int
	blocksPerPlane int
	slot           []int // each step's buffer (assignBuffers)
	slots          int   // buffers per thread
	maxThreads     int   // threads the scratch is sized for
}

// ScratchSize is the block buffers of every thread.
func (k *fusedElementwiseKernel) ScratchSize() int { return k.maxThreads * k.slots * fusedBlock }

func (k *fusedElementwiseKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	blocks := k.planes * k.blocksPerPlane
	pool := ctx.Pool
	if pool.Threads() <= 1 || k.size < fusedMinParallel || blocks < 2 || k.maxThreads < 2 {
		k.blocks(in, out[0].Float32s(), ctx.Scratch, 0, blocks)
		return nil
	}
	parts := min(pool.Threads(), k.maxThreads, blocks)
	t := fusedTaskPool.Get().(*fusedTask)
	t.k, t.in, t.y, t.scratch, t.blocks, t.parts = k, in, out[0].Float32s(), ctx.Scratch, blocks, parts
	pool.ForTask(parts, t)
	*t = fusedTask{}
	fusedTaskPool.Put(t)
	return nil
}

// fusedTask is one threaded Run over blocks split into parts contiguous ranges, one per thread. A thread
// streams through one run of memory, which the hardware prefetchers follow: claiming small chunks in
// turn from a shared counter interleaved the threads' reads and writes every 16 KiB, and two threads
// ran a 4M-element SiLU slower than one.
type fusedTask struct {
	k       *fusedElementwiseKernel
	in      []*ops.Tensor
	y       []float32
	scratch []float32
	blocks  int
	parts   int
}

var fusedTaskPool = sync.Pool{New: func() any { return new(fusedTask) }}

// Do runs parts [lo, hi) with the block buffers of thread lo (ForTask gives thread r the range [r, r+1),
// or one thread all of them).
func (t *fusedTask) Do(lo, hi int) {
	per := t.k.slots * fusedBlock
	scratch := t.scratch[lo*per : (lo+1)*per]
	for part := lo; part < hi; part++ {
		first, end := partBounds(part, t.parts, t.blocks, 1)
		t.k.blocks(t.in, t.y, scratch, first, end)
	}
}

// fusedOperand is one operand over a block: a slice, or the number v when s is nil.
type fusedOperand struct {
	s []float32
	v float32
}

// blocks computes blocks [lo, hi) of y, with the block buffers in scratch.
func (k *fusedElementwiseKernel) blocks(in []*ops.Tensor, y, scratch []float32, lo, hi int) {
	buffer := func(step, n int) []float32 {
		s := k.slot[step] * fusedBlock
		return scratch[s : s+n]
	}
	for b := lo; b < hi; b++ {
		plane, inPlane := b/k.blocksPerPlane, (b%k.blocksPerPlane)*fusedBlock
		start := plane*k.planeSize + inPlane
		n := min(fusedBlock, k.planeSize-inPlane)
		operand := func(ref int) fusedOperand {
			if ref < 0 {
				return fusedOperand{s: buffer(-ref-1, n)}
			}
			x := in[ref].Float32s()
			switch k.kinds[ref] {
			case inputScalar:
				return fusedOperand{v: x[0]}
			case inputChannel:
				return fusedOperand{v: x[plane%k.channels]}
			}
			return fusedOperand{s: x[start : start+n]}
		}
		for i, s := range k.steps {
			if s.merged {
				continue
			}
			var dst []float32
			if i == len(k.steps)-1 {
				dst = y[start : start+n]
			} else {
				dst = buffer(i, n)
			}
			a := operand(s.a)
			if s.fn.binary() {
				fusedBinary(s.fn, dst, a, operand(s.b))
			} else {
				fusedUnary(s, dst, a)
			}
		}
	}
}

// fusedUnary computes dst[i] = s.fn(a[i]).
func fusedUnary(s fusedStep, dst []float32, a fusedOperand) {
	src := a.s
	if src == nil { // a unary step of a scalar input: one value, repeated
		v := float32(unaryStep(s, float64(a.v)))
		for i := range dst {
			dst[i] = v
		}
		return
	}
	switch s.fn {
	case fusedSigmoid:
		vecmath.Sigmoid(dst, src)
	case fusedSiLU:
		vecmath.SiLU(dst, src)
	case fusedTanh:
		vecmath.Tanh(dst, src)
	case fusedErf:
		vecmath.Erf(dst, src)
	case fusedGelu:
		vecmath.GeluErf(dst, src)
	case fusedGeluTanh:
		vecmath.GeluTanh(dst, src)
	case fusedExp:
		vecmath.Exp(dst, src)
	case fusedLog:
		vecmath.Log(dst, src)
	case fusedSoftplus:
		vecmath.Softplus(dst, src)
	case fusedRelu:
		vecarith.Clamp(dst, src, 0, float32(math.Inf(1)))
	case fusedClip:
		vecarith.Clamp(dst, src, s.p0, s.p1)
	case fusedHardSigmoid:
		vecarith.HardSigmoid(dst, src, s.p0, s.p1)
	case fusedLeakyRelu:
		vecarith.LeakyRelu(dst, src, s.p0)
	case fusedNeg:
		vecarith.Neg(dst, src)
	case fusedAbs:
		vecarith.Abs(dst, src)
	case fusedSqrt:
		vecarith.Sqrt(dst, src)
	case fusedReciprocal:
		vecarith.Reciprocal(dst, src)
	}
}

// fusedBinary computes dst[i] = fn(a[i], b[i]), either operand possibly one number.
func fusedBinary(fn fusedFunc, dst []float32, a, b fusedOperand) {
	switch {
	case a.s != nil && b.s != nil:
		switch fn {
		case fusedAdd:
			for i := range dst {
				dst[i] = a.s[i] + b.s[i]
			}
		case fusedSub:
			for i := range dst {
				dst[i] = a.s[i] - b.s[i]
			}
		case fusedMul:
			for i := range dst {
				dst[i] = a.s[i] * b.s[i]
			}
		case fusedDiv:
			for i := range dst {
				dst[i] = a.s[i] / b.s[i]
			}
		default:
			for i := range dst {
				dst[i] = fusedBinaryValue(fn, a.s[i], b.s[i])
			}
		}
	case b.s == nil && a.s != nil:
		v := b.v
		switch fn {
		case fusedAdd:
			for i := range dst {
				dst[i] = a.s[i] + v
			}
		case fusedSub:
			for i := range dst {
				dst[i] = a.s[i] - v
			}
		case fusedMul:
			for i := range dst {
				dst[i] = a.s[i] * v
			}
		case fusedDiv:
			for i := range dst {
				dst[i] = a.s[i] / v
			}
		case fusedPow:
			fusedPowScalar(dst, a.s, v)
		default:
			for i := range dst {
				dst[i] = fusedBinaryValue(fn, a.s[i], v)
			}
		}
	case a.s == nil && b.s != nil:
		for i := range dst {
			dst[i] = fusedBinaryValue(fn, a.v, b.s[i])
		}
	default:
		v := fusedBinaryValue(fn, a.v, b.v)
		for i := range dst {
			dst[i] = v
		}
	}
}

// fusedPowScalar is dst[i] = a[i]^e, with the exponents GELU's tanh form and norms use as products.
func fusedPowScalar(dst, a []float32, e float32) {
	switch e {
	case 2:
		for i, v := range a {
			dst[i] = v * v
		}
	case 3:
		for i, v := range a {
			dst[i] = v * v * v
		}
	default:
		for i, v := range a {
			dst[i] = float32(math.Pow(float64(v), float64(e)))
		}
	}
}

// fusedReference is the kernel's reference: the program run one element at a time, each step's result
// rounded to float32 as the unfused operator stores it. in holds one slice per input, already broadcast
// to the output's length.
func fusedReference(steps []fusedStep, in [][]float32, y []float32) {
	vals := make([]float64, len(steps))
	for e := range y {
		get := func(ref int) float64 {
			if ref < 0 {
				return vals[-ref-1]
			}
			return float64(in[ref][e])
		}
		for i, s := range steps {
			var v float64
			if s.fn.binary() {
				v = binaryStep(s.fn, get(s.a), get(s.b))
			} else {
				v = unaryStep(s, get(s.a))
			}
			vals[i] = float64(float32(v))
		}
		y[e] = float32(vals[len(steps)-1])
	}
}

// unaryStep is a unary step's function in float64, as the unfused operator computes it.
func unaryStep(s fusedStep, a float64) float64 {
	switch s.fn {
	case fusedSigmoid:
		return sigmoid(a)
	case fusedSiLU:
		return a * sigmoid(a)
	case fusedTanh:
		return math.Tanh(a)
	case fusedErf:
		return math.Erf(a)
	case fusedGelu:
		return 0.5 * a * (1 + math.Erf(a/math.Sqrt2))
	case fusedGeluTanh:
		return 0.5 * a * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(a+0.044715*a*a*a)))
	case fusedExp:
		return math.Exp(a)
	case fusedLog:
		return math.Log(a)
	case fusedSoftplus:
		return softplus(a)
	case fusedRelu:
		return max(a, 0)
	case fusedClip:
		return min(max(a, float64(s.p0)), float64(s.p1))
	case fusedHardSigmoid:
		return hardSigmoid(a, float64(s.p0), float64(s.p1))
	case fusedLeakyRelu:
		if a < 0 {
			return float64(s.p0) * a
		}
		return a
	case fusedNeg:
		return -a
	case fusedAbs:
		return math.Abs(a)
	case fusedSqrt:
		return math.Sqrt(a)
	}
	return 1 / a // fusedReciprocal
}

// binaryStep is a binary step's function in float64.
func binaryStep(fn fusedFunc, a, b float64) float64 {
	switch fn {
	case fusedAdd:
		return a + b
	case fusedSub:
		return a - b
	case fusedMul:
		return a * b
	case fusedDiv:
		return a / b
	case fusedMax:
		return max(a, b)
	case fusedMin:
		return min(a, b)
	}
	return math.Pow(a, b) // fusedPow
}

// fusedBinaryValue is a binary step on one pair of float32 values: computed in float64 and rounded once,
// which for +, -, · and / is the float32 operation's own result.
func fusedBinaryValue(fn fusedFunc, a, b float32) float32 {
	return float32(binaryStep(fn, float64(a), float64(b)))
}
