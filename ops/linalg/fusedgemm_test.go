package linalg

import (
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

func randTensor(rng *rand.Rand, shape ...int) *ops.Tensor {
	v := make([]float32, ops.Shape(shape).Size())
	for i := range v {
		v[i] = rng.Float32()*2 - 1
	}
	return ops.FromSlice(ops.Shape(shape), v)
}

// TestFusedGemm checks FusedGemm against Gemm followed by the activation, over transposes, C shapes (bias
// per column, per row, full, scalar, absent), alpha/beta, constant and run-time B, and M not a multiple of
// the GEMM's tiles.
func TestFusedGemm(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	acts := []struct {
		attrs ops.AttrMap
		f     func(float64) float64
	}{
		{ops.AttrMap{}, func(v float64) float64 { return v }},
		{ops.AttrMap{"activation": ops.StringAttr("Relu")}, func(v float64) float64 { return math.Max(v, 0) }},
		{ops.AttrMap{"activation": ops.StringAttr("Clip"), "activation_params": ops.FloatsAttr(-0.5, 0.25)},
			func(v float64) float64 { return math.Min(math.Max(v, -0.5), 0.25) }},
		{ops.AttrMap{"activation": ops.StringAttr("SiLU")}, func(v float64) float64 { return v / (1 + math.Exp(-v)) }},
		{ops.AttrMap{"activation": ops.StringAttr("Gelu")}, func(v float64) float64 { return v / 2 * (1 + math.Erf(v/math.Sqrt2)) }},
		{ops.AttrMap{"activation": ops.StringAttr("HardSwish")}, func(v float64) float64 { return v * math.Max(0, math.Min(1, v/6+0.5)) }},
		{ops.AttrMap{"activation": ops.StringAttr("LeakyRelu"), "activation_params": ops.FloatsAttr(0.1)},
			func(v float64) float64 { return math.Max(v, 0.1*v) }},
	}
	for _, m := range []int{1, 7, 13} {
		for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}} {
			for ci, cShape := range [][]int{{9}, {m, 1}, {m, 9}, {}, nil} {
				for _, ab := range [][2]float32{{1, 1}, {0.5, 2}} {
					for _, nonConst := range [][]int{nil, {1}} {
						for ai, act := range acts {
							k, n := 11, 9
							a := randTensor(rng, m, k)
							if tr[0] {
								a = randTensor(rng, k, m)
							}
							b := randTensor(rng, k, n)
							if tr[1] {
								b = randTensor(rng, n, k)
							}
							inputs := []*ops.Tensor{a, b}
							if cShape != nil {
								inputs = append(inputs, randTensor(rng, cShape...))
							}
							attrs := ops.AttrMap{"transA": ops.IntAttr(b2i(tr[0])), "transB": ops.IntAttr(b2i(tr[1])),
								"alpha": ops.FloatAttr(ab[0]), "beta": ops.FloatAttr(ab[1])}
							name := fmt.Sprintf("m%d/trans%v/c%d/ab%v/nonconst%v/act%d", m, tr, ci, ab, nonConst, ai)
							want, err := opstest.Run(opstest.Node{OpType: "Gemm", Opset: 13, Attrs: attrs, Inputs: inputs})
							if err != nil {
								t.Fatalf("%s: %v", name, err)
							}
							for key, v := range act.attrs {
								attrs[key] = v
							}
							got, err := opstest.Run(opstest.Node{Domain: ops.FusedDomain, OpType: "FusedGemm", Opset: 1, Attrs: attrs, Inputs: inputs, NonConstInputs: nonConst})
							if err != nil {
								t.Fatalf("%s: %v", name, err)
							}
							w := want[0].Float32s()
							for i := range w {
								w[i] = float32(act.f(float64(w[i])))
							}
							if err := opstest.Close(got[0], want[0], 1e-5, 1e-5); err != nil {
								t.Errorf("%s: %v", name, err)
							}
						}
					}
				}
			}
		}
	}
}

