package runtime_test

import (
	"context"
	"math/rand"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

func randArray(rng *rand.Rand, dims ...int64) *onnx.Array {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = rng.Float32()*2 - 1
	}
	return &onnx.Array{DataType: onnxpb.TensorProto_FLOAT, Dims: dims, Data: v}
}

func positiveArray(rng *rand.Rand, n int64) *onnx.Array {
	a := randArray(rng, n)
	for i, v := range a.Data.([]float32) {
		a.Data.([]float32)[i] = 0.5 + v*v
	}
	return a
}

// checkPass compiles the graph with and without passes, checks that the optimised graph has the expected
// op types, and compares both on random inputs of the given shape at two batch sizes.
func checkPass(t *testing.T, b *exporter.Graph, opset int64, wantOps []string, inShape ...int) {
	t.Helper()
	checkPassWithin(t, b, opset, wantOps, 1e-4, 1e-5, inShape...)
}

// checkPassWithin is checkPass comparing within rtol and atol: a quantized graph's fused kernels round
// once where the float graph rounds at every step, so they agree within one quantization step.
func checkPassWithin(t *testing.T, b *exporter.Graph, opset int64, wantOps []string, rtol, atol float64, inShape ...int) {
	t.Helper()
	m, err := b.Model(exporter.ModelOptions{Opset: opset})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := runtime.Compile(m, runtime.Options{Threads: 1, NoOptimize: true})
	if err != nil {
		t.Fatal(err)
	}
	var log []string
	opt, err := runtime.Compile(m, runtime.Options{Threads: 1, Logf: func(f string, a ...any) { log = append(log, f) }})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range opt.Graph().Nodes {
		got = append(got, n.OpType)
	}
	if len(got) != len(wantOps) {
		t.Fatalf("optimised graph has ops %v, want %v", got, wantOps)
	}
	for i := range got {
		if got[i] != wantOps[i] {
			t.Fatalf("optimised graph has ops %v, want %v", got, wantOps)
		}
	}
	rng := rand.New(rand.NewSource(1))
	for _, batch := range []int{1, 3} {
		shape := append(ops.Shape{batch}, inShape[1:]...)
		in := ops.New(ops.Float32, shape)
		for i := range in.Float32s() {
			in.Float32s()[i] = rng.Float32()*2 - 1
		}
		want, err := plain.NewSession().Run(context.Background(), []*ops.Tensor{in})
		if err != nil {
			t.Fatal(err)
		}
		have, err := opt.NewSession().Run(context.Background(), []*ops.Tensor{in})
		if err != nil {
			t.Fatal(err)
		}
		if err := ops.AllClose(have[0], want[0], rtol, atol); err != nil {
			t.Fatalf("batch %d: optimised graph differs: %v", batch, err)
		}
	}
}

func TestPassFoldBatchNormIntoConv(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, "N", 3, 8, 8)
	w := b.Initializer("w", randArray(rng, 4, 3, 3, 3))
	bias := b.Initializer("b", randArray(rng, 4))
	c := b.Node("Conv", []string{x, w, bias}, exporter.Attrs{"pads": []int{1, 1, 1, 1}})
	y := b.Node("BatchNormalization", []string{c, b.Initializer("scale", randArray(rng, 4)), b.Initializer("shift", randArray(rng, 4)),
		b.Initializer("mean", randArray(rng, 4)), b.Initializer("var", positiveArray(rng, 4))}, exporter.Attrs{"epsilon": float32(1e-3)})
	b.Output(y, f32, "N", 4, 8, 8)
	checkPass(t, b, 13, []string{"Conv"}, 1, 3, 8, 8)
}

// An epsilon that the file stores as an INT (some exporters do) is read by the fold as the kernel reads it,
// through ops.AttrReader: as the float 1, not as the default 1e-5.
func TestPassFoldBatchNormReadsAnIntEpsilonAsTheKernelDoes(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, "N", 3, 8, 8)
	c := b.Node("Conv", []string{x, b.Initializer("w", randArray(rng, 4, 3, 3, 3))}, exporter.Attrs{"pads": []int{1, 1, 1, 1}})
	y := b.Node("BatchNormalization", []string{c, b.Initializer("scale", randArray(rng, 4)), b.Initializer("shift", randArray(rng, 4)),
		b.Initializer("mean", randArray(rng, 4)), b.Initializer("var", positiveArray(rng, 4))}, exporter.Attrs{"epsilon": 1})
	b.Output(y, f32, "N", 4, 8, 8)
	checkPass(t, b, 13, []string{"Conv"}, 1, 3, 8, 8)
}

func TestPassMergePadIntoAveragePool(t *testing.T) {
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, "N", 2, 6, 6)
	pads := b.Initializer("pads", &onnx.Array{DataType: onnxpb.TensorProto_INT64, Dims: []int64{8}, Data: []int64{0, 0, 1, 1, 0, 0, 1, 1}})
	p := b.Node("Pad", []string{x, pads}, nil)
	y := b.Node("AveragePool", []string{p}, exporter.Attrs{"kernel_shape": []int{2, 2}, "strides": []int{2, 2}})
	b.Output(y, f32, "N", 2, 4, 4)
	checkPass(t, b, 13, []string{"AveragePool"}, 1, 2, 6, 6)
}

func TestPassMergePadIntoConv(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, "N", 2, 5, 5)
	p := b.Node("Pad", []string{x}, exporter.Attrs{"pads": []int{0, 0, 2, 1, 0, 0, 0, 1}})
	y := b.Node("Conv", []string{p, b.Initializer("w", randArray(rng, 3, 2, 3, 3))}, exporter.Attrs{"pads": []int{1, 0, 0, 1}})
	b.Output(y, f32, "N", 3, 6, 5)
	checkPass(t, b, 9, []string{"Conv"}, 1, 2, 5, 5)
}

// The Keras/tf2onnx flatten: NCHW → Transpose(0,2,3,1) → Reshape(-1, K) → MatMul + Add. After the passes:
// Reshape → Gemm, with the weights permuted.
func TestPassFoldTransposeAndFuseGemm(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, "N", 3, 4, 5)
	tr := b.Node("Transpose", []string{x}, exporter.Attrs{"perm": []int{0, 2, 3, 1}})
	shape := b.Initializer("shape", &onnx.Array{DataType: onnxpb.TensorProto_INT64, Dims: []int64{2}, Data: []int64{-1, 60}})
	r := b.Node("Reshape", []string{tr, shape}, nil)
	mm := b.Node("MatMul", []string{r, b.Initializer("w", randArray(rng, 60, 7))}, nil)
	y := b.Node("Add", []string{mm, b.Initializer("bias", randArray(rng, 7))}, nil)
	b.Output(y, f32, "N", 7)
	checkPass(t, b, 13, []string{"Reshape", "Gemm"}, 1, 3, 4, 5)
}

func TestPassFoldTransposeIntoGemmTransB(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	b := exporter.NewGraph("g")
	x := b.Input("x", f32, "N", 2, 3, 3)
	tr := b.Node("Transpose", []string{x}, exporter.Attrs{"perm": []int{0, 2, 3, 1}})
	f := b.Node("Flatten", []string{tr}, nil)
	y := b.Node("Gemm", []string{f, b.Initializer("w", randArray(rng, 5, 18)), b.Initializer("c", randArray(rng, 5))}, exporter.Attrs{"transB": 1})
	b.Output(y, f32, "N", 5)
	checkPass(t, b, 13, []string{"Flatten", "Gemm"}, 1, 2, 3, 3)
}
