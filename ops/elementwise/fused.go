package elementwise

// FusedElementwise (domain "onnxrun", opset 1) runs a chain or diamond of float32 element-wise operators in
// one pass over memory. The graph pass runtime/pass_fuse_elementwise.go writes it in place of patterns such
// as SiLU (x·sigmoid(x)), HardSwish, Mish, GELU, scale-and-shift and clip chains, whose unfused form reads
// and writes the whole tensor once per node.
//
// Its attributes are a small program of steps, each computing one value of the output's shape:
//
//	steps    STRINGS  the operator of each step: a unary function (Sigmoid, Tanh, Erf, Exp, Log, Softplus,
//	                  Relu, Clip, HardSigmoid, LeakyRelu, Neg, Abs, Sqrt, Reciprocal) or a binary one (Add,
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
// shared out across the pool's threads above fusedMinParallel elements. Transcendental steps are evaluated
// in float32 over the whole block at once.
//
// Its reference, fusedReference, runs the same program one element at a time with the unfused operators'
// math (float64, rounded to float32 after each step), which is what the graph computed before the pass.

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"github.com/onnxrun/onnxrun/ops"
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
	"Add": fusedAdd, "Sub": fusedSub, "Mul": fusedMul, "Div": fusedDiv, "Max": fusedMax, "Min": fusedMin, "Pow": fusedPow,
}

func (f fusedFunc) binary() bool { return f >= fusedFirstBinary }

// fusedStep is one step: y = fn(a, b) with parameters p0, p1. An operand >= 0 is a node input, < 0 the
// result of step -operand-1.
type fusedStep struct {
	fn     fusedFunc
	a, b   int
	p0, p1 float32
}

// MaxFusedSteps bounds a program, and so the stack buffers its blocks need (16 of 2 KiB).
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
	k := &fusedElementwiseKernel{steps: o.steps, kinds: make([]inputKind, len(in)), size: out.Size()}
	k.planes, k.planeSize = 1, k.size
	for i, v := range in {
		k.kinds[i], _ = classifyInput(v.Shape, out)
		if k.kinds[i] == inputChannel {
			k.channels = out[1]
			k.planes, k.planeSize = out[0]*out[1], out[2:].Size()
		}
	}
	k.blocksPerPlane = (k.planeSize + fusedBlock - 1) / fusedBlock
	return k, nil
}

// fusedBlock is the elements a step computes at a time: with MaxFusedSteps buffers of it on the stack
// (only the live ones touched), a program's working set stays in L1.
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
}

func (k *fusedElementwiseKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	blocks := k.planes * k.blocksPerPlane
	pool := ctx.Pool
	if pool.Threads() <= 1 || k.size < fusedMinParallel || blocks < 2 {
		k.blocks(in, out[0].Float32s(), 0, blocks)
		return nil
	}
	t := fusedTaskPool.Get().(*fusedTask)
	t.k, t.in, t.y, t.blocks = k, in, out[0].Float32s(), blocks
	t.next.Store(0)
	pool.ForTask(pool.Threads(), t)
	*t = fusedTask{}
	fusedTaskPool.Put(t)
	return nil
}

// fusedTask is one threaded Run: each thread claims fusedChunk blocks at a time until none is left.
type fusedTask struct {
	k      *fusedElementwiseKernel
	in     []*ops.Tensor
	y      []float32
	blocks int
	next   atomic.Int64
}

const fusedChunk = 8

var fusedTaskPool = sync.Pool{New: func() any { return new(fusedTask) }}

func (t *fusedTask) Do(_, _ int) {
	for {
		lo := int(t.next.Add(1)-1) * fusedChunk
		if lo >= t.blocks {
			return
		}
		t.k.blocks(t.in, t.y, lo, min(lo+fusedChunk, t.blocks))
	}
}

// fusedOperand is one operand over a block: a slice, or the number v when s is nil.
type fusedOperand struct {
	s []float32
	v float32
}