func TestFusedGemmErrors(t *testing.T) {
	a, b := ops.New(ops.Float32, ops.Shape{2, 3}), ops.New(ops.Float32, ops.Shape{3, 4})
	for _, c := range []struct {
		attrs ops.AttrMap
		in    []*ops.Tensor
		want  string
	}{
		{ops.AttrMap{"activation": ops.StringAttr("Mish")}, []*ops.Tensor{a, b}, `activation "Mish": fused products take`},
		{ops.AttrMap{"activation": ops.StringAttr("Clip")}, []*ops.Tensor{a, b}, `"activation_params" is []: Clip takes 2 values`},
		{ops.AttrMap{"activation": ops.StringAttr("Clip"), "activation_params": ops.FloatsAttr(1, 0)}, []*ops.Tensor{a, b}, "min must not exceed max"},
		{nil, []*ops.Tensor{ops.New(ops.Float64, ops.Shape{2, 3}), ops.New(ops.Float64, ops.Shape{3, 4})}, "float64"},
		{nil, []*ops.Tensor{a, a}, "K=3 != 2"},
	} {
		_, err := opstest.Run(opstest.Node{Domain: ops.FusedDomain, OpType: "FusedGemm", Opset: 1, Attrs: c.attrs, Inputs: c.in})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("attrs %v: error %v, want it to contain %q", c.attrs, err, c.want)
		}
	}
}

// BenchmarkFusedGemm times LeNet's fully connected layers (400→120, 120→84, with Relu) and VGG's classifier
// (4096→512) as FusedGemm at batch 1 and 64 (8 for VGG), next to the plain loop and the Relu pass it saves.
func BenchmarkFusedGemm(b *testing.B) {
	for _, c := range []struct {
		name    string
		m, k, n int
	}{
		{"lenet_fc1_b1", 1, 400, 120}, {"lenet_fc1_b64", 64, 400, 120}, {"lenet_fc2_b64", 64, 120, 84}, {"vgg_fc1_b8", 8, 4096, 512},
	} {
		rng := rand.New(rand.NewSource(1))
		a, w, bias := randTensor(rng, c.m, c.k), randTensor(rng, c.n, c.k), randTensor(rng, c.n)
		attrs := ops.AttrMap{"transB": ops.IntAttr(1), "activation": ops.StringAttr("Relu")}
		k, out, ctx := prepareFused(b, attrs, a, w, bias)
		in := []*ops.Tensor{a, w, bias}
		gflop := 2 * float64(c.m*c.n*c.k) / 1e9
		b.Run(c.name+"/fused", func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				_ = k.Run(ctx, in, out)
			}
			b.ReportMetric(gflop*float64(b.N)/b.Elapsed().Seconds(), "GFLOP/s")
		})
		b.Run(c.name+"/naive", func(b *testing.B) {
			b.ReportAllocs()
			y := out[0].Float32s()
			for range b.N {
				gemmLoop(false, true, c.m, c.n, c.k, a.Float32s(), c.k, w.Float32s(), c.k, y, c.n)
				for i, v := range y {
					y[i] = max(v+bias.Float32s()[i%c.n], 0)
				}
			}
			b.ReportMetric(gflop*float64(b.N)/b.Elapsed().Seconds(), "GFLOP/s")
		})
	}
}

// BenchmarkFusedGemmTransformerMLP times ViT-B/16's and BERT's first MLP layer as the passes compile it:
// [1, tokens, 768] by a constant [768, 3072], the bias in the store and GELU after the product, on 1 and
// 2 threads.
func BenchmarkFusedGemmTransformerMLP(b *testing.B) {
	for _, tokens := range []int{128, 197} {
		rng := rand.New(rand.NewSource(1))
		a, w, bias := randTensor(rng, 1, tokens, 768), randTensor(rng, 768, 3072), randTensor(rng, 3072)
		k, out, ctx := prepareFused(b, ops.AttrMap{"activation": ops.StringAttr("Gelu")}, a, w, bias)
		in := []*ops.Tensor{a, w, bias}
		gflop := 2 * float64(tokens*768*3072) / 1e9
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("tokens%d/threads%d", tokens, threads), func(b *testing.B) {
				pool := parallel.NewPool(threads)
				defer pool.Close()
				ctx.Pool = pool
				b.ReportAllocs()
				for range b.N {
					_ = k.Run(ctx, in, out)
				}
				b.ReportMetric(gflop*float64(b.N)/b.Elapsed().Seconds(), "GFLOP/s")
			})
		}
	}
}

