package runtime

import (
	"context"
	"fmt"
	"time"

	"github.com/onnxrun/onnxrun/ops"
)

// Profile is where Session.RunProfiled adds up the time each step of a plan takes, for `onnxrun bench
// --profile` and the ONNX Runtime comparison. It also describes the steps (node, op type, shapes, the
// multiply-adds the kernel reports) and the memory the plan asks for, so one value answers both "what runs"
// and "where the time goes".
//
// A Profile belongs to one specialisation (one set of input shapes). Make it with Plan.NewProfile, or pass
// a zero Profile to RunProfiled, which fills the description at the first run; a run at other shapes
// starts the profile over.
type Profile struct {
	// Steps are the kernel calls of one Run, in order. Steps that only make views of their inputs
	// (Reshape, Flatten: no kernel runs) are left out.
	Steps []StepProfile
	// ArenaBytes is what the plan's buffers for intermediate values take; ScratchBytes the shared kernel
	// scratch (im2col, packed panels). Both are allocated once per Session.
	ArenaBytes   int64
	ScratchBytes int64
	// Dynamic is set for a plan whose shapes depend on input values: such a run evaluates the whole graph
	// while planning, so there are no steps to time, only Total.
	Dynamic bool
	// Runs is how many runs Total and the steps' times add up.
	Runs int
	// Total is the wall time of those runs, from the input checks to the last kernel.
	Total time.Duration

	spec *specialization
}

// StepProfile is one kernel call.
type StepProfile struct {
	Node   string // the node's label: its name, else its first output, else #index:OpType
	Domain string // "" for the default ONNX domain, "onnxrun" for fused ops
	OpType string
	// InputShapes has one entry per node input (nil for an absent optional input); OutputShapes one per output.
	InputShapes  []ops.Shape
	OutputShapes []ops.Shape
	// MACs is the multiply-adds the kernel reports doing per run (ops.Coster), 0 when it does not say.
	MACs int64
	// Time is the wall time of the kernel, added up over Profile.Runs runs.
	Time time.Duration
	// Forks is how many parallel sections (fork/joins on the session's pool) the kernel opened, added up
	// over Profile.Runs runs: 0 for a kernel that ran on one thread, the per-run count otherwise shows
	// how thin it cut its work (each section costs a handoff to the workers and a join).
	Forks int64
	// Units is the work units the kernel handed those sections (the n of each pool For), added up over
	// Profile.Runs runs: Units/Forks is how many pieces each section was cut into, which bounds how well
	// the threads can share it.
	Units int64
	// Bodies are, for a control-flow node (If, Loop, Scan), what ran inside its bodies, one entry per
	// body in the order of bodyProber.bodies; nil for other nodes. Their time is part of Time.
	Bodies []BodyProfile
}

// BodyProfile is what one body of a control-flow node ran, added up over every run of the body (each
// iteration of a Loop or Scan, each time an If took this branch) in Profile.Runs runs of the model.
type BodyProfile struct {
	Attr string // the body's attribute: "body", "then_branch", "else_branch"
	// Runs is how many times the body ran.
	Runs int
	// Steps has one entry per node of the body (after the graph passes), in its order; a node whose
	// kernel never ran (folded, a view, or in a specialisation not taken) has Calls 0.
	Steps []BodyStepProfile
}

// BodyStepProfile is one node of a body: how many times its kernel ran and their total wall time.
type BodyStepProfile struct {
	Node   string
	Domain string
	OpType string
	Calls  int
	Time   time.Duration
	// Bodies are, for a control-flow node nested in the body, what ran inside its own bodies.
	Bodies []BodyProfile
}

// Mean is the average time of one run, or 0 before any.
func (p *Profile) Mean() time.Duration {
	if p.Runs == 0 {
		return 0
	}
	return p.Total / time.Duration(p.Runs)
}

// Reset zeroes the times, the fork counts and the run count, keeping the description of the steps.
func (p *Profile) Reset() {
	p.Runs, p.Total = 0, 0
	for i := range p.Steps {
		p.Steps[i].Time, p.Steps[i].Forks, p.Steps[i].Units = 0, 0, 0
		resetBodies(p.Steps[i].Bodies)
	}
}

