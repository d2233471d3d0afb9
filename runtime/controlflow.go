package runtime

import (
	"context"
	"fmt"

	"github.com/onnxrun/onnxrun/ops"
)

// Control flow: If, Loop and Scan. Their bodies are graphs, which only the runtime can compile, so these
// operators live here rather than in ops; they register through ops.Register like every kernel, and the
// runtime compiles their bodies once the node is bound (bindGraph calls compileBodies).
//
// A body is compiled into a nested Plan whose inputs are its formal inputs followed by its captures: the
// values of enclosing graphs it reads by name, at any depth. The owning node lists the captures of all its
// bodies as implicit inputs after its own (convertGraph, implicitInputs), so the outer plan orders,
// keeps alive and folds them like any input, and a body slot is bound, by position, to whatever its outer
// slot holds at run time. A capture that is constant in the outer plan (an initializer) is constant in the
// body's specialisation too, so the body folds what depends on it.
//
// A body is specialised when the node's kernel is prepared, for the shapes the outer plan gives it. Each
// session binds the body's memory once (sessionKernel), so an iteration whose shapes are those of the one
// before does no planning, no map lookup and no allocation: the body's inputs are re-pointed at the
// loop-carried values, its steps run, and its outputs are copied into the carried buffers (two sets,
// swapped each iteration, so that a body returning its inputs in another order reads what it should). A
// shape that changes re-specialises the body for the new shapes.

func init() {
	// If, Loop and Scan changed in later opsets only in the types their values may have (sequences and
	// optionals from 16, new element types after it); the tensor semantics are the same.
	ops.Register("", "If", ops.SameBuilder(buildIf, 1, 11, 13, 16, 19, 21, 23, 24, 25)...)
	// Loop-11 made the body's condition output and the M and cond inputs' shapes scalars as well as [1].
	ops.Register("", "Loop", ops.SameBuilder(buildLoop, 1, 11, 13, 16, 19, 21, 23, 24, 25)...)
	// Scan-8 has a batch axis and sequence_lens; Scan-9 dropped both and added the axes attributes.
	ops.Register("", "Scan", append([]ops.Version{ops.Since(8, buildScan8)}, ops.SameBuilder(buildScan, 9, 11, 16, 19, 21, 23, 24, 25)...)...)
}

// bodyOwner is an operator with bodies: bindGraph compiles them, and a dynamic plan (planFoldAll) runs
// the operator through evaluate on the values it has.
type bodyOwner interface {
	compileBodies(label string, opts Options, opsets map[string]int) error
	// evaluate computes the node's outputs from inputs that are all known (Const set, or absent).
	evaluate(ctx context.Context, in []ops.ValueInfo, numOutputs int) ([]*ops.Tensor, error)
}

// body is one subgraph attribute of a control-flow node.
type body struct {
	attr    string // the attribute's name, for messages
	graph   *Graph
	plan    *Plan
	formal  int   // the body's own inputs (before its captures)
	capture []int // for each capture, its index among the node's inputs
	// declaredIn and declaredOut are the types the body declares for its formal inputs and its outputs,
	// nil where it declares none (a tensor with no element type, or no type at all).
	declaredIn, declaredOut []*ops.ValueType
}

// declaredType is the type a graph input or output declares, nil when it declares none.
func declaredType(v ValueSpec) *ops.ValueType {
	if v.Type != nil {
		return v.Type
	}
	if v.DType == ops.Undefined {
		return nil
	}
	t := ops.TensorType(v.DType)
	return &t
}

// fitsDeclared reports whether a value of type got may stand where want is declared: the same kinds all
// the way down, where a declared optional may also hold its element bare (a loop-carried optional(seq)
// that the body returns as a seq, as ONNX's reference runs it). Element dtypes are not compared: bodies
// exported with loose declarations run as their nodes compute.
func fitsDeclared(want *ops.ValueType, got ops.ValueType) bool {
	if want == nil {
		return true
	}
	if want.Kind == got.Kind {
		return want.Elem == nil || got.Elem == nil || fitsDeclared(want.Elem, *got.Elem)
	}
	return want.Kind == ops.KindOptional && fitsDeclared(want.Elem, got)
}

