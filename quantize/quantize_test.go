package quantize_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/quantize"
	"github.com/onnxrun/onnxrun/runtime"
)

func randomFloats(rng *rand.Rand, n int, scale float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = scale * float32(rng.NormFloat64())
	}
	return v
}

// mlp is x[N,8] -> MatMul W1[8,6] (node "matmul") -> Add b1 -> Relu -> Gemm W2[4,6] transB, C[4] (node
// "gemm") -> Softmax -> y[N,4], at the given opset.
func mlp(t *testing.T, opset int64) *onnx.Model {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	g := exporter.NewGraph("mlp")
	x := g.Input("x", onnxpb.TensorProto_FLOAT, "N", 8)
	w1 := g.Float32Initializer("w1", []int{8, 6}, randomFloats(rng, 48, 0.5))
	b1 := g.Float32Initializer("b1", []int{6}, randomFloats(rng, 6, 0.1))
	w2 := g.Float32Initializer("w2", []int{4, 6}, randomFloats(rng, 24, 0.5))
	c2 := g.Float32Initializer("c2", []int{4}, randomFloats(rng, 4, 0.1))
	g.NodeNamed("matmul", "MatMul", "", []string{x, w1}, []string{"h"}, nil)
	g.NodeNamed("add", "Add", "", []string{"h", b1}, []string{"hb"}, nil)
	g.NodeNamed("relu", "Relu", "", []string{"hb"}, []string{"r"}, nil)
	g.NodeNamed("gemm", "Gemm", "", []string{"r", w2, c2}, []string{"logits"}, exporter.Attrs{"transB": 1})
	g.NodeNamed("softmax", "Softmax", "", []string{"logits"}, []string{"y"}, nil)
	g.Output("y", onnxpb.TensorProto_FLOAT, "N", 4)
	m, err := g.Model(exporter.ModelOptions{Opset: opset})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func inputSets(n int) [][]*ops.Tensor {
	rng := rand.New(rand.NewPCG(5, 6))
	var sets [][]*ops.Tensor
	for range n {
		sets = append(sets, []*ops.Tensor{ops.FromSlice(ops.Shape{16, 8}, randomFloats(rng, 16*8, 1))})
	}
	return sets
}

type graphView struct {
	nodes    map[string]*onnxpb.NodeProto // by node name
	producer map[string]*onnxpb.NodeProto // by output
	inits    map[string]*onnx.Array
}

func view(t *testing.T, m *onnx.Model) *graphView {
	t.Helper()
	v := &graphView{nodes: map[string]*onnxpb.NodeProto{}, producer: map[string]*onnxpb.NodeProto{}, inits: map[string]*onnx.Array{}}
	for _, n := range m.Proto.GetGraph().GetNode() {
		v.nodes[n.GetName()] = n
		for _, o := range n.GetOutput() {
			v.producer[o] = n
		}
	}
	for _, init := range m.Proto.GetGraph().GetInitializer() {
		a, err := m.TensorArray(init)
		if err != nil {
			t.Fatal(err)
		}
		v.inits[init.GetName()] = a
	}
	return v
}

func axisOf(n *onnxpb.NodeProto) int64 {
	for _, a := range n.GetAttribute() {
		if a.GetName() == "axis" {
			return a.GetI()
		}
	}
	return 1 // DequantizeLinear's default
}

func run(t *testing.T, m *onnx.Model, sets [][]*ops.Tensor) [][]float32 {
	t.Helper()
	plan, err := runtime.Compile(m, runtime.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	sess := plan.NewSession()
	var outs [][]float32
	for _, in := range sets {
		y, err := sess.Run(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, append([]float32(nil), y[0].Float32s()...))
	}
	return outs
}

func TestStaticPerChannelGraph(t *testing.T) {
	m := mlp(t, 13)
	before := proto.Clone(m.Proto)
	sets := inputSets(4)
	q, summary, err := quantize.Quantize(m, quantize.Options{Mode: quantize.Static, PerChannel: true, Calibration: sets})
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(before, m.Proto) {
		t.Error("Quantize changed its input model")
	}
	if md := q.Proto.GetMetadataProps(); len(md) != 1 || md[0].GetKey() != quantize.MetadataKey || md[0].GetValue() != "static, minmax, per channel, 64 calibration examples" {
		t.Errorf("metadata %v: want %s = static, minmax, per channel, 64 calibration examples", md, quantize.MetadataKey)
	}
	if strings.Join(summary.Weights, ",") != "w1,w2" || strings.Join(summary.Biases, ",") != "c2" {
		t.Errorf("summary %+v: want weights w1,w2 and bias c2", summary)
	}
	v := view(t, q)
	// Each weight: int8 behind a DequantizeLinear on its output-channel axis, one scale per channel, and
	// dequantizing gives the float weight back to within half a step.
	for _, c := range []struct {
		node, weight string
		axis         int64
		channels     int
	}{{"matmul", "w1", 1, 6}, {"gemm", "w2", 0, 4}} {
		dq := v.producer[v.nodes[c.node].GetInput()[1]]
		if dq.GetOpType() != "DequantizeLinear" || axisOf(dq) != c.axis {
			t.Fatalf("%s's weight comes from %s (axis %d), want DequantizeLinear on axis %d", c.node, dq.GetOpType(), axisOf(dq), c.axis)
		}
		qw, scales, zps := v.inits[dq.GetInput()[0]], v.inits[dq.GetInput()[1]].Data.([]float32), v.inits[dq.GetInput()[2]].Data.([]int8)
		if qw.DataType != onnxpb.TensorProto_INT8 || len(scales) != c.channels || len(zps) != c.channels {
			t.Fatalf("%s: weight %s, %d scales, %d zero points; want int8 and %d of each", c.node, qw.DataType, len(scales), len(zps), c.channels)
		}
		orig, err := m.TensorArray(findInit(m, c.weight))
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range orig.Data.([]float32) {
			ch := i % c.channels // axis 1 of [8,6]
			if c.axis == 0 {
				ch = i / 6 // axis 0 of [4,6]
			}
			got := float32(qw.Data.([]int8)[i]) * scales[ch]
			if math.Abs(float64(got-w)) > float64(scales[ch])/2+1e-7 {
				t.Errorf("%s[%d]: dequantized %g, float %g, step %g", c.weight, i, got, w, scales[ch])
			}
		}
	}
	// The Gemm's bias: int32, scale = x_scale * w_scale per channel, zero point 0, on axis 0.
	gemm := v.nodes["gemm"]
	bdq := v.producer[gemm.GetInput()[2]]
	xdq := v.producer[gemm.GetInput()[0]]
	wdq := v.producer[gemm.GetInput()[1]]
	if bdq.GetOpType() != "DequantizeLinear" || xdq.GetOpType() != "DequantizeLinear" || v.inits[bdq.GetInput()[0]].DataType != onnxpb.TensorProto_INT32 {
		t.Fatalf("gemm reads %s, %s: want DequantizeLinear of an activation and of an int32 bias", xdq.GetOpType(), bdq.GetOpType())
	}
	xScale := v.inits[xdq.GetInput()[1]].Data.([]float32)[0]
	for c, s := range v.inits[bdq.GetInput()[1]].Data.([]float32) {
		if want := xScale * v.inits[wdq.GetInput()[1]].Data.([]float32)[c]; s != want {
			t.Errorf("bias scale %d: %g, want x_scale*w_scale = %g", c, s, want)
		}
	}
	// The activation is a Q->DQ pair of uint8 on the Relu's output (the Relu stays float), and Softmax, which
	// has no integer form, reads the dequantized logits.
	qn := v.producer[xdq.GetInput()[0]]
	if qn.GetOpType() != "QuantizeLinear" || qn.GetInput()[0] != "r" || v.inits[qn.GetInput()[2]].DataType != onnxpb.TensorProto_UINT8 {
		t.Errorf("gemm's input: %s of %v, want QuantizeLinear of r with a uint8 zero point", qn.GetOpType(), qn.GetInput())
	}
	if sm := v.producer[v.nodes["softmax"].GetInput()[0]]; sm.GetOpType() != "DequantizeLinear" {
		t.Errorf("softmax reads %s, want DequantizeLinear", sm.GetOpType())
	}
	// No float weight is left behind.
	for _, name := range []string{"w1", "w2", "c2"} {
		if v.inits[name] != nil {
			t.Errorf("initializer %s is still in the graph", name)
		}
	}
	// And it computes what the float model does, to within the quantization noise.
	want, got := run(t, m, sets), run(t, q, sets)
	for i := range want {
		for j := range want[i] {
			if d := math.Abs(float64(got[i][j] - want[i][j])); d > 0.05 {
				t.Fatalf("set %d, element %d: quantized %g, float %g", i, j, got[i][j], want[i][j])
			}
		}
	}
}

func findInit(m *onnx.Model, name string) *onnxpb.TensorProto {
	for _, t := range m.Proto.GetGraph().GetInitializer() {
		if t.GetName() == name {
			return t
		}
	}
	return nil
}

func TestDynamicPerTensorAndExclude(t *testing.T) {
	m := mlp(t, 13)
	q, summary, err := quantize.Quantize(m, quantize.Options{Mode: quantize.Dynamic, Exclude: []string{"gemm"}})
	if err != nil {
		t.Fatal(err)
	}
	v := view(t, q)
	if strings.Join(summary.Weights, ",") != "w1" || strings.Join(summary.Activations, ",") != "x" {
		t.Errorf("summary %+v: want weight w1 and activation x only", summary)
	}
	// The MatMul: x through DynamicQuantizeLinear -> DequantizeLinear; its weight per tensor (scalar scale,
	// no axis needed).
	mm := v.nodes["matmul"]
	xdq := v.producer[mm.GetInput()[0]]
	if xdq.GetOpType() != "DequantizeLinear" || v.producer[xdq.GetInput()[0]].GetOpType() != "DynamicQuantizeLinear" {
		t.Errorf("matmul's input does not come through DynamicQuantizeLinear -> DequantizeLinear")
	}
	if s := v.inits[v.producer[mm.GetInput()[1]].GetInput()[1]]; len(s.Dims) != 0 {
		t.Errorf("per-tensor weight scale has dims %v, want a scalar", s.Dims)
	}
	// The excluded Gemm keeps its float weight, bias and input.
	gemm := v.nodes["gemm"]
	if strings.Join(gemm.GetInput(), ",") != "r,w2,c2" || v.inits["w2"] == nil {
		t.Errorf("excluded gemm reads %v, want r,w2,c2 with w2 kept", gemm.GetInput())
	}
	sets := inputSets(2)
	want, got := run(t, m, sets), run(t, q, sets)
	for i := range want {
		for j := range want[i] {
			if d := math.Abs(float64(got[i][j] - want[i][j])); d > 0.05 {
				t.Fatalf("set %d, element %d: quantized %g, float %g", i, j, got[i][j], want[i][j])
			}
		}
	}
}

func TestQuantizeErrors(t *testing.T) {
	g := exporter.NewGraph("relu")
	g.Output(g.Node("Relu", []string{g.Input("x", onnxpb.TensorProto_FLOAT, 1, 4)}, nil), onnxpb.TensorProto_FLOAT, 1, 4)
	relu, err := g.Model(exporter.ModelOptions{Opset: 13})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		m    *onnx.Model
		opts quantize.Options
		want string
	}{
		{"old opset", mlp(t, 10), quantize.Options{}, "imports ONNX opset 10; quantize writes DynamicQuantizeLinear and QuantizeLinear of opset 11 or newer"},
		{"per channel before 13", mlp(t, 12), quantize.Options{PerChannel: true}, "opset 12; per-channel weights need per-axis DequantizeLinear, which came in opset 13"},
		{"nothing to quantize", relu, quantize.Options{}, "no node to quantize"},
		{"everything excluded", mlp(t, 13), quantize.Options{Exclude: []string{"matmul", "gemm"}}, "no node to quantize"},
		{"unknown exclusion", mlp(t, 13), quantize.Options{Exclude: []string{"conv"}}, `--exclude "conv" names no node; the nodes are add, gemm, matmul, relu, softmax`},
		{"static without data", mlp(t, 13), quantize.Options{Mode: quantize.Static}, "static quantization needs calibration data"},
		{"bad percentile", mlp(t, 13), quantize.Options{Percentile: 120}, "percentile 120"},
	} {
		_, _, err := quantize.Quantize(c.m, c.opts)
		var qe *quantize.Error
		if !errors.As(err, &qe) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want a *quantize.Error containing %q", c.name, err, c.want)
		}
	}
}

