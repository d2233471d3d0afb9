package onnxgo

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	onnx "github.com/owulveryck/onnx-go"
	"gonum.org/v1/gonum/graph"
	"gorgonia.org/tensor"

	"github.com/onnxrun/onnxrun/exporter"
	onnxrun "github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
)

const f32 = onnxpb.TensorProto_FLOAT

// The backend satisfies the interfaces onnx-go's decoder and test harness use.
var (
	_ onnx.Backend       = (*Graph)(nil)
	_ onnx.Namer         = (*Node)(nil)
	_ onnx.DataCarrier   = (*Node)(nil)
	_ graph.WeightedEdge = (*Edge)(nil)
)

// encode builds a model with the exporter and returns its bytes.
func encode(t *testing.T, b *exporter.Graph, opset int64) []byte {
	t.Helper()
	m, err := b.Model(exporter.ModelOptions{Opset: opset})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// decode reads raw into a fresh backend through onnx-go.
func decode(t *testing.T, raw []byte) (*Graph, *onnx.Model) {
	t.Helper()
	g := NewGraph()
	m := onnx.NewModel(g)
	if err := m.UnmarshalBinary(raw); err != nil {
		t.Fatal(err)
	}
	return g, m
}

func run(t *testing.T, g *Graph, m *onnx.Model, inputs ...tensor.Tensor) []tensor.Tensor {
	t.Helper()
	for i, in := range inputs {
		if err := m.SetInput(i, in); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Run(); err != nil {
		t.Fatal(err)
	}
	outs, err := m.GetOutputTensors()
	if err != nil {
		t.Fatal(err)
	}
	return outs
}

func TestGraphBuilder(t *testing.T) {
	g := NewGraph()
	a, b := g.NewNode(), g.NewNode()
	if a.ID() != 0 || b.ID() != 0 {
		t.Fatalf("IDs before AddNode: %d, %d; want the next free one, 0", a.ID(), b.ID())
	}
	g.AddNode(a)
	b = g.NewNode()
	g.AddNode(b)
	c := g.NewNode()
	g.AddNode(c)
	if b.ID() != 1 || c.ID() != 2 || g.Node(1) != b || g.Node(7) != nil || g.Nodes().Len() != 3 {
		t.Fatalf("IDs %d %d, Nodes %d", b.ID(), c.ID(), g.Nodes().Len())
	}
	// c = op(a, a, b): parallel edges are kept, so both uses of a stay.
	g.SetWeightedEdge(g.NewWeightedEdge(c, a, 0))
	g.SetWeightedEdge(g.NewWeightedEdge(c, a, 1))
	g.SetWeightedEdge(g.NewWeightedEdge(c, b, 2))
	if err := g.ApplyOperation(onnx.Operation{Name: "Sum"}, c); err != nil {
		t.Fatal(err)
	}
	o := g.operations[0]
	if len(o.inputs) != 3 || o.inputs[0] != a || o.inputs[1] != a || o.inputs[2] != b {
		t.Errorf("inputs %v, want [a a b]", o.inputs)
	}
	if !g.HasEdgeFromTo(2, 0) || g.HasEdgeFromTo(0, 2) || !g.HasEdgeBetween(0, 2) || g.From(2).Len() != 2 || g.To(0).Len() != 1 {
		t.Errorf("edge queries")
	}
	if e := g.WeightedEdge(2, 1); e == nil || e.Weight() != 2 {
		t.Errorf("WeightedEdge(2, 1) = %v", e)
	}
	defer func() {
		if recover() == nil {
			t.Errorf("adding a node twice does not panic")
		}
	}()
	g.AddNode(c)
}

// An operation reading one value twice, a Constant (which onnx-go gives a fake input), an optional input
// left out and an initializer all come through.
func TestDecodeAndRun(t *testing.T) {
	b := exporter.NewGraph("t")
	x := b.Input("x", f32, "N", 3)
	sq := b.Node("Mul", []string{x, x}, nil)
	k := b.Node("Constant", nil, exporter.Attrs{"value": &onnxrun.Array{DataType: f32, Dims: []int64{3}, Data: []float32{1, 2, 3}}})
	s := b.Node("Add", []string{sq, k}, nil)
	lo := b.Initializer("lo", &onnxrun.Array{DataType: f32, Dims: []int64{}, Data: []float32{2}})
	c := b.Node("Clip", []string{s, lo, ""}, nil)
	b.Output(c, f32, "N", 3)
	g, m := decode(t, encode(t, b, 13))
	outs := run(t, g, m, tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{0, 1, 2, 3, -4, 0.5})))
	want := []float32{2, 3, 7, 10, 18, 3.25}
	if got := outs[0].Data(); !reflect.DeepEqual(got, want) || !reflect.DeepEqual([]int(outs[0].Shape()), []int{2, 3}) {
		t.Errorf("got %v %v, want [2 3] %v", outs[0].Shape(), got, want)
	}
	if g.compiled.opset != 11 {
		t.Errorf("inferred opset %d, want 11 (onnx-go's era; Clip with its bounds as inputs needs 11 or later)", g.compiled.opset)
	}
	// Another batch size compiles again; the same one reuses the plan.
	plan := g.compiled.plan
	outs = run(t, g, m, tensor.New(tensor.WithShape(1, 3), tensor.WithBacking([]float32{1, 1, 1})))
	if got := outs[0].Data(); !reflect.DeepEqual(got, []float32{2, 3, 4}) || g.compiled.plan == plan {
		t.Errorf("batch 1: got %v (recompiled %v)", got, g.compiled.plan != plan)
	}
	plan = g.compiled.plan
	run(t, g, m, tensor.New(tensor.WithShape(1, 3), tensor.WithBacking([]float32{5, 5, 5})))
	if g.compiled.plan != plan {
		t.Errorf("the same input shape compiled again")
	}
	// After Close the graph compiles again, with more threads if asked.
	g.Close()
	g.Threads = 2
	outs = run(t, g, m, tensor.New(tensor.WithShape(1, 3), tensor.WithBacking([]float32{0, 0, 0})))
	if got := outs[0].Data(); !reflect.DeepEqual(got, []float32{2, 2, 3}) || g.compiled.plan.Options().Threads != 2 {
		t.Errorf("after Close: got %v", got)
	}
	g.Close()
}

