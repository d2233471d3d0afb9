package runtime

import (
	"context"
	"errors"
	"fmt"
	goruntime "runtime"
	"strings"

	"github.com/onnxrun/onnxrun/internal/hugepage"
	"github.com/onnxrun/onnxrun/ops"
)

// Session runs a Plan. It owns the memory the plan's values live in, so it belongs to one goroutine at a
// time; run several Sessions of one Plan to serve concurrent requests. A Session re-plans (and allocates)
// only when the input shapes change; runs at the same shapes allocate nothing.
type Session struct {
	plan  *Plan
	bound *boundPlan
	exec  ops.ExecContext
	pool  *ops.Pool
	// The hooks Run and RunProfiled use live here, so that installing one allocates nothing.
	cancel   cancelHook
	profiler profileHook
	// lifetime is the session's reference to the plan's mapped model file (see lifetime.go).
	lifetime sessionLifetime
	closed   bool // by Close, or made from a closed plan: Run fails with ErrClosed
}

// boundPlan is a specialisation with this session's memory attached.
type boundPlan struct {
	spec    *specialization
	tensors []*ops.Tensor // by slot
	stepIn  [][]*ops.Tensor
	stepOut [][]*ops.Tensor
	// kernels are the steps' kernels as this session runs them: the plan's own, except for operators
	// with per-session state (control flow keeps its bodies' memory there; see sessionKernel).
	kernels []ops.Kernel
	outputs []*ops.Tensor
	// constOutputs are the outputs that are constants, which the caller gets as the session's own copies.
	constOutputs []constOutput
	scratch      []float32
	arena        []any
}

// sessionKernel is a kernel with state of its own in each session: a control-flow operator, whose bodies
// have their own buffers. bindMemory asks it once per session and specialisation for the kernel that
// session runs; the shared kernel's own Run (constant folding, dynamic plans) makes a fresh one each time.
type sessionKernel interface {
	forSession() ops.Kernel
}

// NewSession makes a session with its own buffers and worker threads (Options.Threads). A session made
// from a closed plan fails every Run with ErrClosed.
func (p *Plan) NewSession() *Session {
	s := &Session{plan: p, pool: ops.NewPool(p.opts.Threads)}
	s.exec = ops.ExecContext{Context: context.Background(), Parallel: s.pool.For, Threads: s.pool.Threads(), Pool: s.pool}
	var open bool
	s.lifetime, open = p.lifetime.sessionReference(s)
	s.closed = !open
	return s
}

// Close stops the session's worker threads and gives back its reference to the plan's mapped model file
// (see Plan.Close). Run then fails with ErrClosed. Closing twice does nothing.
func (s *Session) Close() {
	if s.pool != nil {
		s.pool.Close()
	}
	s.lifetime.release()
	s.closed = true
}

// Run computes the model's outputs for inputs given in the order of Plan.Inputs. The returned tensors
// belong to the session and stay valid until the next Run; Clone them to keep them longer. A cancelled
// context stops the run between two operators, or inside a long one (the GEMM-based kernels poll it
// between tiles), and Run returns the context's error.
func (s *Session) Run(ctx context.Context, inputs []*ops.Tensor) ([]*ops.Tensor, error) {
	return s.run(ctx, inputs, nil)
}

// stepHook watches a run step by step. Cancellation, profiling (RunProfiled) and observation
// (RunWithObserver) are hooks, so that Session.run is the only loop that runs a plan's kernels; a run
// without one (Run with a context that cannot be cancelled) pays a nil check per step.
type stepHook interface {
	// begin is called once the inputs are checked and the specialisation for their shapes is found; b is
	// nil when that specialisation is dynamic (the whole graph is then evaluated while planning).
	begin(ctx context.Context, spec *specialization, b *boundPlan)
	// beforeStep is called before every step, alias-only steps included; an error stops the run and is
	// returned as it is.
	beforeStep(st *step) error
	// afterStep is called once the step's outputs are computed (or, alias-only, viewed).
	afterStep(st *step)
	// end is called after the last step; evaluated is the folded specialisation of a dynamic run, which
	// holds every value computed, and nil otherwise.
	end(evaluated *specialization)
}