func resetBodies(bodies []BodyProfile) {
	for i := range bodies {
		bodies[i].Runs = 0
		for j := range bodies[i].Steps {
			st := &bodies[i].Steps[j]
			st.Calls, st.Time = 0, 0
			resetBodies(st.Bodies)
		}
	}
}

// newBodyProfiles describes the bodies of a control-flow operator (nil for any other op).
func newBodyProfiles(op ops.Op) []BodyProfile {
	owner, ok := op.(bodyProber)
	if !ok {
		return nil
	}
	bodies := owner.bodies()
	profs := make([]BodyProfile, len(bodies))
	for i, b := range bodies {
		profs[i].Attr = b.attr
		for _, pn := range b.plan.nodes {
			profs[i].Steps = append(profs[i].Steps, BodyStepProfile{Node: pn.label, Domain: pn.node.Domain, OpType: pn.node.OpType,
				Bodies: newBodyProfiles(pn.node.Op)})
		}
	}
	return profs
}

// NewProfile plans the model for the given input shapes (inputs in order, dtypes as declared, like
// Describe) and returns an empty Profile of its steps, ready for Session.RunProfiled.
func (p *Plan) NewProfile(shapes ...ops.Shape) (*Profile, error) {
	if len(shapes) != len(p.graph.Inputs) {
		return nil, &InputError{Msg: fmt.Sprintf("NewProfile needs one shape per model input %s, got %d", inputNames(p), len(shapes))}
	}
	infos := make([]ops.ValueInfo, len(shapes))
	for i, in := range p.graph.Inputs {
		infos[i] = ops.ValueInfo{DType: in.DType, Shape: shapes[i]}
	}
	s, err := p.specialize(infos)
	if err != nil {
		return nil, err
	}
	prof := &Profile{}
	prof.describe(p, s)
	return prof, nil
}

// describe fills the profile's steps from a specialisation and zeroes the times.
func (prof *Profile) describe(p *Plan, s *specialization) {
	*prof = Profile{spec: s, Dynamic: s.dynamic}
	if s.dynamic {
		return
	}
	prof.ArenaBytes = s.memory.totalBytes - int64(s.memory.scratch)*4
	prof.ScratchBytes = int64(s.memory.scratch) * 4
	for _, st := range s.steps {
		if st.aliasOnly {
			continue
		}
		n := p.nodes[st.node].node
		sp := StepProfile{Node: p.nodes[st.node].label, Domain: n.Domain, OpType: n.OpType, MACs: st.flops, Bodies: newBodyProfiles(n.Op),
			InputShapes: make([]ops.Shape, len(st.in)), OutputShapes: make([]ops.Shape, len(st.out))}
		for j, id := range st.in {
			if id != noValue {
				sp.InputShapes[j] = s.infos[id].Shape.Clone()
			}
		}
		for j, id := range st.out {
			sp.OutputShapes[j] = s.infos[id].Shape.Clone()
		}
		prof.Steps = append(prof.Steps, sp)
	}
}

// RunProfiled is Run with a clock around every kernel: it computes the same outputs and adds each step's
// time to prof (which must not be nil). It runs through the same path as Run, with a profiling hook that
// Run does not install, so profiling costs the normal path nothing; RunProfiled pays two clock reads per
// step. Like Run, it allocates nothing once the session is bound to these input shapes and prof describes
// them, and a cancelled context stops it the same way.
func (s *Session) RunProfiled(ctx context.Context, inputs []*ops.Tensor, prof *Profile) ([]*ops.Tensor, error) {
	if prof == nil {
		return nil, fmt.Errorf("runtime: RunProfiled needs a Profile, got nil")
	}
	start := time.Now()
	s.profiler = profileHook{plan: s.plan, prof: prof, pool: s.pool}
	if s.plan.hasBodies() {
		// The bodies of control-flow nodes find where to add their steps' times in the context (their
		// kernels see nothing else): one allocation per run, for plans with bodies only.
		if ctx == nil {
			ctx = context.Background()
		}
		s.profiler.scope = &profileScope{}
		ctx = context.WithValue(ctx, profileScopeKey{}, s.profiler.scope)
	}
	outs, err := s.run(ctx, inputs, &s.profiler)
	s.profiler.prof = nil // the session keeps no reference to the caller's profile
	if err != nil {
		return nil, err
	}
	prof.Runs++
	prof.Total += time.Since(start)
	return outs, nil
}