// blocks computes blocks [lo, hi) of y.
func (k *fusedElementwiseKernel) blocks(in []*ops.Tensor, y []float32, lo, hi int) {
	var buffers [MaxFusedSteps][fusedBlock]float32
	for b := lo; b < hi; b++ {
		plane, inPlane := b/k.blocksPerPlane, (b%k.blocksPerPlane)*fusedBlock
		start := plane*k.planeSize + inPlane
		n := min(fusedBlock, k.planeSize-inPlane)
		operand := func(ref int) fusedOperand {
			if ref < 0 {
				return fusedOperand{s: buffers[-ref-1][:n]}
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
			dst := buffers[i][:n]
			if i == len(k.steps)-1 {
				dst = y[start : start+n]
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
	if src == nil { // a unary step of a scalar input: one value repeated
		for i := range dst {
			dst[i] = a.v
		}
		src = dst
	}
	switch s.fn {
	case fusedSigmoid:
		mapFloat32(dst, src, sigmoid)
	case fusedTanh:
		mapFloat32(dst, src, math.Tanh)
	case fusedErf:
		mapFloat32(dst, src, math.Erf)
	case fusedExp:
		mapFloat32(dst, src, math.Exp)
	case fusedLog:
		mapFloat32(dst, src, math.Log)
	case fusedSoftplus:
		mapFloat32(dst, src, softplus)
	case fusedRelu:
		for i, v := range src {
			dst[i] = max(v, 0)
		}
	case fusedClip:
		for i, v := range src {
			dst[i] = min(max(v, s.p0), s.p1)
		}
	case fusedHardSigmoid:
		for i, v := range src {
			dst[i] = min(max(s.p0*v+s.p1, 0), 1)
		}
	case fusedLeakyRelu:
		for i, v := range src {
			if v < 0 {
				v *= s.p0
			}
			dst[i] = v
		}
	case fusedNeg:
		for i, v := range src {
			dst[i] = -v
		}
	case fusedAbs:
		for i, v := range src {
			dst[i] = float32(math.Abs(float64(v)))
		}
	case fusedSqrt:
		for i, v := range src {
			dst[i] = float32(math.Sqrt(float64(v)))
		}
	case fusedReciprocal:
		for i, v := range src {
			dst[i] = 1 / v
		}
	}
}

// mapFloat32 is dst[i] = f(src[i]) in float64. TEMPORARY until k1-vecmath's vectorised float32 functions
// land on this branch: the transcendental steps then call ops/internal/vecmath over the whole block.
func mapFloat32(dst, src []float32, f func(float64) float64) {
	for i, v := range src {
		dst[i] = float32(f(float64(v)))
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
				dst[i] = fusedScalar(fn, a.s[i], b.s[i])
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
				dst[i] = fusedScalar(fn, a.s[i], v)
			}
		}
	case a.s == nil && b.s != nil:
		for i := range dst {
			dst[i] = fusedScalar(fn, a.v, b.s[i])
		}
	default:
		v := fusedScalar(fn, a.v, b.v)
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

// fusedScalar is one binary step on one pair of float32 values.
func fusedScalar(fn fusedFunc, a, b float32) float32 {
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
	return float32(math.Pow(float64(a), float64(b)))
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
			a, b := get(s.a), get(s.b)
			var v float64
			switch s.fn {
			case fusedSigmoid:
				v = sigmoid(a)
			case fusedTanh:
				v = math.Tanh(a)
			case fusedErf:
				v = math.Erf(a)
			case fusedExp:
				v = math.Exp(a)
			case fusedLog:
				v = math.Log(a)
			case fusedSoftplus:
				v = softplus(a)
			case fusedRelu:
				v = max(a, 0)
			case fusedClip:
				v = min(max(a, float64(s.p0)), float64(s.p1))
			case fusedHardSigmoid:
				v = hardSigmoid(a, float64(s.p0), float64(s.p1))
			case fusedLeakyRelu:
				v = a
				if a < 0 {
					v = float64(s.p0) * a
				}
			case fusedNeg:
				v = -a
			case fusedAbs:
				v = math.Abs(a)
			case fusedSqrt:
				v = math.Sqrt(a)
			case fusedReciprocal:
				v = 1 / a
			case fusedAdd:
				v = a + b
			case fusedSub:
				v = a - b
			case fusedMul:
				v = a * b
			case fusedDiv:
				v = a / b
			case fusedMax:
				v = max(a, b)
			case fusedMin:
				v = min(a, b)
			case fusedPow:
				v = math.Pow(a, b)
			}
			vals[i] = float64(float32(v))
		}
		y[e] = float32(vals[len(steps)-1])
	}
}
