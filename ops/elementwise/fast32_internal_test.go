package elementwise

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

func randomF32(seed uint64, shape ops.Shape) *ops.Tensor {
	r := rand.New(rand.NewPCG(seed, 3))
	t := ops.New(ops.Float32, shape)
	for i := range t.Float32s() {
		v := float32(r.NormFloat64() * 3)
		if r.IntN(97) == 0 {
			v = float32(math.NaN())
		}
		t.Float32s()[i] = v
	}
	return t
}

// sameF32 compares bit for bit, any NaN matching any NaN.
func sameF32(got, want []float32) error {
	for i := range want {
		g, w := got[i], want[i]
		if math.Float32bits(g) != math.Float32bits(w) && !(g != g && w != w) {
			return fmt.Errorf("[%d] = %v, want %v", i, g, w)
		}
	}
	return nil
}

// twoThreads is a context with a pool of two threads, so that big tensors take the parallel path.
func twoThreads(t *testing.T) *ops.ExecContext {
	pool := ops.NewPool(2)
	t.Cleanup(pool.Close)
	ctx := ops.SerialContext()
	ctx.Pool, ctx.Threads, ctx.Parallel = pool, 2, pool.For
	return ctx
}

// TestFloat32BinaryMatchesWalker runs the float32 kernels of the arithmetic operators (vectorised spans,
// split across two threads when big) against the general broadcasting walker with the element function
// and no span loops, on odd sizes in every layout: same shape, a scalar on either side, per channel
// ([N,C,H,W] with [C,1,1] and [1,C,1,1]), a trailing vector, a general broadcast, and each of those
// above the parallel threshold, with a plan of two rows too (the odometer's carry).
func TestFloat32BinaryMatchesWalker(t *testing.T) {
	layouts := []struct {
		name string
		a, b ops.Shape
	}{
		{"same", ops.Shape{3, 5, 7, 11}, ops.Shape{3, 5, 7, 11}},
		{"scalar B", ops.Shape{3, 5, 7, 11}, ops.Shape{}},
		{"scalar A", ops.Shape{1}, ops.Shape{3, 5, 7, 11}},
		{"channel", ops.Shape{2, 5, 7, 9}, ops.Shape{5, 1, 1}},
		{"channel 4-D", ops.Shape{2, 5, 7, 9}, ops.Shape{1, 5, 1, 1}},
		{"trailing", ops.Shape{6, 7, 13}, ops.Shape{13}},
		{"general", ops.Shape{3, 1, 5, 7}, ops.Shape{1, 4, 1, 7}},
		{"big same", ops.Shape{2, 16, 45, 47}, ops.Shape{2, 16, 45, 47}},
		{"big scalar", ops.Shape{2, 16, 45, 47}, ops.Shape{1, 1}},
		{"big channel", ops.Shape{3, 17, 33, 31}, ops.Shape{17, 1, 1}},
		{"big trailing", ops.Shape{5, 13, 7, 77}, ops.Shape{77}},
		{"big general", ops.Shape{7, 1, 45, 33}, ops.Shape{1, 9, 1, 33}},
		{"big rows", ops.Shape{2, 40000}, ops.Shape{2, 1}},
	}
	threads := twoThreads(t)
	for _, op := range []arithOp{opAdd, opSub, opMul, opDiv, opMax, opMin, opPRelu} {
		for li, l := range layouts {
			out, err := ops.BroadcastShapes(l.a, l.b)
			if err != nil {
				t.Fatal(err)
			}
			a, b := randomF32(uint64(2*li+1), l.a), randomF32(uint64(2*li+2), l.b)
			plan := newBcastPlan(out, l.a, l.b)
			want := ops.New(ops.Float32, out)
			if err := newBinary(plan, arithFunc[float32](op)).Run(ops.SerialContext(), in2(a, b), []*ops.Tensor{want}); err != nil {
				t.Fatal(err)
			}
			for _, ctx := range []*ops.ExecContext{ops.SerialContext(), threads} {
				got := ops.New(ops.Float32, out)
				if err := arithKernel(ops.Float32, op, plan).Run(ctx, in2(a, b), []*ops.Tensor{got}); err != nil {
					t.Fatal(err)
				}
				if err := sameF32(got.Float32s(), want.Float32s()); err != nil {
					t.Errorf("op %d, %s %v %v, %d threads: %v", op, l.name, l.a, l.b, ctx.Threads, err)
				}
			}
		}
	}
}

