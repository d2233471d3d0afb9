package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
	"github.com/onnxrun/onnxrun/tensorio"
)

// observeGraph is x[N,3]·W → Relu → (+ Neg(c), folded at plan time) → Reshape to [N,2,2]: kernels, a
// constant-folded node between them, and a view that Run does not execute. It is compiled without graph
// passes, as observing every node of a file calls for (a pass may fuse MatMul and Relu into one node).
func observeGraph(t *testing.T) *runtime.Plan {
	t.Helper()
	b := exporter.NewGraph("observe")
	x := b.Input("x", f32, "N", 3)
	w := b.Initializer("w", arr([]int64{3, 4}, 1, -1, 2, 0, 0, 1, -1, 2, 3, 0, 1, -2))
	c := b.Initializer("c", arr([]int64{4}, 1, 2, 3, 4))
	shape := b.Initializer("shape", &onnx.Array{DataType: onnxpb.TensorProto_INT64, Dims: []int64{3}, Data: []int64{-1, 2, 2}})
	b.NodeNamed("mm", "MatMul", "", []string{x, w}, []string{"h"}, nil)
	b.NodeNamed("act", "Relu", "", []string{"h"}, []string{"r"}, nil)
	b.NodeNamed("neg", "Neg", "", []string{c}, []string{"nc"}, nil)
	b.NodeNamed("add", "Add", "", []string{"r", "nc"}, []string{"z"}, nil)
	b.NodeNamed("view", "Reshape", "", []string{"z", shape}, []string{"y"}, nil)
	b.Output("y", f32, "N", 2, 2)
	m, err := b.Model(exporter.ModelOptions{Opset: 13})
	if err != nil {
		t.Fatal(err)
	}
	p, err := runtime.Compile(m, runtime.Options{Threads: 1, NoOptimize: true})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunWithObserver(t *testing.T) {
	p := observeGraph(t)
	sess := p.NewSession()
	defer sess.Close()
	ctx := context.Background()
	x := ops.FromSlice(ops.Shape{2, 3}, []float32{1, 2, 3, -1, 0, 1})
	want, err := sess.Run(ctx, []*ops.Tensor{x})
	if err != nil {
		t.Fatal(err)
	}
	wantY := append([]float32(nil), want[0].Float32s()...)

	for run := 0; run < 2; run++ { // the second run finds the specialisation cached
		var names []string
		seen := map[string]*ops.Tensor{}
		got, err := sess.RunWithObserver(ctx, []*ops.Tensor{x}, func(name string, v *ops.Tensor) {
			names = append(names, name)
			seen[name] = v
		})
		if err != nil {
			t.Fatal(err)
		}
		if wantNames := []string{"h", "r", "nc", "z", "y"}; !reflect.DeepEqual(names, wantNames) {
			t.Fatalf("observed %v, want %v (node order)", names, wantNames)
		}
		if !reflect.DeepEqual(got[0].Float32s(), wantY) {
			t.Errorf("output %v, Run gave %v", got[0].Float32s(), wantY)
		}
		// Every value keeps its own memory: h is intact after later steps ran.
		cases := []struct {
			name  string
			shape ops.Shape
			data  []float32
		}{
			{"h", ops.Shape{2, 4}, []float32{10, 1, 3, -2, 2, 1, -1, -2}},
			{"r", ops.Shape{2, 4}, []float32{10, 1, 3, 0, 2, 1, 0, 0}},
			{"nc", ops.Shape{4}, []float32{-1, -2, -3, -4}},
			{"z", ops.Shape{2, 4}, []float32{9, -1, 0, -4, 1, -1, -3, -4}},
			{"y", ops.Shape{2, 2, 2}, []float32{9, -1, 0, -4, 1, -1, -3, -4}},
		}
		for _, c := range cases {
			v := seen[c.name]
			if !v.Shape().Equal(c.shape) || !reflect.DeepEqual(v.Float32s(), c.data) {
				t.Errorf("run %d: %s = %v %v, want %v %v", run, c.name, v.Shape(), v.Float32s(), c.shape, c.data)
			}
		}
		// The caller owns what it observed: writing to it changes nothing the plan holds.
		seen["nc"].Float32s()[0] = 100
		got[0].Float32s()[0] = 100
	}
	again, err := sess.Run(ctx, []*ops.Tensor{x})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again[0].Float32s(), wantY) {
		t.Errorf("Run after RunWithObserver gave %v, want %v", again[0].Float32s(), wantY)
	}
}