// run is the one execution path: check the inputs, find the specialisation for their shapes, bind this
// session's memory to it, run the steps and return the outputs. hook may be nil.
func (s *Session) run(ctx context.Context, inputs []*ops.Tensor, hook stepHook) ([]*ops.Tensor, error) {
	if s.closed {
		return nil, ErrClosed
	}
	// The plan's constants may point into its mapped model file, which the collector does not see: keep
	// the session, and through it the plan, reachable until the kernels are done with them, so that no
	// cleanup unmaps the file under a running kernel (see lifetime.go).
	defer goruntime.KeepAlive(s)
	if ctx == nil {
		ctx = context.Background()
	}
	p := s.plan
	spec, err := s.bind(inputs)
	if err != nil {
		return nil, err
	}
	done := ctx.Done()
	if hook == nil && done != nil {
		s.cancel = cancelHook{ctx: ctx, done: done}
		hook = &s.cancel
	}
	if spec.dynamic {
		if hook != nil {
			hook.begin(ctx, spec, nil)
		}
		evaluated, err := p.runDynamic(ctx, inputs)
		if err != nil {
			return nil, err
		}
		if hook != nil {
			hook.end(evaluated)
		}
		outs := make([]*ops.Tensor, len(p.outputs))
		for i, id := range p.outputs {
			// An output may be one of the plan's constants, or a view of one: the caller gets a copy it may
			// write into, and never the mapped pages of the model file.
			outs[i] = evaluated.infos[id].Const
			if outs[i] != nil && outs[i].Kind() == ops.KindTensor {
				outs[i] = outs[i].Clone()
			}
		}
		return outs, nil
	}
	b := s.bound
	if hook != nil {
		hook.begin(ctx, spec, b)
	}
	s.exec.Context = ctx
	if err := s.runSteps(ctx, b, hook); err != nil {
		return nil, err
	}
	// Long kernels (the GEMMs behind Conv, ConvTranspose, Gemm and MatMul) poll the context between tiles
	// and return early, their outputs unfinished, once it is done: such outputs must not reach the caller.
	if done != nil {
		select {
		case <-done:
			return nil, ctx.Err()
		default:
		}
	}
	if hook != nil {
		hook.end(nil)
	}
	b.refreshConstOutputs()
	return b.outputs, nil
}

// runSteps runs the steps of a bound specialisation with s.exec (whose Context the caller set): the loop
// that Run and the bodies of control-flow operators share.
func (s *Session) runSteps(ctx context.Context, b *boundPlan, hook stepHook) error {
	p := s.plan
	spec := b.spec
	s.exec.Scratch = b.scratch
	for si := range spec.steps {
		st := &spec.steps[si]
		if hook != nil {
			if err := hook.beforeStep(st); err != nil {
				return err
			}
		}
		if !st.aliasOnly {
			if err := b.kernels[si].Run(&s.exec, b.stepIn[si], b.stepOut[si]); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return newNodeError(p.nodes[st.node].label, p.nodes[st.node].node, "run", err)
			}
		}
		if hook != nil {
			hook.afterStep(st)
		}
	}
	return nil
}

// bind checks the inputs and returns the specialisation for their shapes. Unless it is dynamic, the
// session's memory is then bound to it (s.bound, reused while the shapes stay) and the input slots point
// at the caller's data.
func (s *Session) bind(inputs []*ops.Tensor) (*specialization, error) {
	p := s.plan
	if len(inputs) != len(p.inputs) {
		return nil, &InputError{Input: "", Msg: fmt.Sprintf("the model takes %d inputs %s, got %d", len(p.inputs), inputNames(p), len(inputs))}
	}
	for i, t := range inputs {
		if err := p.checkInput(i, t, inputs); err != nil {
			return nil, err
		}
	}
	if s.bound == nil || !sameShapes(s.bound.spec, inputs) {
		infos := make([]ops.ValueInfo, len(inputs))
		for i, t := range inputs {
			infos[i] = ops.ConstInfo(t)
			infos[i].Const = nil // planned by shape; the dynamic path gives the values
		}
		spec, err := p.specialize(infos)
		if err != nil {
			return nil, err
		}
		if spec.dynamic {
			return spec, nil
		}
		s.bound = bindMemory(p, spec)
	}
	s.bound.bindInputs(p, inputs)
	return s.bound.spec, nil
}

// bindInputs points the input slots, and the views rooted at them, at the tensors given. An input the
// specialisation holds as a constant (a body's captured initializer) keeps its constant.
func (b *boundPlan) bindInputs(p *Plan, inputs []*ops.Tensor) {
	place := b.spec.memory.place
	for i, id := range p.inputs {
		if place[id].kind != placeInput {
			continue
		}
		if in := inputs[i]; in.Kind() != ops.KindTensor {
			// A sequence or optional that no step reads (a body returning its input as it is): the slot
			// holds the value itself, which is immutable, so sharing it is safe.
			b.tensors[id].SetValue(in)
		} else {
			b.tensors[id].Wrap(in.DType(), in.Shape(), in.Data())
		}
	}
	for _, id := range b.spec.memory.inputAlias {
		r := b.tensors[place[id].aliasOf]
		t := b.tensors[id]
		t.Wrap(t.DType(), t.Shape(), r.Data())
	}
}

// cancelHook stops a run between two steps once its context is done.
type cancelHook struct {
	ctx  context.Context
	done <-chan struct{}
}

