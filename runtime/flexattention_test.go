package runtime_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// flexModel is a FlexAttention node "flex" over Q [1, 2, 3, 4], K and V [1, 2, 5, 4], with the given
// attributes, preceded by nothing: the outer graph also has an input w (float32 scalar) that modifier
// bodies may read.
func flexModel(attrs exporter.Attrs) *exporter.Graph {
	b := exporter.NewGraph("flex")
	q := b.Input("Q", f32, 1, 2, 3, 4)
	k := b.Input("K", f32, 1, 2, 5, 4)
	v := b.Input("V", f32, 1, 2, 5, 4)
	w := b.Input("w", f32)
	// w reaches the node only through the bodies that capture it; an Identity keeps it used otherwise.
	b.NodeNamed("keep_w", "Identity", "", []string{w}, []string{"w_out"}, nil)
	b.NodeNamed("flex", "FlexAttention", ops.PreviewDomain, []string{q, k, v}, []string{"Y"}, attrs)
	b.UseOpset(ops.PreviewDomain, 1)
	b.Output("Y", f32, 1, 2, 3, 4)
	b.Output("w_out", f32)
	return b
}

// modifierBody is a one-input, one-output modifier graph: out = build(in).
func modifierBody(name string, build func(g *exporter.Graph, in string) string) *exporter.Graph {
	g := exporter.NewGraph(name)
	in := g.Input("x", f32, "B", "H", "L", "S")
	g.Output(build(g, in), f32, "B", "H", "L", "S")
	return g
}

func flexInputs(w float32) []*ops.Tensor {
	q, k, v := make([]float32, 24), make([]float32, 40), make([]float32, 40)
	for i := range q {
		q[i] = float32(i%7)/7 - 0.4
	}
	for i := range k {
		k[i] = float32(i%5)/5 - 0.3
		v[i] = float32(i%9)/3 - 1
	}
	return []*ops.Tensor{ops.FromSlice(ops.Shape{1, 2, 3, 4}, q), ops.FromSlice(ops.Shape{1, 2, 5, 4}, k),
		ops.FromSlice(ops.Shape{1, 2, 5, 4}, v), ops.FromSlice(ops.Shape{}, []float32{w})}
}

// A prob_mod multiplying the probabilities by an outer value (a capture) scales Y by it; a score_mod
// adding a constant to every score changes nothing (softmax is shift-invariant). Both run as nested plans,
// in a session that runs them twice.
func TestFlexAttentionModifierBodies(t *testing.T) {
	plain := run1(t, mustCompile(t, flexModel(nil), 26), flexInputs(1)...)[0]
	scaleByW := modifierBody("times_w", func(g *exporter.Graph, in string) string { return g.Node("Mul", []string{in, "w"}, nil) })
	shift := modifierBody("plus_3", func(g *exporter.Graph, in string) string {
		return g.Node("Add", []string{in, g.Initializer("three", arr(nil, 3))}, nil)
	})
	p := mustCompile(t, flexModel(exporter.Attrs{"prob_mod": scaleByW, "score_mod": shift}), 26)
	s := p.NewSession()
	defer s.Close()
	for _, w := range []float32{0.5, -2} {
		out, err := s.Run(context.Background(), flexInputs(w))
		if err != nil {
			t.Fatal(err)
		}
		for i, y := range out[0].Float32s() {
			if want := w * plain.Float32s()[i]; abs32(y-want) > 1e-6 {
				t.Fatalf("w=%g: Y[%d] = %g, want %g", w, i, y, want)
			}
		}
	}
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

// Broken modifiers are model errors naming the node and the attribute, found at Compile.
func TestFlexAttentionBadModifiers(t *testing.T) {
	transpose := modifierBody("transpose", func(g *exporter.Graph, in string) string {
		return g.Node("Transpose", []string{in}, exporter.Attrs{"perm": []int64{0, 1, 3, 2}})
	})
	twoInputs := exporter.NewGraph("two_inputs")
	x := twoInputs.Input("x", f32, "B", "H", "L", "S")
	y := twoInputs.Input("y", f32, "B", "H", "L", "S")
	twoInputs.Output(twoInputs.Node("Add", []string{x, y}, nil), f32, "B", "H", "L", "S")
	cases := []struct {
		name  string
		attrs exporter.Attrs
		want  string
	}{
		{"output shape differs", exporter.Attrs{"score_mod": transpose}, "score_mod gives float32[1,2,5,3] for an input float32[1,2,3,5]"},
		{"not a graph", exporter.Attrs{"prob_mod": int64(1)}, `attribute "prob_mod" is a int, not a graph`},
		{"two inputs", exporter.Attrs{"score_mod": twoInputs}, "score_mod takes 2 inputs and gives 1 outputs"},
	}
	for _, c := range cases {
		_, err := compileWith(t, flexModel(c.attrs), 26, runtime.Options{Threads: 1})
		if err == nil {
			t.Errorf("%s: compiled", c.name)
			continue
		}
		for _, want := range []string{`node "flex" (FlexAttention, opset 1)`, c.want} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not contain %q", c.name, err, want)
			}
		}
		if !errors.Is(err, runtime.ErrInvalidModel) {
			t.Errorf("%s: error %v does not match ErrInvalidModel", c.name, err)
		}
	}
}