func in2(a, b *ops.Tensor) []*ops.Tensor { return []*ops.Tensor{a, b} }

// TestPowConstantExponent: a float32 X with a constant exponent 2, 3, 0.5, 1 or -1 gets the span kernel,
// whose values are math.Pow's (within an ulp for x³, which rounds twice), special values included; any
// other exponent, or a Y that would broadcast X to a bigger shape, keeps the general kernel.
func TestPowConstantExponent(t *testing.T) {
	op, err := buildPow(ops.NodeInfo{OpType: "Pow", Opset: 15, NumInputs: 2, NumOutputs: 1})
	if err != nil {
		t.Fatal(err)
	}
	x := randomF32(9, ops.Shape{3, 37, 301}) // above the parallel threshold
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), -2, 1e-30}
	copy(x.Float32s(), special)
	threads := twoThreads(t)
	for _, e := range []float32{2, 3, 0.5, 1, -1, 4} {
		y := ops.New(ops.Float32, ops.Shape{1})
		y.Float32s()[0] = e
		info := []ops.ValueInfo{{DType: ops.Float32, Shape: x.Shape()}, {DType: ops.Float32, Shape: y.Shape(), Const: y}}
		k, err := op.Prepare(info, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, fast := k.(*spanKernel); fast != (e != 4) {
			t.Errorf("exponent %v: kernel %T", e, k)
		}
		got := ops.New(ops.Float32, x.Shape())
		if err := k.Run(threads, in2(x, y), []*ops.Tensor{got}); err != nil {
			t.Fatal(err)
		}
		for i, v := range x.Float32s() {
			want := float32(math.Pow(float64(v), float64(e)))
			g := got.Float32s()[i]
			if math.Float32bits(g) == math.Float32bits(want) || (g != g && want != want) {
				continue
			}
			if e == 3 && math.Abs(float64(g-want)) <= math.Abs(float64(want))*2e-7 {
				continue
			}
			t.Fatalf("exponent %v: pow(%v) = %v, want %v", e, v, g, want)
		}
	}
	bigger := []ops.ValueInfo{{DType: ops.Float32, Shape: ops.Shape{4}}, {DType: ops.Float32, Shape: ops.Shape{1, 1}, Const: ops.New(ops.Float32, ops.Shape{1, 1})}}
	if _, ok := constantExponentSpan(bigger); ok {
		t.Error("a Y of higher rank than X (Z bigger than X) took the span kernel")
	}
}