// profileHook times every kernel call into a Profile, whose steps skip the alias-only ones.
type profileHook struct {
	cancelHook
	plan  *Plan
	prof  *Profile
	next  int // index into prof.Steps of the next kernel call
	start time.Time
	pool  *ops.Pool     // the session's, whose Forks are read around each kernel
	forks uint64        // pool.Forks() before the kernel call
	units uint64        // pool.Units() before the kernel call
	scope *profileScope // nil unless the plan has control-flow nodes
}

func (h *profileHook) begin(ctx context.Context, spec *specialization, b *boundPlan) {
	h.cancelHook.begin(ctx, spec, b)
	if h.prof.spec != spec {
		h.prof.describe(h.plan, spec)
	}
	h.next = 0
}

func (h *profileHook) beforeStep(st *step) error {
	if err := h.cancelHook.beforeStep(st); err != nil {
		return err
	}
	if h.scope != nil && !st.aliasOnly {
		h.scope.current = h.prof.Steps[h.next].Bodies
	}
	h.forks, h.units = h.pool.Forks(), h.pool.Units()
	h.start = time.Now()
	return nil
}

func (h *profileHook) afterStep(st *step) {
	if st.aliasOnly {
		return
	}
	h.prof.Steps[h.next].Time += time.Since(h.start)
	h.prof.Steps[h.next].Forks += int64(h.pool.Forks() - h.forks)
	h.prof.Steps[h.next].Units += int64(h.pool.Units() - h.units)
	h.next++
}

// hasBodies reports whether some node of the plan is a control-flow operator.
func (p *Plan) hasBodies() bool {
	for _, pn := range p.nodes {
		if _, ok := pn.node.Op.(bodyProber); ok {
			return true
		}
	}
	return false
}

// profileScope is how a profiled run reaches the bodies of control-flow nodes: current holds the body
// profiles of the step running now, which a body runner adds its run to (and, while its own steps run,
// points at theirs). A run is sequential, so one scope serves the whole run.
type profileScope struct {
	current []BodyProfile
}

type profileScopeKey struct{}

func profileScopeFrom(ctx context.Context) *profileScope {
	if ctx == nil {
		return nil
	}
	scope, _ := ctx.Value(profileScopeKey{}).(*profileScope)
	return scope
}

// bodyProfileHook times the steps of one run of a body into its BodyProfile.
type bodyProfileHook struct {
	cancelHook
	scope *profileScope
	prof  *BodyProfile
	outer []BodyProfile // scope.current when the body started, restored when it ends
	start time.Time
}

// profileFor returns the profile of body attr among the current step's bodies, nil when the step has
// none of that name (a profile made for another plan).
func (scope *profileScope) profileFor(attr string) *BodyProfile {
	for i := range scope.current {
		if scope.current[i].Attr == attr {
			return &scope.current[i]
		}
	}
	return nil
}

func (h *bodyProfileHook) begin(ctx context.Context, spec *specialization, b *boundPlan) {
	h.cancelHook.begin(ctx, spec, b)
	h.outer = h.scope.current
	h.prof.Runs++
}

func (h *bodyProfileHook) beforeStep(st *step) error {
	if err := h.cancelHook.beforeStep(st); err != nil {
		return err
	}
	if !st.aliasOnly && st.node < len(h.prof.Steps) {
		h.scope.current = h.prof.Steps[st.node].Bodies
	}
	h.start = time.Now()
	return nil
}

func (h *bodyProfileHook) afterStep(st *step) {
	if st.aliasOnly || st.node >= len(h.prof.Steps) {
		return
	}
	bs := &h.prof.Steps[st.node]
	bs.Calls++
	bs.Time += time.Since(h.start)
	h.scope.current = h.outer
}

func (h *bodyProfileHook) end(*specialization) { h.scope.current = h.outer }