// A graph attribute that holds no graph is a model error naming the node and the attribute.
func TestFlexAttentionGraphAttributeWithoutGraph(t *testing.T) {
	m, err := flexModel(exporter.Attrs{"score_mod": modifierBody("id", func(g *exporter.Graph, in string) string { return g.Node("Identity", []string{in}, nil) })}).Model(exporter.ModelOptions{Opset: 26})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range m.Proto.GetGraph().GetNode() {
		for _, a := range n.GetAttribute() {
			if a.GetName() == "score_mod" {
				a.G = nil
			}
		}
	}
	_, err = runtime.Compile(m, runtime.Options{Threads: 1})
	if err == nil {
		t.Fatal("compiled")
	}
	for _, want := range []string{`node "flex" (FlexAttention)`, `attribute "score_mod"`, "graph attribute has no graph"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if !errors.Is(err, runtime.ErrInvalidModel) {
		t.Errorf("error %v does not match ErrInvalidModel", err)
	}
}

// A modifier whose output shape is known only by running it (a Reshape to an outer input) runs on the
// dynamic path: right, it gives FlexAttention's result; wrong, an error at Run naming the node.
func TestFlexAttentionModifierShapeKnownAtRun(t *testing.T) {
	b := exporter.NewGraph("flex_dynamic")
	q := b.Input("Q", f32, 1, 2, 3, 4)
	k := b.Input("K", f32, 1, 2, 5, 4)
	v := b.Input("V", f32, 1, 2, 5, 4)
	b.Input("w", f32)
	b.Input("shape", i64T, 4)
	reshape := modifierBody("reshape", func(g *exporter.Graph, in string) string { return g.Node("Reshape", []string{in, "shape"}, nil) })
	b.NodeNamed("flex", "FlexAttention", ops.PreviewDomain, []string{q, k, v}, []string{"Y"}, exporter.Attrs{"score_mod": reshape})
	b.UseOpset(ops.PreviewDomain, 1)
	b.Output("Y", f32, 1, 2, 3, 4)
	p := mustCompile(t, b, 26)
	plain := run1(t, mustCompile(t, flexModel(nil), 26), flexInputs(1)...)[0]
	s := p.NewSession()
	defer s.Close()
	shape := func(d ...int64) *ops.Tensor { return ops.FromSlice(ops.Shape{4}, d) }
	out, err := s.Run(context.Background(), append(flexInputs(1), shape(1, 2, 3, 5)))
	if err != nil {
		t.Fatal(err)
	}
	for i, y := range out[0].Float32s() {
		if want := plain.Float32s()[i]; abs32(y-want) > 1e-6 {
			t.Fatalf("Y[%d] = %g, want %g", i, y, want)
		}
	}
	_, err = s.Run(context.Background(), append(flexInputs(1), shape(1, 2, 5, 3)))
	for _, want := range []string{`node "flex" (FlexAttention, opset 1)`, "score_mod returned float32[1,2,5,3] for an input float32[1,2,3,5]"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not contain %q", err, want)
		}
	}
}

// In a plan whose shapes depend on input values (Q reshaped to a graph input), FlexAttention and its
// modifier are evaluated on the dynamic path and give what the static plan gives.
func TestFlexAttentionInDynamicPlan(t *testing.T) {
	scaleByW := modifierBody("times_w", func(g *exporter.Graph, in string) string { return g.Node("Mul", []string{in, "w"}, nil) })
	static := run1(t, mustCompile(t, flexModel(exporter.Attrs{"prob_mod": scaleByW}), 26), flexInputs(0.5)...)[0]

	b := exporter.NewGraph("flex_reshaped")
	flat := b.Input("Q_flat", f32, 24)
	k := b.Input("K", f32, 1, 2, 5, 4)
	v := b.Input("V", f32, 1, 2, 5, 4)
	b.Input("w", f32)
	shape := b.Input("q_shape", i64T, 4)
	b.NodeNamed("unflatten", "Reshape", "", []string{flat, shape}, []string{"Q"}, nil)
	b.NodeNamed("flex", "FlexAttention", ops.PreviewDomain, []string{"Q", k, v}, []string{"Y"}, exporter.Attrs{"prob_mod": scaleByW})
	b.UseOpset(ops.PreviewDomain, 1)
	b.Output("Y", f32, "B", "H", "L", "E")
	in := flexInputs(0.5)
	q := ops.FromSlice(ops.Shape{24}, in[0].Float32s())
	out := run1(t, mustCompile(t, b, 26), q, in[1], in[2], in[3], ops.FromSlice(ops.Shape{4}, []int64{1, 2, 3, 4}))[0]
	if !out.Shape().Equal(static.Shape()) {
		t.Fatalf("Y is %v, want %v", out.Shape(), static.Shape())
	}
	for i, y := range out.Float32s() {
		if want := static.Float32s()[i]; y != want {
			t.Fatalf("Y[%d] = %g, want %g", i, y, want)
		}
	}
}
