package runtime_test

import (
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// bodyFusionModel is Loop(3) over a carried float32[n,4] x (n symbolic): x' = Relu(x · W) with W the
// body's own initializer, and inside the body an If on the outer input "go" whose then branch computes
// Relu(x · V) with V an initializer of the main graph (a capture two levels up), its else branch -x.
// The body returns x' + the If's value. Both MatMul → Relu pairs can become FusedGemm: only when the
// passes run inside bodies, at the shapes the Loop gives its body.
func bodyFusionModel(rng *rand.Rand) *exporter.Graph {
	b := exporter.NewGraph("body_fusion")
	x := b.Input("x", f32, "n", 4)
	goIn := b.Input("go", boolT)
	v := b.Initializer("V", randArray(rng, 4, 4))
	m := b.Initializer("M", i64Scalar(3))

	body := exporter.NewGraph("loop_body")
	body.Input("iter", i64T)
	cin := body.Input("cond_in", boolT)
	acc := body.Input("acc", f32, "n", 4)
	w := body.Initializer("W", randArray(rng, 4, 4))
	body.NodeNamed("mm", "MatMul", "", []string{acc, w}, []string{"prod"}, nil)
	body.NodeNamed("act", "Relu", "", []string{"prod"}, []string{"next"}, nil)
	then := branch("then", func(g *exporter.Graph) string {
		g.NodeNamed("mm_v", "MatMul", "", []string{acc, v}, []string{"prod_v"}, nil)
		g.NodeNamed("act_v", "Relu", "", []string{"prod_v"}, []string{"t_out"}, nil)
		return "t_out"
	}, "n", 4)
	els := branch("else", func(g *exporter.Graph) string {
		g.NodeNamed("neg", "Neg", "", []string{acc}, []string{"e_out"}, nil)
		return "e_out"
	}, "n", 4)
	body.NodeNamed("choose", "If", "", []string{goIn}, []string{"side"}, exporter.Attrs{"then_branch": then, "else_branch": els})
	body.NodeNamed("sum", "Add", "", []string{"next", "side"}, []string{"acc_out"}, nil)
	body.NodeNamed("keep", "Identity", "", []string{cin}, []string{"cond_out"}, nil)
	body.Output("cond_out", boolT)
	body.Output("acc_out", f32, "n", 4)

	b.NodeNamed("loop", "Loop", "", []string{m, "", x}, []string{"y"}, exporter.Attrs{"body": body})
	b.Output("y", f32, "n", 4)
	return b
}

// opTypesInBodies lists, for each body at any depth (named by the path of node and attribute names),
// the op types of its nodes.
func opTypesInBodies(g *runtime.Graph, path string, into map[string][]string) {
	for _, n := range g.Nodes {
		for attr, a := range n.Attrs {
			sub, ok := a.Graph.(*runtime.Graph)
			if !ok {
				continue
			}
			name := path + n.Name + "/" + attr
			for _, bn := range sub.Nodes {
				into[name] = append(into[name], bn.OpType)
			}
			opTypesInBodies(sub, name+"/", into)
		}
	}
}

// The graph passes run inside bodies, recursively, each probed at the shapes its node gives it: the
// MatMul → Relu pairs of the Loop body and of the If nested in it become FusedGemm, the log names the body, and the outputs are those of the model compiled with the passes
// off, at two sizes of the symbolic dimension and for both branches.
func TestPassesRunInsideBodies(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	model := bodyFusionModel(rng)
	var log []string
	logf := func(format string, args ...any) { log = append(log, fmt.Sprintf(format, args...)) }
	optimised, err := compileWith(t, model, 13, runtime.Options{Threads: 1, Logf: logf})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := compileWith(t, model, 13, runtime.Options{Threads: 1, NoOptimize: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"loop/body":                    "[FusedGemm If Add Identity]",
		"loop/body/choose/then_branch": "[FusedGemm]",
		"loop/body/choose/else_branch": "[Neg]",
	}
	got := map[string][]string{}
	opTypesInBodies(optimised.Graph(), "", got)
	for name, ops := range want {
		if fmt.Sprint(got[name]) != ops {
			t.Errorf("body %s has nodes %v, want %s", name, got[name], ops)
		}
	}
	off := map[string][]string{}
	opTypesInBodies(plain.Graph(), "", off)
	if fmt.Sprint(off["loop/body"]) != "[MatMul Relu If Add Identity]" {
		t.Errorf("with NoOptimize the body has nodes %v, want them as the model gives them", off["loop/body"])
	}
	if !strings.Contains(strings.Join(log, "\n"), `node "choose" body "then_branch": pass fuse-activation changed the graph`) {
		t.Errorf("the log does not name the nested body's pass:\n%s", strings.Join(log, "\n"))
	}

	for _, n := range []int{1, 5} {
		for _, goOn := range []bool{true, false} {
			x := randArray(rng, int64(n), 4).Data.([]float32)
			in := []*ops.Tensor{ops.FromSlice(ops.Shape{n, 4}, x), ops.Scalar(goOn)}
			a := run1(t, optimised, in...)[0].Float32s()
			b := run1(t, plain, in...)[0].Float32s()
			for i := range a {
				if math.Abs(float64(a[i]-b[i])) > 1e-5*(1+math.Abs(float64(b[i]))) {
					t.Fatalf("n=%d go=%v: y[%d] = %v optimised, %v with the passes off", n, goOn, i, a[i], b[i])
				}
			}
		}
	}
}
