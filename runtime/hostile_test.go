package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// hostileCase is one broken model or bad input. The model is written by the test itself (exporter, then
// mutate on the protobuf, or raw bytes), saved in a fresh folder and loaded with runtime.Load, the way a
// user's file is. Without inputs, Load must fail; with inputs, Load must succeed and Run must fail. Either
// way the error must match the kind with errors.Is and contain every want string: the node or input it
// names and the values involved.
type hostileCase struct {
	name   string
	opset  int64                          // default-domain opset; 13 when zero
	build  func(b *exporter.Graph)        // the graph, via the exporter
	mutate func(m *onnxpb.ModelProto)     // then edits no exporter would make
	raw    []byte                         // instead of build: these bytes are the model file
	setup  func(t *testing.T, dir string) // files beside the model (external data, symlinks)
	opts   runtime.Options                // Threads is forced to 1
	inputs func() []*ops.Tensor           // when set, Load succeeds and Run fails
	is     error                          // ErrInvalidModel, ErrUnsupported or ErrBadInput
	want   []string                       // substrings of the message
}

func f32s(shape ops.Shape, v ...float32) *ops.Tensor {
	if len(v) == 0 {
		v = make([]float32, shape.Size())
	}
	return ops.FromSlice(shape, v)
}

func i64Array(v ...int64) *onnx.Array {
	return &onnx.Array{DataType: onnxpb.TensorProto_INT64, Dims: []int64{int64(len(v))}, Data: v}
}

// nested returns a model whose graph holds an If node whose then-branch holds an If node, depth times:
// three protobuf messages per level (graph, node, attribute).
func nested(depth int) *onnxpb.ModelProto {
	leaf := &onnxpb.GraphProto{Name: proto.String("leaf")}
	g := leaf
	for i := 0; i < depth; i++ {
		g = &onnxpb.GraphProto{Name: proto.String("level"), Node: []*onnxpb.NodeProto{{
			Name: proto.String("if"), OpType: proto.String("If"), Input: []string{"cond"}, Output: []string{"y"},
			Attribute: []*onnxpb.AttributeProto{{Name: proto.String("then_branch"), Type: onnxpb.AttributeProto_GRAPH.Enum(), G: g}},
		}}}
	}
	g.Input = []*onnxpb.ValueInfoProto{boolInput("cond")}
	g.Output = []*onnxpb.ValueInfoProto{{Name: proto.String("y")}}
	return &onnxpb.ModelProto{IrVersion: proto.Int64(8), Graph: g,
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(13)}}}
}

func boolInput(name string) *onnxpb.ValueInfoProto {
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(onnxpb.TensorProto_BOOL)), Shape: &onnxpb.TensorShapeProto{}}}}}
}

func mustMarshal(m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// convGraph is X [1,3,5,5] → Conv (node "conv", W [4,3,3,3] constant) → Y with the given attributes.
func convGraph(attrs exporter.Attrs, wShape ...int64) func(b *exporter.Graph) {
	if wShape == nil {
		wShape = []int64{4, 3, 3, 3}
	}
	return func(b *exporter.Graph) {
		x := b.Input("x", f32, 1, 3, 5, 5)
		n := int64(1)
		for _, d := range wShape {
			n *= d
		}
		w := b.Initializer("w", arr(wShape, make([]float32, n)...))
		b.NodeNamed("conv", "Conv", "", []string{x, w}, []string{"y"}, attrs)
		b.Output("y", f32, "N", "C", "H", "W")
	}
}

// unary is X (float32, shape dims) → op (node "n") → Y, with extra constant inputs.
func unary(op string, dims []exporter.Dim, attrs exporter.Attrs, consts ...*onnx.Array) func(b *exporter.Graph) {
	return func(b *exporter.Graph) {
		ins := []string{b.Input("x", f32, dims...)}
		for i, c := range consts {
			ins = append(ins, b.Initializer([]string{"c0", "c1", "c2", "c3"}[i], c))
		}
		b.NodeNamed("n", op, "", ins, []string{"y"}, attrs)
		b.Output("y", f32)
	}
}

// indexOp is op(data float32, indices int64 fed at run time[, updates float32]) in node "op", for the
// operators that index with data the caller gives; upd is nil for the ops without updates.
func indexOp(op string, data, idx, upd []int) func(b *exporter.Graph) {
	dims := func(v []int) []exporter.Dim {
		d := make([]exporter.Dim, len(v))
		for i, x := range v {
			d[i] = x
		}
		return d
	}
	return func(b *exporter.Graph) {
		ins := []string{b.Input("data", f32, dims(data)...), b.Input("indices", onnxpb.TensorProto_INT64, dims(idx)...)}
		if upd != nil {
			ins = append(ins, b.Input("updates", f32, dims(upd)...))
		}
		b.NodeNamed("op", op, "", ins, []string{"y"}, nil)
		b.Output("y", f32)
	}
}

// indexInputs feeds indexOp's graph: zero data, indices all equal to value, zero updates.
func indexInputs(data, idx, upd []int, value int64) func() []*ops.Tensor {
	return func() []*ops.Tensor {
		indices := make([]int64, ops.Shape(idx).Size())
		for i := range indices {
			indices[i] = value
		}
		in := []*ops.Tensor{f32s(ops.Shape(data)), ops.FromSlice(ops.Shape(idx), indices)}
		if upd != nil {
			in = append(in, f32s(ops.Shape(upd)))
		}
		return in
	}
}

// rangeGraph is Range(start, limit, delta) on float32 scalar constants, in node "range".
func rangeGraph(start, limit, delta float32) func(b *exporter.Graph) {
	scalar := func(v float32) *onnx.Array { return &onnx.Array{DataType: f32, Dims: []int64{}, Data: []float32{v}} }
	return func(b *exporter.Graph) {
		ins := []string{b.Initializer("start", scalar(start)), b.Initializer("limit", scalar(limit)), b.Initializer("delta", scalar(delta))}
		b.NodeNamed("range", "Range", "", ins, []string{"y"}, nil)
		b.Output("y", f32)
	}
}

// externalInit is a graph reading the float32 initializer "w" [3] whose data lives in external_data kv.
func externalInit(kv ...string) (func(b *exporter.Graph), func(m *onnxpb.ModelProto)) {
	build := func(b *exporter.Graph) {
		x := b.Input("x", f32, 3)
		w := b.Initializer("w", arr([]int64{3}, 1, 2, 3))
		b.NodeNamed("add", "Add", "", []string{x, w}, []string{"y"}, nil)
		b.Output("y", f32, 3)
	}
	mutate := func(m *onnxpb.ModelProto) {
		w := m.Graph.Initializer[0]
		w.RawData = nil
		w.DataLocation = onnxpb.TensorProto_EXTERNAL.Enum()
		for i := 0; i+1 < len(kv); i += 2 {
			w.ExternalData = append(w.ExternalData, &onnxpb.StringStringEntryProto{Key: proto.String(kv[i]), Value: proto.String(kv[i+1])})
		}
	}
	return build, mutate
}

func writeTestFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// twelveBytes are the float32 values 1, 2, 3.
var twelveBytes = []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40}

