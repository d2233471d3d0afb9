package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

func int64Array(dims []int64, v ...int64) *onnx.Array {
	return &onnx.Array{DataType: onnxpb.TensorProto_INT64, Dims: dims, Data: v}
}

// symbolicCase is a model whose inputs have symbolic spatial or sequence dimensions.
type symbolicCase struct {
	name   string
	opset  int64
	inputs [][]exporter.Dim // per input: ints and symbol names
	// build adds the nodes reading inputs and returns the output and its rank.
	build func(b *exporter.Graph, rng *rand.Rand, in []string) (string, int)
	// sizes are two assignments of the symbols, the model is run at both.
	sizes [2]map[string]int
}

func (c symbolicCase) model(t *testing.T) *onnx.Model {
	t.Helper()
	b := exporter.NewGraph(c.name)
	names := make([]string, len(c.inputs))
	for i, dims := range c.inputs {
		names[i] = b.Input(fmt.Sprintf("x%d", i), f32, dims...)
	}
	out, rank := c.build(b, rand.New(rand.NewSource(7)), names)
	dims := make([]exporter.Dim, rank)
	for i := range dims {
		dims[i] = fmt.Sprintf("out%d", i)
	}
	b.Output(out, f32, dims...)
	m, err := b.Model(exporter.ModelOptions{Opset: c.opset})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// shapes substitutes an assignment of the symbols into the declared input shapes.
func (c symbolicCase) shapes(t *testing.T, size map[string]int) []ops.Shape {
	t.Helper()
	shapes := make([]ops.Shape, len(c.inputs))
	for i, dims := range c.inputs {
		for _, d := range dims {
			switch v := d.(type) {
			case int:
				shapes[i] = append(shapes[i], v)
			case string:
				n, ok := size[v]
				if !ok {
					t.Fatalf("no size for symbol %q", v)
				}
				shapes[i] = append(shapes[i], n)
			}
		}
	}
	return shapes
}

func conv2D(b *exporter.Graph, rng *rand.Rand, x string, cin, cout, k int, attrs exporter.Attrs) string {
	w := b.Initializer(b.Unique("w"), randArray(rng, int64(cout), int64(cin), int64(k), int64(k)))
	bias := b.Initializer(b.Unique("b"), randArray(rng, int64(cout)))
	return b.Node("Conv", []string{x, w, bias}, attrs)
}

// symbolicCases covers every kernel family with a symbolic spatial, sequence or time dimension.
var symbolicCases = []symbolicCase{
	{
		name: "conv", opset: 13, inputs: [][]exporter.Dim{{1, 3, "H", "W"}},
		build: func(b *exporter.Graph, rng *rand.Rand, in []string) (string, int) {
			c := conv2D(b, rng, in[0], 3, 4, 3, exporter.Attrs{"pads": []int{1, 1, 1, 1}, "strides": []int{2, 2}})
			c = b.Node("Relu", []string{c}, nil)
			r := conv2D(b, rng, c, 4, 4, 3, exporter.Attrs{"auto_pad": "SAME_UPPER"})
			c = b.Node("Add", []string{r, c}, nil) // residual: fused into the Conv when shapes agree
			c = conv2D(b, rng, c, 1, 4, 3, exporter.Attrs{"group": 4, "dilations": []int{2, 2}})
			return conv2D(b, rng, c, 4, 2, 1, nil), 4
		},
		sizes: [2]map[string]int{{"H": 9, "W": 12}, {"H": 16, "W": 11}},
	},
	{
		name: "pooling", opset: 11, inputs: [][]exporter.Dim{{1, 3, "H", "W"}},
		build: func(b *exporter.Graph, rng *rand.Rand, in []string) (string, int) {
			p := b.Node("MaxPool", in, exporter.Attrs{"kernel_shape": []int{2, 2}, "strides": []int{2, 2}})
			a := b.Node("AveragePool", []string{p}, exporter.Attrs{"kernel_shape": []int{3, 3}, "pads": []int{1, 1, 1, 1}, "ceil_mode": 1, "strides": []int{2, 2}})
			gm := b.Node("GlobalMaxPool", []string{in[0]}, nil)
			ga := b.Node("GlobalAveragePool", []string{a}, nil)
			lp := b.Node("LpPool", []string{p}, exporter.Attrs{"kernel_shape": []int{2, 2}})
			gl := b.Node("GlobalAveragePool", []string{lp}, nil)
			return b.Node("Add", []string{b.Node("Add", []string{gm, ga}, nil), gl}, nil), 4
		},
		sizes: [2]map[string]int{{"H": 6, "W": 10}, {"H": 11, "W": 5}},
	},
	{
		name: "normalisation", opset: 17, inputs: [][]exporter.Dim{{1, 4, "H", "W"}},
		build: func(b *exporter.Graph, rng *rand.Rand, in []string) (string, int) {
			bn := b.Node("BatchNormalization", []string{in[0], b.Initializer("s", randArray(rng, 4)), b.Initializer("o", randArray(rng, 4)),
				b.Initializer("m", randArray(rng, 4)), b.Initializer("v", positiveArray(rng, 4))}, nil)
			inorm := b.Node("InstanceNormalization", []string{bn, b.Initializer("is", randArray(rng, 4)), b.Initializer("ib", randArray(rng, 4))}, nil)
			ln := b.Node("LayerNormalization", []string{inorm, b.Initializer("ls", randArray(rng, 1)), b.Initializer("lb", randArray(rng, 1))},
				exporter.Attrs{"axis": -1})
			return b.Node("LRN", []string{ln}, exporter.Attrs{"size": 3}), 4
		},
		sizes: [2]map[string]int{{"H": 5, "W": 8}, {"H": 9, "W": 3}},
	},
	{
		name: "resize", opset: 13, inputs: [][]exporter.Dim{{1, 2, "H", "W"}},
		build: func(b *exporter.Graph, rng *rand.Rand, in []string) (string, int) {
			scales := b.Initializer("scales", arr([]int64{4}, 1, 1, 2, 1.5))
			nearest := b.Node("Resize", []string{in[0], "", scales}, exporter.Attrs{"mode": "nearest"})
			linear := b.Node("Resize", []string{in[0], "", scales}, exporter.Attrs{"mode": "linear"})
			return b.Node("Add", []string{nearest, linear}, nil), 4
		},
		sizes: [2]map[string]int{{"H": 4, "W": 6}, {"H": 7, "W": 3}},
	},
	{
		name: "upsample", opset: 9, inputs: [][]exporter.Dim{{1, 2, "H", "W"}},
		build: func(b *exporter.Graph, rng *rand.Rand, in []string) (string, int) {
			scales := b.Initializer("scales", arr([]int64{4}, 1, 1, 2, 2))
			return b.Node("Upsample", []string{in[0], scales}, exporter.Attrs{"mode": "nearest"}), 4
		},
		sizes: [2]map[string]int{{"H": 3, "W": 5}, {"H": 6, "W": 2}},
	},
	{
		name: "broadcasting", opset: 13, inputs: [][]exporter.Dim{{1, 3, "H", "W"}, {1, 1, 1, "W"}},
		build: func(b *exporter.Graph, rng *rand.Rand, in []string) (string, int) {
			perChannel := b.Initializer("c", randArray(rng, 3, 1, 1))
			y := b.Node("Mul", []string{in[0], perChannel}, nil)
			y = b.Node("Add", []string{y, in[1]}, nil)
			y = b.Node("Sigmoid", []string{y}, nil)
			mean := b.Node("ReduceMean", []string{y}, exporter.Attrs{"axes": []int{1}})
			y = b.Node("Sub", []string{y, mean}, nil)
			return b.Node("Where", []string{b.Node("Greater", []string{y, in[1]}, nil), y, mean}, nil), 4
		},
		sizes: [2]map[string]int{{"H": 4, "W": 5}, {"H": 2, "W": 9}},
	},
	{
		name: "reductions", opset: 13, inputs: [][]exporter.Dim{{1, 3, "H", "W"}},
		build: func(b *exporter.Graph, rng *rand.Rand, in []string) (string, int) {
			sum := b.Node("ReduceSum", []string{in[0], b.Initializer("axes", int64Array([]int64{1}, 2))}, nil)
			maxW := b.Node("ReduceMax", []string{in[0]}, exporter.Attrs{"axes": []int{3}, "keepdims": 1})
			arg := b.Node("Cast", []string{b.Node("ArgMax", []string{in[0]}, exporter.Attrs{"axis": 2})}, exporter.Attrs{"to": int(f32)})
			soft := b.Node("Softmax", []string{in[0]}, exporter.Attrs{"axis": 3})
			l2 := b.Node("ReduceL2", []string{soft}, exporter.Attrs{"axes": []int{2, 3}})
			y := b.Node("Add", []string{b.Node("Add", []string{sum, maxW}, nil), arg}, nil)
			return b.Node("Mul", []string{y, l2}, nil), 4
		},
		sizes: [2]map[string]int{{"H": 3, "W": 7}, {"H": 8, "W": 2}},
	},
	{
		// The Shape → Gather → Concat → Reshape chain of exporters, folded per specialisation.
		name: "reshape", opset: 13, inputs: [][]exporter.Dim{{1, 3, "H", "W"}},
		build: func(b *exporter.Graph, rng *rand.Rand, in []string) (string, int) {
			shape := b.Node("Shape", in, nil)
			h := b.Node("Gather", []string{shape, b.Initializer("two", int64Array([]int64{1}, 2))}, exporter.Attrs{"axis": 0})
			target := b.Node("Concat", []string{b.Initializer("one3", int64Array([]int64{2}, 1, 3)), h, b.Initializer("minus1", int64Array([]int64{1}, -1))}, exporter.Attrs{"axis": 0})
			y := b.Node("Reshape", []string{in[0], target}, nil)                            // [1,3,H,W]
			y = b.Node("Transpose", []string{y}, exporter.Attrs{"perm": []int{0, 2, 3, 1}}) // [1,H,W,3]
			sl := b.Node("Slice", []string{y, b.Initializer("st", int64Array([]int64{2}, 1, 0)), b.Initializer("en", int64Array([]int64{2}, -1, math.MaxInt64)),
				b.Initializer("ax", int64Array([]int64{2}, 1, 2))}, nil) // [1,H-2,W,3]
			y = b.Node("Concat", []string{sl, sl}, exporter.Attrs{"axis": 1})
			y = b.Node("Flatten", []string{y}, exporter.Attrs{"axis": 2}) // [2(H-2), 3W]
			return b.Node("Unsqueeze", []string{y, b.Initializer("u", int64Array([]int64{1}, 0))}, nil), 3
		},
		sizes: [2]map[string]int{{"H": 4, "W": 5}, {"H": 7, "W": 2}},
	},
	{
		name: "matmul-gemm", opset: 13, inputs: [][]exporter.Dim{{"S", 8}, {1, "S", 8}},
		build: func(b *exporter.Graph, rng *rand.Rand, in []string) (string, int) {
			gemm := b.Node("Gemm", []string{in[0], b.Initializer("gw", randArray(rng, 6, 8)), b.Initializer("gb", randArray(rng, 6))}, exporter.Attrs{"transB": 1})
			mm := b.Node("MatMul", []string{in[0], b.Initializer("mw", randArray(rng, 8, 6))}, nil)
			mm = b.Node("Relu", []string{b.Node("Add", []string{mm, b.Initializer("mb", randArray(rng, 6))}, nil)}, nil) // fused into a Gemm
			batched := b.Node("MatMul", []string{in[1], b.Initializer("bw", randArray(rng, 8, 6))}, nil)
			return b.Node("Add", []string{b.Node("Add", []string{gemm, mm}, nil), batched}, nil), 3
		},
		sizes: [2]map[string]int{{"S": 5}, {"S": 17}},
	},
	{
		name: "recurrent", opset: 14, inputs: [][]exporter.Dim{{"T", 2, 4}},
		build: func(b *exporter.Graph, rng *rand.Rand, in []string) (string, int) {
			const hidden = 3
			lstm := b.NodeN("LSTM", "", []string{in[0], b.Initializer("lw", randArray(rng, 1, 4*hidden, 4)), b.Initializer("lr", randArray(rng, 1, 4*hidden, hidden)),
				b.Initializer("lb", randArray(rng, 1, 8*hidden))}, 3, exporter.Attrs{"hidden_size": hidden})
			gru := b.NodeN("GRU", "", []string{in[0], b.Initializer("gw", randArray(rng, 2, 3*hidden, 4)), b.Initializer("gr", randArray(rng, 2, 3*hidden, hidden))},
				2, exporter.Attrs{"hidden_size": hidden, "direction": "bidirectional", "linear_before_reset": 1})
			rnn := b.NodeN("RNN", "", []string{in[0], b.Initializer("rw", randArray(rng, 1, hidden, 4)), b.Initializer("rr", randArray(rng, 1, hidden, hidden))},
				1, exporter.Attrs{"hidden_size": hidden})
			y := b.Node("ReduceSum", []string{gru[0], b.Initializer("dir", int64Array([]int64{1}, 1))}, exporter.Attrs{"keepdims": 1})
			return b.Node("Add", []string{b.Node("Add", []string{lstm[0], y}, nil), rnn[0]}, nil), 4 // [T,1,2,3]
		},
		sizes: [2]map[string]int{{"T": 3}, {"T": 11}},
	},
	{
		// Attention as exporters write it, with a causal mask built from the sequence length.
		name: "attention", opset: 14, inputs: [][]exporter.Dim{{1, "S", 8}},
		build: func(b *exporter.Graph, rng *rand.Rand, in []string) (string, int) {
			q := b.Node("MatMul", []string{in[0], b.Initializer("wq", randArray(rng, 8, 8))}, nil)
			k := b.Node("MatMul", []string{in[0], b.Initializer("wk", randArray(rng, 8, 8))}, nil)
			v := b.Node("MatMul", []string{in[0], b.Initializer("wv", randArray(rng, 8, 8))}, nil)
			scores := b.Node("MatMul", []string{q, b.Node("Transpose", []string{k}, exporter.Attrs{"perm": []int{0, 2, 1}})}, nil)
			scores = b.Node("Div", []string{scores, b.Initializer("sqrtd", arr(nil, float32(math.Sqrt(8))))}, nil)
			shape := b.Node("Shape", []string{scores}, nil)
			ones := b.Node("ConstantOfShape", []string{shape}, exporter.Attrs{"value": arr([]int64{1}, 1)})
			causal := b.Node("Cast", []string{b.Node("Trilu", []string{ones}, exporter.Attrs{"upper": 0})}, exporter.Attrs{"to": int(onnxpb.TensorProto_BOOL)})
			scores = b.Node("Where", []string{causal, scores, b.Initializer("neg", arr(nil, -1e9))}, nil)
			p := b.Node("Softmax", []string{scores}, exporter.Attrs{"axis": -1})
			return b.Node("MatMul", []string{p, v}, nil), 3
		},
		sizes: [2]map[string]int{{"S": 4}, {"S": 13}},
	},
	{
		name: "attention-op", opset: 23, inputs: [][]exporter.Dim{{1, 2, "S", 4}},
		build: func(b *exporter.Graph, rng *rand.Rand, in []string) (string, int) {
			return b.Node("Attention", []string{in[0], in[0], in[0]}, exporter.Attrs{"is_causal": 1}), 4
		},
		sizes: [2]map[string]int{{"S": 3}, {"S": 9}},
	},
}

// Every kernel family compiles with a symbolic dimension, runs at two sizes, and gives what the same model
// gives with the dimension pinned at Compile.
func TestSymbolicDimensionsStaySymbolic(t *testing.T) {
	for _, c := range symbolicCases {
		t.Run(c.name, func(t *testing.T) {
			m := c.model(t)
			symbolic, err := runtime.Compile(m, runtime.Options{Threads: 1})
			if err != nil {
				t.Fatalf("compile with symbolic dimensions: %v", err)
			}
			sess := symbolic.NewSession()
			rng := rand.New(rand.NewSource(3))
			for _, size := range c.sizes {
				shapes := c.shapes(t, size)
				pins := map[string]ops.Shape{}
				inputs := make([]*ops.Tensor, len(shapes))
				for i, s := range shapes {
					pins[fmt.Sprintf("x%d", i)] = s
					inputs[i] = ops.New(ops.Float32, s)
					for j := range inputs[i].Float32s() {
						inputs[i].Float32s()[j] = rng.Float32()*2 - 1
					}
				}
				pinned, err := runtime.Compile(m, runtime.Options{Threads: 1, InputShapes: pins})
				if err != nil {
					t.Fatalf("compile pinned at %v: %v", shapes, err)
				}
				want, err := pinned.NewSession().Run(context.Background(), inputs)
				if err != nil {
					t.Fatalf("run pinned at %v: %v", shapes, err)
				}
				have, err := sess.Run(context.Background(), inputs)
				if err != nil {
					t.Fatalf("run at %v: %v", shapes, err)
				}
				if !have[0].Shape().Equal(want[0].Shape()) {
					t.Fatalf("at %v: output %v, pinned gives %v", shapes, have[0].Shape(), want[0].Shape())
				}
				if err := ops.AllClose(have[0], want[0], 1e-4, 1e-5); err != nil {
					t.Fatalf("at %v: %v", shapes, err)
				}
			}
		})
	}
}

// The model of the issue: MaxPool over [1,3,H,W] used to fail at Compile, which planned it at H=W=1.
func TestSymbolicMaxPoolCompilesAndRuns(t *testing.T) {
	b := exporter.NewGraph("maxpool")
	x := b.Input("x", f32, 1, 3, "H", "W")
	b.Output(b.Node("MaxPool", []string{x}, exporter.Attrs{"kernel_shape": []int{2, 2}, "strides": []int{2, 2}}), f32, 1, 3, "h", "w")
	p := mustCompile(t, b, 11)
	sess := p.NewSession()
	for _, hw := range [][2]int{{4, 6}, {9, 3}} {
		in := ops.New(ops.Float32, ops.Shape{1, 3, hw[0], hw[1]})
		for i := range in.Float32s() {
			in.Float32s()[i] = float32(i)
		}
		out, err := sess.Run(context.Background(), []*ops.Tensor{in})
		if err != nil {
			t.Fatal(err)
		}
		if want := (ops.Shape{1, 3, hw[0] / 2, hw[1] / 2}); !out[0].Shape().Equal(want) {
			t.Fatalf("output %v, want %v", out[0].Shape(), want)
		}
		// Values grow along rows and columns: each window's maximum is its bottom-right element.
		if got, want := out[0].Float32s()[0], float32(hw[1]+1); got != want {
			t.Fatalf("first output %v, want %v", got, want)
		}
	}
	// At a size the kernel does not fit, the error comes at Run and names the node.
	_, err := sess.Run(context.Background(), []*ops.Tensor{ops.New(ops.Float32, ops.Shape{1, 3, 1, 4})})
	if err == nil || !strings.Contains(err.Error(), "MaxPool") || !strings.Contains(err.Error(), "kernel") {
		t.Fatalf("run at H=1: %v, want the MaxPool's kernel error", err)
	}
}

// Errors that do not depend on the symbolic dimensions are still reported at Compile.
func TestSymbolicCompileReportsSizeIndependentErrors(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	t.Run("channels", func(t *testing.T) {
		b := exporter.NewGraph("g")
		x := b.Input("x", f32, 1, 3, "H", "W")
		b.Output(conv2D(b, rng, x, 5, 2, 3, nil), f32, 1, 2, "h", "w") // weights for 5 channels, input has 3
		if _, err := compile(t, b, 13); err == nil || !strings.Contains(err.Error(), "Conv") {
			t.Fatalf("got %v, want the Conv's channel error at Compile", err)
		}
	})
	t.Run("broadcast", func(t *testing.T) {
		// The message gives the whole shapes, symbolic sizes included, but the clash is between 3 and 4.
		b := exporter.NewGraph("g")
		x := b.Input("x", f32, "N", 3, "H", "W")
		y := b.Input("y", f32, "N", 4, "H", "W")
		b.Output(b.Node("Add", []string{x, y}, nil), f32, "N", 4, "H", "W")
		if _, err := compile(t, b, 13); err == nil || !strings.Contains(err.Error(), "Add") {
			t.Fatalf("got %v, want the Add's broadcast error at Compile", err)
		}
	})
	t.Run("attribute", func(t *testing.T) {
		b := exporter.NewGraph("g")
		x := b.Input("x", f32, 1, 3, "H", "W")
		b.Output(b.Node("MaxPool", []string{x}, exporter.Attrs{"kernel_shape": []int{2, 2}, "strides": []int{0, 1}}), f32, 1, 3, "h", "w")
		if _, err := compile(t, b, 11); err == nil || !strings.Contains(err.Error(), "MaxPool") {
			t.Fatalf("got %v, want the MaxPool's stride error at Compile", err)
		}
	})
}

// A model valid at one size of its symbolic dimensions only (a Reshape to a fixed element count, as in a
// classifier exported with dynamic axes, or to batch 1) compiles, runs at that size, and fails at another
// at Run, naming the node.
func TestSymbolicModelValidAtOneSize(t *testing.T) {
	for _, c := range []struct {
		name      string
		dims      []exporter.Dim
		target    []int64
		good, bad ops.Shape
	}{
		{"spatial", []exporter.Dim{1, 3, "H", "W"}, []int64{1, 3 * 8 * 8}, ops.Shape{1, 3, 8, 8}, ops.Shape{1, 3, 9, 8}},
		{"batch", []exporter.Dim{"N", 4}, []int64{1, 4}, ops.Shape{1, 4}, ops.Shape{2, 4}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := exporter.NewGraph("g")
			x := b.Input("x", f32, c.dims...)
			shape := b.Initializer("shape", int64Array([]int64{int64(len(c.target))}, c.target...))
			b.Output(b.Node("Reshape", []string{x, shape}, nil), f32, "a", "b")
			p := mustCompile(t, b, 13)
			sess := p.NewSession()
			if _, err := sess.Run(context.Background(), []*ops.Tensor{ops.New(ops.Float32, c.good)}); err != nil {
				t.Fatalf("run at %v: %v", c.good, err)
			}
			if _, err := sess.Run(context.Background(), []*ops.Tensor{ops.New(ops.Float32, c.bad)}); err == nil || !strings.Contains(err.Error(), "Reshape") {
				t.Fatalf("run at %v: %v, want the Reshape's error", c.bad, err)
			}
		})
	}
}