func prepareFused(b *testing.B, attrs ops.AttrMap, in ...*ops.Tensor) (ops.Kernel, []*ops.Tensor, *ops.ExecContext) {
	b.Helper()
	op, err := buildFusedGemm(ops.NodeInfo{Domain: ops.FusedDomain, OpType: "FusedGemm", Opset: 1, Attrs: attrs, NumInputs: len(in), NumOutputs: 1,
		InputPresent: []bool{true, true, true}})
	if err != nil {
		b.Fatal(err)
	}
	vi := make([]ops.ValueInfo, len(in))
	for i, t := range in {
		vi[i] = ops.ValueInfo{DType: t.DType(), Shape: t.Shape(), Const: t}
	}
	vi[0].Const = nil
	outInfo, err := op.InferShapes(vi)
	if err != nil {
		b.Fatal(err)
	}
	k, err := op.Prepare(vi, outInfo)
	if err != nil {
		b.Fatal(err)
	}
	return k, []*ops.Tensor{ops.New(ops.Float32, outInfo[0].Shape)}, ops.SerialContext()
}

// TestGemv32 checks the vector-matrix kernel (assembly where available) against its Go statement, for k
// odd and even.
func TestGemv32(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for _, k := range []int{1, 2, 7, 64} {
		x := randTensor(rng, k).Float32s()
		w := randTensor(rng, k, 40).Float32s()
		var got, want [32]float32
		gemv32(k, x, w, 40, &got)
		gemv32Go(k, x, w, 40, &want)
		for j := range got {
			if d := math.Abs(float64(got[j] - want[j])); d > 1e-5*(1+math.Abs(float64(want[j]))) {
				t.Fatalf("k=%d: y[%d] = %g, want %g", k, j, got[j], want[j])
			}
		}
	}
}

// TestFusedGemmAllocatesNothing covers the vector-matrix path and a product big enough to thread.
func TestFusedGemmAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race (sync.Pool drops items)")
	}
	rng := rand.New(rand.NewSource(5))
	attrs := ops.AttrMap{"transB": ops.IntAttr(1), "activation": ops.StringAttr("Relu")}
	for _, m := range []int{1, 256} {
		a, w, bias := randTensor(rng, m, 400), randTensor(rng, 256, 400), randTensor(rng, 256)
		k, out, ctx := prepareFused(&testing.B{}, attrs, a, w, bias)
		pool := parallel.NewPool(2)
		ctx.Pool = pool
		in := []*ops.Tensor{a, w, bias}
		if allocs := testing.AllocsPerRun(10, func() { _ = k.Run(ctx, in, out) }); allocs != 0 {
			t.Errorf("M=%d: Run allocates %v times", m, allocs)
		}
		pool.Close()
	}
}

// FusedGemm takes an A of more than two dimensions as MatMul does with a 2-D B (its leading dimensions
// are rows): the output is A's shape with the last dimension N, and equals MatMul, then the bias, then
// the activation, on one thread and on two (the activation applied by each thread to its part of the product), without
// allocating.
func TestFusedGemmHigherRankA(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for _, shape := range [][]int{{2, 3, 11}, {2, 100, 11}, {1, 1, 4, 11}} {
		a, w, bias := randTensor(rng, shape...), randTensor(rng, 11, 96), randTensor(rng, 96)
		product, err := opstest.Run(opstest.Node{OpType: "MatMul", Opset: 13, Inputs: []*ops.Tensor{a, w}})
		if err != nil {
			t.Fatal(err)
		}
		want := product[0].Float32s()
		for i := range want {
			v := float64(want[i] + bias.Float32s()[i%96])
			want[i] = float32(v / 2 * (1 + math.Erf(v/math.Sqrt2)))
		}
		for _, threads := range []int{1, 2} {
			k, out, ctx := prepareFused(&testing.B{}, ops.AttrMap{"activation": ops.StringAttr("Gelu")}, a, w, bias)
			if !out[0].Shape().Equal(product[0].Shape()) {
				t.Fatalf("A %v: output shape %v, want %v", shape, out[0].Shape(), product[0].Shape())
			}
			pool := parallel.NewPool(threads)
			ctx.Pool = pool
			in := []*ops.Tensor{a, w, bias}
			if err := k.Run(ctx, in, out); err != nil {
				t.Fatal(err)
			}
			if err := opstest.Close(out[0], product[0], 1e-5, 1e-5); err != nil {
				t.Errorf("A %v, %d threads: %v", shape, threads, err)
			}
			if allocs := testing.AllocsPerRun(5, func() { _ = k.Run(ctx, in, out) }); allocs != 0 && !raceEnabled {
				t.Errorf("A %v, %d threads: Run allocates %v times", shape, threads, allocs)
			}
			pool.Close()
		}
	}
}