// typeOfInfo is the full type a ValueInfo describes.
func typeOfInfo(v ops.ValueInfo) ops.ValueType {
	if v.Type != nil {
		return *v.Type
	}
	return ops.TensorType(v.DType)
}

// checkOutput refuses a body output whose kind is not the one the body declares (a sequence where a
// tensor is declared): the node's outputs, and what carries them further, are planned from the
// declaration's kind. It allocates nothing unless it fails: it runs at every iteration of a Loop.
func (b *body) checkOutput(i int, got ops.ValueType) error {
	if want := b.declaredOut[i]; !fitsDeclared(want, got) {
		return ops.Invalidf("body %q: output %d (%q) is a %s where the body declares %s", b.attr, i, b.graph.Outputs[i].Name, got, *want)
	}
	return nil
}

// newBody reads a graph attribute and places its captures among the node's implicit inputs.
func newBody(n ops.NodeInfo, attr string) (*body, error) {
	a, ok := n.Attrs.Lookup(attr)
	if !ok {
		return nil, ops.Invalidf("attribute %q (a graph) is missing", attr)
	}
	g, ok := a.Graph.(*Graph)
	if !ok {
		return nil, ops.Invalidf("attribute %q is a %s, not a graph", attr, a.Type)
	}
	implicit := implicitInputs(n.Attrs)
	first := n.NumInputs - len(implicit)
	b := &body{attr: attr, graph: g, formal: len(g.Inputs) - len(g.Captures)}
	for _, v := range g.Inputs[:b.formal] {
		b.declaredIn = append(b.declaredIn, declaredType(v))
	}
	for _, v := range g.Outputs {
		b.declaredOut = append(b.declaredOut, declaredType(v))
	}
	for _, c := range g.Captures {
		for i, name := range implicit {
			if name == c {
				b.capture = append(b.capture, first+i)
			}
		}
	}
	return b, nil
}

// explicitInputs is how many inputs the model lists for the node, implicit ones excluded.
func explicitInputs(n ops.NodeInfo) int { return n.NumInputs - len(implicitInputs(n.Attrs)) }

// compile sorts, binds and numbers the body (its own bodies compiled in turn).
func (b *body) compile(opts Options, opsets map[string]int) error {
	if b.plan != nil {
		return nil
	}
	if err := sortGraph(b.graph); err != nil {
		return fmt.Errorf("body %q: %w", b.attr, err)
	}
	if err := bindGraph(b.graph, opts, opsets); err != nil {
		return fmt.Errorf("body %q: %w", b.attr, err)
	}
	p, err := newPlan(b.graph, opts, opsets)
	if err != nil {
		return fmt.Errorf("body %q: %w", b.attr, err)
	}
	b.plan = p
	return nil
}

// inputInfos is what the body's inputs are: formal as given, then the captures as the node's inputs are.
func (b *body) inputInfos(formal []ops.ValueInfo, nodeIn []ops.ValueInfo) []ops.ValueInfo {
	infos := make([]ops.ValueInfo, 0, b.formal+len(b.capture))
	infos = append(infos, formal...)
	for _, i := range b.capture {
		infos = append(infos, nodeIn[i])
	}
	return infos
}

// infer plans the body's shapes for these inputs and returns its outputs' types and shapes, constants
// dropped (the node's outputs are never constants: control flow is not folded). A sequence or optional
// output keeps its type, so that the outer plan takes the dynamic path where its size is data.
func (b *body) infer(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if b.plan == nil {
		return nil, fmt.Errorf("body %q was not compiled", b.attr)
	}
	if len(in) != len(b.plan.inputs) {
		return nil, ops.Invalidf("body %q takes %d inputs, the node gives it %d", b.attr, len(b.plan.inputs)-len(b.capture), len(in)-len(b.capture))
	}
	s, err := b.plan.plan(in, planShapes)
	if err != nil {
		return nil, fmt.Errorf("body %q: %w", b.attr, err)
	}
	if s.dynamic {
		return nil, ops.Dynamicf("body %q: %v", b.attr, s.dynamicReason)
	}
	outs := make([]ops.ValueInfo, len(b.plan.outputs))
	for i, id := range b.plan.outputs {
		v := s.infos[id]
		if err := b.checkOutput(i, typeOfInfo(v)); err != nil {
			return nil, err
		}
		outs[i] = ops.ValueInfo{DType: v.DType, Shape: v.Shape, Type: v.Type}
	}
	return outs, nil
}