func hostileCases() []hostileCase {
	invalid, unsupported, badInput := runtime.ErrInvalidModel, runtime.ErrUnsupported, runtime.ErrBadInput
	addGraph := func(b *exporter.Graph) {
		x := b.Input("x", f32, 2)
		b.NodeNamed("add", "Add", "", []string{x, x}, []string{"y"}, nil)
		b.Output("y", f32, 2)
	}
	extBuild := func(kv ...string) func(b *exporter.Graph) { b, _ := externalInit(kv...); return b }
	extMutate := func(kv ...string) func(m *onnxpb.ModelProto) { _, m := externalInit(kv...); return m }
	return []hostileCase{
		// The file itself.
		{name: "not protobuf", raw: []byte("this is not an ONNX model"), is: invalid,
			want: []string{"malformed", "not a ModelProto"}},
		{name: "empty file", raw: []byte{}, is: invalid, want: []string{"ir_version", "missing"}},
		{name: "protobuf nesting over the recursion limit", raw: mustMarshal(nested(100)), is: invalid,
			want: []string{"not a ModelProto", "recursion"}},
		{name: "subgraphs nested within the limit", raw: mustMarshal(nested(40)), is: invalid,
			want: []string{`node "if" (If, opset 13)`, `attribute "else_branch" (a graph) is missing`}},
		{name: "missing opset_import", build: addGraph, mutate: func(m *onnxpb.ModelProto) { m.OpsetImport = nil },
			is: invalid, want: []string{"opset_import", "must import at least one operator set"}},
		{name: "opset newer than the engine", build: addGraph, opset: ops.MaxOpset + 1, is: unsupported,
			want: []string{"opset 29", "tested up to opset 28", "AllowNewerOpsets"}},
		{name: "opset version 0", build: addGraph, mutate: func(m *onnxpb.ModelProto) { m.OpsetImport[0].Version = proto.Int64(0) },
			is: invalid, want: []string{"opset_import[0]", "version 0"}},
		{name: "IR version from the future", build: addGraph, mutate: func(m *onnxpb.ModelProto) { m.IrVersion = proto.Int64(99) },
			is: unsupported, want: []string{"IR version 99"}},
		{name: "no graph", build: addGraph, mutate: func(m *onnxpb.ModelProto) { m.Graph = nil },
			is: invalid, want: []string{"model.graph", "missing"}},
		{name: "node in a domain the model does not import", build: func(b *exporter.Graph) {
			x := b.Input("x", f32, 2)
			b.NodeNamed("custom", "Thing", "com.example", []string{x}, []string{"y"}, nil)
			b.Output("y", f32, 2)
		}, is: invalid, want: []string{`node "custom" (Thing)`, `"com.example"`, "does not import"}},

		// Tensors: declared sizes against the bytes present, and the memory budget.
		{name: "initializer dims disagree with raw_data", build: addGraph, mutate: func(m *onnxpb.ModelProto) {
			m.Graph.Initializer = append(m.Graph.Initializer, &onnxpb.TensorProto{Name: proto.String("w"),
				DataType: proto.Int32(int32(f32)), Dims: []int64{2, 3}, RawData: make([]byte, 20)})
		}, is: invalid, want: []string{`"w"`, "24", "20"}},
		{name: "initializer with a negative dim", build: addGraph, mutate: func(m *onnxpb.ModelProto) {
			m.Graph.Initializer = append(m.Graph.Initializer, &onnxpb.TensorProto{Name: proto.String("w"),
				DataType: proto.Int32(int32(f32)), Dims: []int64{-1, 3}, RawData: make([]byte, 12)})
		}, is: invalid, want: []string{`"w"`, "-1"}},
		{name: "initializer dims overflow", build: addGraph, mutate: func(m *onnxpb.ModelProto) {
			m.Graph.Initializer = append(m.Graph.Initializer, &onnxpb.TensorProto{Name: proto.String("w"),
				DataType: proto.Int32(int32(f32)), Dims: []int64{1 << 40, 1 << 40}, RawData: make([]byte, 4)})
		}, is: invalid, want: []string{`"w"`, "1099511627776"}},
		{name: "initializer over MaxTensorBytes", opts: runtime.Options{MaxTensorBytes: 1024}, build: func(b *exporter.Graph) {
			x := b.Input("x", f32, 512)
			w := b.Initializer("w", arr([]int64{512}, make([]float32, 512)...))
			b.NodeNamed("add", "Add", "", []string{x, w}, []string{"y"}, nil)
			b.Output("y", f32, 512)
		}, is: unsupported, want: []string{`"w"`, "2048", "1024", "MaxTensorBytes"}},
		{name: "inferred tensor over MaxTensorBytes", build: func(b *exporter.Graph) {
			shape := b.Initializer("shape", i64Array(1<<20, 1<<20))
			b.NodeNamed("big", "ConstantOfShape", "", []string{shape}, []string{"y"}, nil)
			b.Output("y", f32)
		}, is: unsupported, want: []string{`node "big" (ConstantOfShape, opset 13)`, "[1048576,1048576]", "Options.MaxTensorBytes"}},
		{name: "shape arithmetic overflows int", build: func(b *exporter.Graph) {
			shape := b.Initializer("shape", i64Array(1<<40, 1<<40, 1<<40))
			b.NodeNamed("huge", "ConstantOfShape", "", []string{shape}, []string{"y"}, nil)
			b.Output("y", f32)
		}, is: invalid, want: []string{`node "huge" (ConstantOfShape, opset 13)`, "[1099511627776,1099511627776,1099511627776]"}},
		{name: "declared input dims overflow", build: unary("Relu", []exporter.Dim{1 << 40, 1 << 40, 1 << 40}, nil),
			is: invalid, want: []string{`input "x"`, "[1099511627776,1099511627776,1099511627776]"}},
		{name: "declared input over MaxTensorBytes", build: unary("Relu", []exporter.Dim{1 << 20, 1 << 20}, nil),
			is: unsupported, want: []string{`input "x"`, "[1048576,1048576]", "MaxTensorBytes"}},
		{name: "plan over MaxPlanBytes", opts: runtime.Options{MaxPlanBytes: 1 << 20}, build: func(b *exporter.Graph) {
			x := b.Input("x", f32, 1024, 1024)
			r := b.Node("Transpose", []string{x}, nil) // not element-wise: it and the Sigmoid need a buffer each
			b.NodeNamed("n", "Sigmoid", "", []string{r}, []string{"y"}, nil)
			b.Output("y", f32, 1024, 1024)
		}, is: unsupported, want: []string{"input shapes [[1024,1024]]", "8388608 bytes", "1048576", "MaxPlanBytes"}},

		// Attribute values no exporter writes.
		{name: "Conv kernel_shape 0", build: convGraph(exporter.Attrs{"kernel_shape": []int64{0, 3}}), is: invalid,
			want: []string{`node "conv" (Conv, opset 13): build`, "kernel_shape", "[0 3]", "must be positive"}},
		{name: "Conv stride 0", build: convGraph(exporter.Attrs{"strides": []int64{1, 0}}), is: invalid,
			want: []string{`node "conv" (Conv, opset 13)`, "strides", "[1 0]"}},
		{name: "Conv dilation 0", build: convGraph(exporter.Attrs{"dilations": []int64{0, 0}}), is: invalid,
			want: []string{`node "conv" (Conv, opset 13)`, "dilations", "[0 0]"}},
		{name: "Conv negative pads", build: convGraph(exporter.Attrs{"pads": []int64{0, -1, 0, 0}}), is: invalid,
			want: []string{`node "conv" (Conv, opset 13)`, "pads", "-1"}},
		{name: "Conv W with an empty kernel", build: convGraph(nil, 4, 3, 0, 3), is: invalid,
			want: []string{`node "conv" (Conv, opset 13)`, "[0 3]", "must be positive"}},
		{name: "Conv kernel larger than the padded input", build: convGraph(nil, 4, 3, 9, 9), is: invalid,
			want: []string{`node "conv" (Conv, opset 13)`, "input size 5", "kernel 9"}},
		{name: "Conv group does not divide the channels", build: convGraph(exporter.Attrs{"group": 2}, 4, 1, 3, 3), is: invalid,
			want: []string{`node "conv" (Conv, opset 13)`, "group 2", "3 input channels"}},
		{name: "Conv group 0", build: convGraph(exporter.Attrs{"group": 0}), is: invalid,
			want: []string{`node "conv" (Conv, opset 13)`, "group", "0"}},
		{name: "Conv attribute of the wrong type", build: convGraph(exporter.Attrs{"group": "two"}), is: invalid,
			want: []string{`node "conv" (Conv, opset 13)`, `"group"`, "string"}},
		{name: "MaxPool pads past the kernel", build: unary("MaxPool", []exporter.Dim{1, 1, 4, 4},
			exporter.Attrs{"kernel_shape": []int64{2, 2}, "pads": []int64{2, 2, 2, 2}}), is: invalid,
			want: []string{`node "n" (MaxPool, opset 13)`, "pads 2+2", "dilated kernel 2"}},
		{name: "Reshape to a size that does not match", build: unary("Reshape", []exporter.Dim{2, 3}, nil, i64Array(4)), is: invalid,
			want: []string{`node "n" (Reshape, opset 13)`, "[2,3]", "4"}},
		{name: "Reshape with two -1", build: unary("Reshape", []exporter.Dim{2, 3}, nil, i64Array(-1, -1)), is: invalid,
			want: []string{`node "n" (Reshape, opset 13)`, "-1"}},
		{name: "Gather constant indices out of range", build: unary("Gather", []exporter.Dim{3, 2}, nil, i64Array(5)), is: invalid,
			want: []string{`node "n" (Gather, opset 13)`, "5", "3"}},
		{name: "Concat on mismatched shapes", build: func(b *exporter.Graph) {
			x := b.Input("x", f32, 2, 3)
			z := b.Input("z", f32, 2, 4)
			b.NodeNamed("cat", "Concat", "", []string{x, z}, []string{"y"}, exporter.Attrs{"axis": 0})
			b.Output("y", f32)
		}, is: invalid, want: []string{`node "cat" (Concat, opset 13)`, "[2,3]", "[2,4]"}},
		{name: "Concat axis out of range", build: func(b *exporter.Graph) {
			x := b.Input("x", f32, 2, 3)
			b.NodeNamed("cat", "Concat", "", []string{x, x}, []string{"y"}, exporter.Attrs{"axis": 7})
			b.Output("y", f32)
		}, is: invalid, want: []string{`node "cat" (Concat, opset 13)`, "axis 7"}},
		{name: "Transpose perm repeats an axis", build: unary("Transpose", []exporter.Dim{2, 3}, exporter.Attrs{"perm": []int64{0, 0}}),
			is: invalid, want: []string{`node "n" (Transpose, opset 13)`, "perm", "[0 0]"}},
		{name: "Slice step 0", build: unary("Slice", []exporter.Dim{4}, nil, i64Array(0), i64Array(4), i64Array(0), i64Array(0)),
			is: invalid, want: []string{`node "n" (Slice, opset 13)`, "step", "0"}},
		{name: "Split sizes that do not add up", build: func(b *exporter.Graph) {
			x := b.Input("x", f32, 6)
			split := b.Initializer("split", i64Array(2, 2))
			b.NodeNamed("split", "Split", "", []string{x, split}, []string{"a", "b"}, nil)
			b.Output("a", f32)
		}, is: invalid, want: []string{`node "split" (Split, opset 13)`, "[2 2]", "6"}},
		{name: "Range with delta 0", build: rangeGraph(0, 10, 0), is: invalid,
			want: []string{`node "range" (Range, opset 13)`, "delta"}},
		{name: "Range with more elements than an int holds", build: rangeGraph(0, 1e30, 1), is: invalid,
			want: []string{`node "range" (Range, opset 13)`, "1.0000000150474662e+30", "too many elements"}},
		{name: "Range over MaxTensorBytes", build: rangeGraph(0, 2e9, 1), is: unsupported,
			want: []string{`node "range" (Range, opset 13)`, "float32[2000000000]", "Options.MaxTensorBytes"}},
		{name: "Expand to a negative dim", build: unary("Expand", []exporter.Dim{2, 1}, nil, i64Array(2, -3)), is: invalid,
			want: []string{`node "n" (Expand, opset 13)`, "-3"}},
		{name: "Tile with a negative repeat", build: unary("Tile", []exporter.Dim{2}, nil, i64Array(-2)), is: invalid,
			want: []string{`node "n" (Tile, opset 13)`, "-2"}},
		{name: "TopK k past the axis", build: func(b *exporter.Graph) {
			x := b.Input("x", f32, 4)
			k := b.Initializer("k", i64Array(9))
			b.NodeNamed("topk", "TopK", "", []string{x, k}, []string{"values", "indices"}, nil)
			b.Output("values", f32)
		}, is: invalid, want: []string{`node "topk" (TopK, opset 13)`, "9", "4"}},
		{name: "TopK with one output", build: unary("TopK", []exporter.Dim{4}, nil, i64Array(2)), is: invalid,
			want: []string{`node "n" (TopK, opset 13)`, "2 outputs", "declares 1"}},
		{name: "Softmax axis out of range", build: unary("Softmax", []exporter.Dim{2, 3}, exporter.Attrs{"axis": 5}), is: invalid,
			want: []string{`node "n" (Softmax, opset 13)`, "axis 5"}},
		{name: "Cast to an unknown type", build: unary("Cast", []exporter.Dim{2}, exporter.Attrs{"to": 999}), is: invalid,
			want: []string{`node "n" (Cast, opset 13)`, "999"}},
		{name: "MatMul inner dims differ", build: unary("MatMul", []exporter.Dim{2, 3}, nil, arr([]int64{4, 2}, make([]float32, 8)...)),
			is: invalid, want: []string{`node "n" (MatMul, opset 13)`, "[2,3]", "[4,2]"}},
		{name: "Pad crops past the input", build: unary("Pad", []exporter.Dim{2, 3}, nil, i64Array(0, -4, 0, 0)), is: invalid,
			want: []string{`node "n" (Pad, opset 13)`, "-4"}},
		{name: "attribute reference outside a function", build: addGraph, mutate: func(m *onnxpb.ModelProto) {
			m.Graph.Node[0].Attribute = append(m.Graph.Node[0].Attribute, &onnxpb.AttributeProto{Name: proto.String("alpha"),
				RefAttrName: proto.String("outer"), Type: onnxpb.AttributeProto_FLOAT.Enum()})
		}, is: unsupported, want: []string{`node "add" (Add)`, `"alpha"`, "ref_attr_name"}},

		// The graph's structure.
		{name: "cycle", build: func(b *exporter.Graph) {
			x := b.Input("x", f32, 2)
			b.NodeNamed("a", "Add", "", []string{x, "d"}, []string{"c"}, nil)
			b.NodeNamed("b", "Add", "", []string{x, "c"}, []string{"d"}, nil)
			b.Output("d", f32, 2)
		}, is: invalid, want: []string{`cycle through nodes "a" (Add), "b" (Add)`}},
		{name: "self loop", build: func(b *exporter.Graph) {
			x := b.Input("x", f32, 2)
			b.NodeNamed("a", "Add", "", []string{x, "c"}, []string{"c"}, nil)
			b.Output("c", f32, 2)
		}, is: invalid, want: []string{`cycle through nodes "a" (Add)`}},
		{name: "value produced twice", build: func(b *exporter.Graph) {
			x := b.Input("x", f32, 2)
			b.NodeNamed("a", "Add", "", []string{x, x}, []string{"y"}, nil)
			b.NodeNamed("b", "Mul", "", []string{x, x}, []string{"y"}, nil)
			b.Output("y", f32, 2)
		}, is: invalid, want: []string{`value "y" is produced twice: by node "a" and node "b"`}},
		{name: "node output shadows a graph input", build: func(b *exporter.Graph) {
			x := b.Input("x", f32, 2)
			b.NodeNamed("a", "Relu", "", []string{x}, []string{x}, nil)
			b.Output("x", f32, 2)
		}, is: invalid, want: []string{`value "x" is produced by node "a" but is also a graph input or initializer`}},
		{name: "input nothing produces", build: func(b *exporter.Graph) {
			x := b.Input("x", f32, 2)
			b.NodeNamed("a", "Add", "", []string{x, "nowhere"}, []string{"y"}, nil)
			b.Output("y", f32, 2)
		}, is: invalid, want: []string{`"nowhere" (input of node "a")`}},
		{name: "output never produced", build: func(b *exporter.Graph) {
			x := b.Input("x", f32, 2)
			b.NodeNamed("a", "Add", "", []string{x, x}, []string{"y"}, nil)
			b.Output("z", f32, 2)
		}, is: invalid, want: []string{`"z" (graph output)`}},
		{name: "too few inputs for the op", build: func(b *exporter.Graph) {
			x := b.Input("x", f32, 2)
			b.NodeNamed("half", "Add", "", []string{x}, []string{"y"}, nil)
			b.Output("y", f32, 2)
		}, is: invalid, want: []string{`node "half" (Add, opset 13)`, "2 inputs", "1"}},
		{name: "no inputs at all", build: func(b *exporter.Graph) {
			b.Input("x", f32, 2)
			b.NodeNamed("t", "Transpose", "", nil, []string{"y"}, nil)
			b.Output("y", f32, 2)
		}, is: invalid, want: []string{`node "t" (Transpose, opset 13)`, "input"}},
		{name: "unknown operator", build: func(b *exporter.Graph) {
			x := b.Input("x", f32, 2)
			b.NodeNamed("mystery", "NoSuchOp", "", []string{x}, []string{"y"}, nil)
			b.Output("y", f32, 2)
		}, is: unsupported, want: []string{`node "mystery" (NoSuchOp, opset 13): no kernel for this op type`}},
		{name: "opt-in kernel not imported", opset: 20, build: func(b *exporter.Graph) {
			x := b.Input("x", onnxpb.TensorProto_UINT8, 10)
			b.NodeNamed("decode", "ImageDecoder", "", []string{x}, []string{"y"}, nil)
			b.Output("y", onnxpb.TensorProto_UINT8, 1, 1, 3)
		}, is: unsupported, want: []string{`node "decode" (ImageDecoder, opset 20): no kernel registered; its kernel is opt-in: import _ "github.com/onnxrun/onnxrun/ops/imagecodec"`}},
		{name: "operator unknown at this opset", opset: 6, build: func(b *exporter.Graph) {
			x := b.Input("x", f32, 2)
			b.NodeNamed("old", "Shrink", "", []string{x}, []string{"y"}, nil)
			b.Output("y", f32, 2)
		}, is: unsupported, want: []string{`node "old" (Shrink, opset 6): implemented only for opsets 9-`}},
		{name: "initializer without a name", build: addGraph, mutate: func(m *onnxpb.ModelProto) {
			m.Graph.Initializer = append(m.Graph.Initializer, &onnxpb.TensorProto{DataType: proto.Int32(int32(f32)), Dims: []int64{1}, RawData: make([]byte, 4)})
		}, is: invalid, want: []string{"an initializer has no name"}},
		{name: "initializer defined twice", build: addGraph, mutate: func(m *onnxpb.ModelProto) {
			for i := 0; i < 2; i++ {
				m.Graph.Initializer = append(m.Graph.Initializer, &onnxpb.TensorProto{Name: proto.String("w"),
					DataType: proto.Int32(int32(f32)), Dims: []int64{1}, RawData: make([]byte, 4)})
			}
		}, is: invalid, want: []string{`initializer "w" is defined twice`}},
		{name: "graph input declared twice", build: addGraph, mutate: func(m *onnxpb.ModelProto) {
			m.Graph.Input = append(m.Graph.Input, m.Graph.Input[0])
		}, is: invalid, want: []string{`graph input "x" is declared twice`}},
		{name: "sparse initializer", build: addGraph, mutate: func(m *onnxpb.ModelProto) {
			m.Graph.SparseInitializer = []*onnxpb.SparseTensorProto{{Dims: []int64{4},
				Values:  &onnxpb.TensorProto{Name: proto.String("s"), DataType: proto.Int32(int32(f32)), Dims: []int64{1}, FloatData: []float32{1}},
				Indices: &onnxpb.TensorProto{DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), Dims: []int64{1}, Int64Data: []int64{2}}}}
		}, is: unsupported, want: []string{"sparse initializers"}},
		{name: "sequence input without an element type", build: addGraph, mutate: func(m *onnxpb.ModelProto) {
			m.Graph.Input[0].Type = &onnxpb.TypeProto{Value: &onnxpb.TypeProto_SequenceType{SequenceType: &onnxpb.TypeProto_Sequence{}}}
		}, is: unsupported, want: []string{`graph input "x" is of a type the runtime does not represent`}},

		// External data: nothing is read outside the model's folder.
		{name: "external data at an absolute path", build: extBuild("location", "/etc/passwd"),
			mutate: extMutate("location", "/etc/passwd"), is: invalid,
			want: []string{`"w"`, `location "/etc/passwd" is absolute`}},
		{name: "external data climbing out with ..", build: extBuild("location", "../secret.bin"),
			mutate: extMutate("location", "../secret.bin"), is: invalid,
			want: []string{`"w"`, `location "../secret.bin" contains ".."`}},
		{name: "external data through a symlink out of the folder", build: extBuild("location", "link.bin"),
			mutate: extMutate("location", "link.bin"), setup: func(t *testing.T, dir string) {
				outside := filepath.Join(filepath.Dir(dir), "secret.bin")
				writeTestFile(t, outside, twelveBytes)
				if err := os.Symlink(outside, filepath.Join(dir, "link.bin")); err != nil {
					t.Skipf("symlinks not available: %v", err)
				}
			}, is: invalid, want: []string{`"w"`, `location "link.bin" resolves to`, "outside the model folder"}},
		{name: "external data offset past the end", build: extBuild("location", "w.bin", "offset", "8"),
			mutate: extMutate("location", "w.bin", "offset", "8"),
			setup:  func(t *testing.T, dir string) { writeTestFile(t, filepath.Join(dir, "w.bin"), twelveBytes) },
			is:     invalid, want: []string{`"w"`, "offset 8", "past the end", "12 bytes"}},
		{name: "external data offset + length past the end", build: extBuild("location", "w.bin", "offset", "4", "length", "12"),
			mutate: extMutate("location", "w.bin", "offset", "4", "length", "12"),
			setup:  func(t *testing.T, dir string) { writeTestFile(t, filepath.Join(dir, "w.bin"), twelveBytes) },
			is:     invalid, want: []string{`"w"`, "offset 4 + length 12", "past the end", "12 bytes"}},
		{name: "external data length disagrees with dims", build: extBuild("location", "w.bin", "length", "8"),
			mutate: extMutate("location", "w.bin", "length", "8"),
			setup:  func(t *testing.T, dir string) { writeTestFile(t, filepath.Join(dir, "w.bin"), twelveBytes) },
			is:     invalid, want: []string{`"w"`, "need 12 bytes", "length is 8"}},
		{name: "external data file missing", build: extBuild("location", "nope.bin"),
			mutate: extMutate("location", "nope.bin"), is: invalid, want: []string{`"w"`, `"nope.bin"`}},
		{name: "external data offset not a number", build: extBuild("location", "w.bin", "offset", "-5"),
			mutate: extMutate("location", "w.bin", "offset", "-5"), is: invalid,
			want: []string{`"w"`, `offset "-5" is not a non-negative integer`}},

		// Inputs that do not fit the model.
		{name: "input count", build: addGraph, inputs: func() []*ops.Tensor { return nil }, is: badInput,
			want: []string{"the model takes 1 inputs (x float32[2]), got 0"}},
		{name: "nil input", build: addGraph, inputs: func() []*ops.Tensor { return []*ops.Tensor{nil} }, is: badInput,
			want: []string{`input "x": is nil`}},
		{name: "input dtype", build: addGraph, inputs: func() []*ops.Tensor { return []*ops.Tensor{ops.FromSlice(ops.Shape{2}, []int64{1, 2})} },
			is: badInput, want: []string{`input "x": expected dtype float32, got int64`}},
		{name: "input rank", build: addGraph, inputs: func() []*ops.Tensor { return []*ops.Tensor{f32s(ops.Shape{1, 2})} },
			is: badInput, want: []string{`input "x": expected shape [2] (rank 1), got [1,2] (rank 2)`}},
		{name: "input dimension", build: addGraph, inputs: func() []*ops.Tensor { return []*ops.Tensor{f32s(ops.Shape{3})} },
			is: badInput, want: []string{`input "x": expected shape [2], got [3]: dimension 0 must be 2`}},
		{name: "input data shorter than its shape", build: addGraph, inputs: func() []*ops.Tensor {
			t := new(ops.Tensor)
			t.Wrap(ops.Float32, ops.Shape{2}, []float32{1})
			return []*ops.Tensor{t}
		}, is: badInput, want: []string{`input "x"`, "1 elements", "[2]"}},
		{name: "input data of another type than its dtype", build: addGraph, inputs: func() []*ops.Tensor {
			t := new(ops.Tensor)
			t.Wrap(ops.Float32, ops.Shape{2}, []float64{1, 2})
			return []*ops.Tensor{t}
		}, is: badInput, want: []string{`input "x"`, "[]float64", "float32"}},
		{name: "inputs disagree on a shared symbol", build: func(b *exporter.Graph) {
			x := b.Input("x", f32, "N", 2)
			z := b.Input("z", f32, "N", 2)
			b.NodeNamed("add", "Add", "", []string{x, z}, []string{"y"}, nil)
			b.Output("y", f32, "N", 2)
		}, inputs: func() []*ops.Tensor { return []*ops.Tensor{f32s(ops.Shape{3, 2}), f32s(ops.Shape{4, 2})} },
			is: badInput, want: []string{`input "z"`, "dimension 0 (N) is 4", `N is 3 in input "x"`}},
		{name: "Gather indices out of range at run time", build: func(b *exporter.Graph) {
			x := b.Input("x", f32, 3, 2)
			idx := b.Input("idx", onnxpb.TensorProto_INT64, 1)
			b.NodeNamed("g", "Gather", "", []string{x, idx}, []string{"y"}, nil)
			b.Output("y", f32, 1, 2)
		}, inputs: func() []*ops.Tensor {
			return []*ops.Tensor{f32s(ops.Shape{3, 2}), ops.FromSlice(ops.Shape{1}, []int64{7})}
		}, is: badInput, want: []string{`node "g" (Gather, opset 13): run`, "7", "3"}},
		{name: "GatherElements indices out of range at run time", build: indexOp("GatherElements", []int{3, 2}, []int{2, 2}, nil),
			inputs: indexInputs([]int{3, 2}, []int{2, 2}, nil, 9), is: badInput,
			want: []string{`node "op" (GatherElements, opset 13): run`, "9"}},
		{name: "GatherND indices out of range at run time", build: indexOp("GatherND", []int{3, 2}, []int{1, 1}, nil),
			inputs: indexInputs([]int{3, 2}, []int{1, 1}, nil, 5), is: badInput,
			want: []string{`node "op" (GatherND, opset 13): run`, "5"}},
		{name: "ScatterElements indices out of range at run time", build: indexOp("ScatterElements", []int{3, 2}, []int{1, 2}, []int{1, 2}),
			inputs: indexInputs([]int{3, 2}, []int{1, 2}, []int{1, 2}, -7), is: badInput,
			want: []string{`node "op" (ScatterElements, opset 13): run`, "-7"}},
		{name: "ScatterND indices out of range at run time", build: indexOp("ScatterND", []int{3, 2}, []int{1, 1}, []int{1, 2}),
			inputs: indexInputs([]int{3, 2}, []int{1, 1}, []int{1, 2}, 3), is: badInput,
			want: []string{`node "op" (ScatterND, opset 13): run`, "3"}},
		{name: "OneHot depth fed at run time is negative", build: func(b *exporter.Graph) {
			idx := b.Input("indices", onnxpb.TensorProto_INT64, 2)
			depth := b.Input("depth", onnxpb.TensorProto_INT64)
			values := b.Initializer("values", arr([]int64{2}, 0, 1))
			b.NodeNamed("onehot", "OneHot", "", []string{idx, depth, values}, []string{"y"}, nil)
			b.Output("y", f32)
		}, inputs: func() []*ops.Tensor {
			return []*ops.Tensor{ops.FromSlice(ops.Shape{2}, []int64{0, 1}), ops.FromSlice(ops.Shape{}, []int64{-3})}
		}, is: badInput, want: []string{`node "onehot" (OneHot, opset 13): run: infer shapes`, "depth is -3"}},
		// The recurrent, attention, loss and detection operators check what only the data can tell.
		{name: "LSTM sequence length past the sequence at run time", build: func(b *exporter.Graph) {
			x := b.Input("x", f32, 3, 2, 4)
			lens := b.Input("lens", onnxpb.TensorProto_INT32, 2)
			w := b.Initializer("w", arr([]int64{1, 8, 4}, make([]float32, 32)...))
			r := b.Initializer("r", arr([]int64{1, 8, 2}, make([]float32, 16)...))
			b.NodeNamed("lstm", "LSTM", "", []string{x, w, r, "", lens}, []string{"y"}, exporter.Attrs{"hidden_size": 2})
			b.Output("y", f32, 3, 1, 2, 2)
		}, inputs: func() []*ops.Tensor {
			return []*ops.Tensor{f32s(ops.Shape{3, 2, 4}), ops.FromSlice(ops.Shape{2}, []int32{3, 9})}
		}, is: badInput, want: []string{`node "lstm" (LSTM, opset 13): run`, "sequence_lens[1] is 9", "seq_length 3"}},
		{name: "GRU weights for another hidden size", build: func(b *exporter.Graph) {
			x := b.Input("x", f32, 3, 2, 4)
			w := b.Initializer("w", arr([]int64{1, 6, 4}, make([]float32, 24)...))
			r := b.Initializer("r", arr([]int64{1, 6, 2}, make([]float32, 12)...))
			b.NodeNamed("gru", "GRU", "", []string{x, w, r}, []string{"y"}, exporter.Attrs{"hidden_size": 3})
			b.Output("y", f32, 3, 1, 2, 3)
		}, is: invalid, want: []string{`node "gru" (GRU, opset 13)`, "W has shape [1,6,4], want [1,9,4]"}},
		{name: "label outside the classes at run time", build: func(b *exporter.Graph) {
			x := b.Input("scores", f32, 2, 3)
			labels := b.Input("labels", onnxpb.TensorProto_INT64, 2)
			b.NodeNamed("loss", "SoftmaxCrossEntropyLoss", "", []string{x, labels}, []string{"y"}, nil)
			b.Output("y", f32)
		}, inputs: func() []*ops.Tensor {
			return []*ops.Tensor{f32s(ops.Shape{2, 3}), ops.FromSlice(ops.Shape{2}, []int64{1, 3})}
		}, is: badInput, want: []string{`node "loss" (SoftmaxCrossEntropyLoss, opset 13): run`, "label 3 at sample 1", "3 classes"}},
		{name: "NonMaxSuppression IoU threshold fed at run time out of range", opset: 11, build: func(b *exporter.Graph) {
			boxes := b.Input("boxes", f32, 1, 2, 4)
			scores := b.Input("scores", f32, 1, 1, 2)
			maxOut := b.Initializer("max", i64Array(2))
			iou := b.Input("iou", f32, 1)
			b.NodeNamed("nms", "NonMaxSuppression", "", []string{boxes, scores, maxOut, iou}, []string{"y"}, nil)
			b.Output("y", onnxpb.TensorProto_INT64)
		}, inputs: func() []*ops.Tensor {
			return []*ops.Tensor{f32s(ops.Shape{1, 2, 4}), f32s(ops.Shape{1, 1, 2}), f32s(ops.Shape{1}, 7)}
		}, is: badInput, want: []string{`node "nms" (NonMaxSuppression, opset 11)`, "iou_threshold is 7"}},
		{name: "Attention mask that does not broadcast", opset: 23, build: func(b *exporter.Graph) {
			q := b.Input("q", f32, 1, 2, 3, 4)
			k := b.Input("k", f32, 1, 2, 5, 4)
			mask := b.Input("mask", f32, 2, 5)
			b.NodeNamed("attn", "Attention", "", []string{q, k, k, mask}, []string{"y"}, nil)
			b.Output("y", f32, 1, 2, 3, 4)
		}, is: invalid, want: []string{`node "attn" (Attention, opset 23)`, "attn_mask has shape [2,5]", "[1, 2, 3, 5]"}},
		{name: "dynamic plan over MaxPlanBytes", opts: runtime.Options{MaxPlanBytes: 1 << 20}, build: func(b *exporter.Graph) {
			x := b.Input("x", f32, 1<<16)
			shape := b.Input("shape", onnxpb.TensorProto_INT64, 1)
			y := b.Node("Reshape", []string{x, shape}, nil) // its shape is an input: planned at each Run
			for i := 0; i < 4; i++ {
				y = b.Node("Add", []string{y, y}, nil)
			}
			b.Output(y, f32)
		}, inputs: func() []*ops.Tensor {
			return []*ops.Tensor{f32s(ops.Shape{1 << 16}), ops.FromSlice(ops.Shape{1}, []int64{1 << 16})}
		}, is: unsupported, want: []string{"(Add, opset 13)", "1310720 bytes", "1048576", "Options.MaxPlanBytes"}},
		{name: "Loop body without its condition output", build: func(b *exporter.Graph) {
			x := b.Input("x", f32, 2)
			m := b.Initializer("m", i64Array(2))
			body := exporter.NewGraph("body")
			body.Input("i", onnxpb.TensorProto_INT64)
			body.Input("c", onnxpb.TensorProto_BOOL)
			xin := body.Input("x_in", f32, 2)
			body.NodeNamed("neg", "Neg", "", []string{xin}, []string{"x_out"}, nil)
			body.Output("x_out", f32, 2)
			b.NodeNamed("loop", "Loop", "", []string{m, "", x}, []string{"y"}, exporter.Attrs{"body": body})
			b.Output("y", f32, 2)
		}, is: invalid, want: []string{`node "loop" (Loop, opset 13)`, "the body returns 1 outputs", "must return 2"}},
		{name: "Scan input axis out of range", build: func(b *exporter.Graph) {
			x := b.Input("x", f32, 3, 2)
			body := exporter.NewGraph("body")
			e := body.Input("e", f32, 2)
			body.NodeNamed("neg", "Neg", "", []string{e}, []string{"o"}, nil)
			body.Output("o", f32, 2)
			b.NodeNamed("scan", "Scan", "", []string{x}, []string{"y"}, exporter.Attrs{"body": body, "num_scan_inputs": int64(1), "scan_input_axes": []int64{5}})
			b.Output("y", f32, 3, 2)
		}, is: invalid, want: []string{`node "scan" (Scan, opset 13)`, "scan_input_axes", "5"}},
		{name: "body reads a value that exists nowhere", build: func(b *exporter.Graph) {
			c := b.Input("c", onnxpb.TensorProto_BOOL)
			then := exporter.NewGraph("then")
			then.NodeNamed("ghost", "Neg", "", []string{"nowhere"}, []string{"t"}, nil)
			then.Output("t", f32, 2)
			els := exporter.NewGraph("else")
			els.NodeNamed("ghost2", "Neg", "", []string{"nowhere"}, []string{"e"}, nil)
			els.Output("e", f32, 2)
			b.NodeNamed("if", "If", "", []string{c}, []string{"y"}, exporter.Attrs{"then_branch": then, "else_branch": els})
			b.Output("y", f32, 2)
		}, is: invalid, want: []string{"nowhere"}},
		{name: "input batch over MaxPlanBytes", opts: runtime.Options{MaxPlanBytes: 1 << 16}, build: func(b *exporter.Graph) {
			x := b.Input("x", f32, "N", 16)
			r := b.Node("Relu", []string{x}, nil)
			b.NodeNamed("n", "Sigmoid", "", []string{r}, []string{"y"}, nil)
			b.Output("y", f32, "N", 16)
		}, inputs: func() []*ops.Tensor { return []*ops.Tensor{f32s(ops.Shape{4096, 16})} },
			is: unsupported, want: []string{"input shapes [[4096,16]]", "MaxPlanBytes", "65536"}},
	}
}