// TestFusedGemmGemvThreads: MobileNetV3's first classifier layer at batch 1 (1x960 times 960x1280, then
// HardSwish) takes the vector-matrix path, splits its column blocks over a 2-thread pool in one parallel
// section, gives the same bits as on one thread, and allocates nothing; it stayed on one thread before.
func TestFusedGemmGemvThreads(t *testing.T) {
	if !haveGemvAsm {
		t.Skip("the vector-matrix path needs the AVX2 kernel")
	}
	rng := rand.New(rand.NewSource(11))
	a, w, bias := randTensor(rng, 1, 960), randTensor(rng, 1280, 960), randTensor(rng, 1280)
	attrs := ops.AttrMap{"transB": ops.IntAttr(1), "activation": ops.StringAttr("HardSwish")}
	in := []*ops.Tensor{a, w, bias}
	k, want, serial := prepareFused(&testing.B{}, attrs, a, w, bias)
	if k.(*fusedGemmKernel).gemv == nil {
		t.Fatal("M=1 with constant B did not take the vector-matrix path")
	}
	if err := k.Run(serial, in, want); err != nil {
		t.Fatal(err)
	}
	_, got, ctx := prepareFused(&testing.B{}, attrs, a, w, bias)
	pool := parallel.NewPool(2)
	defer pool.Close()
	ctx.Pool = pool
	if err := k.Run(ctx, in, got); err != nil {
		t.Fatal(err)
	}
	if forks := pool.Forks(); forks != 1 {
		t.Errorf("%d parallel sections, want 1", forks)
	}
	for i, v := range got[0].Float32s() {
		if math.Float32bits(v) != math.Float32bits(want[0].Float32s()[i]) {
			t.Fatalf("y[%d] = %v on two threads, %v on one", i, v, want[0].Float32s()[i])
		}
	}
	if !raceEnabled {
		if allocs := testing.AllocsPerRun(10, func() { _ = k.Run(ctx, in, got) }); allocs != 0 {
			t.Errorf("a threaded Run allocates %v times", allocs)
		}
	}
}

// TestFusedGemmOneSectionWithPost: a ViT-shaped product with GELU (197x768 times 768x768) opens one
// parallel section on a 2-thread pool, the GELU applied by each thread to its part of Y (it took a
// section of its own after the product), and gives the same bits on 1, 2 and 3 threads.
func TestFusedGemmOneSectionWithPost(t *testing.T) {
	rng := rand.New(rand.NewSource(13))
	a, w, bias := randTensor(rng, 197, 768), randTensor(rng, 768, 768), randTensor(rng, 768)
	attrs := ops.AttrMap{"activation": ops.StringAttr("Gelu")}
	in := []*ops.Tensor{a, w, bias}
	var first []float32
	for _, threads := range []int{1, 2, 3} {
		k, out, ctx := prepareFused(&testing.B{}, attrs, a, w, bias)
		pool := parallel.NewPool(threads)
		ctx.Pool = pool
		if err := k.Run(ctx, in, out); err != nil {
			t.Fatal(err)
		}
		if forks := pool.Forks(); threads > 1 && forks != 1 {
			t.Errorf("threads %d: %d parallel sections, want 1", threads, forks)
		}
		pool.Close()
		if first == nil {
			first = out[0].Float32s()
			continue
		}
		for i, v := range out[0].Float32s() {
			if math.Float32bits(v) != math.Float32bits(first[i]) {
				t.Fatalf("threads %d: y[%d] = %v, one thread %v", threads, i, v, first[i])
			}
		}
	}
}