func TestNotImplemented(t *testing.T) {
	b := exporter.NewGraph("t")
	x := b.Input("x", f32, 3)
	y := b.Node("Frobnicate", []string{x}, nil)
	b.Output(y, f32, 3)
	err := onnx.NewModel(NewGraph()).UnmarshalBinary(encode(t, b, 13))
	var ni *onnx.ErrNotImplemented
	if !errors.As(err, &ni) || ni.Operator != "Frobnicate" {
		t.Errorf("an unknown operator: got %v, want *onnx.ErrNotImplemented", err)
	}
	// An operator onnxrun knows, at an opset it lacks, is reported at Run, with onnx-go's type.
	b = exporter.NewGraph("t")
	x = b.Input("x", f32, 3)
	y = b.Node("Relu", []string{x}, nil)
	b.Output(y, f32, 3)
	g, m := decode(t, encode(t, b, 13))
	g.Opset = ops.MaxOpset + 1
	if err := m.SetInput(0, tensor.New(tensor.WithShape(3), tensor.WithBacking([]float32{1, 2, 3}))); err != nil {
		t.Fatal(err)
	}
	if err := g.Run(); err == nil || !strings.Contains(err.Error(), "opset") {
		t.Errorf("a newer opset: got %v", err)
	}
}

func TestInputConversion(t *testing.T) {
	b := exporter.NewGraph("t")
	x := b.Input("x", onnxpb.TensorProto_INT64, 3)
	y := b.Node("Neg", []string{x}, nil)
	b.Output(y, onnxpb.TensorProto_INT64, 3)
	g, m := decode(t, encode(t, b, 13))
	outs := run(t, g, m, tensor.New(tensor.WithShape(3), tensor.WithBacking([]float32{1, -2, 3})))
	if got := outs[0].Data(); !reflect.DeepEqual(got, []int64{-1, 2, -3}) {
		t.Errorf("float32 values fed to an int64 input: got %v", got)
	}
	if err := m.SetInput(0, tensor.New(tensor.WithShape(3), tensor.WithBacking([]float32{1, 2.5, 3}))); err != nil {
		t.Fatal(err)
	}
	if err := g.Run(); err == nil || !strings.Contains(err.Error(), "the model declares int64, got float32 holding 2.5") {
		t.Errorf("2.5 for an int64 input: got %v", err)
	}
}