// Passes use only facts that hold at every size. Here the Conv's output [1,4,H,W] and the Add's other input
// [1,4,1,W] have equal shapes only when H is 1 (where Compile used to plan): fusing the Add into the Conv as
// its residual input would be wrong at every other H, where the Add broadcasts.
func TestSymbolicPassesIgnoreSizeDependentFacts(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, 1, 3, "H", "W")
	z := b.Input("z", f32, 1, 4, 1, "W")
	y := b.Node("Add", []string{conv2D(b, rng, x, 3, 4, 1, nil), z}, nil)
	b.Output(y, f32, 1, 4, "H", "W")
	p := mustCompile(t, b, 13)
	for _, n := range p.Graph().Nodes {
		if n.OpType != "Add" && n.OpType != "Conv" {
			t.Fatalf("the Add was fused (%s) although the shapes agree only at H=1", n.OpType)
		}
	}
	xs := ops.New(ops.Float32, ops.Shape{1, 3, 5, 2})
	zs := ops.New(ops.Float32, ops.Shape{1, 4, 1, 2})
	for i := range xs.Float32s() {
		xs.Float32s()[i] = float32(i%7) - 3
	}
	for i := range zs.Float32s() {
		zs.Float32s()[i] = float32(i)
	}
	if _, err := p.NewSession().Run(context.Background(), []*ops.Tensor{xs, zs}); err != nil {
		t.Fatal(err)
	}
}

