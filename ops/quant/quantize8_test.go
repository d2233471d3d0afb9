package quant

import (
	"math"
	"math/rand"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// floatsWithSpecials is n random float32s spanning beyond the byte ranges, with ties, NaN and infinities.
func floatsWithSpecials(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	specials := []float32{0.5, 1.5, 2.5, -0.5, -2.5, float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1e20, -1e20}
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 3)
		if i%11 == 0 {
			x[i] = specials[(i/11)%len(specials)]
		}
	}
	return x
}

// withThreads runs p's kernel on a pool of the given threads (1: serially).
func withThreads(t *testing.T, p *opstest.Prepared, threads int) {
	t.Helper()
	if threads > 1 {
		pool := ops.NewPool(threads)
		t.Cleanup(pool.Close)
		p.Ctx.Pool, p.Ctx.Threads = pool, threads
	}
}

// TestQuantize8MatchesReference runs the vectorised float32 ↔ 8-bit path of QuantizeLinear and
// DequantizeLinear against the reference kernels, per tensor and per axis, serially and threaded.
func TestQuantize8MatchesReference(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	shapes := []struct {
		shape ops.Shape
		axis  int
	}{{ops.Shape{37}, 0}, {ops.Shape{3, 17, 5}, 1}, {ops.Shape{5, 3}, 1}, {ops.Shape{4, 67, 259}, 1}, {ops.Shape{2, 3, 70001}, 2}}
	for _, dt := range []ops.DType{ops.Uint8, ops.Int8} {
		for _, sh := range shapes {
			for _, perAxis := range []bool{false, true} {
				x := ops.FromSlice(sh.shape.Clone(), floatsWithSpecials(rng, sh.shape.Size()))
				nScales := 1
				scaleShape := ops.Shape{}
				if perAxis {
					nScales, scaleShape = sh.shape[sh.axis], ops.Shape{sh.shape[sh.axis]}
				}
				scales := make([]float32, nScales)
				zps := randQ8(rng, dt, scaleShape)
				for i := range scales {
					scales[i] = 0.01 + rng.Float32()*0.05
				}
				scale := ops.FromSlice(scaleShape, scales)
				attrs := ops.AttrMap{"axis": ops.IntAttr(int64(sh.axis))}
				q := opstest.Node{OpType: "QuantizeLinear", Opset: 19, Attrs: attrs, Inputs: []*ops.Tensor{x, scale, zps}}
				want := runReference(t, q, &quantizeKernel{precision: ops.Float32, saturate: true})
				for _, threads := range []int{1, 2} {
					p := opstest.MustPrepare(t, q)
					if _, ok := p.Kernel.(*convert8Kernel); !ok {
						t.Fatalf("QuantizeLinear %s %v got kernel %T, want the vectorised one", dt, sh.shape, p.Kernel)
					}
					withThreads(t, p, threads)
					if err := p.Kernel.Run(p.Ctx, q.Inputs, p.Out); err != nil {
						t.Fatal(err)
					}
					if err := ops.AllClose(p.Out[0], want, 0, 0); err != nil {
						t.Fatalf("QuantizeLinear %s %v perAxis=%v threads=%d: %v", dt, sh.shape, perAxis, threads, err)
					}
				}
				d := opstest.Node{OpType: "DequantizeLinear", Opset: 19, Attrs: attrs, Inputs: []*ops.Tensor{want, scale, zps}}
				wantF := runReference(t, d, &dequantizeKernel{})
				for _, threads := range []int{1, 2} {
					p := opstest.MustPrepare(t, d)
					if _, ok := p.Kernel.(*convert8Kernel); !ok {
						t.Fatalf("DequantizeLinear %s %v got kernel %T, want the vectorised one", dt, sh.shape, p.Kernel)
					}
					withThreads(t, p, threads)
					if err := p.Kernel.Run(p.Ctx, d.Inputs, p.Out); err != nil {
						t.Fatal(err)
					}
					if err := ops.AllClose(p.Out[0], wantF, 0, 0); err != nil {
						t.Fatalf("DequantizeLinear %s %v perAxis=%v threads=%d: %v", dt, sh.shape, perAxis, threads, err)
					}
				}
			}
		}
	}
}

