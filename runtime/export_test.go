package runtime

import (
	"context"
	"reflect"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/ops"
)

// Every test of the package, and every fuzzing run, checks the passes' rewriter index after each pass.
func init() { verifyRewrites = true }

// VerifyRewrites lets benchmarks turn that check off, to time Compile as users get it.
var VerifyRewrites = &verifyRewrites

// ConcatBlocks lets tests plan Concats as copies, to compare with the planner's in-place blocks.
var ConcatBlocks = &concatBlocks

// BlockViews lets tests plan Slice and Split as copies, to compare with the planner's views.
var BlockViews = &blockViews

// PlanMapping is the memory-mapped model file p holds a reference to, nil when it holds none.
func PlanMapping(p *Plan) *onnx.Mapping { return p.lifetime.mapping }

// ConstantMapped reports whether the data of p's constant name lies in p's mapped model file.
func ConstantMapped(p *Plan, name string) bool {
	t, ok := p.graph.Constants[name]
	if !ok || p.lifetime.mapping == nil || t.Len() == 0 {
		return false
	}
	return p.lifetime.mapping.Contains(reflect.ValueOf(t.Data()).UnsafePointer())
}

// EvaluateAll plans p with the inputs' values and evaluates every node while planning, as Run does when a
// shape depends on values (the dynamic path).
func EvaluateAll(p *Plan, inputs []*ops.Tensor) error {
	_, err := p.runDynamic(context.Background(), inputs)
	return err
}

// FoldedValues names the values whose folded elements p's specialisation for these input shapes holds.
func FoldedValues(p *Plan, inputs ...ops.ValueInfo) ([]string, error) {
	s, err := p.specialize(inputs)
	if err != nil {
		return nil, err
	}
	var names []string
	for id, info := range s.infos {
		if info.Const != nil && p.consts[id] == nil {
			names = append(names, p.names[id])
		}
	}
	return names, nil
}
