package runtime_test

import (
	"context"
	"errors"
	"math/rand"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// qdqBuilder writes QDQ graphs as ONNX Runtime's quantize_static does: every float tensor between a
// QuantizeLinear and a DequantizeLinear with constant scale and zero point.
type qdqBuilder struct {
	*exporter.Graph
	rng *rand.Rand
}

func newQDQBuilder(seed int64) qdqBuilder {
	return qdqBuilder{exporter.NewGraph("g"), rand.New(rand.NewSource(seed))}
}

// params returns constant scale and zero point inputs: a uint8 zero point when zp >= 0 ... as given.
func (b qdqBuilder) params(scale float32, zp any) []string {
	s := b.Initializer("", scalarF32(scale))
	switch z := zp.(type) {
	case uint8:
		return []string{s, b.Initializer("", &onnx.Array{DataType: onnxpb.TensorProto_UINT8, Dims: []int64{}, Data: []uint8{z}})}
	case int8:
		return []string{s, b.Initializer("", &onnx.Array{DataType: onnxpb.TensorProto_INT8, Dims: []int64{}, Data: []int8{z}})}
	}
	panic("zero point must be uint8 or int8")
}

// qdq quantizes x and dequantizes it again: the activations of a QDQ graph.
func (b qdqBuilder) qdq(x string, scale float32, zp any) string {
	p := b.params(scale, zp)
	return b.Node("DequantizeLinear", append([]string{b.Node("QuantizeLinear", append([]string{x}, p...), nil)}, p...), nil)
}

// weight is DQ of a random int8 constant of the given dims, symmetric, per tensor or (scales > 1) per
// channel along axis.
func (b qdqBuilder) weight(axis int, scales []float32, dims ...int64) string {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	w := make([]int8, n)
	for i := range w {
		w[i] = int8(b.rng.Intn(255) - 127)
	}
	wq := b.Initializer("", &onnx.Array{DataType: onnxpb.TensorProto_INT8, Dims: dims, Data: w})
	if len(scales) == 1 {
		return b.Node("DequantizeLinear", append([]string{wq}, b.params(scales[0], int8(0))...), nil)
	}
	s := b.Initializer("", &onnx.Array{DataType: onnxpb.TensorProto_FLOAT, Dims: []int64{int64(len(scales))}, Data: scales})
	z := b.Initializer("", &onnx.Array{DataType: onnxpb.TensorProto_INT8, Dims: []int64{int64(len(scales))}, Data: make([]int8, len(scales))})
	return b.Node("DequantizeLinear", []string{wq, s, z}, exporter.Attrs{"axis": axis})
}

// DQ → MatMul → Q becomes QLinearMatMul, with b per tensor and per column; the weights' DQ nodes go.
func TestPassQDQMatMul(t *testing.T) {
	b := newQDQBuilder(21)
	x := b.Input("x", f32, "N", 12)
	h := b.qdq(b.Node("MatMul", []string{b.qdq(x, 0.02, uint8(128)), b.weight(0, []float32{0.01}, 12, 7)}, nil), 0.05, uint8(120))
	h = b.Node("MatMul", []string{h, b.weight(1, []float32{0.01, 0.02, 0.015, 0.01, 0.03}, 7, 5)}, nil)
	y := b.qdq(h, 0.1, int8(3))
	b.Output(y, f32, "N", 5)
	checkPassWithin(t, b.Graph, 13, []string{"QuantizeLinear", "QLinearMatMul", "QLinearMatMul", "DequantizeLinear"}, 0, 0.2+1e-5, 1, 12)
}

// The float product stays when its output is read by more than the Q, or its input scale is computed at
// run time (DynamicQuantizeLinear, the dynamic quantizer's form); the DQ of its constant weights then runs
// once, when the plan is made, not at every Run.
func TestPassQDQMatMulLeavesWhatDoesNotFit(t *testing.T) {
	b := newQDQBuilder(22)
	x := b.Input("x", f32, "N", 12)
	w := b.weight(0, []float32{0.01}, 12, 7)
	dyn := b.NodeN("DynamicQuantizeLinear", "", []string{x}, 3, nil)
	mm := b.Node("MatMul", []string{b.Node("DequantizeLinear", dyn, nil), w}, nil)
	h := b.qdq(mm, 0.05, uint8(120))
	shared := b.Node("MatMul", []string{h, b.weight(0, []float32{0.02}, 7, 7)}, nil)
	y := b.Node("Add", []string{b.qdq(shared, 0.05, uint8(128)), shared}, nil)
	b.Output(y, f32, "N", 7)
	checkPassWithin(t, b.Graph, 13, []string{"DequantizeLinear", "DynamicQuantizeLinear", "DequantizeLinear", "MatMul",
		"QuantizeLinear", "DequantizeLinear", "DequantizeLinear", "MatMul", "QuantizeLinear", "DequantizeLinear", "Add"}, 0, 1e-5, 1, 12)
	p := compileModel(t, b.Graph)
	// The weights' DQ nodes of the float products are folded into float32 constants when the plan is made:
	// the fallback dequantizes only activations at run time (three DQ steps, not five).
	if plan := p.Describe(ops.Shape{2, 12}); strings.Count(plan, " DequantizeLinear ") != 3 {
		t.Errorf("want the two weight DQ nodes folded at plan time, the plan runs:\n%s", plan)
	}
}

// A Relu before a Q with zero point qmin, and a Clip wider than the Q's range, are dropped and the product
// fuses; a Relu before a Q that can represent negatives stays, and so does its product (which fuse-activation
// then fuses as in any float graph).
func TestPassQDQDropsClampTheQuantizationDoes(t *testing.T) {
	b := newQDQBuilder(23)
	x := b.Input("x", f32, "N", 12)
	h := b.Node("Relu", []string{b.Node("MatMul", []string{b.qdq(x, 0.02, uint8(128)), b.weight(0, []float32{0.01}, 12, 7)}, nil)}, nil)
	h = b.qdq(h, 0.05, uint8(0))
	h = b.Node("Clip", []string{b.Node("MatMul", []string{h, b.weight(0, []float32{0.01}, 7, 6)}, nil),
		b.Initializer("lo", scalarF32(-20)), b.Initializer("hi", scalarF32(20))}, nil)
	h = b.qdq(h, 0.02, int8(0))
	h = b.Node("Relu", []string{b.Node("MatMul", []string{h, b.weight(0, []float32{0.01}, 6, 5)}, nil)}, nil)
	y := b.qdq(h, 0.05, uint8(128))
	b.Output(y, f32, "N", 5)
	checkPassWithin(t, b.Graph, 13, []string{"QuantizeLinear", "QLinearMatMul", "QLinearMatMul", "DequantizeLinear", "DequantizeLinear",
		"FusedGemm", "QuantizeLinear", "DequantizeLinear"}, 0, 0.05+1e-5, 1, 12)
}

// DQ → MaxPool → Q and DQ → Transpose → Q with one scale and zero point run on the uint8 tensor; a MaxPool
// whose Q has another scale stays float.
func TestPassQDQTransparentOps(t *testing.T) {
	b := newQDQBuilder(24)
	x := b.Input("x", f32, "N", 2, 6, 6)
	h := b.Node("MaxPool", []string{b.qdq(x, 0.01, uint8(100))}, exporter.Attrs{"kernel_shape": []int{2, 2}})
	h = b.Node("Transpose", []string{b.qdq(h, 0.01, uint8(100))}, exporter.Attrs{"perm": []int{0, 1, 3, 2}})
	h = b.Node("MaxPool", []string{b.qdq(h, 0.01, uint8(100))}, exporter.Attrs{"kernel_shape": []int{2, 2}})
	y := b.qdq(h, 0.02, uint8(100))
	b.Output(y, f32, "N", 2, 4, 4)
	checkPassWithin(t, b.Graph, 13, []string{"QuantizeLinear", "MaxPool", "Transpose", "DequantizeLinear", "MaxPool",
		"QuantizeLinear", "DequantizeLinear"}, 0, 1e-6, 1, 2, 6, 6)
}

// DQ → Q with the same parameters between two integer nodes goes, the second reading the first directly;
// with other parameters it stays (it requantizes). A step the first product rounds the other way moves the
// second product's input by one step, so the output agrees within two of its steps.
func TestPassQDQDropsRoundTrip(t *testing.T) {
	b := newQDQBuilder(25)
	x := b.Input("x", f32, "N", 12)
	h := b.qdq(b.Node("MatMul", []string{b.qdq(x, 0.02, uint8(128)), b.weight(0, []float32{0.01}, 12, 7)}, nil), 0.05, uint8(120))
	h = b.qdq(b.qdq(h, 0.05, uint8(120)), 0.04, uint8(128))
	y := b.qdq(b.Node("MatMul", []string{h, b.weight(0, []float32{0.02}, 7, 5)}, nil), 0.1, uint8(128))
	b.Output(y, f32, "N", 5)
	checkPassWithin(t, b.Graph, 13, []string{"QuantizeLinear", "QLinearMatMul", "DequantizeLinear", "QuantizeLinear",
		"QLinearMatMul", "DequantizeLinear"}, 0, 0.2+1e-5, 1, 12)
}

// bias is DQ of an int32 constant with the scale the quantizers give a product's bias: x_scale·w_scale
// per channel (times scaleError, 1 for the quantizers' form).
func (b qdqBuilder) bias(xScale float32, wScales []float32, n int, scaleError float32) string {
	v := make([]int32, n)
	s := make([]float32, n)
	for i := range v {
		v[i] = int32(b.rng.Intn(2001) - 1000)
		s[i] = xScale * wScales[min(i, len(wScales)-1)] * scaleError
	}
	bq := b.Initializer("", &onnx.Array{DataType: onnxpb.TensorProto_INT32, Dims: []int64{int64(n)}, Data: v})
	bs := b.Initializer("", &onnx.Array{DataType: onnxpb.TensorProto_FLOAT, Dims: []int64{int64(n)}, Data: s})
	return b.Node("DequantizeLinear", []string{bq, bs}, exporter.Attrs{"axis": 0})
}

// DQ(x), DQ(w per channel), DQ(bias int32) → Conv → Relu → Q becomes one QLinearConv; a Conv whose bias scale
// is not x_scale·w_scale, and one whose weight is quantized along its input channels, stay float.
func TestPassQDQConv(t *testing.T) {
	b := newQDQBuilder(26)
	x := b.Input("x", f32, "N", 3, 8, 8)
	ws := []float32{0.01, 0.02, 0.015, 0.012}
	pad := exporter.Attrs{"pads": []int{1, 1, 1, 1}}
	h := b.Node("Conv", []string{b.qdq(x, 0.02, uint8(128)), b.weight(0, ws, 4, 3, 3, 3), b.bias(0.02, ws, 4, 1)}, pad)
	h = b.qdq(b.Node("Relu", []string{h}, nil), 0.02, uint8(0))
	h = b.qdq(b.Node("Conv", []string{h, b.weight(0, []float32{0.01}, 4, 4, 1, 1), b.bias(0.02, []float32{0.01}, 4, 1.5)}, nil), 0.02, uint8(128))
	y := b.qdq(b.Node("Conv", []string{h, b.weight(1, ws, 3, 4, 1, 1)}, nil), 0.02, uint8(128))
	b.Output(y, f32, "N", 3, 8, 8)
	checkPassWithin(t, b.Graph, 13, []string{"QuantizeLinear", "QLinearConv", "DequantizeLinear", "DequantizeLinear",
		"DequantizeLinear", "Conv", "QuantizeLinear", "DequantizeLinear", "DequantizeLinear", "Conv", "QuantizeLinear",
		"DequantizeLinear"}, 0, 0.04+1e-5, 1, 3, 8, 8)
}

// qdqResNetBlock is a QDQ ResNet basic block of c channels on size x size planes: conv-relu-conv-add-relu,
// the shortcut the block's quantized input, weights per output channel.
func qdqResNetBlock(seed int64, c, size int64) *exporter.Graph {
	b := newQDQBuilder(seed)
	x := b.Input("x", f32, "N", c, size, size)
	in := b.qdq(x, 0.02, uint8(128))
	ws1, ws2 := make([]float32, c), []float32{0.003}
	for i := range ws1 {
		ws1[i] = 0.004 + 0.002*float32(i%3)/float32(c)
	}
	pad := exporter.Attrs{"pads": []int{1, 1, 1, 1}}
	h := b.Node("Relu", []string{b.Node("Conv", []string{in, b.weight(0, ws1, c, c, 3, 3), b.bias(0.02, ws1, int(c), 1)}, pad)}, nil)
	h = b.qdq(h, 0.01, uint8(0))
	h = b.qdq(b.Node("Conv", []string{h, b.weight(0, ws2, c, c, 3, 3), b.bias(0.01, ws2, int(c), 1)}, pad), 0.02, uint8(128))
	y := b.qdq(b.Node("Relu", []string{b.Node("Add", []string{h, in}, nil)}, nil), 0.02, uint8(0))
	b.Output(y, f32, "N", c, size, size)
	return b.Graph
}

// A QDQ ResNet basic block runs as integer nodes only, between the input's Q and the output's DQ.
func TestPassQDQResNetBlock(t *testing.T) {
	checkPassWithin(t, qdqResNetBlock(27, 4, 6), 13, []string{"QuantizeLinear", "QLinearConv", "QLinearConv", "QLinearAdd", "DequantizeLinear"},
		0, 0.04+1e-5, 1, 4, 6, 6)
}

// Sigmoid, LeakyRelu, Concat, AveragePool, Mul and GlobalAveragePool between DQ and Q become ORT's
// com.microsoft quantized operators.
func TestPassQDQContribOps(t *testing.T) {
	b := newQDQBuilder(28)
	x := b.Input("x", f32, "N", 2, 6, 6)
	a := b.qdq(x, 0.02, uint8(128))
	s := b.qdq(b.Node("Sigmoid", []string{a}, nil), 1.0/256, uint8(0))
	l := b.qdq(b.Node("LeakyRelu", []string{a}, exporter.Attrs{"alpha": float32(0.1)}), 0.01, uint8(100))
	c := b.qdq(b.Node("Concat", []string{s, l}, exporter.Attrs{"axis": 1}), 0.01, uint8(100))
	p := b.qdq(b.Node("AveragePool", []string{c}, exporter.Attrs{"kernel_shape": []int{2, 2}, "strides": []int{2, 2}}), 0.01, uint8(100))
	m := b.qdq(b.Node("Mul", []string{p, p}, nil), 0.005, uint8(0))
	y := b.qdq(b.Node("GlobalAveragePool", []string{m}, nil), 0.005, uint8(0))
	b.Output(y, f32, "N", 4, 1, 1)
	checkPassWithin(t, b.Graph, 13, []string{"QuantizeLinear", "QLinearSigmoid", "QLinearLeakyRelu", "QLinearConcat",
		"QLinearAveragePool", "QLinearMul", "QLinearGlobalAveragePool", "DequantizeLinear"}, 0, 0.01+1e-5, 1, 2, 6, 6)
}

// DQ → Gemm (int32 bias, transB) → Q becomes com.microsoft QGemm.
func TestPassQDQGemm(t *testing.T) {
	b := newQDQBuilder(29)
	x := b.Input("x", f32, "N", 12)
	ws := []float32{0.01, 0.02, 0.015, 0.01, 0.03}
	h := b.Node("Gemm", []string{b.qdq(x, 0.02, uint8(128)), b.weight(0, ws, 5, 12), b.bias(0.02, ws, 5, 1)}, exporter.Attrs{"transB": 1})
	y := b.qdq(h, 0.05, int8(0))
	b.Output(y, f32, "N", 5)
	checkPassWithin(t, b.Graph, 13, []string{"QuantizeLinear", "QGemm", "DequantizeLinear"}, 0, 0.05+1e-5, 1, 12)
}

// QGemm reads its constant B only packed: the plan drops B's int8 elements (ops.PackedOnly) and gives,
// at every batch, what a plan that keeps them gives.
func TestQGemmWeightDroppedOncePacked(t *testing.T) {
	b := newQDQBuilder(29)
	x := b.Input("x", f32, "N", 12)
	ws := []float32{0.01, 0.02, 0.015, 0.01, 0.03}
	h := b.Node("Gemm", []string{b.qdq(x, 0.02, uint8(128)), b.weight(0, ws, 5, 12), b.bias(0.02, ws, 5, 1)}, exporter.Attrs{"transB": 1})
	b.Output(b.qdq(h, 0.05, int8(0)), f32, "N", 5)
	kept := mustCompileWith(t, b.Graph, runtime.Options{Threads: 1, KeepPlainWeights: true})
	dropped := mustCompileWith(t, b.Graph, runtime.Options{Threads: 1})
	for _, batch := range []int{1, 3} {
		want, got := runBatch(t, kept, batch, 12), runBatch(t, dropped, batch, 12)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("batch %d: y[%d] = %g with B dropped, %g kept", batch, i, got[i], want[i])
			}
		}
	}
	var qgemm *runtime.Node
	for _, n := range dropped.Graph().Nodes {
		if n.OpType == "QGemm" {
			qgemm = n
		}
	}
	if qgemm == nil {
		t.Fatalf("no QGemm in the optimised graph")
	}
	_, err := dropped.Constant(qgemm.Inputs[3])
	var de *runtime.DroppedConstantError
	if !errors.As(err, &de) {
		t.Errorf("QGemm's B %q: Constant = %v, want a *DroppedConstantError (its int8 elements kept beside the packed form)", qgemm.Inputs[3], err)
	}
	if c, err := kept.Constant(qgemm.Inputs[3]); err != nil || c.Len() != 5*12 {
		t.Errorf("QGemm's B in the plan that keeps its weights: %v, %v", c, err)
	}
}