// A transposed Gorgonia tensor is read in its logical order.
func TestFromGorgoniaView(t *testing.T) {
	d := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{1, 2, 3, 4, 5, 6}))
	if err := d.T(); err != nil {
		t.Fatal(err)
	}
	got, err := fromGorgonia(d)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Shape().Equal(ops.Shape{3, 2}) || !reflect.DeepEqual(got.Float32s(), []float32{1, 4, 2, 5, 3, 6}) {
		t.Errorf("got %v %v", got.Shape(), got.Float32s())
	}
	ints, err := fromGorgonia(tensor.New(tensor.WithShape(2), tensor.WithBacking([]int{7, -1})))
	if err != nil || !reflect.DeepEqual(ints.Int64s(), []int64{7, -1}) {
		t.Errorf("[]int: %v, %v", ints, err)
	}
	one, err := fromGorgonia(tensor.New(tensor.WithShape(1), tensor.WithBacking([]int32{4})))
	if err != nil || !one.Shape().Equal(ops.Shape{1}) {
		t.Errorf("shape (1): %v, %v", one, err)
	}
	scalar, err := fromGorgonia(tensor.New(tensor.FromScalar(float64(2.5))))
	if err != nil || scalar.Rank() != 0 || scalar.Float64s()[0] != 2.5 {
		t.Errorf("scalar: %v, %v", scalar, err)
	}
}

func TestInferOpset(t *testing.T) {
	op := func(name string, nInputs int, attrs ...string) *operation {
		o := &operation{opType: name, attrs: map[string]interface{}{}}
		for i := 0; i < nInputs; i++ {
			o.inputs = append(o.inputs, &Node{name: "in", t: tensor.New(tensor.FromScalar(float32(0)))})
		}
		for _, a := range attrs {
			o.attrs[a] = int64(0)
		}
		return o
	}
	tests := []struct {
		name string
		ops  []*operation
		want int
	}{
		{"nothing pins it: onnx-go's era", []*operation{op("Relu", 1), op("Conv", 3)}, 11},
		{"Pad with a pads attribute", []*operation{op("Pad", 1, "pads")}, 10},
		{"Slice with starts as an attribute", []*operation{op("Slice", 1, "starts")}, 9},
		{"Squeeze with axes as an input", []*operation{op("Squeeze", 2)}, 13},
		{"Squeeze with an axes attribute", []*operation{op("Squeeze", 1, "axes"), op("Relu", 1)}, 11},
		{"ReduceMean with axes as an input", []*operation{op("ReduceMean", 2)}, 18},
		{"Upsample", []*operation{op("Upsample", 2)}, 9},
		{"consumed_inputs", []*operation{op("Relu", 1, "consumed_inputs")}, 5},
		{"conflicting forms: the later one wins", []*operation{op("Pad", 1, "pads"), op("Squeeze", 2)}, 13},
	}
	for _, tc := range tests {
		if got := inferOpset(tc.ops); got != tc.want {
			t.Errorf("%s: opset %d, want %d", tc.name, got, tc.want)
		}
	}
}
