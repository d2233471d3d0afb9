package models

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// graphBuilder builds small test models: input "x" of shape [N, in...], random float32 weights.
type graphBuilder struct {
	g   *exporter.Graph
	rng *rand.Rand
}

func newGraphBuilder(in ...exporter.Dim) *graphBuilder {
	b := &graphBuilder{g: exporter.NewGraph("test"), rng: rand.New(rand.NewPCG(7, 7))}
	b.g.Input("x", onnxpb.TensorProto_FLOAT, append([]exporter.Dim{"N"}, in...)...)
	return b
}

func (b *graphBuilder) weights(name string, dims ...int) string {
	n := 1
	for _, d := range dims {
		n *= d
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(b.rng.Float64() - 0.5)
	}
	return b.g.Float32Initializer(name, dims, v)
}

func (b *graphBuilder) ints(name string, v ...int64) string {
	return b.g.Initializer(name, &onnx.Array{DataType: onnxpb.TensorProto_INT64, Dims: []int64{int64(len(v))}, Data: v})
}

func (b *graphBuilder) scalar(name string, v float32) string {
	return b.g.Initializer(name, &onnx.Array{DataType: onnxpb.TensorProto_FLOAT, Dims: []int64{}, Data: []float32{v}})
}

// model declares out as the output "y" with dims (none: any shape) and finishes the model at opset 13.
func (b *graphBuilder) model(t *testing.T, out string, dims ...exporter.Dim) *onnx.Model {
	t.Helper()
	b.g.Rename(out, "y")
	b.g.Output("y", onnxpb.TensorProto_FLOAT, dims...)
	m, err := b.g.Model(exporter.ModelOptions{Opset: 13})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// runModel is onnxrun's inference of m on x.
func runModel(t *testing.T, m *onnx.Model, x *ops.Tensor) []float32 {
	t.Helper()
	plan, err := runtime.Compile(m, runtime.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	out, err := plan.NewSession().Run(context.Background(), []*ops.Tensor{x})
	if err != nil {
		t.Fatal(err)
	}
	return out[0].Float32s()
}

// matchesModel compares the softmax of net's outputs on x with onnxrun's inference of m (which ends
// with a Softmax).
func matchesModel(t *testing.T, net *Network, m *onnx.Model, x *ops.Tensor) error {
	t.Helper()
	y, err := net.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	return closeTo(softmaxRows(y.Float32s(), net.Output()[0]), runModel(t, m, x), 1e-5)
}

func randomInput(seed uint64, shape ...int) *ops.Tensor {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := ops.New(ops.Float32, ops.Shape(shape))
	for i := range x.Float32s() {
		x.Float32s()[i] = float32(2*rng.Float64() - 1)
	}
	return x
}

// importCases are one-op (or few-op) graphs on x [N 2 6 6], one per supported operator.
var importCases = []struct {
	name  string
	build func(b *graphBuilder) string
}{
	{"Conv", func(b *graphBuilder) string {
		return b.g.Node("Conv", []string{"x", b.weights("w", 3, 2, 3, 3), b.weights("b", 3)},
			exporter.Attrs{"pads": []int{1, 0, 1, 2}, "strides": []int{2, 1}, "kernel_shape": []int{3, 3}})
	}},
	{"ConvNoBias", func(b *graphBuilder) string { return b.g.Node("Conv", []string{"x", b.weights("w", 4, 2, 2, 2)}, nil) }},
	{"ConvAddBias", func(b *graphBuilder) string { // CNTK's way: a Conv without bias, then Add of [F 1 1]
		c := b.g.Node("Conv", []string{"x", b.weights("w", 3, 2, 3, 3)}, exporter.Attrs{"auto_pad": "SAME_UPPER"})
		return b.g.Node("Add", []string{c, b.weights("b", 3, 1, 1)}, nil)
	}},
	{"Gemm", func(b *graphBuilder) string {
		f := b.g.Node("Flatten", []string{"x"}, nil)
		return b.g.Node("Gemm", []string{f, b.weights("w", 5, 72), b.weights("b", 5)}, exporter.Attrs{"transB": 1, "alpha": float32(0.5)})
	}},
	{"GemmNoTrans", func(b *graphBuilder) string {
		f := b.g.Node("Flatten", []string{"x"}, nil)
		return b.g.Node("Gemm", []string{f, b.weights("w", 72, 5), b.weights("b", 1, 5)}, nil)
	}},
	{"MatMulAdd", func(b *graphBuilder) string {
		f := b.g.Node("Flatten", []string{"x"}, nil)
		mm := b.g.Node("MatMul", []string{f, b.weights("w", 72, 4)}, nil)
		return b.g.Node("Add", []string{mm, b.weights("b", 4)}, nil)
	}},
	{"BatchNormalization", func(b *graphBuilder) string {
		v := b.g.Float32Initializer("var", []int{2}, []float32{0.5, 2})
		return b.g.Node("BatchNormalization", []string{"x", b.weights("scale", 2), b.weights("bias", 2), b.weights("mean", 2), v},
			exporter.Attrs{"epsilon": float32(1e-3)})
	}},
	{"Relu", func(b *graphBuilder) string { return b.g.Node("Relu", []string{"x"}, nil) }},
	{"LeakyRelu", func(b *graphBuilder) string {
		return b.g.Node("LeakyRelu", []string{"x"}, exporter.Attrs{"alpha": float32(0.2)})
	}},
	{"Tanh", func(b *graphBuilder) string { return b.g.Node("Tanh", []string{"x"}, nil) }},
	{"Sigmoid", func(b *graphBuilder) string { return b.g.Node("Sigmoid", []string{"x"}, nil) }},
	{"Clip", func(b *graphBuilder) string {
		return b.g.Node("Clip", []string{"x", b.scalar("lo", -0.25), b.scalar("hi", 0.3)}, nil)
	}},
	{"MaxPool", func(b *graphBuilder) string {
		return b.g.Node("MaxPool", []string{"x"}, exporter.Attrs{"kernel_shape": []int{3, 3}, "strides": []int{2, 2}, "pads": []int{1, 1, 1, 1}})
	}},
	{"AveragePool", func(b *graphBuilder) string {
		return b.g.Node("AveragePool", []string{"x"}, exporter.Attrs{"kernel_shape": []int{2, 2}, "strides": []int{2, 2}})
	}},
	{"GlobalAveragePool", func(b *graphBuilder) string { return b.g.Node("GlobalAveragePool", []string{"x"}, nil) }},
	{"Transpose", func(b *graphBuilder) string {
		return b.g.Node("Transpose", []string{"x"}, exporter.Attrs{"perm": []int{0, 2, 3, 1}})
	}},
	{"ReshapeConstant", func(b *graphBuilder) string {
		return b.g.Node("Reshape", []string{"x", b.ints("shape", -1, 6, 12)}, nil)
	}},
	{"ReshapeShapeSubgraph", func(b *graphBuilder) string { // tf2onnx's flatten: the batch read at run time
		shape := b.g.Node("Shape", []string{"x"}, nil)
		batch := b.g.Node("Gather", []string{shape, b.ints("zero", 0)}, nil)
		target := b.g.Node("Concat", []string{batch, b.ints("rest", -1)}, exporter.Attrs{"axis": 0})
		return b.g.Node("Reshape", []string{"x", target}, nil)
	}},
	{"PadConstantNode", func(b *graphBuilder) string {
		pads := &onnx.Array{DataType: onnxpb.TensorProto_INT64, Dims: []int64{8}, Data: []int64{0, 0, 1, 0, 0, 0, 2, 1}}
		p := b.g.Node("Constant", nil, exporter.Attrs{"value": pads})
		return b.g.Node("Pad", []string{"x", p, b.scalar("value", 0.75)}, exporter.Attrs{"mode": "constant"})
	}},
	{"Dropout", func(b *graphBuilder) string { return b.g.Node("Dropout", []string{"x"}, nil) }},
	{"SoftmaxHead", func(b *graphBuilder) string {
		f := b.g.Node("Flatten", []string{"x"}, nil)
		return b.g.Node("Softmax", []string{b.g.Node("Gemm", []string{f, b.weights("w", 3, 72), b.weights("b", 3)}, exporter.Attrs{"transB": 1})}, nil)
	}},
}

// TestImportEachOp imports a small graph per supported operator and checks that the imported network's
// forward pass equals onnxrun's inference of the same model (before a final Softmax, which the network
// leaves to the loss).
func TestImportEachOp(t *testing.T) {
	for _, tc := range importCases {
		t.Run(tc.name, func(t *testing.T) {
			b := newGraphBuilder(2, 6, 6)
			m := b.model(t, tc.build(b))
			net, err := ImportONNX(m, ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			x := randomInput(3, 3, 2, 6, 6)
			y, err := net.Predict(x)
			if err != nil {
				t.Fatal(err)
			}
			got := y.Float32s()
			if tc.name == "SoftmaxHead" {
				got = softmaxRows(got, 3)
			}
			if err := closeTo(got, runModel(t, m, x), 1e-5); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestImportUnsupportedOp(t *testing.T) {
	b := newGraphBuilder(2, 6, 6)
	r := b.g.Node("Relu", []string{"x"}, nil)
	b.g.NodeNamed("my_resize", "Resize", "", []string{r, "", b.g.Float32Initializer("scales", []int{4}, []float32{1, 1, 2, 2})}, []string{"up"}, nil)
	_, err := ImportONNX(b.model(t, "up"), ImportOptions{})
	var unsupported *UnsupportedNodeError
	if !errors.As(err, &unsupported) || unsupported.Node != "my_resize" || unsupported.OpType != "Resize" {
		t.Fatalf("got %v, want an UnsupportedNodeError naming node my_resize (Resize)", err)
	}
	if !strings.Contains(err.Error(), "not an operator the trainer has layers for") {
		t.Errorf("error %q does not say why", err)
	}

	// A Reshape that would mix examples, and a node after the final Softmax, are refused by name.
	b = newGraphBuilder(2, 6, 6)
	b.g.NodeNamed("mixer", "Reshape", "", []string{"x", b.ints("shape", 2, -1)}, []string{"mixed"}, nil)
	if _, err = ImportONNX(b.model(t, "mixed"), ImportOptions{}); !errors.As(err, &unsupported) || unsupported.Node != "mixer" ||
		!strings.Contains(err.Error(), "batch axis") {
		t.Errorf("got %v, want an UnsupportedNodeError naming node mixer and the batch axis", err)
	}
	b = newGraphBuilder(2, 6, 6)
	sm := b.g.Node("Softmax", []string{b.g.Node("Flatten", []string{"x"}, nil)}, nil)
	b.g.NodeNamed("late", "Relu", "", []string{sm}, []string{"after"}, nil)
	if _, err = ImportONNX(b.model(t, "after"), ImportOptions{}); !errors.As(err, &unsupported) || unsupported.Node != "late" ||
		!strings.Contains(err.Error(), "follows the final Softmax") {
		t.Errorf("got %v, want an UnsupportedNodeError naming node late after the Softmax", err)
	}

	// Two activations meet only in an Add of the same shapes (a residual connection); a Mul of two, or an
	// Add that would broadcast, is refused with the node named, not mis-imported.
	b = newGraphBuilder(2, 6, 6)
	r = b.g.Node("Relu", []string{"x"}, nil)
	b.g.NodeNamed("gate", "Mul", "", []string{r, "x"}, []string{"product"}, nil)
	if _, err = ImportONNX(b.model(t, "product"), ImportOptions{}); !errors.As(err, &unsupported) || unsupported.Node != "gate" ||
		!strings.Contains(err.Error(), "only an Add may sum two") {
		t.Errorf("got %v, want an UnsupportedNodeError naming node gate and why", err)
	}
	b = newGraphBuilder(2, 6, 6)
	pool := b.g.Node("MaxPool", []string{"x"}, exporter.Attrs{"kernel_shape": []int{2, 2}, "strides": []int{2, 2}})
	b.g.NodeNamed("broadcast", "Add", "", []string{"x", pool}, []string{"sum"}, nil)
	if _, err = ImportONNX(b.model(t, "sum"), ImportOptions{}); !errors.As(err, &unsupported) || unsupported.Node != "broadcast" ||
		!strings.Contains(err.Error(), "of shape [2,6,6]") {
		t.Errorf("got %v, want an UnsupportedNodeError naming node broadcast and the shapes", err)
	}
	// A branch that ends nowhere is named too.
	b = newGraphBuilder(2, 6, 6)
	b.g.NodeNamed("dangling", "Relu", "", []string{"x"}, []string{"unused"}, nil)
	b.g.NodeNamed("used", "Tanh", "", []string{"x"}, []string{"t"}, nil)
	if _, err = ImportONNX(b.model(t, "t"), ImportOptions{}); err == nil || !strings.Contains(err.Error(), "dangling") {
		t.Errorf("got %v, want an error naming the layer dangling, whose output nothing reads", err)
	}
}

// smallCNN is Conv → BatchNormalization → LeakyRelu → Pad → MaxPool → Transpose → Reshape → Gemm →
// Clip → MatMul+Add → Softmax on x [N 1 8 8]: every imported layer with a backward pass, and a head.
func smallCNN(t *testing.T) *onnx.Model {
	b := newGraphBuilder(1, 8, 8)
	c := b.g.Node("Conv", []string{"x", b.weights("conv.w", 3, 1, 3, 3), b.weights("conv.b", 3)}, nil)
	v := b.g.Float32Initializer("bn.var", []int{3}, []float32{0.5, 1, 2})
	bn := b.g.Node("BatchNormalization", []string{c, b.weights("bn.scale", 3), b.weights("bn.bias", 3), b.weights("bn.mean", 3), v}, nil)
	a := b.g.Node("LeakyRelu", []string{bn}, exporter.Attrs{"alpha": float32(0.1)})
	p := b.g.Node("Pad", []string{a, b.ints("pads", 0, 0, 1, 1, 0, 0, 1, 1)}, nil)
	mp := b.g.Node("MaxPool", []string{p}, exporter.Attrs{"kernel_shape": []int{2, 2}, "strides": []int{2, 2}})
	tr := b.g.Node("Transpose", []string{mp}, exporter.Attrs{"perm": []int{0, 2, 3, 1}})
	r := b.g.Node("Reshape", []string{tr, b.ints("flat", 0, -1)}, nil)
	g := b.g.Node("Gemm", []string{r, b.weights("fc.w", 6, 48), b.weights("fc.b", 6)}, exporter.Attrs{"transB": 1})
	cl := b.g.Node("Clip", []string{g, b.scalar("lo", -0.4), b.scalar("hi", 0.4)}, nil)
	mm := b.g.Node("MatMul", []string{cl, b.weights("head.w", 6, 4)}, nil)
	add := b.g.Node("Add", []string{mm, b.weights("head.b", 4)}, nil)
	return b.model(t, b.g.Node("Softmax", []string{add}, exporter.Attrs{"axis": 1}), "N", 4)
}

// TestImportedGradients checks the backward pass of the imported layers against central finite
// differences of the loss, for every parameter: the Conv's gradients pass back through every other layer.
func TestImportedGradients(t *testing.T) {
	net, err := ImportONNX(smallCNN(t), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w := newWorker(net, 1)
	p, err := w.pass(2)
	if err != nil {
		t.Fatal(err)
	}
	copy(p.x.Float32s(), randomInput(5, 2, 1, 8, 8).Float32s())
	checkPassGradients(t, net, w, p, []uint8{3, 1}, nil)
}

// trainSteps runs steps optimizer steps of batch 4 on random 8x8 images with labels 0 to 3.
func trainSteps(t *testing.T, net *Network, steps int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(9, 9))
	n := 4 * steps
	ds := &Dataset{Name: "random", N: n, Rows: 8, Cols: 8, Classes: 4, Images: make([]uint8, n*64), Labels: make([]uint8, n)}
	for i := range ds.Images {
		ds.Images[i] = uint8(rng.IntN(256))
	}
	for i := range ds.Labels {
		ds.Labels[i] = uint8(rng.IntN(4))
	}
	if _, err := Train(net, ds, nil, Config{Epochs: 1, BatchSize: 4, Threads: 1, Seed: 1}); err != nil {
		t.Fatal(err)
	}
}

func TestImportFreeze(t *testing.T) {
	net, err := ImportONNX(smallCNN(t), ImportOptions{Freeze: []string{"conv*", "bn.scale"}})
	if err != nil {
		t.Fatal(err)
	}
	before := map[string][]float32{}
	for _, p := range net.Params() {
		before[p.Name] = append([]float32(nil), p.Value...)
	}
	trainSteps(t, net, 3)
	for _, p := range net.Params() {
		frozen := strings.HasPrefix(p.Name, "conv") || p.Name == "bn.scale"
		changed := closeTo(p.Value, before[p.Name], 0) != nil
		if frozen && changed {
			t.Errorf("%s is frozen but changed", p.Name)
		}
		if !frozen && !changed {
			t.Errorf("%s is trainable but did not change", p.Name)
		}
	}
	// The backward pass does not even compute the frozen Conv's gradients.
	w := newWorker(net, 1)
	p, err := w.pass(2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range w.grads {
		for j := range w.grads[i] {
			w.grads[i][j] = 42
		}
	}
	if _, err := w.forward(p, true); err != nil {
		t.Fatal(err)
	}
	if err := w.backward(p); err != nil {
		t.Fatal(err)
	}
	for i, param := range net.Params() {
		if untouched := w.grads[i][0] == 42; untouched != strings.HasPrefix(param.Name, "conv") {
			t.Errorf("%s: gradient computed %v, want %v", param.Name, !untouched, !strings.HasPrefix(param.Name, "conv"))
		}
	}
	if _, err := ImportONNX(smallCNN(t), ImportOptions{Freeze: []string{"no_such_layer"}}); err == nil || !strings.Contains(err.Error(), "no_such_layer") {
		t.Errorf("freezing an unknown name: got %v, want an error naming it", err)
	}
}

func TestImportNumClasses(t *testing.T) {
	net, err := ImportONNX(smallCNN(t), ImportOptions{NumClasses: 7, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !net.Output().Equal(ops.Shape{7}) {
		t.Fatalf("output %v, want [7]", net.Output())
	}
	params := net.Params()
	head, bias := params[len(params)-2], params[len(params)-1]
	if head.Name != "head.w" || !head.Shape.Equal(ops.Shape{6, 7}) || !bias.Shape.Equal(ops.Shape{7}) {
		t.Fatalf("head %s%v bias %s%v, want head.w[6 7] and [7]", head.Name, head.Shape, bias.Name, bias.Shape)
	}
	limit := math.Sqrt(6.0 / 13)
	nonZero := 0
	for _, v := range head.Value {
		if math.Abs(float64(v)) > limit {
			t.Fatalf("head weight %g outside the Glorot range ±%g", v, limit)
		}
		if v != 0 {
			nonZero++
		}
	}
	if nonZero == 0 || closeTo(bias.Value, make([]float32, 7), 0) != nil {
		t.Errorf("want random head weights and a zero bias")
	}
	again, _ := ImportONNX(smallCNN(t), ImportOptions{NumClasses: 7, Seed: 3})
	if closeTo(again.Params()[len(params)-2].Value, head.Value, 0) != nil {
		t.Errorf("the same seed gave a different head")
	}
	m, err := net.ExportImported("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := matchesModel(t, net, m, randomInput(4, 2, 1, 8, 8)); err != nil {
		t.Fatalf("the export with the new head: %v", err)
	}
	_, dims, _ := onnx.ValueInfoShape(m.Proto.GetGraph().GetOutput()[0])
	if len(dims) != 2 || dims[1].Value != 7 {
		t.Errorf("exported output dims %v, want [N 7]", dims)
	}
}

// TestImportExportRoundTrip trains an NHWC model briefly and checks that its export keeps the input
// and output names, the NHWC layout, the opset and the node names, holds the trained weights, and runs
// in onnxrun to the trained network's outputs.
func TestImportExportRoundTrip(t *testing.T) {
	b := newGraphBuilder(8, 8, 1) // NHWC, as Keras
	nchw := b.g.Node("Transpose", []string{"x"}, exporter.Attrs{"perm": []int{0, 3, 1, 2}})
	c := b.g.Node("Conv", []string{nchw, b.weights("conv.w", 2, 1, 3, 3), b.weights("conv.b", 2)}, nil)
	f := b.g.Node("Flatten", []string{b.g.Node("Relu", []string{c}, nil)}, nil)
	out := b.g.Node("Softmax", []string{b.g.Node("Gemm", []string{f, b.weights("fc.w", 72, 4), b.weights("fc.b", 4)}, nil)}, nil)
	b.g.Rename(out, "probs")
	b.g.Output("probs", onnxpb.TensorProto_FLOAT, "N", 4)
	src, err := b.g.Model(exporter.ModelOptions{Opset: 11})
	if err != nil {
		t.Fatal(err)
	}
	net, err := ImportONNX(src, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !net.Input.Equal(ops.Shape{8, 8, 1}) {
		t.Fatalf("input %v, want NHWC [8 8 1]", net.Input)
	}
	trainSteps(t, net, 2)
	m, err := net.ExportImported("fine-tuned", map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	g := m.Proto.GetGraph()
	if g.GetInput()[0].GetName() != "x" || g.GetOutput()[0].GetName() != "probs" {
		t.Errorf("input %q output %q, want x and probs", g.GetInput()[0].GetName(), g.GetOutput()[0].GetName())
	}
	if _, dims, _ := onnx.ValueInfoShape(g.GetInput()[0]); len(dims) != 4 || dims[3].Value != 1 || dims[1].Value != 8 {
		t.Errorf("input dims %v, want NHWC [N 8 8 1]", dims)
	}
	if v, _ := m.OpsetFor(""); v != 11 {
		t.Errorf("opset %d, want the source's 11", v)
	}
	for i, n := range g.GetNode() {
		if n.GetName() != src.Proto.GetGraph().GetNode()[i].GetName() {
			t.Errorf("node %d is %q, the source's is %q", i, n.GetName(), src.Proto.GetGraph().GetNode()[i].GetName())
		}
	}
	// Encode and decode, as a file would.
	raw, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if m, err = onnx.Decode(raw); err != nil {
		t.Fatal(err)
	}
	x := randomInput(6, 3, 8, 8, 1)
	if err := matchesModel(t, net, m, x); err != nil {
		t.Fatalf("the export does not hold the trained weights: %v", err)
	}
	if err := matchesModel(t, net, src, x); err == nil {
		t.Errorf("training changed nothing: the export equals the source")
	}
}