func (h *cancelHook) begin(ctx context.Context, _ *specialization, _ *boundPlan) {
	h.ctx, h.done = ctx, ctx.Done()
}

func (h *cancelHook) beforeStep(*step) error {
	if h.done == nil {
		return nil
	}
	select {
	case <-h.done:
		return h.ctx.Err()
	default:
		return nil
	}
}

func (h *cancelHook) afterStep(*step)               {}
func (h *cancelHook) end(evaluated *specialization) {}

func sameShapes(spec *specialization, inputs []*ops.Tensor) bool {
	for i, t := range inputs {
		if !spec.inputShapes[i].Equal(t.Shape()) {
			return false
		}
	}
	return true
}

// runDynamic plans with the actual input values, which folds the whole graph: the slow path for models whose
// shapes depend on data. It stops between nodes when ctx is done. The specialisation it returns holds
// every value computed, outputs included, as constants.
func (p *Plan) runDynamic(ctx context.Context, inputs []*ops.Tensor) (*specialization, error) {
	infos := make([]ops.ValueInfo, len(inputs))
	for i, t := range inputs {
		infos[i] = ops.ConstInfo(t)
	}
	s, err := p.planContext(ctx, infos, planFoldAll)
	if err != nil {
		// Shapes that depend on values were never planned before this Run: what fails now fails on the
		// caller's values (a depth, a shape, an index fed as input), so it is a run-time error.
		var ne *NodeError
		if errors.As(err, &ne) && !strings.HasPrefix(ne.Stage, "run") {
			ne.Stage = "run: " + ne.Stage
		}
		return nil, err
	}
	return s, nil
}

// allocArena makes the plan's buffers into arena (by buffer index) and returns the kernels' scratch. The
// float32 buffers and the scratch (nearly all of the arena in a float model) are carved from one
// allocation, which takes transparent huge pages (package hugepage): a first Run then writes its
// activations into memory faulted in 2 MiB at a time rather than 4 KiB. Each buffer starts on a 64-byte
// cache line and is capped at its length.
func allocArena(mp *memoryPlan, arena []any) (scratch []float32) {
	const line = 64 / 4 // float32s per cache line
	total := roundUpTo(mp.scratch, line)
	for _, bs := range mp.buffers {
		if bs.dtype == ops.Float32 {
			total += roundUpTo(bs.elems, line)
		}
	}
	slab := hugepage.Float32s(total)
	carve := func(n int) []float32 {
		s := slab[:n:n]
		slab = slab[roundUpTo(n, line):]
		return s
	}
	scratch = carve(mp.scratch)
	for i, bs := range mp.buffers {
		if bs.dtype == ops.Float32 {
			arena[i] = carve(bs.elems)
		} else {
			arena[i] = ops.MakeSlice(bs.dtype, bs.elems)
		}
	}
	return scratch
}

func roundUpTo(n, m int) int { return (n + m - 1) / m * m }

// bindMemory attaches fresh memory to a specialisation.
func bindMemory(p *Plan, spec *specialization) *boundPlan {
	mp := &spec.memory
	b := &boundPlan{spec: spec, tensors: make([]*ops.Tensor, p.numValues)}
	b.arena = make([]any, len(mp.buffers))
	b.scratch = allocArena(mp, b.arena)
	for id := range b.tensors {
		info := spec.infos[id]
		pl := mp.place[id]
		switch pl.kind {
		case placeConst:
			b.tensors[id] = info.Const
		case placeInput:
			b.tensors[id] = new(ops.Tensor)
		case placeBuffer:
			t := new(ops.Tensor)
			t.Wrap(info.DType, info.Shape, ops.Slice(b.arena[pl.buffer], 0, info.Shape.Size()))
			b.tensors[id] = t
		}
	}
	for id := range b.tensors {
		pl := mp.place[id]
		if pl.kind != placeAlias {
			continue
		}
		info := spec.infos[id]
		t := new(ops.Tensor)
		if r := b.tensors[pl.aliasOf]; mp.place[pl.aliasOf].kind == placeBuffer {
			t.Wrap(info.DType, info.Shape, ops.Slice(r.Data(), pl.offset, pl.offset+info.Shape.Size()))
		} else {
			// Rooted at a graph input: Run points it at the caller's data each time. Until then hold a slice of the
			// right length so the tensor is well-formed.
			t.Wrap(info.DType, info.Shape, ops.MakeSlice(info.DType, info.Shape.Size()))
		}
		b.tensors[id] = t
	}
	b.kernels = make([]ops.Kernel, len(spec.steps))
	for si, st := range spec.steps {
		b.kernels[si] = st.kernel
		if sk, ok := st.kernel.(sessionKernel); ok {
			b.kernels[si] = sk.forSession()
		}
	}
	b.stepIn = make([][]*ops.Tensor, len(spec.steps))
	b.stepOut = make([][]*ops.Tensor, len(spec.steps))
	for si, st := range spec.steps {
		b.stepIn[si] = make([]*ops.Tensor, len(st.in))
		for j, id := range st.in {
			if id != noValue {
				b.stepIn[si][j] = b.tensors[id]
			}
		}
		b.stepOut[si] = make([]*ops.Tensor, len(st.out))
		for j, id := range st.out {
			b.stepOut[si][j] = b.tensors[id]
		}
	}
	b.outputs = make([]*ops.Tensor, len(p.outputs))
	for i, id := range p.outputs {
		b.outputs[i] = b.tensors[id]
		if mp.place[id].kind == placeConst && b.outputs[i].Kind() == ops.KindTensor {
			// A constant output (an initializer, or what folded from them) is the plan's, shared by every
			// session and possibly in the mapped model file's read-only pages: the caller gets a copy in the
			// session's memory, refreshed at each Run in case the caller wrote into it.
			b.outputs[i] = b.tensors[id].Clone()
			b.constOutputs = append(b.constOutputs, constOutput{out: i, value: b.tensors[id]})
		}
	}
	return b
}