// Two MatMuls reading one weight share one int8 copy of it and its DequantizeLinear.
func TestSharedWeightQuantizedOnce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	g := exporter.NewGraph("shared")
	x := g.Input("x", onnxpb.TensorProto_FLOAT, 2, 4)
	w := g.Float32Initializer("w", []int{4, 4}, randomFloats(rng, 16, 1))
	g.NodeNamed("first", "MatMul", "", []string{x, w}, []string{"h"}, nil)
	g.NodeNamed("second", "MatMul", "", []string{"h", w}, []string{"y"}, nil)
	g.Output("y", onnxpb.TensorProto_FLOAT, 2, 4)
	m, err := g.Model(exporter.ModelOptions{Opset: 13})
	if err != nil {
		t.Fatal(err)
	}
	q, summary, err := quantize.Quantize(m, quantize.Options{PerChannel: true})
	if err != nil {
		t.Fatal(err)
	}
	v := view(t, q)
	first, second := v.nodes["first"].GetInput()[1], v.nodes["second"].GetInput()[1]
	int8s := 0
	for _, a := range v.inits {
		if a.DataType == onnxpb.TensorProto_INT8 && len(a.Dims) == 2 {
			int8s++
		}
	}
	if first != second || int8s != 1 || len(summary.Weights) != 1 {
		t.Errorf("the MatMuls read %q and %q, %d int8 weights, summary %v: want one shared copy", first, second, int8s, summary.Weights)
	}
	sets := [][]*ops.Tensor{{ops.FromSlice(ops.Shape{2, 4}, randomFloats(rng, 8, 1))}}
	want, got := run(t, m, sets), run(t, q, sets)
	for j := range want[0] {
		if d := math.Abs(float64(got[0][j] - want[0][j])); d > 0.2 {
			t.Errorf("element %d: quantized %g, float %g", j, got[0][j], want[0][j])
		}
	}
}

