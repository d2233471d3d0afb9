package inspect

import (
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
)

// controlFlowModel is If(c) { then: Loop(3) { x = x·W (W an outer weight) + b (the body's own bias) };
// else: Neg(x) }, with an unsupported operator inside the else branch.
func controlFlowModel(t *testing.T) *onnx.Model {
	b := exporter.NewGraph("cf")
	x := b.Input("x", f32, 1, 4)
	c := b.Input("c", onnxpb.TensorProto_BOOL)
	w := b.Initializer("W", zeros(4, 4))

	body := exporter.NewGraph("loop_body")
	body.Input("i", onnxpb.TensorProto_INT64)
	cin := body.Input("cond_in", onnxpb.TensorProto_BOOL)
	acc := body.Input("acc", f32, 1, 4)
	bias := body.Initializer("bias", zeros(4))
	body.NodeNamed("mm", "MatMul", "", []string{acc, w}, []string{"h"}, nil)
	body.NodeNamed("plus", "Add", "", []string{"h", bias}, []string{"acc_out"}, nil)
	body.NodeNamed("pass", "Identity", "", []string{cin}, []string{"cond_out"}, nil)
	body.Output("cond_out", onnxpb.TensorProto_BOOL)
	body.Output("acc_out", f32, 1, 4)

	then := exporter.NewGraph("then")
	m := then.Initializer("m", &onnx.Array{DataType: onnxpb.TensorProto_INT64, Dims: []int64{}, Data: []int64{3}})
	then.NodeNamed("loop", "Loop", "", []string{m, "", x}, []string{"t_out"}, exporter.Attrs{"body": body})
	then.Output("t_out", f32, 1, 4)
	els := exporter.NewGraph("else")
	els.NodeNamed("odd", "NoSuchOp", "com.example", []string{x}, []string{"e_out"}, nil)
	els.Output("e_out", f32, 1, 4)
	b.UseOpset("com.example", 1)
	b.NodeNamed("choose", "If", "", []string{c}, []string{"y"}, exporter.Attrs{"then_branch": then, "else_branch": els})
	b.Output("y", f32, 1, 4)
	return build(t, b, 16)
}

// inspect sees inside subgraphs: every body after the node that holds it, with its nodes, operators and
// own initializers, and the unsupported operators of bodies too.
func TestDescribeSubgraphs(t *testing.T) {
	info := Describe(controlFlowModel(t))
	if info.Nodes != 1 || info.Subgraphs != 3 || info.BodyNodes != 5 || info.BodyInitializerElems != 5 {
		t.Errorf("nodes %d, subgraphs %d, body nodes %d, body initializer elements %d; want 1, 3, 5, 5", info.Nodes, info.Subgraphs, info.BodyNodes, info.BodyInitializerElems)
	}
	var got []string
	for _, b := range info.Bodies {
		got = append(got, strings.Repeat(">", b.Depth)+b.Node+"."+b.Attribute)
	}
	want := ">choose.else_branch >choose.then_branch >>choose/then_branch/loop.body"
	if strings.Join(got, " ") != want {
		t.Errorf("bodies %v, want %s", got, want)
	}
	if len(info.Unsupported) != 1 || info.Unsupported[0].Nodes[0] != "choose/else_branch/odd" {
		t.Errorf("unsupported %+v, want com.example::NoSuchOp at choose/else_branch/odd", info.Unsupported)
	}
	var text strings.Builder
	if err := info.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "    choose/then_branch/loop (Loop) body: 3 nodes (Add 1, Identity 1, MatMul 1), 1 initializers (4 elements)") {
		t.Errorf("the text does not show the loop body indented under its node:\n%s", text.String())
	}
}

// summary shows a body's layers indented under the layer that holds it, and counts the weights read
// inside bodies, outer ones included, once.
func TestSummarySubgraphs(t *testing.T) {
	s, err := Summarize(controlFlowModel(t), SummaryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, l := range s.Layers {
		rows = append(rows, strings.Repeat(">", l.Depth)+l.Type)
	}
	if len(s.Layers) == 0 || s.Layers[0].Type != "If" || s.Layers[0].Depth != 0 {
		t.Fatalf("layers %v, want the If first", rows)
	}
	deep := 0
	for _, l := range s.Layers {
		deep = max(deep, l.Depth)
	}
	if deep != 2 {
		t.Errorf("layers %v: want rows two levels deep (the loop body inside the then branch)", rows)
	}
	if s.TotalParams != 16+4 {
		t.Errorf("total params %d, want 20 (W read in the loop body, and its bias)", s.TotalParams)
	}
	var text strings.Builder
	if err := s.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "\n     ") {
		t.Errorf("no indented row:\n%s", text.String())
	}
	t.Log("\n" + text.String())
}