// TestFloat32ActivationsMatchFloat64: the vectorised float32 activations give the float64 functions'
// values rounded to float32 (exactly, or within 2 ulps for the two-rounding HardSigmoid and HardSwish),
// on one thread and split across two, and they are the kernels the operators pick.
func TestFloat32ActivationsMatchFloat64(t *testing.T) {
	threads := twoThreads(t)
	cases := []struct {
		op    string
		opset int
		attrs ops.AttrMap
		f     func(float64) float64
		ulps  float64
	}{
		{"Relu", 14, nil, func(x float64) float64 { return math.Max(x, 0) }, 0},
		{"LeakyRelu", 16, ops.AttrMap{"alpha": ops.FloatAttr(0.1)}, func(x float64) float64 {
			if x < 0 {
				return float64(float32(0.1)) * x
			}
			return x
		}, 0},
		{"HardSigmoid", 6, nil, func(x float64) float64 { return hardSigmoid(x, float64(float32(0.2)), 0.5) }, 2},
		{"HardSwish", 14, nil, func(x float64) float64 { return x * hardSigmoid(x, 1.0/6, 0.5) }, 2},
		{"Abs", 13, nil, math.Abs, 0},
		{"Neg", 13, nil, func(x float64) float64 { return -x }, 0},
		{"Sqrt", 13, nil, math.Sqrt, 0},
		{"Reciprocal", 13, nil, func(x float64) float64 { return 1 / x }, 0},
	}
	for _, c := range cases {
		build, _, ok := ops.Lookup("", c.op, c.opset)
		if !ok {
			t.Fatalf("%s-%d not registered", c.op, c.opset)
		}
		op, err := build(ops.NodeInfo{OpType: c.op, Opset: c.opset, Attrs: c.attrs, NumInputs: 1, NumOutputs: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, shape := range []ops.Shape{{3, 7, 11}, {5, 129, 67}} {
			x := randomF32(5, shape)
			k, err := op.Prepare([]ops.ValueInfo{{DType: ops.Float32, Shape: shape}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			switch k.(type) {
			case *spanKernel, *clamp32Kernel:
			default:
				t.Errorf("%s: float32 kernel %T, want the vectorised one", c.op, k)
			}
			for _, ctx := range []*ops.ExecContext{ops.SerialContext(), threads} {
				y := ops.New(ops.Float32, shape)
				if err := k.Run(ctx, []*ops.Tensor{x}, []*ops.Tensor{y}); err != nil {
					t.Fatal(err)
				}
				for i, v := range x.Float32s() {
					want, got := float32(c.f(float64(v))), y.Float32s()[i]
					if got == want || (got != got && want != want) {
						continue
					}
					// The two-rounding forms lose up to an ulp of alpha*x before the sum: an absolute error
					// of about 6e-8 (times |x| for HardSwish), far inside ONNX's atol of 1e-5.
					ulp := math.Abs(float64(math.Nextafter32(want, float32(math.Inf(1))) - want))
					if c.ulps > 0 && math.Abs(float64(got-want)) <= c.ulps*ulp+1.2e-7*max(1, math.Abs(float64(v))) {
						continue
					}
					t.Fatalf("%s(%v) = %v, want %v (%d threads)", c.op, v, got, want, ctx.Threads)
				}
			}
		}
	}
}

// TestParallelRunsDoNotAllocate: split across threads, the binary, variadic, activation and Clip
// kernels still allocate nothing per Run (their tasks are recycled).
func TestParallelRunsDoNotAllocate(t *testing.T) {
	if opstest.RaceEnabled {
		t.Skip("sync.Pool drops items at random under -race")
	}
	threads := twoThreads(t)
	x := randomF32(1, ops.Shape{4, 16, 32, 33})
	ch := randomF32(2, ops.Shape{16, 1, 1})
	for _, c := range []struct {
		name string
		k    ops.Kernel
		in   []*ops.Tensor
	}{
		{"Add channel", arithKernel(ops.Float32, opAdd, newBcastPlan(x.Shape(), x.Shape(), ch.Shape())), in2(x, ch)},
		{"Max", newFold(&variadicOp{op: opMax}, []*bcastPlan{newBcastPlan(x.Shape(), x.Shape(), x.Shape())}, arith32Fn(opMax), nil), in2(x, x)},
		{"HardSwish", newSpanKernel(hardSwishSpan), []*ops.Tensor{x}},
		{"Clip", &clamp32Kernel{bounds: &clampKernel[float32]{lo: 0, hi: 6}}, []*ops.Tensor{x}},
	} {
		y := []*ops.Tensor{ops.New(ops.Float32, x.Shape())}
		if n := testing.AllocsPerRun(20, func() {
			if err := c.k.Run(threads, c.in, y); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("%s: a parallel Run allocates %v times", c.name, n)
		}
	}
}