// A MatMul followed by a Relu gets its output's Q->DQ pair after the Relu (range [0, max]), not between
// the two.
func TestStaticQuantizesAfterTheRelu(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	g := exporter.NewGraph("relu")
	x := g.Input("x", onnxpb.TensorProto_FLOAT, "N", 8)
	w := g.Float32Initializer("w", []int{8, 4}, randomFloats(rng, 32, 1))
	g.NodeNamed("matmul", "MatMul", "", []string{x, w}, []string{"h"}, nil)
	g.NodeNamed("relu", "Relu", "", []string{"h"}, []string{"r"}, nil)
	g.NodeNamed("softmax", "Softmax", "", []string{"r"}, []string{"y"}, nil)
	g.Output("y", onnxpb.TensorProto_FLOAT, "N", 4)
	m, err := g.Model(exporter.ModelOptions{Opset: 13})
	if err != nil {
		t.Fatal(err)
	}
	q, summary, err := quantize.Quantize(m, quantize.Options{Mode: quantize.Static, Calibration: inputSets(2)})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(summary.Activations, ","); got != "r,x" {
		t.Errorf("quantized activations %s, want r,x (the Relu's output, not the MatMul's)", got)
	}
	v := view(t, q)
	if in := v.nodes["relu"].GetInput()[0]; in != "h" {
		t.Errorf("relu reads %q, want the MatMul's float output h", in)
	}
	zp := v.inits[v.producer[v.nodes["softmax"].GetInput()[0]].GetInput()[2]].Data.([]uint8)[0]
	if zp != 0 {
		t.Errorf("the Relu output's zero point is %d, want 0 (its range starts at 0)", zp)
	}
}

// Per tensor, a model at opset 11 or 12 is quantized without per-axis DequantizeLinear (its bias scale a
// scalar too) and runs.
func TestPerTensorAtOpset12(t *testing.T) {
	m := mlp(t, 12)
	sets := inputSets(2)
	for _, mode := range []quantize.Mode{quantize.Dynamic, quantize.Static} {
		q, _, err := quantize.Quantize(m, quantize.Options{Mode: mode, Calibration: sets})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range q.Proto.GetGraph().GetNode() {
			if n.GetOpType() == "DequantizeLinear" && len(n.GetAttribute()) != 0 {
				t.Errorf("%s: %s has attributes %v, want none before opset 13", mode, n.GetName(), n.GetAttribute())
			}
		}
		want, got := run(t, m, sets), run(t, q, sets)
		for i := range want {
			for j := range want[i] {
				if d := math.Abs(float64(got[i][j] - want[i][j])); d > 0.05 {
					t.Fatalf("%s: set %d, element %d: quantized %g, float %g", mode, i, j, got[i][j], want[i][j])
				}
			}
		}
	}
}