// constOutput is output number out, a copy of the constant value.
type constOutput struct {
	out   int
	value *ops.Tensor
}

// refreshConstOutputs copies the constant outputs' values into the session's copies of them.
func (b *boundPlan) refreshConstOutputs() {
	for _, c := range b.constOutputs {
		ops.CopyData(b.outputs[c.out], c.value)
	}
}

func inputNames(p *Plan) string {
	s := "("
	for i, in := range p.graph.Inputs {
		if i > 0 {
			s += ", "
		}
		s += in.Name + " " + in.TypeString()
	}
	return s + ")"
}

// checkInput compares a caller's tensor with the model's declaration: dtype, rank and every fixed dimension.
func (p *Plan) checkInput(i int, t *ops.Tensor, inputs []*ops.Tensor) error {
	spec := p.graph.Inputs[i]
	if t == nil {
		return &InputError{Input: spec.Name, Msg: "is nil"}
	}
	if spec.Type != nil || t.Kind() != ops.KindTensor {
		return checkValueInput(spec, t)
	}
	if t.DType() != spec.DType {
		return &InputError{Input: spec.Name, Msg: fmt.Sprintf("expected dtype %s, got %s", spec.DType, t.DType())}
	}
	if err := t.CheckData(); err != nil {
		// Kernels index the data by the shape and assert its type: such a tensor would make them panic.
		return &InputError{Input: spec.Name, Msg: err.Error()}
	}
	if !spec.HasShape {
		return nil
	}
	shape := t.Shape()
	if len(shape) != len(spec.Dims) {
		return &InputError{Input: spec.Name, Msg: fmt.Sprintf("expected shape %s (rank %d), got %v (rank %d)", spec.ShapeString(), len(spec.Dims), shape, len(shape))}
	}
	for j, d := range spec.Dims {
		if !d.Symbolic() && int64(shape[j]) != d.Value {
			return &InputError{Input: spec.Name, Msg: fmt.Sprintf("expected shape %s, got %v: dimension %d must be %d", spec.ShapeString(), shape, j, d.Value)}
		}
	}
	// A symbol shared between inputs (two inputs both [N,...]) must have one size.
	for j, d := range spec.Dims {
		if d.Param == "" {
			continue
		}
		for k := 0; k < i; k++ {
			for jj, od := range p.graph.Inputs[k].Dims {
				if od.Param == d.Param && inputs[k] != nil && jj < inputs[k].Rank() && inputs[k].Shape()[jj] != shape[j] {
					return &InputError{Input: spec.Name, Msg: fmt.Sprintf("dimension %d (%s) is %d, but %s is %d in input %q", j, d.Param, shape[j], d.Param, inputs[k].Shape()[jj], p.graph.Inputs[k].Name)}
				}
			}
		}
	}
	return nil
}

// checkValueInput checks a sequence, optional or map input, or a non-tensor value fed where a tensor is
// declared: the kinds and element types must agree, and every tensor inside must be well formed.
func checkValueInput(spec ValueSpec, t *ops.Tensor) error {
	if spec.Type == nil {
		return &InputError{Input: spec.Name, Msg: fmt.Sprintf("expected a tensor %s, got a %s", spec.TypeString(), t.Type())}
	}
	if got := t.Type(); !got.Equal(*spec.Type) {
		return &InputError{Input: spec.Name, Msg: fmt.Sprintf("expected a %s, got a %s", spec.Type, got)}
	}
	if err := t.CheckValue(); err != nil {
		return &InputError{Input: spec.Name, Msg: err.Error()}
	}
	return nil
}