// Options.InputShapes pins dimensions at Compile; bad pins are clear errors.
func TestInputShapesOption(t *testing.T) {
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, "N", 3, "H", "W")
	b.Output(b.Node("Relu", []string{x}, nil), f32, "N", 3, "H", "W")
	m, err := b.Model(exporter.ModelOptions{Opset: 13})
	if err != nil {
		t.Fatal(err)
	}
	for pins, want := range map[string]struct {
		pins map[string]ops.Shape
		msg  string
	}{
		"unknown":  {map[string]ops.Shape{"y": {1, 3, 4, 4}}, `pinned for "y", but the model has no such input; its inputs are "x" float32[N,3,H,W]`},
		"rank":     {map[string]ops.Shape{"x": {1, 3, 4}}, "rank 3, but the model declares [N,3,H,W], rank 4"},
		"fixed":    {map[string]ops.Shape{"x": {1, 2, 4, 4}}, "dimension 1 is fixed at 3"},
		"negative": {map[string]ops.Shape{"x": {1, 3, -1, 4}}, "dimension 2 is negative"},
	} {
		_, err := runtime.Compile(m, runtime.Options{InputShapes: want.pins})
		if err == nil || !strings.Contains(err.Error(), want.msg) || !errors.Is(err, runtime.ErrBadInput) {
			t.Errorf("%s: got %v, want an ErrBadInput with %q", pins, err, want.msg)
		}
	}
	p, err := runtime.Compile(m, runtime.Options{InputShapes: map[string]ops.Shape{"x": {2, 3, 4, 5}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Inputs()[0].ShapeString(); got != "[2,3,4,5]" {
		t.Fatalf("pinned input declares %s, want [2,3,4,5]", got)
	}
	sess := p.NewSession()
	if _, err := sess.Run(context.Background(), []*ops.Tensor{ops.New(ops.Float32, ops.Shape{2, 3, 4, 5})}); err != nil {
		t.Fatal(err)
	}
	if _, err := sess.Run(context.Background(), []*ops.Tensor{ops.New(ops.Float32, ops.Shape{2, 3, 4, 6})}); !errors.Is(err, runtime.ErrBadInput) {
		t.Fatalf("run at another shape than the pinned one: %v, want ErrBadInput", err)
	}
}