// prepare specialises the body for these inputs: kernels and memory plan, shared by the sessions.
func (b *body) prepare(in []ops.ValueInfo) (*specialization, error) {
	s, err := b.plan.plan(in, planSteps)
	if err != nil {
		return nil, fmt.Errorf("body %q: %w", b.attr, err)
	}
	if !s.dynamic {
		if s.memory, err = planMemory(b.plan, s); err != nil {
			return nil, fmt.Errorf("body %q: %w", b.attr, err)
		}
	}
	return s, nil
}

// bodyRunner runs one body in one session: its memory, bound once per specialisation, and the tensors its
// inputs are set to before each run.
type bodyRunner struct {
	body *body
	sess Session // the body's plan; no threads of its own: it runs on the outer session's (start)
	// spec is the specialisation the runner runs while its inputs' shapes fit it.
	spec *specialization
	// consts are the inputs that were constant when the body was prepared (captured initializers), by
	// body input; they stay constant, and a re-specialisation keeps them.
	consts []*ops.Tensor
	in     []*ops.Tensor // the body's inputs for the next run
	// observe is the observer of an observed run (RunWithObserver), nil otherwise. The body's values of
	// its last run are kept in latest, named NODE/ATTR/VALUE, and given to observe by flush once the node
	// is done: a Loop's dump shows its last iteration.
	observe Observer
	prefix  string
	latest  []observedValue
	// profiler times the body's steps in a profiled run (RunProfiled), kept here so that a run allocates
	// nothing for it.
	profiler bodyProfileHook
}

type observedValue struct {
	name string
	t    *ops.Tensor
}

// observerKey is the context key under which an observed run passes its Observer down to the bodies of
// control-flow nodes, whose kernels see only the execution context.
type observerKey struct{}

func withObserver(ctx context.Context, observe Observer) context.Context {
	return context.WithValue(ctx, observerKey{}, observe)
}

func observerFrom(ctx context.Context) Observer {
	if ctx == nil {
		return nil
	}
	observe, _ := ctx.Value(observerKey{}).(Observer)
	return observe
}

// newBodyRunner makes a runner for spec (nil: specialise at the first run for the inputs then given),
// prepared for inputs described by prepared.
func newBodyRunner(b *body, spec *specialization, prepared []ops.ValueInfo) *bodyRunner {
	r := &bodyRunner{body: b, spec: spec, consts: make([]*ops.Tensor, len(b.plan.inputs)), in: make([]*ops.Tensor, len(b.plan.inputs))}
	r.sess.plan = b.plan
	for i, info := range prepared {
		r.consts[i] = info.Const
	}
	if spec != nil && !spec.dynamic {
		r.sess.bound = bindMemory(b.plan, spec)
	}
	return r
}

// start takes the outer kernel's execution context (threads, context) for the runs to come, and binds
// the captures to the node's inputs; label is the node's, for the names of observed values.
func (r *bodyRunner) start(exec *ops.ExecContext, nodeIn []*ops.Tensor, label string) {
	r.sess.exec = *exec
	r.observe = observerFrom(exec.Context)
	r.latest = r.latest[:0]
	if r.observe != nil {
		r.prefix = label + "/" + r.body.attr + "/"
	}
	for j, i := range r.body.capture {
		r.in[r.body.formal+j] = nodeIn[i]
	}
}