// With the graph passes on, the observer sees the plan's nodes: whatever the passes fused or removed, the
// values it reports are the optimised graph's, and the outputs are Run's.
func TestRunWithObserverOptimized(t *testing.T) {
	p, err := runtime.Load(sharedModel(t, "lenet_torch_opset13"), runtime.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	sess := p.NewSession()
	defer sess.Close()
	in := ops.New(ops.Float32, ops.Shape{1, 1, 28, 28})
	for i := range in.Float32s() {
		in.Float32s()[i] = float32(i%5) / 5
	}
	want, err := sess.Run(context.Background(), []*ops.Tensor{in})
	if err != nil {
		t.Fatal(err)
	}
	wantLogits := append([]float32(nil), want[0].Float32s()...)
	produced := map[string]bool{}
	for _, n := range p.Graph().Nodes {
		for _, o := range n.Outputs {
			produced[o] = true
		}
	}
	var names []string
	got, err := sess.RunWithObserver(context.Background(), []*ops.Tensor{in}, func(name string, _ *ops.Tensor) {
		names = append(names, name)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !produced[n] {
			t.Errorf("observed %q, which no node of the plan's graph produces", n)
		}
	}
	if len(names) == 0 || names[len(names)-1] != "logits" || !reflect.DeepEqual(got[0].Float32s(), wantLogits) {
		t.Errorf("observed %v; logits %v, Run gave %v", names, got[0].Float32s(), wantLogits)
	}
}

func TestRunWithObserverErrors(t *testing.T) {
	p := observeGraph(t)
	sess := p.NewSession()
	defer sess.Close()
	_, err := sess.RunWithObserver(context.Background(), []*ops.Tensor{ops.New(ops.Float32, ops.Shape{2, 5})}, nil)
	if !errors.Is(err, runtime.ErrBadInput) {
		t.Errorf("wrong input shape: got %v, want an ErrBadInput", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = sess.RunWithObserver(ctx, []*ops.Tensor{ops.New(ops.Float32, ops.Shape{2, 3})}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: got %v", err)
	}
}

// dynamicReshapePlan is y = Reshape(Neg(x[4]), s): its shapes depend on the values of input s.
func dynamicReshapePlan(t *testing.T) *runtime.Plan {
	t.Helper()
	b := exporter.NewGraph("dynamic")
	x := b.Input("x", f32, 4)
	s := b.Input("s", onnxpb.TensorProto_INT64, 2)
	b.NodeNamed("neg", "Neg", "", []string{x}, []string{"n"}, nil)
	b.NodeNamed("view", "Reshape", "", []string{"n", s}, []string{"y"}, nil)
	b.Output("y", f32)
	p := mustCompile(t, b, 13)
	return p
}

// A plan whose shapes depend on input values (the Reshape target is an input) is evaluated node by node;
// the observer still sees every node output.
func TestRunWithObserverDynamic(t *testing.T) {
	p := dynamicReshapePlan(t)
	sess := p.NewSession()
	defer sess.Close()
	var names []string
	outs, err := sess.RunWithObserver(context.Background(), []*ops.Tensor{
		ops.FromSlice(ops.Shape{4}, []float32{1, 2, 3, 4}), ops.FromSlice(ops.Shape{2}, []int64{2, 2}),
	}, func(name string, _ *ops.Tensor) { names = append(names, name) })
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(names, []string{"n", "y"}) {
		t.Errorf("observed %v, want [n y]", names)
	}
	if !outs[0].Shape().Equal(ops.Shape{2, 2}) || !reflect.DeepEqual(outs[0].Float32s(), []float32{-1, -2, -3, -4}) {
		t.Errorf("output %v %v", outs[0].Shape(), outs[0].Float32s())
	}
}

// On the reference LeNet compiled without passes, every node of the file is observed under its output's
// name, and the observed logits are Run's.
func TestRunWithObserverLeNet(t *testing.T) {
	m, err := onnx.Load(sharedModel(t, "lenet_torch_opset13"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := runtime.Compile(m, runtime.Options{Threads: 1, NoOptimize: true})
	if err != nil {
		t.Fatal(err)
	}
	sess := p.NewSession()
	defer sess.Close()
	in := ops.New(ops.Float32, ops.Shape{2, 1, 28, 28})
	for i := range in.Float32s() {
		in.Float32s()[i] = float32(i%17) / 17
	}
	want, err := sess.Run(context.Background(), []*ops.Tensor{in})
	if err != nil {
		t.Fatal(err)
	}
	wantLogits := append([]float32(nil), want[0].Float32s()...)
	seen := map[string]*ops.Tensor{}
	var order []string
	if _, err := sess.RunWithObserver(context.Background(), []*ops.Tensor{in}, func(name string, v *ops.Tensor) {
		seen[name] = v
		order = append(order, name)
	}); err != nil {
		t.Fatal(err)
	}
	var fileOrder []string
	for _, n := range m.Proto.GetGraph().GetNode() {
		fileOrder = append(fileOrder, n.GetOutput()...)
	}
	if !reflect.DeepEqual(order, fileOrder) {
		t.Errorf("observed %v,\nwant every node output in file order %v", order, fileOrder)
	}
	shapes := map[string]ops.Shape{"/c1/Conv_output_0": {2, 6, 26, 26}, "/p2/AveragePool_output_0": {2, 16, 5, 5}, "/Flatten_output_0": {2, 400}, "logits": {2, 10}}
	for name, shape := range shapes {
		if v := seen[name]; v == nil || !v.Shape().Equal(shape) {
			t.Errorf("%s: got %v, want shape %v", name, v, shape)
		}
	}
	if got := seen["logits"].Float32s(); !reflect.DeepEqual(got, wantLogits) {
		t.Errorf("observed logits %v, Run gave %v", got, wantLogits)
	}
	for _, v := range seen["/Relu_output_0"].Float32s() {
		if v < 0 {
			t.Fatalf("a Relu output holds %v: the observed tensor was overwritten", v)
		}
	}
}

func TestValueInfos(t *testing.T) {
	p, err := runtime.Load(sharedModel(t, "lenet_torch_opset13"), runtime.Options{Threads: 1, NoOptimize: true})
	if err != nil {
		t.Fatal(err)
	}
	infos, err := p.ValueInfos(ops.Shape{3, 1, 28, 28})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]ops.Shape{
		"input": {3, 1, 28, 28}, "/c1/Conv_output_0": {3, 6, 26, 26}, "/p1/AveragePool_output_0": {3, 6, 13, 13},
		"/c2/Conv_output_0": {3, 16, 11, 11}, "/Flatten_output_0": {3, 400}, "logits": {3, 10}, "f1.weight": {120, 400},
	}
	for name, shape := range cases {
		if got, ok := infos[name]; !ok || got.DType != ops.Float32 || !got.Shape.Equal(shape) {
			t.Errorf("%s: got %v %v (present %v), want float32 %v", name, got.DType, got.Shape, ok, shape)
		}
	}
	if infos["f1.weight"].Const == nil {
		t.Errorf("an initializer's ValueInfo has no Const")
	}
	if _, err := p.ValueInfos(); !errors.Is(err, runtime.ErrBadInput) {
		t.Errorf("no shapes: got %v, want an ErrBadInput", err)
	}
}

// Across the ONNX backend node tests, RunWithObserver computes exactly what Run computes: every model that
// compiles and runs gives bit-identical outputs both ways, and the observer sees every output of the plan.
func TestRunWithObserverNodeTests(t *testing.T) {
	if testing.Short() {
		t.Skip("walks every ONNX node test")
	}
	root := testenv.Shared(t, "onnx-node-tests")
	dirs, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	compared := 0
	for _, d := range dirs {
		dir := filepath.Join(root, d.Name())
		p, err := runtime.Load(filepath.Join(dir, "model.onnx"), runtime.Options{Threads: 1})
		if err != nil || drawsUnseeded(t, filepath.Join(dir, "model.onnx")) {
			continue // an unseeded random generator draws other values at each Run, by design
		}
		var inputs []*ops.Tensor
		for i := range p.Inputs() {
			x, err := tensorio.ReadPB(filepath.Join(dir, "test_data_set_0", fmt.Sprintf("input_%d.pb", i)))
			if err != nil {
				inputs = nil
				break
			}
			inputs = append(inputs, x)
		}
		if len(inputs) != len(p.Inputs()) {
			continue
		}
		sess := p.NewSession()
		want, err := sess.Run(context.Background(), inputs)
		if err != nil {
			sess.Close()
			continue
		}
		wantCopy := make([]*ops.Tensor, len(want))
		for i, w := range want {
			wantCopy[i] = w.Clone()
		}
		seen := map[string]bool{}
		got, err := sess.RunWithObserver(context.Background(), inputs, func(name string, _ *ops.Tensor) { seen[name] = true })
		sess.Close()
		if err != nil {
			t.Errorf("%s: Run works, RunWithObserver fails: %v", d.Name(), err)
			continue
		}
		for i, w := range wantCopy {
			if !w.Shape().Equal(got[i].Shape()) || fmt.Sprint(w.Data()) != fmt.Sprint(got[i].Data()) {
				t.Errorf("%s: output %d differs: Run %v, RunWithObserver %v", d.Name(), i, w, got[i])
			}
			if name := p.Outputs()[i].Name; !seen[name] && !isInputName(p, name) {
				t.Errorf("%s: output %q was not observed", d.Name(), name)
			}
		}
		compared++
	}
	if compared < 1000 {
		t.Errorf("compared only %d node tests", compared)
	}
	t.Logf("%d node tests give the same outputs through Run and RunWithObserver", compared)
}

// drawsUnseeded reports whether a model has a random generator without a seed attribute.
func drawsUnseeded(t *testing.T, path string) bool {
	t.Helper()
	m, err := onnx.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	random := map[string]bool{"Bernoulli": true, "RandomUniform": true, "RandomUniformLike": true, "RandomNormal": true,
		"RandomNormalLike": true, "Multinomial": true}
	for _, n := range m.Proto.GetGraph().GetNode() {
		if !random[n.GetOpType()] {
			continue
		}
		seeded := false
		for _, a := range n.GetAttribute() {
			seeded = seeded || a.GetName() == "seed"
		}
		if !seeded {
			return true
		}
	}
	return false
}

func isInputName(p *runtime.Plan, name string) bool {
	for _, in := range p.Inputs() {
		if in.Name == name {
			return true
		}
	}
	return false
}

// Run, RunProfiled and RunWithObserver share one execution path: each stops on a cancelled context, a
// dynamic plan (evaluated while planning) included, and each computes Run's outputs.
func TestEveryRunHonoursItsContext(t *testing.T) {
	p := dynamicReshapePlan(t)
	sess := p.NewSession()
	defer sess.Close()
	inputs := []*ops.Tensor{ops.FromSlice(ops.Shape{4}, []float32{1, 2, 3, 4}), ops.FromSlice(ops.Shape{2}, []int64{2, 2})}
	runs := map[string]func(context.Context) ([]*ops.Tensor, error){
		"Run": func(ctx context.Context) ([]*ops.Tensor, error) { return sess.Run(ctx, inputs) },
		"RunProfiled": func(ctx context.Context) ([]*ops.Tensor, error) {
			return sess.RunProfiled(ctx, inputs, &runtime.Profile{})
		},
		"RunWithObserver": func(ctx context.Context) ([]*ops.Tensor, error) {
			return sess.RunWithObserver(ctx, inputs, func(string, *ops.Tensor) {})
		},
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for name, run := range runs {
		if _, err := run(cancelled); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context on a dynamic plan: got %v, want context.Canceled", name, err)
		}
		outs, err := run(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !outs[0].Shape().Equal(ops.Shape{2, 2}) || !reflect.DeepEqual(outs[0].Float32s(), []float32{-1, -2, -3, -4}) {
			t.Errorf("%s: output %v %v", name, outs[0].Shape(), outs[0].Float32s())
		}
	}
}