// At opset 11 MaxPool takes no 8-bit input: the kernel check keeps it float rather than write a node that
// would not run.
func TestPassQDQLeavesWhatTheKernelRejects(t *testing.T) {
	b := newQDQBuilder(30)
	x := b.Input("x", f32, "N", 2, 6, 6)
	y := b.qdq(b.Node("MaxPool", []string{b.qdq(x, 0.01, uint8(100))}, exporter.Attrs{"kernel_shape": []int{2, 2}}), 0.01, uint8(100))
	b.Output(y, f32, "N", 2, 5, 5)
	checkPassWithin(t, b.Graph, 11, []string{"QuantizeLinear", "DequantizeLinear", "MaxPool", "QuantizeLinear", "DequantizeLinear"}, 0, 1e-6, 1, 2, 6, 6)
}

// BenchmarkQDQResNetBlock times a QDQ ResNet basic block at a ResNet-18 stage-2 size (64 channels, 28x28,
// batch 1, one thread) run as integer nodes (the qdq passes) and as the float graph (NoOptimize).
func BenchmarkQDQResNetBlock(b *testing.B) {
	m, err := qdqResNetBlock(31, 64, 28).Model(exporter.ModelOptions{Opset: 13})
	if err != nil {
		b.Fatal(err)
	}
	for _, noOpt := range []bool{false, true} {
		name := "integer"
		if noOpt {
			name = "float"
		}
		b.Run(name, func(b *testing.B) {
			p, err := runtime.Compile(m, runtime.Options{Threads: 1, NoOptimize: noOpt})
			if err != nil {
				b.Fatal(err)
			}
			s := p.NewSession()
			defer s.Close()
			in := ops.New(ops.Float32, ops.Shape{1, 64, 28, 28})
			for i := range in.Float32s() {
				in.Float32s()[i] = float32(i%251)/125 - 1
			}
			ctx := context.Background()
			if _, err := s.Run(ctx, []*ops.Tensor{in}); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.Run(ctx, []*ops.Tensor{in}); err != nil {
					b.Fatal(err)
				}
			}
			macs := 2.0 * 64 * 64 * 9 * 28 * 28 // two 3x3 convolutions
			b.ReportMetric(2*macs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// Flatten, Slice and a nearest Resize between a DQ and a Q of one scale and zero point run on the int8
// tensor; a linear Resize computes new values and stays float.
func TestPassQDQTransparentShapeOps(t *testing.T) {
	b := newQDQBuilder(32)
	x := b.Input("x", f32, "N", 2, 4, 4)
	i64 := func(v ...int64) string {
		return b.Initializer("", &onnx.Array{DataType: onnxpb.TensorProto_INT64, Dims: []int64{int64(len(v))}, Data: v})
	}
	scales := b.Initializer("", &onnx.Array{DataType: onnxpb.TensorProto_FLOAT, Dims: []int64{4}, Data: []float32{1, 1, 2, 2}})
	h := b.Node("Resize", []string{b.qdq(x, 0.01, int8(-3)), "", scales}, exporter.Attrs{"mode": "nearest"})
	h = b.Node("Slice", []string{b.qdq(h, 0.01, int8(-3)), i64(1, 2), i64(7, 8), i64(2, 3)}, nil)
	h = b.Node("Resize", []string{b.qdq(h, 0.01, int8(-3)), "", scales}, exporter.Attrs{"mode": "linear"})
	y := b.qdq(b.Node("Flatten", []string{b.qdq(h, 0.01, int8(-3))}, nil), 0.01, int8(-3))
	b.Output(y, f32, "N", 2*12*12)
	checkPassWithin(t, b.Graph, 13, []string{"QuantizeLinear", "Resize", "Slice", "DequantizeLinear", "Resize",
		"QuantizeLinear", "Flatten", "DequantizeLinear"}, 0, 1e-6, 1, 2, 4, 4)
}