// fits reports whether the inputs have the types and shapes the bound specialisation was made for.
func (r *bodyRunner) fits(b *boundPlan) bool {
	for i, t := range r.in {
		if r.consts[i] != nil {
			continue
		}
		if t == nil {
			return false
		}
		info := b.spec.infos[r.body.plan.inputs[i]]
		if t.Kind() != ops.KindTensor || info.Type != nil {
			// A sequence or optional that the plan only passes through (one that a node reads makes the
			// plan dynamic): it fits a plan made for its type.
			if info.Type == nil || !t.Type().Equal(*info.Type) {
				return false
			}
			continue
		}
		if t.DType() != info.DType || !t.Shape().Equal(b.spec.inputShapes[i]) {
			return false
		}
	}
	return true
}

// describeValue is what a plan is told of a value: its type and shape, and c as its constant (nil: none).
func describeValue(t, c *ops.Tensor) ops.ValueInfo {
	v := ops.ConstInfo(t)
	v.Const = c
	return v
}

// flush gives the observer the values of the body's last run.
func (r *bodyRunner) flush() {
	if r.observe == nil {
		return
	}
	for _, v := range r.latest {
		r.observe(v.name, v.t)
	}
	r.latest = r.latest[:0]
}

// run runs the body on r.in and returns its outputs, which stay valid until the next run.
func (r *bodyRunner) run(ctx context.Context) ([]*ops.Tensor, error) {
	var hook stepHook
	if scope := profileScopeFrom(ctx); scope != nil && r.observe == nil {
		if prof := scope.profileFor(r.body.attr); prof != nil {
			r.profiler = bodyProfileHook{scope: scope, prof: prof}
			hook = &r.profiler
		}
	}
	if r.observe != nil {
		// Observed: record this run's values (a nested body's come through the context, named under
		// this one), replacing the previous run's.
		r.latest = r.latest[:0]
		record := func(name string, t *ops.Tensor) { r.latest = append(r.latest, observedValue{r.prefix + name, t}) }
		ctx = withObserver(ctx, record)
		hook = &observeHook{plan: r.body.plan, observe: record}
	}
	return r.runHooked(ctx, hook)
}

func (r *bodyRunner) runHooked(ctx context.Context, hook stepHook) ([]*ops.Tensor, error) {
	p := r.body.plan
	b := r.sess.bound
	if b == nil || !r.fits(b) {
		infos := make([]ops.ValueInfo, len(r.in))
		for i, t := range r.in {
			if t == nil {
				return nil, fmt.Errorf("body %q: input %d (%q) has no value", r.body.attr, i, p.names[p.inputs[i]])
			}
			infos[i] = describeValue(t, r.consts[i])
		}
		if r.spec == nil || !r.spec.dynamic {
			spec, err := r.body.prepare(infos)
			if err != nil {
				return nil, err
			}
			r.spec = spec
		}
		if r.spec.dynamic {
			for i, t := range r.in {
				infos[i].Const = t
			}
			evaluated, err := p.planContext(ctx, infos, planFoldAll)
			if err != nil {
				return nil, fmt.Errorf("body %q: %w", r.body.attr, err)
			}
			if hook != nil {
				hook.begin(ctx, evaluated, nil)
				hook.end(evaluated)
			}
			outs := make([]*ops.Tensor, len(p.outputs))
			for i, id := range p.outputs {
				outs[i] = evaluated.infos[id].Const
			}
			r.spec = nil // plan again next time, with the values then
			return outs, r.checkOutputs(outs)
		}
		r.sess.bound = bindMemory(p, r.spec)
		b = r.sess.bound
	}
	b.bindInputs(p, r.in)
	if hook == nil {
		if err := r.sess.runSteps(ctx, b, nil); err != nil {
			return nil, fmt.Errorf("body %q: %w", r.body.attr, err)
		}
		return b.outputs, r.checkOutputs(b.outputs)
	}
	outer := r.sess.exec.Context
	r.sess.exec.Context = ctx
	hook.begin(ctx, b.spec, b)
	err := r.sess.runSteps(ctx, b, hook)
	r.sess.exec.Context = outer
	if err != nil {
		return nil, fmt.Errorf("body %q: %w", r.body.attr, err)
	}
	hook.end(nil)
	return b.outputs, r.checkOutputs(b.outputs)
}