// runReference runs n's inputs through the reference kernel ref, given n's granularity.
func runReference(t *testing.T, n opstest.Node, ref ops.Kernel) *ops.Tensor {
	t.Helper()
	p := opstest.MustPrepare(t, n)
	g := p.Kernel.(*convert8Kernel).g
	switch k := ref.(type) {
	case *quantizeKernel:
		k.g = g
	case *dequantizeKernel:
		k.g = g
	}
	if err := ref.Run(p.Ctx, n.Inputs, p.Out); err != nil {
		t.Fatal(err)
	}
	return p.Out[0].Clone()
}

func TestQLinearKernelsAllocateNothing(t *testing.T) {
	rng := rand.New(rand.NewSource(8))
	a, b := randQ8(rng, ops.Uint8, ops.Shape{4, 3, 100, 100}), randQ8(rng, ops.Uint8, ops.Shape{1, 3, 1, 1}) // above the threads' thresholds
	s, zp := scalarF32(0.02), u8(ops.Shape{}, 128)
	x := ops.FromSlice(ops.Shape{4, 3, 100, 100}, floatsWithSpecials(rng, 4*3*100*100))
	nodes := map[string]opstest.Node{
		"QLinearAdd":     msNode("QLinearAdd", nil, a, s, zp, b, s, zp, s, zp),
		"QLinearAddSame": msNode("QLinearAdd", nil, a, s, zp, a, scalarF32(0.03), zp, s, zp), // contiguous: qvec's spans
		"QLinearMul":     msNode("QLinearMul", nil, a, s, zp, a, s, zp, s, zp),
		"QLinearSigmoid": msNode("QLinearSigmoid", nil, a, s, zp, s, zp),
		"QLinearLeakyRelu": func() opstest.Node {
			n := msNode("QLinearLeakyRelu", nil, a, s, zp, s, zp)
			n.NonConstInputs = []int{1}
			return n
		}(),
		"QLinearConcat": msNode("QLinearConcat", ops.AttrMap{"axis": ops.IntAttr(1)}, s, zp, a, scalarF32(0.03), zp, a, s, zp),
		"QLinearAveragePool": msNode("QLinearAveragePool", ops.AttrMap{"kernel_shape": opstest.Ints(3, 3), "pads": opstest.Ints(1, 1, 1, 1)},
			a, s, zp, s, zp),
		"QLinearGlobalAveragePool": msNode("QLinearGlobalAveragePool", nil, a, s, zp, s, zp),
		"QLinearSoftmax":           msNode("QLinearSoftmax", ops.AttrMap{"opset": ops.IntAttr(13)}, a, s, zp, scalarF32(1.0/256), zp),
		"QuantizeLinear":           opstest.NewNode("QuantizeLinear", 19, nil, x, s, zp),
		"DequantizeLinear":         opstest.NewNode("DequantizeLinear", 19, nil, a, s, zp),
		"DynamicQuantizeLinear":    {OpType: "DynamicQuantizeLinear", Opset: 11, NumOutputs: 3, Inputs: []*ops.Tensor{x}},
	}
	opstest.CheckRunAllocatesNothing(t, nodes)
	// The threaded paths hand a task to the pool: that too must not allocate.
	for _, name := range []string{"QLinearAdd", "QLinearAddSame", "QLinearSigmoid", "QuantizeLinear"} {
		p := opstest.MustPrepare(t, nodes[name])
		withThreads(t, p, 2)
		if allocs := testing.AllocsPerRun(5, func() {
			if err := p.Kernel.Run(p.Ctx, p.In, p.Out); err != nil {
				t.Fatal(err)
			}
		}); allocs != 0 {
			t.Errorf("%s on 2 threads: Run allocates %v times per call", name, allocs)
		}
	}
}
