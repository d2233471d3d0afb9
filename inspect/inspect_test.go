package inspect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
)

const f32 = onnxpb.TensorProto_FLOAT

// sharedModel loads a model under ../shared/models (beside the repository root), or skips the test.
func sharedModel(t *testing.T, name string) *onnx.Model {
	t.Helper()
	m, err := onnx.Load(testenv.Shared(t, "models", name, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// build finishes a graph into a model, through bytes as a file would give it.
func build(t *testing.T, b *exporter.Graph, opset int64) *onnx.Model {
	t.Helper()
	m, err := b.Model(exporter.ModelOptions{Opset: opset, ProducerName: "test", ProducerVersion: "1.0",
		Metadata: map[string]string{"author": "tests", "license": "MIT"}})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	m, err = onnx.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func zeros(dims ...int64) *onnx.Array {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	return &onnx.Array{DataType: f32, Dims: dims, Data: make([]float32, n)}
}

func ints(v ...int64) *onnx.Array {
	return &onnx.Array{DataType: onnxpb.TensorProto_INT64, Dims: []int64{int64(len(v))}, Data: v}
}

func scalar(v float32) *onnx.Array {
	return &onnx.Array{DataType: f32, Dims: []int64{}, Data: []float32{v}}
}

type row struct {
	name, typ, shape string
	params           int64
}

func rowsOf(s *Summary) []row {
	var rows []row
	for _, l := range s.Layers {
		rows = append(rows, row{l.Name, l.Type, formatShapes(l.OutputShapes), l.Params})
	}
	return rows
}

// The seed's LeNet, as PyTorch exports it at four opsets and as tf2onnx lays out the Keras model, gives
// the seed's model.summary() rows: 60, 0, 880, 0, 0, 48120, 10164, 850, total 60,074.
func TestSummarySeedLeNet(t *testing.T) {
	keras := []string{"(None, 26, 26, 6)", "(None, 13, 13, 6)", "(None, 11, 11, 16)", "(None, 5, 5, 16)", "(None, 400)",
		"(None, 120)", "(None, 84)", "(None, 10)"}
	params := []int64{60, 0, 880, 0, 0, 48120, 10164, 850}
	torch := []row{{"c1", "Conv+Relu", "", 0}, {"p1", "Pad+AveragePool", "", 0}, {"c2", "Conv+Relu", "", 0},
		{"p2", "Pad+AveragePool", "", 0}, {"Flatten", "Flatten", "", 0}, {"f1", "Gemm+Relu", "", 0},
		{"f2", "Gemm+Relu", "", 0}, {"f3", "Gemm", "", 0}}
	tf := []row{{"conv2d", "Conv+Relu", "", 0}, {"average_pooling2d", "AveragePool", "", 0}, {"conv2d_1", "Conv+Relu", "", 0},
		{"average_pooling2d_1", "AveragePool", "", 0}, {"flatten", "Transpose+Reshape", "", 0},
		{"dense", "MatMul+Add+Relu", "", 0}, {"dense_1", "MatMul+Add+Relu", "", 0}, {"dense_2", "MatMul+Add+Relu", "", 0}}
	for _, tc := range []struct {
		model string
		rows  []row
	}{
		{"lenet_torch_opset9", torch}, {"lenet_torch_opset11", torch}, {"lenet_torch_opset13", torch},
		{"lenet_torch_opset17", torch}, {"keras_lenet_tf2onnx_layout", tf},
	} {
		t.Run(tc.model, func(t *testing.T) {
			s, err := Summarize(sharedModel(t, tc.model), SummaryOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want := make([]row, len(tc.rows))
			for i, r := range tc.rows {
				want[i] = row{r.name, r.typ, keras[i], params[i]}
			}
			if got := rowsOf(s); !reflect.DeepEqual(got, want) {
				t.Errorf("rows:\n%v\nwant\n%v", got, want)
			}
			if s.TotalParams != 60074 || s.TrainableParams != 60074 || s.NonTrainableParams != 0 || s.TotalBytes != 4*60074 {
				t.Errorf("totals %d / %d / %d (%d bytes), want 60074 / 60074 / 0 (240296 bytes)", s.TotalParams, s.TrainableParams, s.NonTrainableParams, s.TotalBytes)
			}
			if !s.ChannelsLast || s.ShapeError != "" {
				t.Errorf("ChannelsLast %v, ShapeError %q", s.ChannelsLast, s.ShapeError)
			}
			var b bytes.Buffer
			if err := s.WriteText(&b); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"Layer (type)", "Output Shape", "Param #", "(None, 26, 26, 6)", "48,120",
				"Total params: 60,074 (234.66 KB)\n", "Trainable params: 60,074 (234.66 KB)\n", "Non-trainable params: 0 (0.00 B)\n"} {
				if !strings.Contains(b.String(), want) {
					t.Errorf("text lacks %q:\n%s", want, b.String())
				}
			}
		})
	}
}

func TestSummaryOtherModels(t *testing.T) {
	tests := []struct {
		model string
		rows  []row
		total int64
	}{
		{"tf2onnx117_cnn_mnist", []row{
			{"conv2d_1", "Conv+Relu", "(None, 26, 26, 32)", 320}, {"max_pooling2d_1", "MaxPool", "(None, 13, 13, 32)", 0},
			{"conv2d_1_2", "Conv+Relu", "(None, 11, 11, 64)", 18496}, {"max_pooling2d_1_2", "MaxPool", "(None, 5, 5, 64)", 0},
			{"flatten_1", "Transpose+Reshape", "(None, 1600)", 0}, {"dense_1", "MatMul+Add+Relu", "(None, 128)", 204928},
			{"dense_1_2", "MatMul+Add+Softmax", "(None, 10)", 1290}}, 225034},
		// CNTK: a bias Add after a Conv without bias, a weight reshaped by a node, a fixed batch of 1.
		{"mnist8_cntk", []row{
			{"Convolution28", "Conv+Add+Relu", "(1, 28, 28, 8)", 208}, {"Pooling66", "MaxPool", "(1, 14, 14, 8)", 0},
			{"Convolution110", "Conv+Add+Relu", "(1, 14, 14, 16)", 3216}, {"Pooling160", "MaxPool", "(1, 4, 4, 16)", 0},
			{"Times212_reshape0", "Reshape", "(1, 256)", 0}, {"Times212", "MatMul+Add", "(1, 10)", 2570}}, 5994},
		// GELU written as Div, Erf, Add, Mul, Mul after a Conv: one activation, its scalars no parameters.
		{"lenet_gelu_pytorch28", []row{
			{"layer1/layer1.0", "Conv+Relu", "(1, 28, 28, 16)", 416}, {"layer1/layer1.3", "MaxPool", "(1, 14, 14, 16)", 0},
			{"layer2/layer2.0", "Conv+Relu", "(1, 14, 14, 32)", 12832}, {"layer2/layer2.3", "MaxPool", "(1, 7, 7, 32)", 0},
			{"layer3/layer3.0", "Conv+Gelu", "(1, 7, 7, 32)", 25632}, {"layer3/layer3.3", "MaxPool", "(1, 3, 3, 32)", 0},
			{"Reshape", "Reshape", "(1, 288)", 0}, {"fc", "Gemm", "(1, 10)", 2890}}, 41770},
	}
	for _, tc := range tests {
		t.Run(tc.model, func(t *testing.T) {
			s, err := Summarize(sharedModel(t, tc.model), SummaryOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := rowsOf(s); !reflect.DeepEqual(got, tc.rows) {
				t.Errorf("rows:\n%v\nwant\n%v", got, tc.rows)
			}
			if s.TotalParams != tc.total {
				t.Errorf("total %d, want %d", s.TotalParams, tc.total)
			}
		})
	}
}

// TestSummaryLayoutFooter: the line under the table says which convention the shapes follow, and only
// when some shape was moved.
func TestSummaryLayoutFooter(t *testing.T) {
	const footer = "Output shapes of rank 3 or more are shown channels-last (N,...,C), as Keras shows them; ONNX holds them N,C,... (--channels-first)."
	for _, tc := range []struct {
		opts SummaryOptions
		want bool
	}{{SummaryOptions{}, true}, {SummaryOptions{ChannelsFirst: true}, false}} {
		s, err := Summarize(sharedModel(t, "lenet_torch_opset13"), tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		if err := s.WriteText(&b); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(b.String(), "\n"+footer+"\n"); got != tc.want {
			t.Errorf("%+v: footer shown %v, want %v:\n%s", tc.opts, got, tc.want, b.String())
		}
	}
}

func TestSummaryChannelsFirst(t *testing.T) {
	s, err := Summarize(sharedModel(t, "lenet_torch_opset13"), SummaryOptions{ChannelsFirst: true})
	if err != nil {
		t.Fatal(err)
	}
	var shapes []string
	for _, l := range s.Layers {
		shapes = append(shapes, formatShapes(l.OutputShapes))
	}
	want := []string{"(None, 6, 26, 26)", "(None, 6, 13, 13)", "(None, 16, 11, 11)", "(None, 16, 5, 5)", "(None, 400)", "(None, 120)", "(None, 84)", "(None, 10)"}
	if !reflect.DeepEqual(shapes, want) || s.ChannelsLast {
		t.Errorf("shapes %v (ChannelsLast %v), want %v", shapes, s.ChannelsLast, want)
	}
}

// Synthetic graphs for the grouping rules, one rule per case.
func TestSummaryRules(t *testing.T) {
	tests := []struct {
		name  string
		graph func(b *exporter.Graph)
		rows  []row
		// nonTrainable is the expected non-trainable count.
		nonTrainable int64
	}{
		{"BatchNormalization: mean and variance are non-trainable", func(b *exporter.Graph) {
			x := b.Input("x", f32, "N", 3, 8, 8)
			w, bias := b.Initializer("w", zeros(4, 3, 3, 3)), b.Initializer("b", zeros(4))
			c := b.Node("Conv", []string{x, w, bias}, exporter.Attrs{"pads": []int64{1, 1, 1, 1}})
			bn := b.Node("BatchNormalization", []string{c, b.Initializer("gamma", zeros(4)), b.Initializer("beta", zeros(4)),
				b.Initializer("mean", zeros(4)), b.Initializer("var", zeros(4))}, nil)
			r := b.Node("Relu", []string{bn}, nil)
			b.Output(r, f32, "N", 4, 8, 8)
		}, []row{{"Conv", "Conv", "(None, 8, 8, 4)", 112}, {"BatchNormalization", "BatchNormalization", "(None, 8, 8, 4)", 16},
			{"Relu", "Relu", "(None, 8, 8, 4)", 0}}, 8},
		{"a pre-activation value read by another layer is not fused", func(b *exporter.Graph) {
			x := b.Input("x", f32, "N", 4)
			h := b.Node("Gemm", []string{x, b.Initializer("w", zeros(3, 4)), b.Initializer("b", zeros(3))}, exporter.Attrs{"transB": 1})
			r := b.Node("Relu", []string{h}, nil)
			g := b.Node("Gemm", []string{h, b.Initializer("w2", zeros(2, 3))}, exporter.Attrs{"transB": 1})
			b.Output(r, f32, "N", 3)
			b.Output(g, f32, "N", 2)
		}, []row{{"Gemm", "Gemm", "(None, 3)", 15}, {"Relu", "Relu", "(None, 3)", 0}, {"Gemm_1", "Gemm", "(None, 2)", 6}}, 0},
		{"an activation of itself (h + relu(h)) is one chain", func(b *exporter.Graph) {
			x := b.Input("x", f32, "N", 4)
			h := b.Node("Gemm", []string{x, b.Initializer("w", zeros(3, 4)), b.Initializer("b", zeros(3))}, exporter.Attrs{"transB": 1})
			r := b.Node("Relu", []string{h}, nil)
			s := b.Node("Add", []string{h, r}, nil)
			b.Output(s, f32, "N", 3)
		}, []row{{"Gemm", "Gemm+Relu+Add", "(None, 3)", 15}}, 0},
		{"a graph output ends the fusion", func(b *exporter.Graph) {
			x := b.Input("x", f32, "N", 4)
			h := b.Node("MatMul", []string{x, b.Initializer("w", zeros(4, 3))}, nil)
			a := b.Node("Add", []string{h, b.Initializer("b", zeros(3))}, nil)
			r := b.Node("Relu", []string{a}, nil)
			b.Output(a, f32, "N", 3)
			b.Output(r, f32, "N", 3)
		}, []row{{"MatMul", "MatMul+Add", "(None, 3)", 15}, {"Relu", "Relu", "(None, 3)", 0}}, 0},
		{"MatMul of two data values is no dense layer; shared weights count once", func(b *exporter.Graph) {
			x := b.Input("x", f32, "N", 4)
			w := b.Initializer("w", zeros(4, 4))
			a := b.Node("MatMul", []string{x, w}, nil)
			c := b.Node("MatMul", []string{a, w}, nil)
			t := b.Node("Transpose", []string{c}, exporter.Attrs{"perm": []int64{1, 0}})
			d := b.Node("MatMul", []string{c, t}, nil)
			e := b.Node("Sigmoid", []string{d}, nil)
			b.Output(e, f32, "N", "N")
		}, []row{{"MatMul", "MatMul", "(None, 4)", 16}, {"MatMul_1", "MatMul", "(None, 4)", 0}, {"Transpose", "Transpose", "(4, None)", 0},
			{"MatMul_2", "MatMul", "(None, None)", 0}, {"Sigmoid", "Sigmoid", "(None, None)", 0}}, 0},
		{"Swish after a Conv", func(b *exporter.Graph) {
			x := b.Input("x", f32, 1, 1, 4, 4)
			c := b.Node("Conv", []string{x, b.Initializer("w", zeros(2, 1, 1, 1))}, nil)
			s := b.Node("Sigmoid", []string{c}, nil)
			m := b.Node("Mul", []string{c, s}, nil)
			p := b.Node("MaxPool", []string{m}, exporter.Attrs{"kernel_shape": []int64{2, 2}, "strides": []int64{2, 2}})
			b.Output(p, f32, 1, 2, 2, 2)
		}, []row{{"Conv", "Conv+Swish", "(1, 4, 4, 2)", 2}, {"MaxPool", "MaxPool", "(1, 2, 2, 2)", 0}}, 0},
		{"shape chains are no layers; a scalar divisor is no parameter; Identity is plumbing", func(b *exporter.Graph) {
			x := b.Input("x", onnxpb.TensorProto_UINT8, "N", 2, 3)
			f := b.Node("Cast", []string{x}, exporter.Attrs{"to": 1})
			d := b.Node("Div", []string{f, b.Initializer("k", scalar(255))}, nil)
			i := b.Node("Identity", []string{d}, nil)
			shape := b.Node("Shape", []string{i}, nil)
			n := b.Node("Gather", []string{shape, b.Initializer("zero", ints(0))}, exporter.Attrs{"axis": 0})
			target := b.Node("Concat", []string{n, b.Initializer("minus1", ints(-1))}, exporter.Attrs{"axis": 0})
			r := b.Node("Reshape", []string{i, target}, nil)
			b.Output(r, f32, "N", 6)
		}, []row{{"Div", "Div", "(None, 3, 2)", 0}, {"Reshape", "Reshape", "(None, 6)", 0}}, 0},
		{"every row of rank 3 or more is channels-last, whatever made it", func(b *exporter.Graph) {
			x := b.Input("x", f32, "N", 120)
			u := b.Node("Unsqueeze", []string{x, b.Initializer("axes", ints(2))}, nil)
			bn := b.Node("BatchNormalization", []string{u, b.Initializer("gamma", zeros(120)), b.Initializer("beta", zeros(120)),
				b.Initializer("mean", zeros(120)), b.Initializer("var", zeros(120))}, nil)
			r := b.Node("Reshape", []string{bn, b.Initializer("flat", ints(0, -1))}, nil)
			b.Output(r, f32, "N", 120)
		}, []row{{"Unsqueeze", "Unsqueeze", "(None, 1, 120)", 0}, {"BatchNormalization", "BatchNormalization", "(None, 1, 120)", 480},
			{"Reshape", "Reshape", "(None, 120)", 0}}, 240},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := exporter.NewGraph("rules")
			tc.graph(b)
			s, err := Summarize(build(t, b, 13), SummaryOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if s.ShapeError != "" {
				t.Fatalf("shapes: %s", s.ShapeError)
			}
			if got := rowsOf(s); !reflect.DeepEqual(got, tc.rows) {
				t.Errorf("rows:\n%v\nwant\n%v", got, tc.rows)
			}
			if s.NonTrainableParams != tc.nonTrainable || s.TrainableParams+s.NonTrainableParams != s.TotalParams {
				t.Errorf("non-trainable %d (total %d, trainable %d), want %d", s.NonTrainableParams, s.TotalParams, s.TrainableParams, tc.nonTrainable)
			}
		})
	}
}

// A model with an operator onnxrun lacks still gets its layers and parameters; shapes come from its
// value_info, or are unknown.
func TestSummaryWithoutKernels(t *testing.T) {
	b := exporter.NewGraph("unknown")
	x := b.Input("x", f32, "N", 4)
	h := b.Node("Gemm", []string{x, b.Initializer("w", zeros(3, 4)), b.Initializer("b", zeros(3))}, exporter.Attrs{"transB": 1})
	y := b.Node("FancyActivation", []string{h}, nil)
	b.ValueInfo(h, f32, "N", 3)
	b.Output(y, f32, "N", 3)
	s, err := Summarize(build(t, b, 13), SummaryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []row{{"Gemm", "Gemm", "(None, 3)", 15}, {"FancyActivation", "FancyActivation", "(None, 3)", 0}}
	if got := rowsOf(s); !reflect.DeepEqual(got, want) {
		t.Errorf("rows %v, want %v", got, want)
	}
	if !strings.Contains(s.ShapeError, "FancyActivation") {
		t.Errorf("ShapeError %q does not name the unsupported operator", s.ShapeError)
	}
}

func TestDescribe(t *testing.T) {
	b := exporter.NewGraph("described")
	x := b.Input("pixels", f32, "batch", 3, "height", 8)
	y := b.Node("Relu", []string{x}, nil)
	z := b.Node("Add", []string{y, b.Initializer("bias", zeros(8))}, nil)
	u := b.Node("Frobnicate", []string{z}, nil)
	v := b.Node("Frobnicate", []string{u}, nil)
	b.Output(v, f32, "batch", 3, "height", 8)
	b.Output(z, f32)
	m := build(t, b, 13)
	m.Proto.Graph.Output[1].Type.GetTensorType().Shape = nil // any rank
	info := Describe(m)
	if info.IRVersion != 7 || info.Producer != "test" || info.ProducerVersion != "1.0" || info.Graph != "described" {
		t.Errorf("header: %+v", info)
	}
	if !reflect.DeepEqual(info.Opsets, []Opset{{"ai.onnx", 13}}) {
		t.Errorf("opsets %v", info.Opsets)
	}
	if !reflect.DeepEqual(info.Metadata, []Property{{"author", "tests"}, {"license", "MIT"}}) {
		t.Errorf("metadata %v", info.Metadata)
	}
	if len(info.Inputs) != 1 || info.Inputs[0].ShapeString() != "[batch,3,height,8]" || info.Inputs[0].DType != "float32" {
		t.Errorf("inputs %+v", info.Inputs)
	}
	if len(info.Outputs) != 2 || info.Outputs[1].ShapeString() != "[?]" {
		t.Errorf("outputs %+v", info.Outputs)
	}
	wantOps := []OpCount{{OpType: "Frobnicate", Count: 2}, {OpType: "Add", Count: 1}, {OpType: "Relu", Count: 1}}
	if info.Nodes != 4 || !reflect.DeepEqual(info.Ops, wantOps) {
		t.Errorf("nodes %d, ops %v; want 4, %v", info.Nodes, info.Ops, wantOps)
	}
	if info.Initializers != 1 || info.InitializerElems != 8 || info.InitializerBytes != 32 {
		t.Errorf("initializers %d (%d elements, %d bytes), want 1 (8, 32)", info.Initializers, info.InitializerElems, info.InitializerBytes)
	}
	if len(info.Unsupported) != 1 || info.Unsupported[0].OpType != "Frobnicate" || info.Unsupported[0].Count != 2 ||
		info.Unsupported[0].Opset != 13 || len(info.Unsupported[0].Nodes) != 2 {
		t.Errorf("unsupported %+v", info.Unsupported)
	}

	var text bytes.Buffer
	if err := info.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ir_version    7\n", "producer      test 1.0\n", "opset_import  ai.onnx v13\n",
		"  author   tests\n", "  pixels  float32[batch,3,height,8]\n", "  Frobnicate  2\n",
		"initializers  1 (8 elements, 32.00 B)\n", "Frobnicate (opset 13, 2 nodes, e.g. "} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}

	// The JSON form round-trips, symbolic dimensions as strings and unknown ranks as null.
	raw, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"shape":["batch",3,"height",8]`) || !strings.Contains(string(raw), `"shape":null`) {
		t.Errorf("JSON shapes: %s", raw)
	}
	var back Info
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, info) {
		t.Errorf("JSON round trip:\n%+v\nwant\n%+v", back, *info)
	}
}

func TestDescribeNewerOpset(t *testing.T) {
	b := exporter.NewGraph("new")
	x := b.Input("x", f32, 2)
	b.Output(b.Node("Relu", []string{x}, nil), f32, 2)
	m := build(t, b, 13)
	m.Proto.OpsetImport[0].Version = proto.Int64(ops.MaxOpset + 2)
	var text bytes.Buffer
	if err := Describe(m).WriteText(&text); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("opset_import  ai.onnx v%d (newer than v%d, the newest onnxrun is tested with)\n", ops.MaxOpset+2, ops.MaxOpset)
	if !strings.Contains(text.String(), want) {
		t.Errorf("text lacks %q:\n%s", want, text.String())
	}
}

func TestDescribeLeNet(t *testing.T) {
	info := Describe(sharedModel(t, "lenet_torch_opset13"))
	if info.Producer != "pytorch" || info.Nodes != 16 || info.Initializers != 10 || info.InitializerElems != 60074 || len(info.Unsupported) != 0 {
		t.Errorf("%+v", info)
	}
	if info.Inputs[0].ShapeString() != "[N,1,28,28]" || info.Outputs[0].ShapeString() != "[N,10]" {
		t.Errorf("inputs %v, outputs %v", info.Inputs, info.Outputs)
	}
}

func TestWriteDot(t *testing.T) {
	var b bytes.Buffer
	if err := WriteDot(&b, sharedModel(t, "lenet_torch_opset13"), nil); err != nil {
		t.Fatal(err)
	}
	dot := b.String()
	for _, want := range []string{`digraph "torch_jit" {`, `label="input\nfloat32[N,1,28,28]"`,
		`label="Conv\n/c1/Conv\nc1.weight ⟨6×1×3×3⟩\nc1.bias ⟨6⟩"`, `input0 -> node0 [label="?×1×28×28"`,
		`[label="?×400", tooltip="/Flatten_output_0"]`, `label="logits\nfloat32[N,10]"`, "-> output0 "} {
		if !strings.Contains(dot, want) {
			t.Errorf("DOT lacks %s", want)
		}
	}
	if strings.Contains(dot, `label="Constant\n`) {
		t.Errorf("Constant nodes are drawn as boxes; they belong inside their readers' labels")
	}
	if !strings.HasSuffix(dot, "}\n") || strings.Count(dot, "{") != strings.Count(dot, "}") {
		t.Errorf("unbalanced DOT:\n%s", dot)
	}
}

func TestFormatting(t *testing.T) {
	for _, tc := range []struct {
		n     int64
		comma string
		size  string
	}{
		{0, "0", "0.00 B"}, {999, "999", "999.00 B"}, {1000, "1,000", "1000.00 B"}, {240296, "240,296", "234.66 KB"},
		{-1234567, "-1,234,567", "-1234567.00 B"}, {3 << 30, "3,221,225,472", "3.00 GB"},
	} {
		if got := Thousands(tc.n); got != tc.comma {
			t.Errorf("Thousands(%d) = %q, want %q", tc.n, got, tc.comma)
		}
		if got := ByteSize(tc.n); got != tc.size {
			t.Errorf("ByteSize(%d) = %q, want %q", tc.n, got, tc.size)
		}
	}
	shapes := map[string][][]string{"()": {{}}, "(10,)": {{"10"}}, "(None, 3)": {{"None", "3"}}, "?": {nil},
		"[(None, 3), (2,)]": {{"None", "3"}, {"2"}}}
	for want, in := range shapes {
		if got := formatShapes(in); got != want {
			t.Errorf("formatShapes(%v) = %q, want %q", in, got, want)
		}
	}
}

// A model with symbolic spatial dimensions gets its shapes (its MaxPool does not fit size 1, where
// symbolic dimensions used to be planned), None where they depend on them; pinned, the sizes show.
func TestSummarySymbolicSpatialSize(t *testing.T) {
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, 1, 3, "H", "W")
	c := b.Node("Conv", []string{x, b.Initializer("w", zeros(4, 3, 3, 3))}, exporter.Attrs{"pads": []int64{1, 1, 1, 1}})
	p := b.Node("MaxPool", []string{c}, exporter.Attrs{"kernel_shape": []int64{2, 2}, "strides": []int64{2, 2}})
	b.Output(p, f32, 1, 4, "h", "w")
	m := build(t, b, 13)
	for _, tc := range []struct {
		opts SummaryOptions
		want []string
	}{
		{SummaryOptions{ChannelsFirst: true}, []string{"(1, 4, None, None)", "(1, 4, None, None)"}},
		{SummaryOptions{ChannelsFirst: true, InputShapes: map[string]ops.Shape{"x": {1, 3, 8, 6}}}, []string{"(1, 4, 8, 6)", "(1, 4, 4, 3)"}},
	} {
		s, err := Summarize(m, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		if s.ShapeError != "" {
			t.Fatalf("shape error: %s", s.ShapeError)
		}
		var shapes []string
		for _, l := range s.Layers {
			shapes = append(shapes, formatShapes(l.OutputShapes))
		}
		if !reflect.DeepEqual(shapes, tc.want) {
			t.Errorf("pins %v: shapes %v, want %v", tc.opts.InputShapes, shapes, tc.want)
		}
	}
}