// loadHostile writes the case's model into a fresh folder and loads it.
func loadHostile(t *testing.T, tc hostileCase) (*runtime.Plan, error) {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "model")
	raw := tc.raw
	if raw == nil {
		b := exporter.NewGraph("g")
		tc.build(b)
		opset := tc.opset
		if opset == 0 {
			opset = 13
		}
		m, err := b.Model(exporter.ModelOptions{Opset: opset})
		if err != nil {
			t.Fatal(err)
		}
		if tc.mutate != nil {
			tc.mutate(m.Proto)
		}
		raw = mustMarshal(m.Proto)
	}
	path := filepath.Join(dir, "model.onnx")
	writeTestFile(t, path, raw)
	if tc.setup != nil {
		tc.setup(t, dir)
	}
	opts := tc.opts
	opts.Threads = 1
	return runtime.Load(path, opts)
}

// TestHostileModels walks the table of broken models and inputs.
func TestHostileModels(t *testing.T) {
	for _, tc := range hostileCases() {
		t.Run(tc.name, func(t *testing.T) {
			p, err := loadHostile(t, tc)
			if tc.inputs != nil {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				s := p.NewSession()
				defer s.Close()
				_, err = s.Run(context.Background(), tc.inputs())
			}
			if err == nil {
				t.Fatal("no error")
			}
			t.Log(err)
			checkKind(t, err, tc.is)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

// checkKind asserts that err matches want (any of the three kinds when want is nil), and no other kind.
func checkKind(t *testing.T, err, want error) {
	t.Helper()
	kinds := []error{runtime.ErrInvalidModel, runtime.ErrUnsupported, runtime.ErrBadInput}
	var matched []error
	for _, k := range kinds {
		if errors.Is(err, k) {
			matched = append(matched, k)
		}
	}
	switch {
	case len(matched) == 0:
		t.Errorf("error %q (%T) matches none of the three kinds", err, err)
	case len(matched) > 1:
		t.Errorf("error %q matches several kinds: %v", err, matched)
	case want != nil && matched[0] != want:
		t.Errorf("error %q is %v, want %v", err, matched[0], want)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q spans several lines", err)
	}
}

// The decoder's own error types stay reachable through the runtime's classification.
func TestDecoderErrorsKeepTheirType(t *testing.T) {
	_, err := loadHostile(t, hostileCase{raw: []byte("garbage")})
	var format *onnx.FormatError
	if !errors.As(err, &format) || !errors.Is(err, runtime.ErrInvalidModel) {
		t.Fatalf("got %v (%T), want an *onnx.FormatError matching ErrInvalidModel", err, err)
	}
	_, err = loadHostile(t, hostileCase{build: func(b *exporter.Graph) {
		x := b.Input("x", f32, 2)
		b.NodeNamed("add", "Add", "", []string{x, x}, []string{"y"}, nil)
		b.Output("y", f32, 2)
	}, mutate: func(m *onnxpb.ModelProto) { m.IrVersion = proto.Int64(99) }})
	var unsupported *onnx.UnsupportedError
	if !errors.As(err, &unsupported) || !errors.Is(err, runtime.ErrUnsupported) {
		t.Fatalf("got %v (%T), want an *onnx.UnsupportedError matching ErrUnsupported", err, err)
	}
	_, err = runtime.Load(filepath.Join(t.TempDir(), "absent.onnx"), runtime.Options{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v, want an error matching os.ErrNotExist", err)
	}
}

// A node whose inputs are all constant but whose work is huge is not folded at Compile (which would hang
// it) but left to Run, where a context can stop it.
func TestCostlyConstantNodeIsNotFolded(t *testing.T) {
	b := exporter.NewGraph("g")
	shape := b.Initializer("shape", i64Array(1, 16, 128, 128))
	x := b.Node("ConstantOfShape", []string{shape}, nil)
	w := b.Initializer("w", arr([]int64{16, 16, 31, 31}, make([]float32, 16*16*31*31)...))
	b.NodeNamed("bigconv", "Conv", "", []string{x, w}, []string{"y"}, nil)
	b.Output("y", f32, 1, 16, 98, 98)
	p := mustCompile(t, b, 13)
	if d := p.Describe(); !strings.Contains(d, "bigconv") {
		t.Fatalf("the costly Conv was folded at plan time:\n%s", d)
	}
}

// cancelOnSecondDone is a context that is cancelled by the second call of Done: Session.Run asks for Done
// once when it starts, the convolution kernel asks again when it starts. The run therefore passes the
// runtime's check before the operator and is cancelled from the kernel's first look at the context on.
type cancelOnSecondDone struct {
	context.Context
	mu    sync.Mutex
	calls int
	ch    chan struct{}
}

func newCancelOnSecondDone() *cancelOnSecondDone {
	return &cancelOnSecondDone{Context: context.Background(), ch: make(chan struct{})}
}

func (c *cancelOnSecondDone) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.calls == 2 {
		close(c.ch)
	}
	return c.ch
}

func (c *cancelOnSecondDone) Err() error {
	select {
	case <-c.ch:
		return context.Canceled
	default:
		return nil
	}
}

// A context cancelled while a long convolution runs stops it inside the kernel: the GEMM polls the context
// between its tiles, returns early, and Run reports context.Canceled. Whether the kernel stopped early is
// read from the output buffer, which the session reuses from run to run: the first run leaves it all
// zeros, a finished second run would leave no zero in it.
func TestCancelStopsALongConv(t *testing.T) {
	for _, threads := range []int{1, 2} {
		t.Run(fmt.Sprintf("threads=%d", threads), func(t *testing.T) {
			// 32 channels in and out, 64x64, a 9x9 kernel: 340 million multiply-adds, one im2col GEMM.
			b := exporter.NewGraph("g")
			x := b.Input("x", f32, 1, 32, 64, 64)
			ones := make([]float32, 32*32*9*9)
			for i := range ones {
				ones[i] = 1
			}
			w := b.Initializer("w", arr([]int64{32, 32, 9, 9}, ones...))
			b.NodeNamed("bigconv", "Conv", "", []string{x, w}, []string{"y"}, exporter.Attrs{"pads": []int64{4, 4, 4, 4}})
			b.Output("y", f32, 1, 32, 64, 64)
			m, err := b.Model(exporter.ModelOptions{Opset: 13})
			if err != nil {
				t.Fatal(err)
			}
			p, err := runtime.Compile(m, runtime.Options{Threads: threads})
			if err != nil {
				t.Fatal(err)
			}
			s := p.NewSession()
			defer s.Close()
			out, err := s.Run(context.Background(), []*ops.Tensor{f32s(ops.Shape{1, 32, 64, 64})})
			if err != nil {
				t.Fatal(err)
			}
			buffer := out[0].Float32s() // all zeros: X was zero

			ones = make([]float32, 32*64*64)
			for i := range ones {
				ones[i] = 1
			}
			ctx := newCancelOnSecondDone()
			_, err = s.Run(ctx, []*ops.Tensor{f32s(ops.Shape{1, 32, 64, 64}, ones...)})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("got %v, want context.Canceled", err)
			}
			if ctx.calls < 2 {
				t.Fatalf("the context's Done was called %d times: the kernel never looked at it", ctx.calls)
			}
			computed := 0
			for _, v := range buffer {
				if v != 0 {
					computed++
				}
			}
			if computed > len(buffer)/2 {
				t.Fatalf("the cancelled convolution computed %d of its %d outputs: it did not stop early", computed, len(buffer))
			}
		})
	}
}

// Many goroutines running sessions of one plan get what one session gets, on a model with every kind of
// step the planner makes (views, buffer reuse, a fused Conv+Relu, constant weights shared by all).
func TestConcurrentSessionsMatchOne(t *testing.T) {
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, "N", 2, 6, 6)
	w := b.Initializer("w", arr([]int64{3, 2, 3, 3}, seq(54)...))
	c := b.Node("Conv", []string{x, w}, exporter.Attrs{"pads": []int64{1, 1, 1, 1}})
	r := b.Node("Relu", []string{c}, nil)
	p := b.Node("MaxPool", []string{r}, exporter.Attrs{"kernel_shape": []int64{2, 2}, "strides": []int64{2, 2}})
	f := b.Node("Flatten", []string{p}, nil)
	fc := b.Initializer("fc", arr([]int64{27, 4}, seq(108)...))
	mm := b.Node("MatMul", []string{f, fc}, nil)
	y := b.Node("Softmax", []string{mm}, exporter.Attrs{"axis": 1})
	b.Output(y, f32, "N", 4)
	plan := mustCompile(t, b, 13)

	input := func(n, seed int) *ops.Tensor {
		v := make([]float32, n*2*6*6)
		for i := range v {
			v[i] = float32((i*7+seed*13)%17)/17 - 0.5
		}
		return f32s(ops.Shape{n, 2, 6, 6}, v...)
	}
	want := map[[2]int][]float32{}
	ref := plan.NewSession()
	for n := 1; n <= 3; n++ {
		for seed := 0; seed < 4; seed++ {
			out, err := ref.Run(context.Background(), []*ops.Tensor{input(n, seed)})
			if err != nil {
				t.Fatal(err)
			}
			want[[2]int{n, seed}] = append([]float32(nil), out[0].Float32s()...)
		}
	}
	ref.Close()

	const goroutines = 8
	errs := make(chan error, goroutines)
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			s := plan.NewSession()
			defer s.Close()
			for i := 0; i < 30; i++ {
				n, seed := 1+(g+i)%3, (g*3+i)%4
				out, err := s.Run(context.Background(), []*ops.Tensor{input(n, seed)})
				if err != nil {
					errs <- err
					return
				}
				w := want[[2]int{n, seed}]
				for j, v := range out[0].Float32s() {
					if v != w[j] && !(math.IsNaN(float64(v)) && math.IsNaN(float64(w[j]))) {
						errs <- errors.New("a concurrent session's output differs from the single session's")
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func seq(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i%11)/11 - 0.4
	}
	return v
}

// Load names the file in every error, a compile error (here an op no kernel covers) as much as a decode
// error, so that the CLI and the server need not add it.
func TestLoadErrorsNameTheFile(t *testing.T) {
	_, err := loadHostile(t, hostileCase{build: func(b *exporter.Graph) {
		x := b.Input("x", f32, 2)
		b.NodeNamed("odd", "NoSuchOp", "", []string{x}, []string{"y"}, nil)
		b.Output("y", f32, 2)
	}})
	if err == nil || !strings.Contains(err.Error(), "model.onnx: ") || !errors.Is(err, runtime.ErrUnsupported) {
		t.Fatalf("got %v, want an ErrUnsupported naming model.onnx", err)
	}
}