// checkOutputs checks the kinds of a run's outputs against the body's declarations.
func (r *bodyRunner) checkOutputs(outs []*ops.Tensor) error {
	for i, t := range outs {
		if err := r.body.checkOutput(i, t.Type()); err != nil {
			return err
		}
	}
	return nil
}

// sizedLike makes *t a tensor of src's dtype and shape, allocating only when either changed.
func sizedLike(t **ops.Tensor, src *ops.Tensor) *ops.Tensor {
	if *t == nil || (*t).Kind() != ops.KindTensor || (*t).DType() != src.DType() || !(*t).Shape().Equal(src.Shape()) {
		*t = ops.New(src.DType(), src.Shape())
	}
	return *t
}

// carryValue makes *dst hold src for the body's next run, src being a body output that its next run
// overwrites: a tensor's elements are copied into a buffer kept from iteration to iteration (allocated
// only when the dtype or shape changes); a sequence, optional or map is shared, since its contents are
// immutable (the kernels that make one build a new value, cloning the tensors they put in it).
func carryValue(dst **ops.Tensor, src *ops.Tensor) {
	if src.Kind() != ops.KindTensor {
		if *dst == nil {
			*dst = new(ops.Tensor)
		}
		(*dst).SetValue(src)
		return
	}
	ops.CopyData(sizedLike(dst, src), src)
}

// copyOut copies a body's result (what, number i) into a node output planned with a type and shape, which
// it must have. The message is formatted only on error: this runs once per Run of a Loop.
func copyOut(dst, src *ops.Tensor, what string, i int) error {
	if src.Kind() != ops.KindTensor || dst.Kind() != ops.KindTensor {
		if got, want := src.Type(), dst.Type(); !got.Equal(want) {
			return ops.Invalidf("%s: output %d is a %s, planned as %s", what, i, got, want)
		}
		dst.SetValue(src) // immutable contents: shared, like a carried value
		return nil
	}
	if dst.DType() != src.DType() || !dst.Shape().Equal(src.Shape()) {
		return ops.Invalidf("%s: output %d is %s%v, planned as %s%v", what, i, src.DType(), src.Shape(), dst.DType(), dst.Shape())
	}
	ops.CopyData(dst, src)
	return nil
}

// scalarOf checks that a condition or trip count is a tensor of one element of the given dtype.
func scalarOf(v ops.ValueInfo, dt ops.DType, what string) error {
	if v.Kind() != ops.KindTensor {
		return ops.Invalidf("%s must be a %s tensor, got a %s", what, dt, *v.Type)
	}
	if v.DType != dt {
		return ops.Invalidf("%s must be %s, got %s", what, dt, v.DType)
	}
	if v.Shape.Size() != 1 {
		return ops.Invalidf("%s must hold one element, got shape %v", what, v.Shape)
	}
	return nil
}

func clearConsts(infos []ops.ValueInfo) []ops.ValueInfo {
	for i := range infos {
		infos[i].Const = nil
	}
	return infos
}

func constInputs(in []ops.ValueInfo) []*ops.Tensor {
	ts := make([]*ops.Tensor, len(in))
	for i, v := range in {
		ts[i] = v.Const
	}
	return ts
}

// ---- If ----

// ifOp is If: run then_branch or else_branch on a one-element boolean condition. The branches take no
// inputs of their own; they read the enclosing graphs' values through their captures.
type ifOp struct {
	branches [2]*body // else, then: indexed by the condition
	label    string
}

func buildIf(n ops.NodeInfo) (ops.Op, error) {
	if k := explicitInputs(n); k != 1 {
		return nil, ops.Invalidf("If takes 1 input (cond), got %d", k)
	}
	var o ifOp
	for i, attr := range []string{"else_branch", "then_branch"} {
		b, err := newBody(n, attr)
		if err != nil {
			return nil, err
		}
		if b.formal != 0 {
			return nil, ops.Invalidf("%s declares %d inputs; If's branches take none", attr, b.formal)
		}
		if len(b.graph.Outputs) != n.NumOutputs {
			return nil, ops.Invalidf("%s has %d outputs, the node %d", attr, len(b.graph.Outputs), n.NumOutputs)
		}
		o.branches[i] = b
	}
	return &o, nil
}

