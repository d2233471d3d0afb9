package runtime

import (
	"context"
	"errors"
	"fmt"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/attention"
)

// FlexAttention (ai.onnx.preview, version 1) has two optional graph attributes, score_mod and prob_mod,
// which map the whole [B, Hq, L, S] scores (or probabilities) tensor to another of its dtype and shape.
// The arithmetic is ops/attention's (FlexKernel); the modifiers are bodies compiled into nested plans like
// If's branches (controlflow.go), and the kernel calls them through attention.Modifier, implemented here
// by bodyModifier over a bodyRunner. A modifier runs once per Run on the whole tensor, not per element:
// one pass of its plan over B·Hq·L·S values. Its captures (outer values it reads by name) are the node's
// implicit inputs, as for control flow.
//
// A modifier whose output dtype or shape differs from its input is rejected at compile time when its
// shapes can be planned, else at Run; either error names the node and the attribute.

func init() {
	ops.Register(ops.PreviewDomain, "FlexAttention", ops.Since(1, buildFlexAttention))
}

// flexModifiers are the attribute names, in the order flexOp.mods holds them.
var flexModifiers = [2]string{"score_mod", "prob_mod"}

type flexOp struct {
	flex  *attention.FlexOp
	mods  [2]*body // score_mod, prob_mod; nil when absent
	label string
}

func buildFlexAttention(n ops.NodeInfo) (ops.Op, error) {
	explicit := n
	explicit.NumInputs = explicitInputs(n)
	flex, err := attention.NewFlex(explicit)
	if err != nil {
		return nil, err
	}
	o := &flexOp{flex: flex}
	for i, attr := range flexModifiers {
		if _, ok := n.Attrs.Lookup(attr); !ok {
			continue
		}
		b, err := newBody(n, attr)
		if err != nil {
			return nil, err
		}
		if b.formal != 1 || len(b.graph.Outputs) != 1 {
			return nil, ops.Invalidf("%s takes %d inputs and gives %d outputs; it must take one tensor and give one", attr, b.formal, len(b.graph.Outputs))
		}
		o.mods[i] = b
	}
	return o, nil
}

func (o *flexOp) compileBodies(label string, opts Options, opsets map[string]int) error {
	o.label = label
	for _, b := range o.mods {
		if b == nil {
			continue
		}
		if err := b.compile(opts, opsets); err != nil {
			return err
		}
	}
	return nil
}

func (o *flexOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	s, err := o.flex.Geometry(in)
	if err != nil {
		return nil, err
	}
	scores := s.Scores()
	for _, b := range o.mods {
		if b == nil {
			continue
		}
		outs, err := b.infer(b.inputInfos([]ops.ValueInfo{scores}, in))
		if errors.Is(err, ops.ErrDynamicShape) {
			continue // a shape known only by running the body: the kernel checks it at Run
		}
		if err != nil {
			return nil, err
		}
		if got := outs[0]; got.DType != scores.DType || !got.Shape.Equal(scores.Shape) {
			return nil, ops.Invalidf("%s gives %s%v for an input %s%v: it must keep the dtype and shape", b.attr, got.DType, got.Shape, scores.DType, scores.Shape)
		}
	}
	return []ops.ValueInfo{s.Output()}, nil
}

func (o *flexOp) Prepare(in, _ []ops.ValueInfo) (ops.Kernel, error) {
	s, err := o.flex.Geometry(in)
	if err != nil {
		return nil, err
	}
	k := &flexKernel{op: o, shape: s}
	for i, b := range o.mods {
		if b == nil {
			continue
		}
		infos := b.inputInfos([]ops.ValueInfo{s.Scores()}, in)
		if k.specs[i], err = b.prepare(infos); err != nil {
			return nil, err
		}
		k.infos[i] = infos
	}
	return k, nil
}

// evaluate runs the node on known inputs (a dynamic plan).
func (o *flexOp) evaluate(ctx context.Context, in []ops.ValueInfo, _ int) ([]*ops.Tensor, error) {
	if _, err := o.InferShapes(in); err != nil {
		return nil, err
	}
	k, err := o.Prepare(in, nil)
	if err != nil {
		return nil, err
	}
	yInfo := k.(*flexKernel).shape.Output()
	y := ops.New(yInfo.DType, yInfo.Shape)
	exec := ops.SerialContext()
	exec.Context = ctx
	if err := k.Run(exec, constInputs(in), []*ops.Tensor{y}); err != nil {
		return nil, err
	}
	return []*ops.Tensor{y}, nil
}

// flexKernel is the prepared node, shared by the sessions; each gets its own flexInstance (buffers and
// body memory).
type flexKernel struct {
	op    *flexOp
	shape attention.FlexShape
	specs [2]*specialization
	infos [2][]ops.ValueInfo
}

func (k *flexKernel) FLOPs() int64 { return k.op.flex.NewKernel(k.shape, nil, nil).FLOPs() }

func (k *flexKernel) forSession() ops.Kernel {
	inst := &flexInstance{}
	var mods [2]attention.Modifier
	for i, b := range k.op.mods {
		if b == nil {
			continue
		}
		m := &bodyModifier{runner: newBodyRunner(b, k.specs[i], k.infos[i]), label: k.op.label}
		inst.mods[i], mods[i] = m, m
	}
	inst.kernel = k.op.flex.NewKernel(k.shape, mods[0], mods[1])
	return inst
}

func (k *flexKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	return k.forSession().Run(ctx, in, out)
}

type flexInstance struct {
	kernel *attention.FlexKernel
	mods   [2]*bodyModifier
}

func (inst *flexInstance) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	for _, m := range inst.mods {
		if m != nil {
			m.runner.start(ctx, in, m.label)
		}
	}
	if err := inst.kernel.Run(ctx, in, out); err != nil {
		return err
	}
	for _, m := range inst.mods {
		if m != nil {
			m.runner.flush()
		}
	}
	return nil
}

// bodyModifier runs a score_mod or prob_mod body on the whole tensor it is given.
type bodyModifier struct {
	runner *bodyRunner
	label  string
}

func (m *bodyModifier) Modify(ctx *ops.ExecContext, x *ops.Tensor) (*ops.Tensor, error) {
	m.runner.in[0] = x
	outs, err := m.runner.run(ctx.Context)
	if err != nil {
		return nil, err
	}
	if len(outs) != 1 {
		return nil, fmt.Errorf("body %q gave %d outputs, want 1", m.runner.body.attr, len(outs))
	}
	return outs[0], nil
}
