package exporter

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
)

// smallGraph is x [N,4] → Gemm(W, B, transB=1) → Relu → y [N,2], with docs on every part.
func smallGraph() *Graph {
	g := NewGraph("small")
	x := g.Input("x", onnxpb.TensorProto_FLOAT, "N", 4)
	g.ValueDoc(x, "the input")
	w := g.Float32Initializer("fc.weight", []int{2, 4}, []float32{1, 2, 3, 4, 5, 6, 7, 8})
	b := g.Float32Initializer("fc.bias", []int{2}, []float32{-1, 1})
	h := g.Node("Gemm", []string{x, w, b}, Attrs{"transB": 1, "alpha": float32(1)})
	g.NodeDoc("dense layer")
	g.ValueInfo(h, onnxpb.TensorProto_FLOAT, "N", 2)
	y := g.Node("Relu", []string{h}, nil)
	g.ValueInfo(y, onnxpb.TensorProto_FLOAT, "N", 2)
	g.Rename(y, "y")
	g.Output("y", onnxpb.TensorProto_FLOAT, "N", 2)
	g.Doc("a two-node graph")
	return g
}

func TestModelRoundTrip(t *testing.T) {
	cases := []struct {
		opset, wantIR int64
	}{{9, 4}, {10, 5}, {11, 6}, {13, 7}, {17, 8}, {19, 9}, {21, 10}, {0, 7}}
	for _, c := range cases {
		m, err := smallGraph().Model(ModelOptions{Opset: c.opset, ProducerVersion: "1.2", DocString: "model doc",
			Metadata: map[string]string{"b": "2", "a": "1"}})
		if err != nil {
			t.Fatal(err)
		}
		b, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		back, err := onnx.Decode(b)
		if err != nil {
			t.Fatalf("opset %d: decode: %v", c.opset, err)
		}
		if !proto.Equal(back.Proto, m.Proto) {
			t.Fatalf("opset %d: decode(encode(m)) differs from m", c.opset)
		}
		mp := back.Proto
		want := c.opset
		if want == 0 {
			want = 13
		}
		if v, _ := back.OpsetFor(""); v != want || mp.GetIrVersion() != c.wantIR {
			t.Errorf("opset %d: model says opset %d, IR %d; want %d, %d", c.opset, v, mp.GetIrVersion(), want, c.wantIR)
		}
		if mp.GetProducerName() != "onnxrun" || mp.GetProducerVersion() != "1.2" || mp.GetDocString() != "model doc" {
			t.Errorf("producer %q %q, doc %q", mp.GetProducerName(), mp.GetProducerVersion(), mp.GetDocString())
		}
		if md := mp.GetMetadataProps(); len(md) != 2 || md[0].GetKey() != "a" || md[1].GetValue() != "2" {
			t.Errorf("metadata %v, want a=1, b=2 in key order", md)
		}
	}
}

func TestGraphContents(t *testing.T) {
	m, err := smallGraph().Model(ModelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g := m.Proto.GetGraph()
	if g.GetDocString() != "a two-node graph" || g.GetInput()[0].GetDocString() != "the input" {
		t.Errorf("graph doc %q, input doc %q", g.GetDocString(), g.GetInput()[0].GetDocString())
	}
	if n := g.GetNode(); len(n) != 2 || n[0].GetDocString() != "dense layer" || n[1].GetOutput()[0] != "y" {
		t.Fatalf("nodes %v", n)
	}
	// The output's value_info entry went away when it was declared as an output.
	if vi := g.GetValueInfo(); len(vi) != 1 || vi[0].GetName() != g.GetNode()[0].GetOutput()[0] {
		t.Errorf("value_info %v, want only the Gemm output", vi)
	}
	_, dims, _ := onnx.ValueInfoShape(g.GetInput()[0])
	if len(dims) != 2 || dims[0].Param != "N" || dims[1].Value != 4 {
		t.Errorf("input dims %v, want [N 4]", dims)
	}
	for _, init := range g.GetInitializer() {
		if len(init.GetRawData()) == 0 || len(init.GetFloatData()) > 0 {
			t.Errorf("initializer %q not in raw_data", init.GetName())
		}
	}
	a, err := m.TensorArray(g.GetInitializer()[0])
	if err != nil || a.Data.([]float32)[7] != 8 {
		t.Errorf("weights read back as %v, %v", a, err)
	}
	attrs := map[string]bool{}
	for _, a := range g.GetNode()[0].GetAttribute() {
		attrs[a.GetName()] = true
	}
	if !attrs["transB"] || !attrs["alpha"] {
		t.Errorf("Gemm attributes %v", g.GetNode()[0].GetAttribute())
	}
}

func TestDeterministic(t *testing.T) {
	a, _ := smallGraph().Model(ModelOptions{Metadata: map[string]string{"x": "1", "y": "2", "z": "3"}})
	b, _ := smallGraph().Model(ModelOptions{Metadata: map[string]string{"z": "3", "y": "2", "x": "1"}})
	ea, _ := a.Encode()
	eb, _ := b.Encode()
	if string(ea) != string(eb) {
		t.Error("the same graph exported twice gives different bytes")
	}
}

func TestErrorsStick(t *testing.T) {
	cases := []struct {
		name    string
		build   func(g *Graph)
		opts    ModelOptions
		wantErr string
	}{
		{"bad dim", func(g *Graph) { g.Input("x", onnxpb.TensorProto_FLOAT, 1.5) }, ModelOptions{}, "is a float64, want int or string"},
		{"bad attribute", func(g *Graph) { g.Node("Relu", []string{"x"}, Attrs{"a": struct{}{}}) }, ModelOptions{}, `attribute "a": unsupported Go type`},
		{"duplicate input", func(g *Graph) {
			g.Input("x", onnxpb.TensorProto_FLOAT, 1)
			g.Input("x", onnxpb.TensorProto_FLOAT, 1)
		}, ModelOptions{}, `input "x": name already used`},
		{"initializer size", func(g *Graph) { g.Float32Initializer("w", []int{2, 2}, []float32{1}) }, ModelOptions{}, "need 4 elements"},
		{"node doc first", func(g *Graph) { g.NodeDoc("x") }, ModelOptions{}, "before any node"},
		{"value doc unknown", func(g *Graph) { g.ValueDoc("nope", "x") }, ModelOptions{}, `no input, output or value_info is named "nope"`},
		{"rename onto a used name", func(g *Graph) {
			g.Input("x", onnxpb.TensorProto_FLOAT, 1)
			y := g.Node("Relu", []string{"x"}, nil)
			g.Rename(y, "x")
		}, ModelOptions{}, `"x" is already used`},
		{"negative opset", func(g *Graph) {}, ModelOptions{Opset: -1}, "opset -1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := NewGraph("g")
			c.build(g)
			g.Node("Identity", []string{"x"}, nil) // later calls do not clear the first error
			_, err := g.Model(c.opts)
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, c.wantErr)
			}
		})
	}
}