// AcceptsNonTensors: the branches may read sequences and optionals of the graphs around them (the
// condition is checked to be a tensor).
func (o *ifOp) AcceptsNonTensors() bool { return true }

func (o *ifOp) compileBodies(label string, opts Options, opsets map[string]int) error {
	o.label = label
	for _, b := range o.branches {
		if err := b.compile(opts, opsets); err != nil {
			return err
		}
	}
	return nil
}

func condIndex(t *ops.Tensor) int {
	if t.Bools()[0] {
		return 1
	}
	return 0
}

func (o *ifOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := scalarOf(in[0], ops.Bool, "cond"); err != nil {
		return nil, err
	}
	if in[0].Const != nil {
		b := o.branches[condIndex(in[0].Const)]
		return b.infer(b.inputInfos(nil, in))
	}
	var outs [2][]ops.ValueInfo
	for i, b := range o.branches {
		var err error
		if outs[i], err = b.infer(b.inputInfos(nil, in)); err != nil {
			return nil, err
		}
	}
	for j := range outs[0] {
		e, t := outs[0][j], outs[1][j]
		if e.DType != t.DType {
			return nil, ops.Invalidf("output %d is %s in then_branch and %s in else_branch", j, t.DType, e.DType)
		}
		if et, tt := typeOfInfo(e), typeOfInfo(t); !et.Equal(tt) {
			return nil, ops.Invalidf("output %d is a %s in then_branch and a %s in else_branch", j, tt, et)
		}
		if !e.Shape.Equal(t.Shape) {
			// Shapes that depend on the branch taken: planned with the condition's value at each Run.
			return nil, ops.Dynamicf("output %d is %v in then_branch and %v in else_branch", j, t.Shape, e.Shape)
		}
	}
	return outs[1], nil
}

func (o *ifOp) Prepare(in []ops.ValueInfo, out []ops.ValueInfo) (ops.Kernel, error) {
	k := &ifKernel{op: o}
	for i, b := range o.branches {
		if in[0].Const != nil && condIndex(in[0].Const) != i {
			continue // never taken: never planned (AffineGrid's expanded form has a 2-D and a 3-D branch)
		}
		infos := b.inputInfos(nil, in)
		spec, err := b.prepare(infos)
		if err != nil {
			return nil, err
		}
		k.specs[i], k.infos[i] = spec, infos
	}
	return k, nil
}

func (o *ifOp) evaluate(ctx context.Context, in []ops.ValueInfo, _ int) ([]*ops.Tensor, error) {
	if err := scalarOf(in[0], ops.Bool, "cond"); err != nil {
		return nil, err
	}
	b := o.branches[condIndex(in[0].Const)]
	r := newBodyRunner(b, nil, b.inputInfos(nil, in))
	exec := ops.SerialContext()
	exec.Context = ctx
	r.start(exec, constInputs(in), o.label)
	outs, err := r.run(ctx)
	if err != nil {
		return nil, err
	}
	r.flush()
	return cloneAll(outs), nil
}

type ifKernel struct {
	op    *ifOp
	specs [2]*specialization
	infos [2][]ops.ValueInfo
}

func (k *ifKernel) forSession() ops.Kernel {
	inst := &ifInstance{label: k.op.label}
	for i, b := range k.op.branches {
		if k.specs[i] != nil {
			inst.runners[i] = newBodyRunner(b, k.specs[i], k.infos[i])
		}
	}
	return inst
}

func (k *ifKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	return k.forSession().Run(ctx, in, out)
}

type ifInstance struct {
	runners [2]*bodyRunner
	label   string
}

func (inst *ifInstance) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	r := inst.runners[condIndex(in[0])]
	r.start(ctx, in, inst.label)
	outs, err := r.run(ctx.Context)
	if err != nil {
		return err
	}
	r.flush()
	for i, t := range outs {
		if err := copyOut(out[i], t, r.body.attr, i); err != nil {
			return err
		}
	}
	return nil
}
